#!/usr/bin/env python3
"""Prototype of stratified k-fold selection + refit (issue 13, item 1; STATS_DESIGN.md §1).

Per case (seed 0): 5 folds of --train stratified by the error flag e; every configuration
of the grid alpha{0,1} x beta{0.01,0.1} x lr{1e-3,1e-2} x lambda{30,100} trained for the
src/fit schedule (20 epochs, batches of 128, OneCycle over 20 epochs) on 4 folds and scored
after every epoch on the 5th. Selection of (configuration, epoch) by
  - `mean_fold`: the mean over folds of the per-fold error ROC-AUC, or
  - `pooled_oof`: the ROC-AUC of the pooled out-of-fold scores;
then a refit on all of --train (or --train + --val) with the same schedule, weights taken
after the chosen epoch; test error ROC-AUC. Error-balanced variants (BCE weighted by
n_correct/n_error, or oversampled errors) are scored by CV for the selected configuration.

    python bench/stats/selection_study.py [--cases bbc-bert-linear ...] --fit-root FITROOT
    (FITROOT as in reference_fit.py: only original_head.safetensors is read)
"""
import argparse
import itertools
import json
import pathlib

import numpy as np
import torch

import adue_torch as A

HERE = pathlib.Path(__file__).resolve().parent
GRID = list(itertools.product((0.0, 1.0), (0.01, 0.1), (1e-3, 1e-2), (30.0, 100.0)))
EPOCHS, K = 20, 5


def cv_curves(head0, x, e, usr, folds, cfg, **kw):
    """[epoch, fold] AUCs and [epoch, row] out-of-fold scores."""
    alpha, beta, lr, lam = cfg
    oof = np.zeros((EPOCHS, len(e)))
    per_fold = np.zeros((EPOCHS, K))
    en = e.numpy() > 0.5
    for f in range(K):
        tr, te = np.nonzero(folds != f)[0], np.nonzero(folds == f)[0]
        curves, _ = A.train_epochs(head0, x[tr], e[tr], usr[tr], alpha, beta, lr, EPOCHS, lam, f,
                                   [x[te]], **kw)
        for t, (s,) in enumerate(curves):
            oof[t, te] = s
            per_fold[t, f] = A.auc(s, en[te])
    return per_fold, oof


def refit_test(head0, x, e, usr, cfg, epoch, xt, et):
    alpha, beta, lr, lam = cfg
    curves, _ = A.train_epochs(head0, x, e, usr, alpha, beta, lr, EPOCHS, lam, 0, [xt])
    return A.auc(curves[epoch - 1][0], et), [A.auc(c[0], et) for c in curves]


def study(case, fit_root):
    d = A.CASES[case]
    x, e, usr, y = A.load_split(d / "train.safetensors")
    xv, ev, usrv, _ = A.load_split(d / "val.safetensors")
    xt, et, _, _ = A.load_split(d / "test.safetensors")
    etn = et.numpy() > 0.5
    head0 = A.load_head(pathlib.Path(fit_root) / f"{case}-val" / "original_head.safetensors", 0.1)
    folds = A.stratified_folds(e.numpy().astype(int), K, 0)
    en = e.numpy() > 0.5
    res = {"case": case, "train_rows": len(e), "train_errors": int(en.sum()), "configs": []}
    best = {"mean_fold": (-1, None, None), "pooled_oof": (-1, None, None)}
    for cfg in GRID:
        per_fold, oof = cv_curves(head0, x, e, usr, folds, cfg)
        mean_fold = per_fold.mean(axis=1)
        pooled = np.array([A.auc(oof[t], en) for t in range(EPOCHS)])
        res["configs"].append({"cfg": cfg, "mean_fold": mean_fold.tolist(), "pooled_oof": pooled.tolist(),
                               "fold_sd_at_best": float(per_fold[int(np.argmax(mean_fold))].std(ddof=1))})
        for name, curve in (("mean_fold", mean_fold), ("pooled_oof", pooled)):
            t = int(np.argmax(curve))
            if curve[t] > best[name][0]:
                best[name] = (float(curve[t]), cfg, t + 1)
        print(case, cfg, "best mean-fold %.4f @%d, pooled %.4f @%d" % (
            mean_fold.max(), mean_fold.argmax() + 1, pooled.max(), pooled.argmax() + 1), flush=True)
    pool_x, pool_e, pool_u = torch.cat([x, xv]), torch.cat([e, ev]), torch.cat([usr, usrv])
    for name, (score, cfg, epoch) in best.items():
        t_train, curve_train = refit_test(head0, x, e, usr, cfg, epoch, xt, etn)
        t_pool, _ = refit_test(head0, pool_x, pool_e, pool_u, cfg, epoch, xt, etn)
        res[name] = {"cv_auc": score, "cfg": cfg, "epoch": epoch, "test_refit_train": t_train,
                     "test_refit_train_val": t_pool, "test_by_epoch_refit_train": curve_train}
        print(case, name, json.dumps(res[name]), flush=True)
    cfg, epoch = best["mean_fold"][1], best["mean_fold"][2]
    n_ok, n_err = int((~en).sum()), int(en.sum())
    for label, kw in (("weighted_bce", {"pos_weight": n_ok / n_err}), ("oversample", {"oversample": True})):
        per_fold, _ = cv_curves(head0, x, e, usr, folds, cfg, **kw)
        mf = per_fold.mean(axis=1)
        res[label] = {"cv_auc_best": float(mf.max()), "epoch": int(mf.argmax()) + 1,
                      "cv_auc_at_selected_epoch": float(mf[epoch - 1])}
        print(case, label, json.dumps(res[label]), flush=True)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=["bbc-bert-linear", "bbc-minilm-score", "bbc-roberta"])
    ap.add_argument("--fit-root", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = [study(c, a.fit_root) for c in a.cases]
    (HERE / "selection_study.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
