#!/usr/bin/env python3
"""Seed models of the `head_locator` fuzz target: small graphs that hold the fuzz heads'
matrices (fuzz/drivers.rs `locator_matrix`, `locator_heads`: C = 3, D = 4) the ways exporters
write a classification head, so that the fuzzer starts from inputs the locator accepts.

  python fuzz/locator_seeds.py OUT_DIR     (needs numpy and onnx)
"""

import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

C, D = 3, 4


def matrix(rows, cols, seed):
    """drivers::locator_matrix."""
    return np.array([[((i * cols + j + seed) % 7) / 8 - 0.375 for j in range(cols)] for i in range(rows)],
                    dtype=np.float32)


def model(nodes, inits, outputs, infos=(), inputs=("input_ids", "attention_mask")):
    graph = helper.make_graph(
        [helper.make_node("Cast", ["input_ids"], ["x"], to=TensorProto.FLOAT)] + nodes, "head",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in inputs],
        outputs, initializer=inits, value_info=list(infos))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    w, dense, proj = matrix(C, D, 0), matrix(D, D, 1), matrix(C, D, 2)
    logits = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", C])]
    seeds = {
        "gemm": model([helper.make_node("Gemm", ["x", "classifier.weight"], ["logits"], transB=1)],
                      [numpy_helper.from_array(w, "classifier.weight")], logits),
        "matmul-rank3": model([helper.make_node("MatMul", ["x", "val_1"], ["logits"])],
                              [numpy_helper.from_array(w.T.copy(), "val_1")], logits,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", D])]),
        "constant-transpose": model(
            [helper.make_node("Constant", [], ["w"], value=numpy_helper.from_array(w, "w")),
             helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]),
             helper.make_node("MatMul", ["x", "wt"], ["logits"])], [], logits),
        "f16-cast": model(
            [helper.make_node("Cast", ["w16"], ["w32"], to=TensorProto.FLOAT),
             helper.make_node("MatMul", ["x", "w32"], ["logits"])],
            [numpy_helper.from_array(w.T.astype(np.float16), "w16")], logits),
        "dense": model(
            [helper.make_node("Gemm", ["x", "d.w"], ["z"], transB=1), helper.make_node("Tanh", ["z"], ["a"]),
             helper.make_node("Gemm", ["a", "o.w"], ["logits"], transB=1)],
            [numpy_helper.from_array(dense, "d.w"), numpy_helper.from_array(proj, "o.w")], logits),
        "unknown-input": model([helper.make_node("Gemm", ["x", "cw"], ["logits"], transB=1)],
                               [numpy_helper.from_array(w, "cw")], logits,
                               inputs=("input_ids", "position_ids")),
    }
    for name, m in seeds.items():
        onnx.checker.check_model(m)
        (out / f"{name}.onnx").write_bytes(m.SerializeToString())
    ext = seeds["gemm"]
    onnx.external_data_helper.convert_model_to_external_data(ext, location="w.bin", size_threshold=0)
    (out / "external.onnx").write_bytes(ext.SerializeToString())


if __name__ == "__main__":
    main()
