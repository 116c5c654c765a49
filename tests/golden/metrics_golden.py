#!/usr/bin/env python3
"""Golden values for adue-compile's scoring (CONTRACT §5), computed independently of the
Rust code with numpy / scikit-learn / scipy.

For each case it reads {train,val,test}.safetensors (`features`, `labels`, `logits`) and
writes tests/golden/<case>.json with, per split, the softmax-response / entropy /
Mahalanobis / relative-Mahalanobis / temperature-scaled scores, their ROC-AUC, AURC,
E-AURC and PRR, and the calibration metrics before and after temperature scaling; plus
the jitter and condition estimate of the covariances and the fitted temperature.

Cases: the real fixtures under fixtures/<case>/, the random-init reader-coverage cases under
tests/data/<case>/ (when present), and the synthetic cases under tests/golden/synthetic/<case>/
(make_synthetic.py).

Usage: python tests/golden/metrics_golden.py [CASE ...]   (requirements-golden.txt)

Conventions shared with the Rust code by specification (CONTRACT §5), not by code:
- jitter: try Σ, then Σ + r·(tr Σ / D)·I for r = 1e-10, 1e-9, ..., 1; accept the first
  that has a Cholesky factor with (max L_ii / min L_ii)² ≤ 1e10;
- temperature: minimise the NLL over ln T in [ln 0.01, ln 100], then Newton steps on 1/T;
- ECE bins (k/15, (k+1)/15], edges computed as k/15; adaptive ECE: stable sort by
  confidence, numpy.array_split into 15 chunks; debiased ECE (Kumar et al. 2019) with the
  Gaussian expectation in closed form;
- AURC: rectangle mean over rows, ties averaged over their orders (lm-polygraph's
  RiskCoverageCurveAUC without ties; tests/golden/lm_polygraph_golden.py); E-AURC and PRR
  with the discrete (one point per row) oracle and the exact random baseline (error rate).
"""
import hashlib
import json
import pathlib
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from scipy.linalg import solve_triangular
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REAL = ["bbc-roberta", "bbc-bert-linear", "bbc-minilm-score"]
READER_COVERAGE = ["tiny-llama-576", "tiny-electra-gelu"]
SYNTHETIC = ["synth-4class", "synth-singular", "synth-degenerate"]
MAX_CONDITION = 1e10
RELATIVE_JITTERS = [0.0] + [10.0**k for k in range(-10, 1)]
BINS = 15
T_MIN, T_MAX = 0.01, 100.0


def case_dir(case):
    if case in REAL:
        return pathlib.Path("fixtures") / case
    if case in READER_COVERAGE:
        return pathlib.Path("tests/data") / case
    return pathlib.Path("tests/golden/synthetic") / case


def load(path):
    """features (float64 of the stored values), labels, logits (float32 as stored → f64)."""
    t = load_file(str(ROOT / path))
    x = t["features"].to(torch.float32).numpy().astype(np.float64)
    y = t["labels"].to(torch.int64).numpy()
    z = t["logits"].to(torch.float32).numpy()
    sha = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
    return x, y, z, sha


# ---------------------------------------------------------------- metrics (CONTRACT §5)
def roc_auc(u, e):
    if e.all() or not e.any():
        return None
    return float(roc_auc_score(e, u))


def risk_coverage_area(u, e):
    """AURC, rectangle mean (1/N) sum_k r_k (lm-polygraph's RiskCoverageCurveAUC), with a run
    of g tied scores holding m errors, entered after k0 rows and E0 errors, contributing
    sum_{j=1..g} (E0 + j*m/g) / (k0 + j): the mean over the orders within the tie."""
    n = len(u)
    order = np.argsort(u, kind="stable")
    us, es = u[order], e[order].astype(np.float64)
    starts = np.r_[0, np.nonzero(us[1:] != us[:-1])[0] + 1]
    sizes = np.diff(np.r_[starts, n])
    errs = np.add.reduceat(es, starts)
    k0 = np.repeat(starts, sizes).astype(np.float64)          # rows before the run
    e0 = np.repeat(np.cumsum(errs) - errs, sizes)             # errors before the run
    j = np.arange(n) - k0 + 1                                 # position within the run
    rate = np.repeat(errs / sizes, sizes)                     # m / g of the run
    return float(np.sum((e0 + j * rate) / (k0 + j)) / n)


