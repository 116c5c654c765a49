#!/usr/bin/env bash
# Installs the ONNX Runtime shared library that adue-compile loads at run time.
#
# ONNX Runtime has no Debian package, and `ort`'s own download step cannot reach
# its host from CI, so we take the library out of the official PyPI wheel
# (onnxruntime==1.32.0, manylinux x86_64) with pip and unpack it into .ort/.
# Idempotent: a second run only checks the file and prints the export line.
#
# Usage:  eval "$(bash scripts/setup-ort.sh)"    # sets ORT_DYLIB_PATH
set -euo pipefail
version=1.32.0
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.ort/$version"
lib="$dest/libonnxruntime.so.$version"
if [ ! -s "$lib" ]; then
  py=$(command -v python3 || command -v python)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$py" -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$tmp" "onnxruntime==$version" >&2
  wheel=$(ls "$tmp"/onnxruntime-"$version"-*.whl | head -n 1)
  mkdir -p "$dest"
  "$py" - "$wheel" "$dest" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith("onnxruntime/capi/") and base.startswith("libonnxruntime.so"):
            tmp = os.path.join(dest, base + ".part")
            with z.open(name) as src, open(tmp, "wb") as out:
                out.write(src.read())
            os.replace(tmp, os.path.join(dest, base))
PY
  ln -sf "libonnxruntime.so.$version" "$dest/libonnxruntime.so"
fi
[ -s "$lib" ] || { echo "setup-ort: $lib was not extracted from the wheel" >&2; exit 1; }
echo "export ORT_DYLIB_PATH=$lib"
