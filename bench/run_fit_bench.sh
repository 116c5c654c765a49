#!/usr/bin/env bash
# Fit benchmark: adue-compile's grid search (Rust) beside a faithful PyTorch CPU implementation
# of the same loop (bench/fit_torch.py), on the same files, in one run; prints a table.
#
#   bash bench/run_fit_bench.sh [--fixtures-only | --synthetic-only] [--quick]
#
# Cases: every fixtures/<case>/ (adapter/ + train/val/test.safetensors) and every reader-coverage
# case in tests/data/<case>/ (same layout, random-init weights) with the paper grid;
# synthetic sets at N = 50 000 (D = 768 dense head, D = 4096 linear head) with a smaller grid
# (the same for both implementations), generated once into $FIT_BENCH_DIR.
# Rust runs with 2 worker threads; PyTorch with 1 and with 2 intra-op threads (the table's
# speed-up is against the faster of the two). Environment: PYTHON (default: the project venv),
# FIT_BENCH_DIR (default /tmp/adue-fit-bench), TORCH_THREADS (default "1 2").
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/root/.cache/adue/venv-gen/bin/python}
OUT=${FIT_BENCH_DIR:-/tmp/adue-fit-bench}
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
fixtures=1 synthetic=1 fixture_grid=paper
for arg in "$@"; do
  case $arg in
    --fixtures-only) synthetic=0 ;;
    --synthetic-only) fixtures=0 ;;
    --quick) fixture_grid=quick ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done

. bench/fit_bin.sh
BIN=$(fit_bench_bin)

# run CASE SPLIT_DIR GRID HEAD_ARGS...: one Rust run, then PyTorch with 1 and 2 threads.
run() {
  local case=$1 dir=$2 grid=$3; shift 3
  local head="$OUT/$case.original_head.safetensors"
  echo "== $case (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$BIN" --train "$dir/train.safetensors" --val "$dir/val.safetensors" --test "$dir/test.safetensors" \
    --grid "$grid" --threads 2 --save-original "$head" "$@" \
    | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); d['case']='$case'; print(json.dumps(d))" \
    | tee -a "$RESULTS" > "$OUT/$case.rust.json"
  "$PYTHON" -c "import json; print(json.dumps(json.load(open('$OUT/$case.rust.json'))['grid']))" > "$OUT/$case.grid.json"
  for t in ${TORCH_THREADS:-1 2}; do
    "$PYTHON" bench/fit_torch.py --train "$dir/train.safetensors" --val "$dir/val.safetensors" \
      --test "$dir/test.safetensors" --head "$head" --grid "$OUT/$case.grid.json" --threads $t \
      | "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); d['case']='$case'; print(json.dumps(d))" \
      >> "$RESULTS"
  done
}

if [ $fixtures = 1 ]; then
  for dir in fixtures/*/ tests/data/*/; do
    [ -f "$dir/train.safetensors" ] && [ -d "$dir/adapter" ] || continue
    run "$(basename "$dir")" "$dir" "$fixture_grid" --checkpoint "$dir/adapter"
  done
fi

if [ $synthetic = 1 ]; then
  small_grid="$OUT/synthetic-grid.json"
  echo '{"alpha": [0.0, 1.0], "beta": [0.01, 1.0], "lr": [1e-4, 1e-3], "epochs": [3]}' > "$small_grid"
  for spec in "dense 768" "linear 4096"; do
    set -- $spec
    dir="$OUT/synthetic-$1-$2"
    [ -f "$dir/test.safetensors" ] || "$PYTHON" bench/make_synthetic.py "$dir" --kind "$1" --dim "$2" --train 50000 >&2
    run "synthetic-$1-$2" "$dir" "$small_grid" --head "$dir/original_head.safetensors"
  done
fi

"$PYTHON" bench/fit_table.py "$RESULTS"
