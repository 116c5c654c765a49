#!/usr/bin/env bash
# The whole test suite on a fresh machine that has only Rust and Python 3:
# installs the Python cross-check packages into .venv, ONNX Runtime into .ort,
# then runs every test (unit, integration, snapshot, ONNX Runtime parity).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
export ADUE_PYTHON="$root/.venv/bin/python"
eval "$(bash scripts/setup-ort.sh)"
cargo test --locked
