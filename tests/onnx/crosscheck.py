"""Cross-runtime check of an exported adue-compile ONNX head.

1. `onnx.checker.check_model(model, full_check=True)`: schema, opset and strict
   shape inference (the inferred output types must match the declared ones);
2. runs the model in Python onnxruntime (CPU) on a float32 `.npy` feature matrix;
3. writes a JSON file with the versions, the IR / opset, the metadata and every
   output (shape, dtype, values: float32 values are written as exact doubles).

The Rust test tests/it/export_crosscheck.rs runs this script and compares the
outputs with the Rust reference. Requirements: requirements.txt next to this file.

Usage: python tests/onnx/crosscheck.py MODEL.onnx FEATURES.npy OUT.json
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main(model_path, features_path, out_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    x = np.load(features_path)
    if x.dtype != np.float32 or x.ndim != 2:
        raise SystemExit(f"{features_path}: expected a 2-D float32 array, got {x.dtype} {x.shape}")
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {"features": x})
    outputs = {}
    for name, v in zip(names, values):
        if v.dtype == np.bool_:
            data = [bool(b) for b in v.reshape(-1)]
        elif v.dtype == np.float32:
            data = [float(f) for f in v.reshape(-1)]
        else:
            raise SystemExit(f"output {name} has unexpected dtype {v.dtype}")
        outputs[name] = {"shape": list(v.shape), "dtype": str(v.dtype), "data": data}
    result = {
        "onnx_version": onnx.__version__,
        "onnxruntime_version": ort.__version__,
        "checker": "ok",
        "ir_version": model.ir_version,
        "opset": {o.domain or "ai.onnx": o.version for o in model.opset_import},
        "metadata": {p.key: p.value for p in model.metadata_props},
        "outputs": outputs,
    }
    with open(out_path, "w") as f:
        json.dump(result, f)
    print(f"checker ok; onnxruntime {ort.__version__} ran {x.shape[0]} rows; outputs {names}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
