"""Compare candidate default grids on per-configuration results of the paper grid.

    cargo bench --bench fit_grid_study -- --case C ... > study.jsonl   (one run per case)
    python bench/grid_study.py study.jsonl

Every configuration was trained on its own with the same seed as inside a grid search, so the
selection a sub-grid would make is replayed exactly: the configuration with the highest
validation ROC-AUC wins, the first in grid order (alpha, beta, lr, epochs nested) on ties.
For each candidate grid the table gives the test error ROC-AUC of its selection on every case,
the difference to the paper grid's selection, and its cost (summed single-thread wall time of
its configurations, relative to the paper grid's).
"""

import itertools
import json
import sys
from collections import defaultdict

PAPER = {"alpha": [0, 0.1, 0.3, 1], "beta": [0.01, 0.1, 0.5, 1], "lr": [1e-5, 1e-4, 1e-3], "epochs": [5, 10, 20]}
CANDIDATES = {
    "paper": PAPER,
    "paper, lr 1e-3 only": {**PAPER, "lr": [1e-3]},
    "paper, lr 1e-3, e20": {**PAPER, "lr": [1e-3], "epochs": [20]},
    "a{0,1} b{.01,.1,1} lr{1e-4,1e-3} e{10}": {"alpha": [0, 1], "beta": [0.01, 0.1, 1], "lr": [1e-4, 1e-3], "epochs": [10]},
    "a{0,1} b{.01,.1,1} lr{1e-4,1e-3} e{20}": {"alpha": [0, 1], "beta": [0.01, 0.1, 1], "lr": [1e-4, 1e-3], "epochs": [20]},
    "a{0,1} b{.01,.1,1} lr{1e-3} e{20}": {"alpha": [0, 1], "beta": [0.01, 0.1, 1], "lr": [1e-3], "epochs": [20]},
    "a{0,.3,1} b{.01,.1,1} lr{1e-3} e{20}": {"alpha": [0, 0.3, 1], "beta": [0.01, 0.1, 1], "lr": [1e-3], "epochs": [20]},
    "a{0,1} b{.01,1} lr{1e-4,1e-3} e{5,20}": {"alpha": [0, 1], "beta": [0.01, 1], "lr": [1e-4, 1e-3], "epochs": [5, 20]},
    "a{0,1} b{.01,.1,1} lr{1e-3} e{10,20}": {"alpha": [0, 1], "beta": [0.01, 0.1, 1], "lr": [1e-3], "epochs": [10, 20]},
    "a{0,.3,1} b{.01,.1,1} lr{1e-3} e{10}": {"alpha": [0, 0.3, 1], "beta": [0.01, 0.1, 1], "lr": [1e-3], "epochs": [10]},
}


def key(r):
    return (r["alpha"], r["beta"], r["lr"], r["epochs"])


def select(rows, grid):
    """The configuration a search over `grid` keeps, or None if the grid is not covered."""
    members = {key(r["result"]): r for r in rows}
    best = None
    for cfg in itertools.product(grid["alpha"], grid["beta"], grid["lr"], grid["epochs"]):
        cfg = tuple(float(v) if i < 3 else int(v) for i, v in enumerate(cfg))
        r = members.get(cfg)
        if r is None:
            return None
        auc = r["result"]["val_roc_auc"]
        if auc is not None and (best is None or auc > best["result"]["val_roc_auc"]):
            best = r
    return best


def cost(rows, grid):
    chosen = set(itertools.product(*(map(float, grid[k]) for k in ("alpha", "beta", "lr"))))
    return sum(r["wall_s"] for r in rows if key(r["result"])[:3] in chosen and r["result"]["epochs"] in grid["epochs"])


def main():
    runs = defaultdict(list)
    for path in sys.argv[1:]:
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                runs[(r["case"], r.get("seed", 0))].append(r)
    cases = sorted({c for c, _ in runs})
    seeds = sorted({s for _, s in runs})
    print(f"seeds: {seeds}; test AUC = mean over seeds of the selection's test error ROC-AUC")
    print("| grid | configs | cost vs paper | " + " | ".join(f"{c} (Δ paper)" for c in cases) + " | mean Δ |")
    print("|---|---|---|" + "---|" * len(cases) + "---|")
    paper_cost = sum(cost(rows, PAPER) for rows in runs.values())
    for name, grid in CANDIDATES.items():
        n = len(list(itertools.product(*grid.values())))
        cells, deltas = [], []
        for c in cases:
            tests, ds = [], []
            for seed in seeds:
                rows = runs.get((c, seed))
                if not rows:
                    continue
                sel, ref = select(rows, grid), select(rows, PAPER)
                tests.append(sel["test_roc_auc"])
                ds.append(sel["test_roc_auc"] - ref["test_roc_auc"])
            deltas.append(sum(ds) / len(ds))
            cells.append(f"{sum(tests) / len(tests):.4f} ({deltas[-1]:+.4f})")
        rel = sum(cost(rows, grid) for rows in runs.values()) / paper_cost
        print(f"| {name} | {n} | {rel:.3f} | " + " | ".join(cells) + f" | {sum(deltas) / len(deltas):+.4f} |")
    print()
    for c in cases:
        sr = [runs[(c, s)][0]["sr_test_roc_auc"] for s in seeds if (c, s) in runs]
        print(f"{c}: softmax response test AUC {sr[0]:.4f}")
        for s in seeds:
            rows = runs.get((c, s))
            if not rows:
                continue
            sel = select(rows, PAPER)
            o = max(rows, key=lambda r: r["test_roc_auc"] or 0)
            print(f"  seed {s}: paper selects {key(sel['result'])} (val {sel['result']['val_roc_auc']:.4f}, "
                  f"test {sel['test_roc_auc']:.4f}); best test of any config {o['test_roc_auc']:.4f} {key(o['result'])}")


if __name__ == "__main__":
    main()
