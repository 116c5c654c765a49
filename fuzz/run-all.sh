#!/usr/bin/env bash
# Runs fuzz targets one after the other, one libFuzzer process each, with the limits used
# for the recorded runs (README.md), and prints each run's final status line.
#
# Usage (from the repository root or fuzz/):
#   bash fuzz/run-all.sh [SECONDS] [TARGET...]      # default: 360 s, every target
# Extra libFuzzer flags: LIBFUZZER_FLAGS="-max_len=65536" bash fuzz/run-all.sh 600 grid
# The log of target T is fuzz/fuzz-T.log; crashing inputs go to fuzz/artifacts/T/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-360}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors npy adapter_config grid onnx onnx_model report texts head_locator)
for t in "${targets[@]}"; do
  dict=()
  [ -f "dicts/$t.dict" ] && dict=(-dict="dicts/$t.dict")
  mkdir -p "corpus/$t"
  # -jobs=1 makes libFuzzer restartable and log to fuzz-0.log.
  nice -n 10 cargo +nightly fuzz run -a --target-dir "${CARGO_TARGET_DIR:-target}" \
    "$t" "corpus/$t" -- \
    -jobs=1 -workers=1 -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    "${dict[@]}" ${LIBFUZZER_FLAGS:-} >/dev/null 2>&1 || true
  mv fuzz-0.log "fuzz-$t.log"
  echo "== $t: $(grep -E '^#[0-9]+.*(DONE|pulse)' "fuzz-$t.log" | tail -n 1)"
  grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "fuzz-$t.log" || true
done
