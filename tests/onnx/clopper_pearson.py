"""Golden values for the exact one-sided Clopper-Pearson upper bound.

UCB(k, n; delta) = Beta(k + 1, n - k).ppf(1 - delta)  (1 when k = n), computed with
scipy, written to clopper_pearson_golden.json next to this script. The Rust test
tests/it/export_threshold.rs compares `clopper_pearson_upper` against it.

Usage: python tests/onnx/clopper_pearson.py   (requirements: requirements.txt)
"""
import json
import os

import scipy
from scipy.stats import beta

CASES = [
    (k, n, d)
    for d in (0.01, 0.05, 0.1, 0.2)
    for (k, n) in [
        (0, 1), (0, 10), (1, 10), (5, 10), (9, 10), (10, 10),
        (0, 45), (2, 100), (10, 100), (50, 100), (99, 100),
        (3, 250), (40, 1000), (150, 1000), (0, 5000), (250, 5000), (1200, 20000),
    ]
]


def ucb(k, n, d):
    return 1.0 if k >= n else float(beta.ppf(1.0 - d, k + 1, n - k))


def main():
    out = {
        "generator": "tests/onnx/clopper_pearson.py",
        "scipy_version": scipy.__version__,
        "cases": [{"k": k, "n": n, "delta": d, "upper": ucb(k, n, d)} for k, n, d in CASES],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clopper_pearson_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(CASES)} cases to {path}")


if __name__ == "__main__":
    main()
