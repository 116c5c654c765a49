#!/usr/bin/env python3
"""Mahalanobis fitting, Rust (benches/mahalanobis.rs) against numpy, side by side.

Both sides: N rows of float32 features in C = 4 classes; f64 class means; within-class
covariance (divide by N) in f64; Cholesky (no jitter needed on these features, and the
jitter check costs nothing when none is needed); W = L⁻¹. numpy does it the way a numpy
user would: X.astype(float64), centre in place by row blocks, Xc.T @ Xc (numpy calls
BLAS syrk for X.T @ X), np.linalg.cholesky, scipy.linalg.solve_triangular(L, I); class
means as one-hot.T @ X (a small gemm, no per-class copies).
Each measurement runs in a fresh process; peak memory is that process's max RSS.

Usage: python bench/mahalanobis.py [--n 100000] [--d 1024 4096] [--repeat 1] [--threads T]
       (requirements: tests/golden/requirements-golden.txt). --threads sets RAYON_NUM_THREADS
       and OPENBLAS_NUM_THREADS for both sides (default: all cores). On a shared machine,
       OpenBLAS suffers more from other processes than rayon does: compare at low load, or
       with --threads 1.
"""
import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLASSES = 4


def numpy_fit(n, d):
    import numpy as np
    from scipy.linalg import solve_triangular

    rng = np.random.default_rng(0)
    y = (np.arange(n) * 7 + np.arange(n) // 3) % CLASSES
    x = rng.random((n, d), dtype=np.float32) * 2 - 1 + (y[:, None] * 0.1).astype(np.float32)
    t = time.perf_counter()
    counts = np.bincount(y, minlength=CLASSES)
    xc = x.astype(np.float64)
    onehot = np.eye(CLASSES)[y]  # [N, C]: class sums as one small matrix product
    means = (onehot.T @ xc) / counts[:, None]
    for i in range(0, n, 8192):
        xc[i : i + 8192] -= means[y[i : i + 8192]]
    cov = xc.T @ xc
    del xc
    cov /= n
    L = np.linalg.cholesky(cov)
    dg = np.diag(L)
    kappa = float((dg.max() / dg.min()) ** 2)
    W = solve_triangular(L, np.eye(d), lower=True)
    seconds = time.perf_counter() - t
    assert W.shape == (d, d)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"n": n, "d": d, "seconds": round(seconds, 3), "peak_rss_bytes": peak,
            "features_bytes": x.nbytes, "condition_number": kappa}


def rust_fit(n, d):
    env = dict(os.environ)  # carries RAYON_NUM_THREADS
    out = subprocess.run(
        ["cargo", "bench", "--quiet", "--bench", "mahalanobis", "--", str(n), str(d)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def numpy_in_subprocess(n, d):
    out = subprocess.run(
        [sys.executable, __file__, "--numpy-worker", str(n), str(d)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--d", type=int, nargs="+", default=[1024, 4096])
    ap.add_argument("--repeat", type=int, default=1, help="runs per side; the best time is kept")
    ap.add_argument("--threads", type=int, help="threads on both sides (default: all cores)")
    ap.add_argument("--numpy-worker", type=int, nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.threads:
        for var in ("RAYON_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            os.environ[var] = str(a.threads)
    if a.numpy_worker:
        print(json.dumps(numpy_fit(*a.numpy_worker)))
        return
    rows = []
    for d in a.d:
        r, p = [], []
        for _ in range(a.repeat):  # interleaved, so that load from other processes hits both
            r.append(rust_fit(a.n, d))
            p.append(numpy_in_subprocess(a.n, d))
        rb = min(r, key=lambda m: m["seconds"])
        pb = min(p, key=lambda m: m["seconds"])
        rows.append((d, rb, pb))
    gb = 1 << 30
    threads = a.threads or os.cpu_count()
    print(f"N = {a.n}, C = {CLASSES}, {threads} thread(s), best of {a.repeat}; "
          f"peak = max RSS of the process")
    print(f"{'D':>5} | {'features':>9} | {'rust s':>7} | {'numpy s':>7} | {'time ratio':>10} | "
          f"{'rust peak':>9} | {'numpy peak':>10} | {'rust peak/features':>18} | {'numpy peak/features':>19}")
    for d, r, p in rows:
        f = r["features_bytes"]
        print(f"{d:>5} | {f / gb:>7.2f}GB | {r['seconds']:>7.2f} | {p['seconds']:>7.2f} | "
              f"{r['seconds'] / p['seconds']:>10.2f} | {r['peak_rss_bytes'] / gb:>7.2f}GB | "
              f"{p['peak_rss_bytes'] / gb:>8.2f}GB | {r['peak_rss_bytes'] / f:>18.2f} | "
              f"{p['peak_rss_bytes'] / f:>19.2f}")


if __name__ == "__main__":
    main()
