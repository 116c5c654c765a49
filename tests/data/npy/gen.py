"""Writes the .npy feature directory read by tests/it/load_features.rs::npy_written_by_numpy_is_read.

numpy itself writes the headers, so the reader is checked against the reference writer:
features.npy  format 1.0, C order, <f4, [7, 5], features[i, j] = i - 0.25 j
labels.npy    format 2.0, <i4, [7], labels[i] = i % 3
logits.npy    format 3.0, Fortran order, <f8, [7, 3], logits[i, k] = (10 i + k) / 4
Run: python tests/data/npy/gen.py  (requirements.txt beside it).
"""
from pathlib import Path

import numpy as np
from numpy.lib import format as npf

out = Path(__file__).parent
n, d, c = 7, 5, 3
i = np.arange(n)[:, None]
features = (i - 0.25 * np.arange(d)[None, :]).astype("<f4")
labels = (np.arange(n) % c).astype("<i4")
logits = np.asfortranarray(((10 * i + np.arange(c)[None, :]) / 4.0).astype("<f8"))
assert logits.flags.f_contiguous and not logits.flags.c_contiguous

with open(out / "features.npy", "wb") as f:
    npf.write_array(f, features, version=(1, 0))
with open(out / "labels.npy", "wb") as f:
    npf.write_array(f, labels, version=(2, 0))
with open(out / "logits.npy", "wb") as f:
    npf.write_array(f, logits, version=(3, 0))
