#!/usr/bin/env python3
"""Cache the hidden state that feeds a classifier's head, for adue-compile (CONTRACT §1).

Runs a Hugging Face sequence-classification model (optionally with a PEFT adapter) over
labelled texts and writes one safetensors file with:
  features [N, D] f32  - the input of the classification head, per row:
                          encoders with a dense head (RoBERTa/ELECTRA): the first token,
                          BERT-style linear heads: the pooled output,
                          decoders (`score`): the last non-pad token;
  labels   [N]    i64  - gold class indices;
  logits   [N, C] f32  - the model's own logits (adue-compile checks its head reproduces them).

Usage:
  python scripts/cache_features.py --base MODEL_DIR_OR_ID [--adapter PEFT_DIR] \
      --texts split.jsonl --out split.safetensors [--max-length 256] [--batch-size 32] \
      [--trust-remote-code]
where each line of split.jsonl is {"text": "...", "label": 3}. The tokenizer comes from the adapter
directory when it holds one, else from the base model. --trust-remote-code loads architectures that
are not transformers classes (`auto_map` in config.json). The time spent in the feature loop is
printed on stderr.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def head_module(model):
    """The classification head of an HF model; under PEFT, its `modules_to_save` wrapper."""
    for mod_name, mod in model.named_modules():
        if mod_name.split(".")[-1] in ("classifier", "score"):
            return mod_name, mod
    raise SystemExit("no `classifier` or `score` module found in the model")


def pool(head_name, head, hidden, attention_mask):
    """Reduce the head's input to one row per example, as the head itself does."""
    if hidden.dim() == 2:  # BERT-style: the pooled output already
        return hidden
    if head_name.endswith("score"):  # decoder: last non-pad token
        last = attention_mask.sum(dim=1) - 1
        return hidden[torch.arange(hidden.shape[0]), last]
    return hidden[:, 0]  # encoder dense head: first token


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--adapter")
    ap.add_argument("--texts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--trust-remote-code", action="store_true")
    args = ap.parse_args()

    rows = [json.loads(line) for line in open(args.texts, encoding="utf-8") if line.strip()]
    tok_dir = args.base
    if args.adapter and any(os.path.exists(os.path.join(args.adapter, f))
                            for f in ("tokenizer.json", "tokenizer_config.json")):
        tok_dir = args.adapter
    tok = AutoTokenizer.from_pretrained(tok_dir)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    model = AutoModelForSequenceClassification.from_pretrained(args.base, trust_remote_code=args.trust_remote_code)
    if args.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, args.adapter)
    model.eval()
    name, head = head_module(model)
    captured = {}
    head.register_forward_hook(lambda m, inp, out: captured.__setitem__("h", inp[0]))

    feats, logits = [], []
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(rows), args.batch_size):
            batch = rows[i : i + args.batch_size]
            enc = tok([r["text"] for r in batch], padding=True, truncation=True,
                      max_length=args.max_length, return_tensors="pt")
            out = model(**enc)
            feats.append(pool(name, head, captured["h"], enc["attention_mask"]).float().numpy())
            logits.append(out.logits.float().numpy())
    seconds = time.perf_counter() - start
    print(f"features: {len(rows)} rows in {seconds:.3f} s ({len(rows) / seconds:.1f} rows/s, "
          f"{torch.get_num_threads()} threads)", file=sys.stderr)
    labels = np.array([int(r["label"]) for r in rows], dtype=np.int64)
    save_file(
        {"features": np.concatenate(feats), "labels": labels, "logits": np.concatenate(logits)},
        args.out,
        metadata={"model": args.base, "adapter": args.adapter or "", "split": args.texts},
    )
    print(f"wrote {args.out}: {len(rows)} rows, D={feats[0].shape[1]}")


if __name__ == "__main__":
    main()
