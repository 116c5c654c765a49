"""ONNX Runtime throughput: our exported head vs the same head exported by PyTorch.

For each adue-compile model given, the script rebuilds the identical computation
as a torch.nn.Module from the model's own initializers and metadata (original head
logits + softmax, UE head -> softmax -> SmoothMax U, and where present the
Mahalanobis score and `accept`), exports it with `torch.onnx.export` (opset 18,
dynamic batch, TorchScript exporter: the dynamo exporter needs onnxscript), checks
that both models give the same outputs, then times both in ONNX Runtime in one run,
interleaved, at batch 1 and 1024. Reported: median rows/s over rounds, ratio
ours/theirs (the target is >= 0.9).

Make our models first (once the CLI is wired, `adue-compile export` works too):
  ADUE_BENCH_DIR=out/bench cargo test --release --test it export_bench_models -- --ignored
Then:
  python bench/onnx_throughput.py out/bench/*.onnx [--threads 1] [--json out/bench/result.json]
Requirements: bench/onnx_requirements.txt.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper


class Head(torch.nn.Module):
    """A linear or dense (dense -> act -> out_proj) classification head."""

    def __init__(self, init, prefix, activation):
        super().__init__()
        t = lambda name: torch.from_numpy(init[f"{prefix}.{name}"].copy())
        if f"{prefix}.weight" in init or f"{prefix}.weight_t" in init:
            # A linear head without bias is stored transposed (`weight_t`, [D, C]).
            w = t("weight") if f"{prefix}.weight" in init else t("weight_t").T.contiguous()
            self.layers = torch.nn.Sequential(torch.nn.Linear(w.shape[1], w.shape[0], bias=f"{prefix}.bias" in init))
            self.layers[0].weight.data = w
            if f"{prefix}.bias" in init:
                self.layers[0].bias.data = t("bias")
        else:
            w1, w2 = t("dense.weight"), t("out_proj.weight")
            dense, out = torch.nn.Linear(w1.shape[1], w1.shape[0]), torch.nn.Linear(w2.shape[1], w2.shape[0])
            dense.weight.data, dense.bias.data = w1, t("dense.bias")
            out.weight.data, out.bias.data = w2, t("out_proj.bias")
            act = torch.nn.Tanh() if activation == "tanh" else torch.nn.GELU()
            self.layers = torch.nn.Sequential(dense, act, out)

    def forward(self, x):
        return self.layers(x)


class Exported(torch.nn.Module):
    """The same outputs as an adue-compile model, written the way a PyTorch user would."""

    def __init__(self, model):
        super().__init__()
        init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        meta = {p.key: p.value for p in model.metadata_props}
        act = lambda key: meta[key].split("/")[1] if "/" in meta[key] else None
        self.original = Head(init, "original", act("adue.original_head"))
        self.ue = Head(init, "ue", act("adue.ue_head"))
        self.lam, self.scale, self.eps = (float(meta[k]) for k in ("adue.lambda", "adue.scale", "adue.eps"))
        self.outputs = meta["adue.outputs"].split(",")
        self.maha = "mahalanobis" in self.outputs
        if self.maha:
            self.register_buffer("center", torch.from_numpy(init["mahalanobis.center"].copy()))
            self.register_buffer("w", torch.from_numpy(init["mahalanobis.whitener"].copy()))
            self.register_buffer("m", torch.from_numpy(init["mahalanobis.whitened_means"].copy()))
        self.tau = float(meta["adue.threshold.tau"]) if "accept" in self.outputs else None

    def forward(self, x):
        logits = self.original(x)
        probs = torch.softmax(logits, dim=-1)
        p = torch.softmax(self.ue(x), dim=-1)
        smooth_max = torch.logsumexp(self.lam * p, dim=-1) / self.lam
        u = torch.clamp(self.scale * (1.0 - smooth_max), self.eps, 1.0 - self.eps)
        out = [logits, probs, u]
        if self.maha:
            z = (x - self.center) @ self.w.T
            d2 = (z * z).sum(-1, keepdim=True) - 2.0 * z @ self.m.T + (self.m * self.m).sum(-1)
            out.append(torch.relu(d2.min(dim=-1).values))
        if self.tau is not None:
            out.append(u <= self.tau)
        return tuple(out)


def torch_export(model, path):
    module = Exported(model).eval()
    d = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    names = module.outputs
    torch.onnx.export(
        module, (torch.randn(4, d),), path, opset_version=18, dynamo=False,
        input_names=["features"], output_names=names,
        dynamic_axes={"features": {0: "batch"}, **{n: {0: "batch"} for n in names}},
    )
    return d


def session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def rows_per_second(sess, x, seconds):
    feed = {"features": x}
    n, start = 0, time.perf_counter()
    while True:
        sess.run(None, feed)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n * x.shape[0] / elapsed


def bench(path, threads, rounds, seconds):
    model = onnx.load(path)
    with tempfile.TemporaryDirectory() as tmp:
        theirs_path = os.path.join(tmp, "torch.onnx")
        d = torch_export(model, theirs_path)
        ours, theirs = session(path, threads), session(theirs_path, threads)
        rng = np.random.default_rng(0)
        check = rng.standard_normal((512, d)).astype(np.float32)
        names = [o.name for o in ours.get_outputs()]
        assert names == [o.name for o in theirs.get_outputs()], f"{path}: output names differ"
        for a, b, name in zip(ours.run(names, {"features": check}), theirs.run(names, {"features": check}), names):
            if a.dtype == np.bool_:
                agree = (a == b).mean()
                assert agree > 0.99, f"{path}: accept agrees on only {agree:.3f} of rows"
            else:
                assert np.allclose(a, b, rtol=1e-4, atol=1e-5), f"{path}: output {name} differs"
        result = {"model": os.path.basename(path), "nodes_ours": len(model.graph.node),
                  "nodes_torch": len(onnx.load(theirs_path).graph.node)}
        for batch in (1, 1024):
            x = rng.standard_normal((batch, d)).astype(np.float32)
            for s in (ours, theirs):  # warm-up
                rows_per_second(s, x, 0.2)
            o, t = [], []
            for _ in range(rounds):  # interleaved so both see the same machine load
                o.append(rows_per_second(ours, x, seconds))
                t.append(rows_per_second(theirs, x, seconds))
            mo, mt = statistics.median(o), statistics.median(t)
            result[f"batch{batch}"] = {"ours_rows_per_s": mo, "torch_rows_per_s": mt, "ratio": mo / mt}
        return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.4)
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"onnxruntime {ort.__version__}, torch {torch.__version__}, intra-op threads {args.threads}")
    print(f"{'model':28} {'batch':>5} {'ours rows/s':>14} {'torch rows/s':>14} {'ratio':>6}")
    results, ok = [], True
    for path in args.models:
        r = bench(path, args.threads, args.rounds, args.seconds)
        results.append(r)
        for batch in (1, 1024):
            b = r[f"batch{batch}"]
            ok &= b["ratio"] >= 0.9
            print(f"{r['model']:28} {batch:>5} {b['ours_rows_per_s']:>14,.0f} {b['torch_rows_per_s']:>14,.0f} {b['ratio']:>6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"onnxruntime": ort.__version__, "torch": torch.__version__, "threads": args.threads,
                       "results": results}, f, indent=1)
    print("all ratios >= 0.9" if ok else "SOME RATIO BELOW 0.9")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
