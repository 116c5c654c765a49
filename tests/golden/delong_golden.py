#!/usr/bin/env python3
"""Golden values for the DeLong variances behind `validate --baseline` (issue 13, item 3):
the error ROC-AUC of the softmax response and of the entropy on each fixture split, their
DeLong standard errors, and the paired difference SR - entropy with its paired standard
error (DeLong, DeLong & Clarke-Pearson 1988), from midranks (scipy.stats.rankdata) as in
bench/stats/sim_gate.py. `tests/it/validate_gate.rs` holds `score::delong` to 1e-12.

Usage (numpy, scipy, safetensors):
    python tests/golden/delong_golden.py    # writes tests/golden/delong_golden.json
"""
import json
import pathlib

import numpy as np
from safetensors.numpy import load_file
from scipy.stats import rankdata

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = ["bbc-bert-linear", "bbc-minilm-score", "bbc-roberta"]


def components(u, e):
    """AUC and the structural components V10 (per error) and V01 (per correct row)."""
    n1, n0 = e.sum(), (~e).sum()
    r_all = rankdata(u)
    r_err, r_ok = rankdata(u[e]), rankdata(u[~e])
    v10 = (r_all[e] - r_err) / n0
    v01 = 1.0 - (r_all[~e] - r_ok) / n1
    return v10.mean(), v10, v01


def variance(v10, v01):
    return v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01)


def scores(case, split):
    t = load_file(str(ROOT / "fixtures" / case / f"{split}.safetensors"))
    z = t["logits"].astype(np.float64)
    y = t["labels"].astype(np.int64)
    logp = z - z.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    e = np.argmax(z, axis=1) != y
    return e, 1.0 - np.exp(logp.max(axis=1)), -(p * logp).sum(axis=1)


def main():
    out = {}
    for case in CASES:
        for split in ("val", "test"):
            e, sr, ent = scores(case, split)
            a, a10, a01 = components(sr, e)
            b, b10, b01 = components(ent, e)
            out[f"{case}/{split}"] = {
                "rows": int(len(e)), "errors": int(e.sum()),
                "auc_sr": float(a), "se_sr": float(np.sqrt(variance(a10, a01))),
                "auc_entropy": float(b), "se_entropy": float(np.sqrt(variance(b10, b01))),
                "paired_d": float(a - b), "paired_se": float(np.sqrt(variance(a10 - b10, a01 - b01))),
            }
    (HERE / "delong_golden.json").write_text(json.dumps(out, indent=1) + "\n")
    for k, v in out.items():
        print(k, {n: round(x, 6) if isinstance(x, float) else x for n, x in v.items()})


if __name__ == "__main__":
    main()
