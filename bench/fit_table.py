"""Formats bench/run_fit_bench.sh results (JSON lines) as a markdown table."""

import json
import sys
from collections import defaultdict


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by_case = defaultdict(list)
    for r in rows:
        by_case[r["case"]].append(r)
    print("| case | head | N×D | configs | impl | threads | wall s | torch/rust | "
          "sel. val AUC | test AUC | SR val AUC | SR test AUC |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case, runs in by_case.items():
        rust = [r for r in runs if r["impl"] == "rust"]
        torch = [r for r in runs if r["impl"] == "torch"]
        best_torch = min((r["wall_s"] for r in torch), default=None)
        for r in rust + torch:
            speed = ""
            if r["impl"] == "rust" and best_torch is not None:
                speed = f"{best_torch / r['wall_s']:.1f}×"
            print(f"| {case} | {r['head']} | {r['train_rows']}×{r['dim']} | {r['configurations']} | "
                  f"{r['impl']} | {r['threads']} | {r['wall_s']:.1f} | {speed} | "
                  f"{r['val_roc_auc']:.4f} | {r['test_roc_auc']:.4f} | "
                  f"{r['sr_val_roc_auc']:.4f} | {r['sr_test_roc_auc']:.4f} |")


if __name__ == "__main__":
    main()
