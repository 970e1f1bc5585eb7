"""Stores the large float32 weights of an ONNX graph as float16, computed in float32.

Each float32 initializer of at least ``min_size`` elements becomes a float16 initializer named
``<name>_fp16`` followed by a ``Cast`` to float32 under the original name, so every consumer (MatMul,
Gemm, Conv, LSTM) still sees float32. ONNX Runtime folds each Cast of a constant into a float32
initializer when the session is created (basic graph optimizations), so the graph runs at the float32
speed and memory; only the file is smaller (half the bytes of those weights). The weights themselves
are rounded to float16 (relative error at most 2^-11; values beyond the float16 range refuse).
Small tensors (biases, normalisation statistics) stay float32.

usage: /usr/bin/python3 float16.py <in.onnx> <out.onnx> [min_size]
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

MIN_SIZE = 1024


def store_float16(src, dst, min_size=MIN_SIZE):
    """Writes dst (see the module docstring); returns {"converted": n, "bytes_before": .., "bytes_after": ..}."""
    model = onnx.load(src)
    graph = model.graph
    keep, casts, converted = [], [], 0
    for init in graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.size < min_size:
            keep.append(init)
            continue
        if np.abs(w).max() > np.finfo(np.float16).max:
            raise ValueError(f"{src}: initializer {init.name} exceeds the float16 range")
        keep.append(numpy_helper.from_array(w.astype(np.float16), init.name + "_fp16"))
        casts.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name], name=init.name + "_to_float",
                                      to=TensorProto.FLOAT))
        converted += 1
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, dst)
    return {"converted": converted, "bytes_before": os.path.getsize(src), "bytes_after": os.path.getsize(dst)}


if __name__ == "__main__":
    summary = store_float16(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else MIN_SIZE)
    print(f"wrote {sys.argv[2]}: {summary}")
