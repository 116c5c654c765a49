#!/usr/bin/env bash
# Replays the selection of each grid in bench/grids/ on every case (fixtures/ and the
# reader-coverage cases in tests/data/), seeds 0-2, with the fit benchmark binary, and prints
# one row per grid x case: mean selected val / test error ROC-AUC, the softmax response's test
# ROC-AUC, and the learning rates selected. Evidence for the default grid (bench/FIT_RESULTS.md).
#
#   bash bench/grid_check.sh [SEEDS="0 1 2"]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"0 1 2"}
PYTHON=${PYTHON:-python3}
. bench/fit_bin.sh
BIN=$(fit_bench_bin)
{
  for grid in bench/grids/*.json; do
    for dir in fixtures/*/ tests/data/tiny-*/; do
      [ -d "$dir/adapter" ] || continue
      for seed in $SEEDS; do
        "$BIN" --train "$dir/train.safetensors" --val "$dir/val.safetensors" \
          --test "$dir/test.safetensors" --checkpoint "$dir/adapter" --grid "$grid" \
          --threads 2 --seed "$seed" \
          | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); d["case"]=sys.argv[1]; d["grid_file"]=sys.argv[2]; print(json.dumps(d))' \
            "$(basename "$dir")" "$(basename "$grid" .json)"
      done
    done
  done
} | "$PYTHON" -c '
import collections, json, sys
rows = collections.defaultdict(list)
for line in sys.stdin:
    d = json.loads(line)
    rows[(d["grid_file"], d["case"])].append(d)
print("| grid | case | configs | val AUC (mean) | test AUC (mean, min) | SR test AUC | AdUE - SR (mean) | lr selected |")
print("|---|---|---|---|---|---|---|---|")
for (g, c), ds in sorted(rows.items()):
    val = sum(d["val_roc_auc"] for d in ds) / len(ds)
    test = [d["test_roc_auc"] for d in ds]
    sr = ds[0]["sr_test_roc_auc"]
    lrs = ",".join("%g" % d["selected"]["lr"] for d in ds)
    n = ds[0]["configurations"]
    print(f"| {g} | {c} | {n} | {val:.4f} | {sum(test)/len(test):.4f} ({min(test):.4f}) | {sr:.4f} | {sum(test)/len(test)-sr:+.4f} | {lrs} |")
'
