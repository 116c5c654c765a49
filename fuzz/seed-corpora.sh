#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets in fuzz/corpus/<target>/ from real files:
# fixtures/ and tests/data/ for the inputs (texts and head_locator: the end-to-end fixtures), and (for onnx and report) the artifacts of a real
# `fit` + `export` of the tiny fixtures. Idempotent; existing corpus files are kept.
#
# Usage (from the repository root): bash fuzz/seed-corpora.sh
# Needs a stable toolchain (it runs `cargo run --release`); CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
C=fuzz/corpus
mkdir -p "$C"/{safetensors,npy,adapter_config,grid,onnx,onnx_model,report,texts,head_locator}

# safetensors: the small feature, adapter and model files (headers with every layout).
for f in tests/data/peft_lora_head/*/test.safetensors \
         tests/data/peft_lora_head/*/adapter/adapter_model.safetensors \
         tests/data/peft_lora_head/*/base/model.safetensors \
         tests/golden/synthetic/synth-degenerate/test.safetensors \
         tests/data/tiny-electra-gelu/test.safetensors \
         tests/data/tiny-electra-gelu/adapter/adapter_model.safetensors; do
  cp "$f" "$C/safetensors/$(echo "$f" | tr / _)"
done

# npy: the .npy feature directory of the tests (f4 [N, D], i8 [N], f4 [N, C]).
for f in tests/data/npy/*.npy; do cp "$f" "$C/npy/$(basename "$f")"; done

# adapter_config.json of every PEFT adapter in the repository.
for f in fixtures/*/adapter/adapter_config.json tests/data/*/adapter/adapter_config.json \
         tests/data/peft_lora_head/*/*/adapter_config.json; do
  cp "$f" "$C/adapter_config/$(echo "$f" | tr / _)"
done

# grid: the built-in grids and a one-point grid, as --grid files.
echo '{"alpha": [0, 0.1, 0.3, 1], "beta": [0.01, 0.1, 0.5, 1], "lr": [1e-5, 1e-4, 1e-3], "epochs": [5, 10, 20]}' > "$C/grid/paper.json"
echo '{"alpha": [0, 1], "beta": [0.01, 0.1, 1], "lr": [0.0001, 0.001], "epochs": [20]}' > "$C/grid/quick.json"
echo '{"alpha": [1.0], "beta": [0.1], "lr": [1e-3], "epochs": [2]}' > "$C/grid/one.json"

# onnx and report: fit the two tiny fixtures (one dense, one linear head) on a one-point
# grid, export each plain and with the certified threshold (and one Mahalanobis output).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/adue-compile"
for case in tiny-electra-gelu tiny-llama-576; do
  fx=tests/data/$case
  "$bin" -q fit --checkpoint "$fx/adapter" --train "$fx/train.safetensors" \
    --val "$fx/val.safetensors" --test "$fx/test.safetensors" \
    --grid "$C/grid/one.json" --out "$tmp/$case" >/dev/null
  cp "$tmp/$case/report.json" "$C/report/$case.report.json"
  "$bin" -q export --fit "$tmp/$case" --out "$C/onnx/$case.onnx" >/dev/null
done
# The Mahalanobis output of the small-D case (D = 576 would give a 1.3 MB whitener).
"$bin" -q export --fit "$tmp/tiny-electra-gelu" --with-mahalanobis --target-risk 0.3 --delta 0.1 \
  --out "$C/onnx/tiny-electra-gelu.mahalanobis-threshold.onnx" >/dev/null
"$bin" -q export --fit "$tmp/tiny-llama-576" --target-risk 0.5 --delta 0.2 \
  --out "$C/onnx/tiny-llama-576.threshold.onnx" >/dev/null

# onnx_model: the heads above, and the onnx package's backend test models as protobuf writes
# them (tests/onnx/backend_models.py: operators, subgraphs, functions, sparse tensors, every
# schema field), up to 64 KB each. Needs ADUE_PYTHON (or python3) with onnx.
cp "$C"/onnx/*.onnx "$C/onnx_model/"
py=${ADUE_PYTHON:-python3}
if "$py" -c "import onnx" 2>/dev/null; then
  "$py" tests/onnx/backend_models.py "$tmp/backend" >/dev/null
  find "$tmp/backend" -name '*.onnx' -size -64k | while read -r f; do
    cp "$f" "$C/onnx_model/$(echo "${f#"$tmp"/backend/}" | tr / _)"
  done
fi

# texts: JSONL of the 3-class fixture (its short texts and the first 20 val rows, with its
# labels), a CRLF copy with a byte-order mark and blank lines, and a few bad rows.
cp fixtures/bbc-bert-linear/e2e/short.jsonl "$C/texts/short.jsonl"
head -n 20 fixtures/bbc-bert-linear/texts/val.jsonl > "$C/texts/val20.jsonl"
{ printf '\xef\xbb\xbf'; head -n 3 "$C/texts/short.jsonl" | sed 's/$/\r/'; printf '\n \n'; } > "$C/texts/bom-crlf.jsonl"
printf '{"text": "a", "label": 2}\n{"text": "b", "label": 3}\n{"label": 1}\n[1]\n' > "$C/texts/bad.jsonl"

# head_locator: small graphs holding the driver's head matrices the ways exporters write
# them (fuzz/locator_seeds.py), and the end-to-end fixtures' weight-free skeletons.
if "$py" -c "import onnx, numpy" 2>/dev/null; then
  "$py" fuzz/locator_seeds.py "$C/head_locator" >/dev/null
fi
for f in fixtures/*/e2e/skeleton.onnx; do
  cp "$f" "$C/head_locator/$(echo "$f" | tr / _)"
done

ls -l "$C"/* | awk 'NF > 3 {n++; b += $5} END {print n " seed files, " b " bytes"}'
