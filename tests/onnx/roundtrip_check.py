"""Semantic identity of an ONNX model and its decode -> encode round trip, for files
whose bytes are allowed to differ (e.g. packed vs unpacked repeated fields).

1. protobuf message equality of the two files as `onnx` decodes them (field by field,
   independent of the wire encoding);
2. `onnx.checker.check_model(full_check=True)` on the round-tripped file;
3. both files run in onnxruntime (CPU) on the same seeded inputs (symbolic dims = 2);
   every output must be bitwise equal.

Prints one JSON object: {"proto_equal", "checker", "outputs", "outputs_equal"}.
Usage: python tests/onnx/roundtrip_check.py ORIGINAL.onnx ROUND_TRIPPED.onnx
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper


def inputs_for(model, rng):
    feeds = {}
    init = {t.name for t in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in init:
            continue
        t = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 2 for d in t.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(t.elem_type)
        if np.issubdtype(dtype, np.floating):
            feeds[vi.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[vi.name] = rng.integers(0, 2, shape).astype(dtype)
    return feeds


def run(path, feeds):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)


def main(original, round_tripped):
    a = onnx.load(original, load_external_data=False)
    b = onnx.load(round_tripped, load_external_data=False)
    result = {"proto_equal": a == b}
    onnx.checker.check_model(b, full_check=True)
    result["checker"] = True
    feeds = inputs_for(a, np.random.default_rng(0))
    out_a, out_b = run(original, feeds), run(round_tripped, feeds)
    result["outputs"] = len(out_a)
    result["outputs_equal"] = len(out_a) == len(out_b) and all(
        x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        for x, y in zip(out_a, out_b)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
