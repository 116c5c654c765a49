#!/usr/bin/env python3
"""Writes the synthetic golden cases tests/golden/synthetic/<case>/{train,val,test}.safetensors.

Fixed seeds, so the files are reproducible. They exercise what the real fixtures may not:
exact ties in every score (duplicated rows, tied logits), a singular covariance (N < D),
a large common offset in the features (cancellation), a split without errors and with one
class present.

Usage: python tests/golden/make_synthetic.py      (requirements: requirements-golden.txt)
"""
import pathlib

import numpy as np
from safetensors.numpy import save_file

OUT = pathlib.Path(__file__).resolve().parent / "synthetic"


def save(case, split, x, y, z):
    d = OUT / case
    d.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "features": np.ascontiguousarray(x, dtype=np.float32),
            "labels": np.ascontiguousarray(y, dtype=np.int64),
            "logits": np.ascontiguousarray(z, dtype=np.float32),
        },
        str(d / f"{split}.safetensors"),
        metadata={"split": split, "dataset": case},
    )


def four_class():
    """C=4, D=48: a well-conditioned case with ties and a large feature offset."""
    rng = np.random.default_rng(20250501)
    c, d = 4, 48
    offset = 25.0
    means = rng.normal(0.0, 1.5, size=(c, d))
    mix = rng.normal(0.0, 1.0, size=(d, d)) * (0.3 + rng.random(d))[None, :] / np.sqrt(d)
    for split, n in [("train", 600), ("val", 300), ("test", 300)]:
        y = rng.integers(0, c, size=n).astype(np.int64)
        x = means[y] + rng.normal(size=(n, d)) @ mix.T + offset
        # A noisy nearest-mean head: about a quarter of the predictions are wrong.
        z = (x - offset) @ means.T / d * 1.0 + rng.normal(0.0, 1.5, size=(n, c))
        if split != "train":
            # Exact ties: duplicated rows, and rows whose two top logits are equal.
            x[10:20], y[10:20], z[10:20] = x[0:10], y[0:10], z[0:10]
            z[30:36, 1] = z[30:36, 0] = z[30:36].max(axis=1)
        save("synth-4class", split, x, y, z)


def singular():
    """C=3, D=80, 60 training rows: the within-class covariance is singular."""
    rng = np.random.default_rng(3)
    c, d = 3, 80
    for split, n in [("train", 60), ("val", 120), ("test", 120)]:
        y = rng.integers(0, c, size=n).astype(np.int64)
        x = np.eye(c, d)[y] * 2.0 + rng.normal(size=(n, d))
        z = np.eye(c)[y] * 1.2 + rng.normal(0.0, 1.0, size=(n, c))
        save("synth-singular", split, x, y, z)


def degenerate():
    """The test split has one class and no error; val is ordinary."""
    rng = np.random.default_rng(5)
    c, d = 3, 16
    for split, n in [("train", 200), ("val", 150), ("test", 40)]:
        y = rng.integers(0, c, size=n).astype(np.int64)
        if split == "test":
            y[:] = 2
        x = np.eye(c, d)[y] * 3.0 + rng.normal(size=(n, d))
        z = np.eye(c)[y] * 1.5 + rng.normal(0.0, 1.0, size=(n, c))
        if split == "test":
            z[:, 2] = z.max(axis=1) + 0.5
        save("synth-degenerate", split, x, y, z)


if __name__ == "__main__":
    four_class()
    singular()
    degenerate()
