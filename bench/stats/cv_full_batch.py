#!/usr/bin/env python3
"""5-fold CV (stratified by e, seed 0, as selection_study.py) of full-batch Adam configurations
(lr 1e-3, alpha 0.1, beta 0.01, lambda in {30, 100}, dropout 0.1), mean fold error ROC-AUC every
50 steps up to 600: would CV pick the issue's fixed reference (300 steps, lambda 30), and what
does the CV-chosen (lambda, steps) give on test after a refit on --train / --train + --val?

    python bench/stats/cv_full_batch.py --fit-root FITROOT   # writes bench/stats/cv_full_batch.json
"""
import argparse
import json
import pathlib

import numpy as np
import torch

import adue_torch as A

HERE = pathlib.Path(__file__).resolve().parent
K, EVERY, STEPS = 5, 50, 600


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-root", required=True)
    ap.add_argument("--cases", nargs="+", default=["bbc-bert-linear", "bbc-minilm-score", "bbc-roberta"])
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = {}
    for case in a.cases:
        d = A.CASES[case]
        x, e, usr, _ = A.load_split(d / "train.safetensors")
        xv, ev, usrv, _ = A.load_split(d / "val.safetensors")
        xt, et, _, _ = A.load_split(d / "test.safetensors")
        head0 = A.load_head(pathlib.Path(a.fit_root) / f"{case}-val" / "original_head.safetensors", 0.1)
        en = e.numpy() > 0.5
        folds = A.stratified_folds(en.astype(int), K, 0)
        row = {}
        for lam in (30.0, 100.0):
            aucs = np.zeros((STEPS // EVERY, K))
            for f in range(K):
                tr, te = np.nonzero(folds != f)[0], np.nonzero(folds == f)[0]
                curve = A.train_full_batch_curve(head0, x[tr], e[tr], usr[tr], 0.1, 0.01, 1e-3, STEPS, lam, f,
                                                 x[te], EVERY)
                aucs[:, f] = [A.auc(s, en[te]) for s in curve]
            mean = aucs.mean(axis=1)
            best = int(np.argmax(mean))
            refit = {}
            for name, (xx, ee, uu) in {"train": (x, e, usr), "train+val": (torch.cat([x, xv]), torch.cat([e, ev]),
                                                                             torch.cat([usr, usrv]))}.items():
                curve = A.train_full_batch_curve(head0, xx, ee, uu, 0.1, 0.01, 1e-3, STEPS, lam, 0, xt, EVERY)
                refit[name] = {"test_at_cv_steps": A.auc(curve[best], et.numpy()),
                               "test_at_300": A.auc(curve[300 // EVERY - 1], et.numpy())}
            row[f"lambda_{int(lam)}"] = {"mean_fold_auc_by_steps": mean.tolist(), "cv_steps": (best + 1) * EVERY,
                                         "cv_auc": float(mean[best]), "cv_auc_at_300": float(mean[300 // EVERY - 1]),
                                         "refit": refit}
            print(case, lam, json.dumps(row[f"lambda_{int(lam)}"]), flush=True)
        out[case] = row
    (HERE / "cv_full_batch.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
