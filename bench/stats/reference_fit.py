#!/usr/bin/env python3
"""The issue-13 fixed-configuration reference against the current default `fit`.

Reference: the AdUE head trained once with lambda 30, alpha 0.1, beta 0.01, lr 1e-3,
full-batch Adam (PyTorch defaults, constant lr), 300 steps, on all rows of --train
("train") or of --train and --val pooled ("train+val"); dropout 0 (deterministic, one run)
and dropout 0.1 in train mode as in the HF head (seeds 0-2, mean). Scored by test error
ROC-AUC. The `fit` columns are read from report.json of runs of the current binary:

    B=target/release/adue-compile
    $B fit --checkpoint F/adapter --train F/train.safetensors --val F/val.safetensors \
        --test F/test.safetensors --out FITROOT/<case>-val
    $B fit --checkpoint F/adapter --train F/train.safetensors \
        --test F/test.safetensors --out FITROOT/<case>-holdout      # 20% of train held out

    python bench/stats/reference_fit.py --fit-root FITROOT   # writes bench/stats/reference_fit.json

Paired 95% interval of (reference - softmax response) test AUC: percentile bootstrap,
1000 resamples with shared indices (seed 0).
"""
import argparse
import json
import pathlib

import numpy as np
import torch

import adue_torch as A
from sim_gate import boot_aucs

HERE = pathlib.Path(__file__).resolve().parent
LAM, ALPHA, BETA, LR, STEPS = 30.0, 0.1, 0.01, 1e-3, 300


def paired_ci(u_a, u_b, e, seed=0, B=1000):
    rng = np.random.default_rng(seed)
    n = len(e)
    W = rng.multinomial(n, np.full(n, 1.0 / n), size=B)
    W = W[((W * e).sum(axis=1) > 0) & ((W * ~e).sum(axis=1) > 0)]
    a, b = boot_aucs([u_a, u_b], e, W)
    return [float(np.quantile(a - b, 0.025)), float(np.quantile(a - b, 0.975))]


def reference(case, fit_root, pool_val, dropout, seed):
    d = A.CASES[case]
    x, e, usr, _ = A.load_split(d / "train.safetensors")
    if pool_val:
        xv, ev, usrv, _ = A.load_split(d / "val.safetensors")
        x, e, usr = torch.cat([x, xv]), torch.cat([e, ev]), torch.cat([usr, usrv])
    head0 = A.load_head(pathlib.Path(fit_root) / f"{case}-val" / "original_head.safetensors", dropout)
    head = A.train_full_batch(head0, x, e, usr, ALPHA, BETA, LR, STEPS, LAM, seed)
    xt, et, _, _ = A.load_split(d / "test.safetensors")
    return A.scores(head, xt, LAM), et.numpy() > 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-root", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = {}
    for case in A.CASES:
        row = {}
        xt, et, usr_t, _ = A.load_split(A.CASES[case] / "test.safetensors")
        e = et.numpy() > 0.5
        sr = usr_t.double().numpy()
        row["softmax_response"] = A.auc(sr, e)
        for mode in ("val", "holdout"):
            rep = json.loads((pathlib.Path(a.fit_root) / f"{case}-{mode}" / "report.json").read_text())
            row[f"fit_{mode}"] = rep["methods"]["adue"]["test"]["roc_auc"]["value"]
            row[f"fit_{mode}_minus_sr_ci95"] = rep["comparisons"]["adue_vs_softmax_response"]["test"]["roc_auc_diff"]["ci95"]
            row[f"fit_{mode}_selected"] = rep["fit"]["selected"]
        for pool in (False, True):
            for dropout in (0.0, 0.1):
                seeds = [0] if dropout == 0.0 else [0, 1, 2]
                vals, cis = [], []
                for s in seeds:
                    u, _ = reference(case, a.fit_root, pool, dropout, s)
                    vals.append(A.auc(u, e))
                    cis.append(paired_ci(u, sr, e))
                key = f"ref_{'train+val' if pool else 'train'}_dropout{dropout}"
                row[key] = float(np.mean(vals))
                row[key + "_per_seed"] = vals
                row[key + "_minus_sr_ci95_seed0"] = cis[0]
        out[case] = row
        print(case, json.dumps({k: v for k, v in row.items() if not k.endswith("selected")}), flush=True)
    (HERE / "reference_fit.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
