"""Real PEFT saves where LoRA sits on the classification head itself (not in modules_to_save).

PEFT only does this without a SEQ_CLS task type (with one it puts the head in modules_to_save),
so the adapter holds the head's LoRA factors but not its base weight. For two tiny random
models, roberta (dense head; LoRA on classifier.dense and classifier.out_proj with rank_pattern
and alpha_pattern) and llama (score head; rsLoRA with alpha_pattern), this writes:
  <case>/base/      the base model before LoRA (save_pretrained: config.json + model.safetensors)
  <case>/adapter/   PeftModel.save_pretrained: adapter_config.json + adapter_model.safetensors,
                    base_model_name_or_path = "../base" (the head's base weights live there)
  <case>/full/      the PeftModel's whole state dict (base_layer weights + LoRA factors)
                    as adapter_model.safetensors, beside the same adapter_config.json
  <case>/merged/    merge_and_unload().save_pretrained: config.json + model.safetensors
  <case>/test.safetensors  features (the head's input, hooked), labels, and PyTorch's logits
tests/it/load_checkpoint.rs::real_peft_lora_on_the_head reads them.
Run: python tests/data/peft_lora_head/gen.py  (requirements.txt beside it; CPU, seeded).
"""
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from safetensors.numpy import save_file
from safetensors.torch import save_file as save_torch
from transformers import LlamaConfig, LlamaForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

OUT = Path(__file__).parent
SMALL = dict(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
             intermediate_size=32, num_labels=3)


def fix_config(path):
    """Points base_model_name_or_path at ../base (relative to the adapter directory) and
    sorts target_modules, which PEFT writes from a set (its order varies between runs)."""
    cfg = json.loads(path.read_text())
    cfg["base_model_name_or_path"] = "../base"
    if isinstance(cfg.get("target_modules"), list):
        cfg["target_modules"] = sorted(cfg["target_modules"])
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def make(case, build, cfg, head_name, pool, seed):
    torch.manual_seed(seed)
    d = OUT / case
    shutil.rmtree(d, ignore_errors=True)
    model = build()
    model.save_pretrained(d / "base")
    (d / "base" / "generation_config.json").unlink(missing_ok=True)
    peft = get_peft_model(model, cfg)
    with torch.no_grad():  # LoRA B starts at zero: give every trainable factor a value
        for _, p in peft.named_parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.3)
    peft.eval()
    peft.save_pretrained(d / "adapter")
    (d / "adapter" / "README.md").unlink(missing_ok=True)
    fix_config(d / "adapter" / "adapter_config.json")
    (d / "full").mkdir(parents=True)
    shutil.copy(d / "adapter" / "adapter_config.json", d / "full" / "adapter_config.json")
    save_torch({k: v.contiguous() for k, v in peft.state_dict().items()},
               str(d / "full" / "adapter_model.safetensors"))

    head = next(m for n, m in peft.named_modules() if n.endswith(head_name))
    seen = {}
    head.register_forward_hook(lambda m, inp, out: seen.__setitem__("h", inp[0]))
    ids = torch.randint(1, SMALL["vocab_size"], (24, 7))
    with torch.no_grad():
        logits = peft(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    h = seen["h"]
    feats = h[:, 0] if pool == "first" else h[:, -1]
    labels = np.random.RandomState(seed).randint(0, SMALL["num_labels"], len(ids)).astype(np.int64)
    save_file({"features": feats.numpy().copy(), "labels": labels, "logits": logits.numpy().copy()},
              str(d / "test.safetensors"))

    merged = peft.merge_and_unload()
    merged.save_pretrained(d / "merged")
    (d / "merged" / "generation_config.json").unlink(missing_ok=True)


make("roberta",
     lambda: RobertaForSequenceClassification(RobertaConfig(max_position_embeddings=40, **SMALL)),
     LoraConfig(r=2, lora_alpha=4, target_modules=["query", "dense", "out_proj"],
                rank_pattern={"out_proj": 3}, alpha_pattern={"classifier.dense": 5}),
     "classifier", "first", 1)
make("llama",
     lambda: LlamaForSequenceClassification(LlamaConfig(pad_token_id=0, **SMALL)),
     LoraConfig(r=4, lora_alpha=8, use_rslora=True, target_modules=["q_proj", "score"],
                alpha_pattern={"score": 6}),
     "score", "last", 2)