def oracle_area(e):
    """The discrete oracle: every correct row first, one point per row (rectangle mean)."""
    n = len(e)
    es = np.sort(e.astype(np.float64))  # correct (0) first
    k = np.arange(1, n + 1, dtype=np.float64)
    return float(np.mean(np.cumsum(es) / k))


def selective(u, e):
    a = risk_coverage_area(u, e)
    o = oracle_area(e)
    rate = float(e.mean())
    prr = None if (e.all() or not e.any()) else (rate - a) / (rate - o)
    return {"roc_auc": roc_auc(u, e), "aurc": a, "e_aurc": a - o, "prr": prr}


def abs_normal_mean(m, s):
    """E|X| for X ~ N(m, s^2); |m| when s = 0."""
    if s == 0:
        return abs(m)
    return s * np.sqrt(2 / np.pi) * np.exp(-m * m / (2 * s * s)) + m * (1 - 2 * norm.cdf(-m / s))


def calibration(logp, y):
    n = len(y)
    p = np.exp(logp)
    pred = np.argmax(logp, axis=1)
    conf = np.exp(logp.max(axis=1))
    correct = (pred == y).astype(np.float64)
    edges = np.arange(BINS + 1) / BINS
    b = np.searchsorted(edges[1:-1], conf, side="left")
    ece, mce, noisy = 0.0, 0.0, 0.0
    for k in range(BINS):
        m = b == k
        if m.any():
            acc, cb, nb = correct[m].mean(), conf[m].mean(), m.sum()
            gap = abs(acc - cb)
            ece += nb / n * gap
            mce = max(mce, gap)
            # Kumar et al. 2019 (normal_debiased_ce), expectation in closed form
            noisy += nb / n * abs_normal_mean(acc - cb, np.sqrt(acc * (1 - acc) / nb))
    aece = 0.0
    for chunk in np.array_split(np.argsort(conf, kind="stable"), BINS):
        if len(chunk):
            aece += len(chunk) / n * abs(correct[chunk].mean() - conf[chunk].mean())
    onehot = np.eye(logp.shape[1])[y]
    return {
        "accuracy": float(correct.mean()),
        "ece": float(ece),
        "ece_debiased": float(2 * ece - noisy),
        "adaptive_ece": float(aece),
        "mce": float(mce),
        "brier": float(((p - onehot) ** 2).sum(axis=1).mean()),
        "nll": float(-logp[np.arange(n), y].mean()),
    }


# ---------------------------------------------------------------- temperature scaling
def nll_beta(z, y, beta):
    return float(-log_softmax(beta * z.astype(np.float64), axis=1)[np.arange(len(y)), y].mean())


def fit_temperature(z, y):
    z64 = z.astype(np.float64)
    lo, hi = np.log(T_MIN), np.log(T_MAX)
    res = minimize_scalar(
        lambda s: nll_beta(z, y, np.exp(-s)), bounds=(lo, hi), method="bounded",
        options={"xatol": 1e-10, "maxiter": 10000},
    )
    s = res.x
    flat = bool(np.all(z64 == z64[:, :1]))
    tol = 1e-6 * (hi - lo)
    if flat:
        t, status = 1.0, "flat"
    elif s - lo < tol or hi - s < tol:
        t, status = float(np.exp(lo if s - lo < tol else hi)), "at_bracket_edge"
    else:
        beta = np.exp(-s)
        for _ in range(50):
            p = np.exp(log_softmax(beta * z64, axis=1))
            mean = (p * z64).sum(1)
            g = (mean - z64[np.arange(len(y)), y]).mean()
            h = ((p * z64 * z64).sum(1) - mean**2).clip(min=0).mean()
            nxt = beta - g / h
            if not (h > 0 and 1 / T_MAX < nxt < 1 / T_MIN):
                break
            done = abs(nxt - beta) <= 4 * np.finfo(float).eps * beta
            beta = nxt
            if done:
                break
        t, status = float(1 / beta), "converged"
    return {
        "value": t,
        "status": status,
        "nll_before": nll_beta(z, y, 1.0),
        "nll_after": nll_beta(z, y, 1 / t),
    }


