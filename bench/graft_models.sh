#!/usr/bin/env bash
# The grafted models that `bench/e2e_bench.py --grafted DIR` times against the originals:
# for every real e2e case, `fit` on the fixture's cached features (default grid), then
# `export --graft` of that fit onto the case's model.onnx with every optional output
# (mahalanobis, accept at target risk 0.1, δ 0.1), the largest graft we make.
#
#   eval "$(bash scripts/setup-e2e.sh)"
#   cargo build --release --bin adue-compile
#   bash bench/graft_models.sh target/release/adue-compile DIR
set -euo pipefail
bin=$1
out=$2
: "${ADUE_E2E_MODELS:?run eval \"\$(bash scripts/setup-e2e.sh)\" first}"
for case in bbc-bert-linear bbc-roberta bbc-minilm-score; do
  f=fixtures/$case
  mkdir -p "$out/$case"
  "$bin" -q fit --checkpoint "$f/adapter" --train "$f/train.safetensors" --val "$f/val.safetensors" \
    --test "$f/test.safetensors" --out "$out/$case/fit" >/dev/null
  "$bin" -q export --fit "$out/$case/fit" --graft "$ADUE_E2E_MODELS/$case/model.onnx" \
    --with-mahalanobis --target-risk 0.1 --delta 0.1 --out "$out/$case/full.onnx"
done
