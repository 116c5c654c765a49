"""Synthetic feature sets for the fit benchmark at scale.

    python bench/make_synthetic.py OUT_DIR --kind dense|linear --dim D --train N [--classes C]

Writes OUT_DIR/{train,val,test}.safetensors (features f32 [N, D], labels i64 [N], logits f32
[N, C]) and OUT_DIR/original_head.safetensors in the head.safetensors layout of CONTRACT §6
(dense: dense.* + out_proj.*, H = D, tanh; linear: `weight` only, as a decoder's score layer).

Classes are Gaussian with a per-row noise level, so the head errs mostly on noisy rows; the
noise level also leaks into a few feature directions the head ignores, which is what an
uncertainty head can learn beyond the softmax response.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--kind", choices=["dense", "linear"], required=True)
    ap.add_argument("--dim", type=int, required=True)
    ap.add_argument("--train", type=int, required=True)
    ap.add_argument("--eval", type=int, default=5000, help="rows of val and of test")
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    d, c = a.dim, a.classes
    means = rng.normal(size=(c, d)).astype(np.float32) * (3.0 / np.sqrt(d))
    leak = rng.normal(size=(8, d)).astype(np.float32) / np.sqrt(d)

    if a.kind == "dense":
        w1 = (rng.normal(size=(d, d)) / np.sqrt(d)).astype(np.float32) * 1.5
        b1 = (rng.normal(size=d) * 0.05).astype(np.float32)
        proto = np.tanh(means @ w1.T + b1)
        w2 = (proto * 2.0).astype(np.float32)
        b2 = (-(proto * proto).sum(1)).astype(np.float32)
        head = {"dense.weight": w1, "dense.bias": b1, "out_proj.weight": w2, "out_proj.bias": b2}
        meta = {"kind": "dense", "activation": "tanh"}

        def logits(x):
            return np.tanh(x @ w1.T + b1) @ w2.T + b2
    else:
        w = (means * 4.0).astype(np.float32)
        head = {"weight": w}
        meta = {"kind": "linear", "activation": "none"}

        def logits(x):
            return x @ w.T

    meta.update({"lambda": "100", "scale": "1", "eps": "1e-7"})
    a.out.mkdir(parents=True, exist_ok=True)
    save_file(head, str(a.out / "original_head.safetensors"), metadata=meta)

    for split, n in [("train", a.train), ("val", a.eval), ("test", a.eval)]:
        y = rng.integers(0, c, size=n)
        noise = rng.uniform(0.2, 1.6, size=(n, 1)).astype(np.float32)
        x = means[y] + noise * rng.normal(size=(n, d)).astype(np.float32) * 0.9
        x += (noise - 0.9) * rng.normal(size=(n, 8)).astype(np.float32) @ leak
        x = x.astype(np.float32)
        z = logits(x).astype(np.float32)
        save_file(
            {"features": x, "labels": y.astype(np.int64), "logits": z},
            str(a.out / f"{split}.safetensors"),
            metadata={"split": split, "dataset": f"synthetic-{a.kind}-{d}"},
        )
        err = float((z.argmax(1) != y).mean())
        print(json.dumps({"split": split, "rows": n, "error_rate": round(err, 4)}))


if __name__ == "__main__":
    main()
