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
    "a{0,1} b{.01,.1,1} lr{1e-4,1e-3} e{10}": {"alpha": [0, 1], "beta": [0.01, 0.1, 1], "lr": [1e-4, 1e-3], "epochs": [10]},
    "a{0,.3,1} b{.01,.1,1} lr{1e-3} e{10}": {"alpha": [0, 0.3, 1], "beta": [0.01, 0.1, 1], "lr": [1e-3], "epochs": [10]},
    "a{0,1} b{.01,1} lr{1e-4,1e-3} e{5,20}": {"alpha": [0, 1], "beta": [0.01, 1], "lr": [1e-4, 1e-3], "epochs": [5, 20]},
    "a{.1,1} b{.01,.1,.5,1} lr{1e-3} e{10}": {"alpha": [0.1, 1], "beta": [0.01, 0.1, 0.5, 1], "lr": [1e-3], "epochs": [10]},
    "a{0,.3,1} b{.01,.1,1} lr{1e-4,1e-3} e{10}": {"alpha": [0, 0.3, 1], "beta": [0.01, 0.1, 1], "lr": [1e-4, 1e-3], "epochs": [10]},
    "a{0,.3,1} b{.01,.1,1} lr{1e-3} e{5,10}": {"alpha": [0, 0.3, 1], "beta": [0.01, 0.1, 1], "lr": [1e-3], "epochs": [5, 10]},
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
    cases = defaultdict(list)
    for path in sys.argv[1:]:
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                cases[r["case"]].append(r)
    names = sorted(cases)
    print("| grid | configs | cost vs paper | " + " | ".join(f"{c} test AUC (Δ paper)" for c in names) + " | mean Δ |")
    print("|---|---|---|" + "---|" * len(names) + "---|")
    paper_sel = {c: select(cases[c], PAPER) for c in names}
    paper_cost = sum(cost(cases[c], PAPER) for c in names)
    for name, grid in CANDIDATES.items():
        n = len(list(itertools.product(*grid.values())))
        cells, deltas = [], []
        for c in names:
            s = select(cases[c], grid)
            d = s["test_roc_auc"] - paper_sel[c]["test_roc_auc"]
            deltas.append(d)
            r = s["result"]
            cells.append(f"{s['test_roc_auc']:.4f} ({d:+.4f}) [a{r['alpha']:g} b{r['beta']:g} lr{r['lr']:g} e{r['epochs']}]")
        rel = sum(cost(cases[c], grid) for c in names) / paper_cost
        print(f"| {name} | {n} | {rel:.3f} | " + " | ".join(cells) + f" | {sum(deltas) / len(deltas):+.4f} |")
    print()
    print("Best test AUC of any single configuration (oracle, not selectable):")
    for c in names:
        o = max(cases[c], key=lambda r: r["test_roc_auc"] or 0)
        print(f"  {c}: {o['test_roc_auc']:.4f} {key(o['result'])}")
    print("Top-5 configurations by validation AUC per case:")
    for c in names:
        top = sorted(cases[c], key=lambda r: -(r["result"]["val_roc_auc"] or 0))[:5]
        print(f"  {c}: " + "; ".join(f"{key(r['result'])} val {r['result']['val_roc_auc']:.4f} test {r['test_roc_auc']:.4f}" for r in top))


if __name__ == "__main__":
    main()