# ---------------------------------------------------------------- Mahalanobis
def factor(cov):
    d = cov.shape[0]
    mv = float(np.trace(cov) / d)
    scale = mv if (np.isfinite(mv) and mv > 0) else 1.0
    for attempt, rel in enumerate(RELATIVE_JITTERS):
        try:
            L = np.linalg.cholesky(cov + rel * scale * np.eye(d))
        except np.linalg.LinAlgError:
            continue
        dg = np.diag(L)
        if not (np.all(np.isfinite(dg)) and dg.min() > 0):
            continue
        kappa = float((dg.max() / dg.min()) ** 2)
        if kappa <= MAX_CONDITION:
            info = {
                "jitter": rel * scale,
                "relative_jitter": rel,
                "mean_variance": mv,
                "attempts": attempt + 1,
                "condition_number": kappa,
            }
            return L, info
    raise RuntimeError("not positive definite with any jitter")


def fit_mahalanobis(x, y, classes):
    n = len(y)
    counts = np.bincount(y, minlength=classes)
    present = np.nonzero(counts)[0]
    means = np.stack([x[y == c].mean(axis=0) for c in present])
    xc = x - means[np.searchsorted(present, y)]
    L, info = factor(xc.T @ xc / n)
    mu0 = x.mean(axis=0)
    x0 = x - mu0
    # Background covariance computed directly (the Rust code uses within + between).
    L0, info0 = factor(x0.T @ x0 / n)
    return {"means": means, "L": L, "mu0": mu0, "L0": L0, "info": info, "info0": info0,
            "counts": counts.tolist()}


def mahalanobis_scores(md, x):
    d2 = np.stack(
        [(solve_triangular(md["L"], (x - m).T, lower=True) ** 2).sum(axis=0) for m in md["means"]],
        axis=1,
    )
    md_score = d2.min(axis=1)
    d0 = (solve_triangular(md["L0"], (x - md["mu0"]).T, lower=True) ** 2).sum(axis=0)
    return md_score, md_score - d0


# ---------------------------------------------------------------- one case
def run_case(case):
    d = case_dir(case)
    if not (ROOT / d / "train.safetensors").exists():
        print(f"skip {case}: {d} not found", file=sys.stderr)
        return None
    xt, yt, zt, sha_t = load(d / "train.safetensors")
    splits = {s: load(d / f"{s}.safetensors") for s in ("val", "test")}
    classes = zt.shape[1]
    md = fit_mahalanobis(xt, yt, classes)
    zv, yv = splits["val"][2], splits["val"][1]
    temp = fit_temperature(zv, yv)
    out = {
        "case": case,
        "dir": str(d),
        "generated_by": "tests/golden/metrics_golden.py",
        "inputs": {"train": sha_t, **{s: v[3] for s, v in splits.items()}},
        "max_condition": MAX_CONDITION,
        "temperature": temp,
        "mahalanobis": {"within": md["info"], "background": md["info0"],
                        "class_counts": md["counts"]},
        "splits": {},
    }
    for s, (x, y, z, _) in splits.items():
        logp = log_softmax(z.astype(np.float64), axis=1)
        logp_ts = log_softmax(z.astype(np.float64) * (1 / temp["value"]), axis=1)
        e = np.argmax(z, axis=1) != y
        p = np.exp(logp)
        md_s, rmd_s = mahalanobis_scores(md, x)
        scores = {
            "softmax_response": 1 - np.exp(logp.max(axis=1)),
            "entropy": -(p * logp).sum(axis=1),
            "mahalanobis": md_s,
            "relative_mahalanobis": rmd_s,
            "temperature_scaling": 1 - np.exp(logp_ts.max(axis=1)),
        }
        out["splits"][s] = {
            "rows": int(len(y)),
            "errors": int(e.sum()),
            "classes_present": int(len(np.unique(y))),
            "methods": {m: selective(u, e) for m, u in scores.items()},
            "calibration": calibration(logp, y),
            "calibration_ts": calibration(logp_ts, y),
            "scores": {m: [float(v) for v in u] for m, u in scores.items()},
        }
    path = HERE / f"{case}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return out


if __name__ == "__main__":
    for case in sys.argv[1:] or REAL + READER_COVERAGE + SYNTHETIC:
        run_case(case)
