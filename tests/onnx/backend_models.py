"""Writes every ONNX backend test model, serialized by the onnx package itself.

The onnx wheel no longer ships the ~1,900 node test models as files; it ships the
Python test cases that build them (onnx.backend.test.case). This script writes, with
protobuf's own serializer (`ModelProto.SerializeToString`, as `onnx.save` does):

- node/<name>.onnx    every node test case (operators, function expansions, If / Loop /
                      Scan subgraphs, sparse and string tensors, optional / sequence types)
- model/<name>.onnx   every model test case built in Python
- data/<path>         every .onnx file the wheel ships under onnx/backend/test/data
- schema/<variant>.onnx  ModelProtos with EVERY field of the installed schema set (read from
                      its protobuf descriptors, so a field the Rust schema lacks shows up as
                      a byte difference): one variant per member of the largest oneof, each
                      once with non-default values (negative and > 32-bit integers, non-ASCII
                      strings) and once with explicit zeros / empty strings (proto2 presence)

and prints one JSON line: {"onnx": version, "protobuf": implementation, "count": {...}}.
The Rust test tests/it/onnx_roundtrip.rs decodes and re-encodes each one.

Usage: python tests/onnx/backend_models.py OUT_DIR
"""
import json
import os
import shutil
import sys
import warnings

import onnx
import onnx.backend.test.case.model as model_cases
import onnx.backend.test.case.node as node_cases
from google.protobuf.descriptor import FieldDescriptor as F
from google.protobuf.internal import api_implementation

# Nesting depth of the every-field models: deep enough to reach every message type from
# ModelProto (ModelProto > GraphProto > NodeProto > NodeDeviceConfigurationProto >
# ShardingSpecProto > ShardedDimProto > SimpleShardedDimProto).
DEPTH = 6


def write(path, model):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def scalar(f, k, zero):
    """A value for scalar field `f`: zero / empty, or the k-th non-default value."""
    t = f.type
    if zero:
        return {F.TYPE_STRING: "", F.TYPE_BYTES: b"", F.TYPE_BOOL: False}.get(t, 0)
    if t == F.TYPE_STRING:
        return f"{f.name}-{k}-\u00fc"
    if t == F.TYPE_BYTES:
        return bytes([0, 255, k])
    if t in (F.TYPE_FLOAT, F.TYPE_DOUBLE):
        return -1.5 * (k + 1)
    if t == F.TYPE_ENUM:
        values = [v.number for v in f.enum_type.values if v.number != 0]
        return values[k % len(values)]
    if t in (F.TYPE_UINT32, F.TYPE_UINT64):
        return 2**31 + k
    big = 2**20 if t == F.TYPE_INT32 else 2**33
    return -(k + 1) if k % 2 == 0 else big + k


def fill(msg, depth, variant, zero, seen):
    """Sets every field of `msg` (oneofs: member number `variant`), nested `depth` deep."""
    seen.add(msg.DESCRIPTOR.full_name)
    for f in msg.DESCRIPTOR.fields:
        if f.containing_oneof is not None:
            members = f.containing_oneof.fields
            if members[variant % len(members)] is not f:
                continue
        if f.type == F.TYPE_MESSAGE:
            if depth == 0:
                continue
            sub = getattr(msg, f.name).add() if f.is_repeated else getattr(msg, f.name)
            sub.SetInParent()
            fill(sub, depth - 1, variant, zero, seen)
        elif f.is_repeated:
            getattr(msg, f.name).extend([scalar(f, variant, zero), scalar(f, variant + 1, False)])
        else:
            setattr(msg, f.name, scalar(f, variant, zero))


def reachable(descriptor, out):
    """Full names of every message type reachable from `descriptor`."""
    if descriptor.full_name not in out:
        out.add(descriptor.full_name)
        for f in descriptor.fields:
            if f.message_type is not None:
                reachable(f.message_type, out)
    return out


def every_field_models(out):
    """Writes the schema/ models; fails if some message type was not reached."""
    seen = set()
    largest_oneof = max(
        len(o.fields) for name in reachable(onnx.ModelProto.DESCRIPTOR, set())
        for o in onnx.ModelProto.DESCRIPTOR.file.pool.FindMessageTypeByName(name).oneofs
    )
    n = 0
    for variant in range(largest_oneof):
        for zero in (False, True):
            model = onnx.ModelProto()
            fill(model, DEPTH, variant, zero, seen)
            suffix = "-zero" if zero else ""
            write(os.path.join(out, "schema", f"every-field-{variant}{suffix}.onnx"), model)
            n += 1
    missed = reachable(onnx.ModelProto.DESCRIPTOR, set()) - seen
    if missed:
        raise SystemExit(f"message types not filled: {sorted(missed)}")
    return n


def main(out):
    count = {"node": 0, "model": 0, "data": 0, "schema": every_field_models(out)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in node_cases.collect_testcases():
            write(os.path.join(out, "node", case.name + ".onnx"), case.model)
            count["node"] += 1
        for case in model_cases.collect_testcases():
            if case.model is not None:
                write(os.path.join(out, "model", case.name + ".onnx"), case.model)
                count["model"] += 1
    data = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    for root, _, files in sorted(os.walk(data)):
        for name in sorted(files):
            if name.endswith(".onnx"):
                rel = os.path.relpath(os.path.join(root, name), data)
                dest = os.path.join(out, "data", rel)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(os.path.join(root, name), dest)
                count["data"] += 1
    print(json.dumps({
        "onnx": onnx.__version__,
        "protobuf": api_implementation.Type(),
        "count": count,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
