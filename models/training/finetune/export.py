"""Exports a fine-tuned multi-task model (train_multitask.py's model.pt) as the fused graph of a
``bert-multihead`` bundle, in float32 and with int8 weights.

Graph contract (models/README.md, "Fused multi-head bundles"): inputs ``input_ids``,
``attention_mask``, ``token_type_ids`` and, for a model with a casing embedding, ``case_ids`` (int64
[B,S]); outputs ``sentiment_logits`` [B,3], ``class_logits`` [B,4], ``entity_logits`` [B,S,9].

Weight-only int8 (written with the ``onnx`` package; no quantization tool is involved):
  * every MatMul weight (the encoder's Linear layers, [in,out]) becomes an int8 initializer with one
    float scale per output column (symmetric, zero point 0) and a ``DequantizeLinear`` (axis 1)
    feeding the MatMul;
  * the word embedding table becomes int8 rows with one scale per row: the graph gathers the int8
    rows and their scales for the batch's ids and multiplies (Cast + Mul), so only the rows in use
    are dequantized, never the whole 30522-row table.
With the form ``MatMulInteger`` the MatMuls run on int8 instead (the form ONNX Runtime's own
``quantize_dynamic`` writes): each activation feeding a quantized weight is quantized per tensor at
run time (``DynamicQuantizeLinear``, uint8), multiplied by the int8 weight with ``MatMulInteger``
(int32), and scaled back by activation scale x column scale; ONNX Runtime fuses the four nodes into
one integer kernel. Otherwise activations stay float32; biases, LayerNorms, position/type/casing embeddings and the small heads
stay float32.

With ``table_bits`` 4 the word embedding is stored in 4 bits (a float16 scale per row and group of
32 columns, two values per byte; the graph unpacks the gathered rows only), which takes 5.2 MB off
a bundle; on the minilm-ft bundle (Java runtime) SST-2 moved +0.2 and TweetEval macro-recall -0.3.

usage: /usr/bin/python3 export.py <model.pt> <encoder.onnx> <out-dir> [DequantizeLinear|CastMul|MatMulInteger [8|4 [8|4]]]
  writes <out-dir>/model.fp32.onnx and <out-dir>/model.onnx (int8 weights; 4: int4 word embedding;
  a second 4: int4 topic branch, see quantize)
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

import minilm

OPSET = 14
MIN_QUANTIZED = 1 << 14  # smaller matrices are not worth a DequantizeLinear node


def load(model_pt, encoder_onnx=None):
    """A run's model.pt as an eval-mode model (its state dict says its shape; ``encoder_onnx`` is
    not needed and kept for the callers' argument order) and its configuration."""
    state = torch.load(model_pt, map_location="cpu")
    return minilm.from_state_dict(state["model"], where=model_pt).eval(), state["config"]


def export_fp32(model, path):
    casing = model.casing
    b, s = 2, 9
    ids = torch.randint(1000, 2000, (b, s))
    mask = torch.ones(b, s, dtype=torch.int64)
    mask[1, 6:] = 0
    types = torch.zeros(b, s, dtype=torch.int64)
    inputs = (ids, mask, types) + ((torch.randint(0, 5, (b, s)),) if casing else ())
    names = ["input_ids", "attention_mask", "token_type_ids"] + (["case_ids"] if casing else [])
    outputs = ["sentiment_logits", "class_logits", "entity_logits"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes.update({"sentiment_logits": {0: "batch"}, "class_logits": {0: "batch"},
                 "entity_logits": {0: "batch", 1: "sequence"}})
    torch.onnx.export(model, inputs, path, opset_version=OPSET, do_constant_folding=True,
                      input_names=names, output_names=outputs, dynamic_axes=axes)
    g = onnx.load(path)
    onnx.checker.check_model(g, full_check=True)
    got_in = [i.name for i in g.graph.input]
    got_out = [o.name for o in g.graph.output]
    if got_in != names or got_out != outputs:
        raise ValueError(f"exported graph has inputs {got_in} and outputs {got_out}")


def int4_table(w, group):
    """(packed uint8 [V, H/2], float16 scales [V, H/group]) of a table: symmetric 4-bit values
    q in [-7, 7] with one scale per row and group of ``group`` columns, stored as q + 8, two per
    byte (column 2j in the high nibble, 2j+1 in the low one)."""
    v, h = w.shape
    g = w.reshape(v, h // group, group)
    scale = (np.abs(g).max(axis=2) / 7.0).astype(np.float16)
    scale[scale == 0] = 1.0
    s = scale.astype(np.float32)[:, :, None]
    q = np.clip(np.rint(g / s), -7, 7).astype(np.int16).reshape(v, h) + 8
    packed = (q[:, 0::2] * 16 + q[:, 1::2]).astype(np.uint8)
    return packed, scale


def int4_blocks(w, block):
    """(packed uint8 [K/2, N], float16 scales [K/block, N]) of a MatMul weight w [K, N]: symmetric
    4-bit values q in [-7, 7], one scale per output column and block of ``block`` inputs, stored as
    q + 8, two rows per byte (row 2j in the high nibble, 2j+1 in the low one)."""
    k, n = w.shape
    g = w.reshape(k // block, block, n)
    scale = (np.abs(g).max(axis=1) / 7.0).astype(np.float16)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(g / scale.astype(np.float32)[:, None, :]), -7, 7).astype(np.int16).reshape(k, n) + 8
    return (q[0::2] * 16 + q[1::2]).astype(np.uint8), scale


def nibble_nodes(packed, p, axes, axis, inits):
    """Nodes turning the uint8 tensor ``packed`` into ``<p>_centred``: both nibbles of each byte as
    floats (exact: integers below 256), the high one first, stacked along a new axis ``axis`` (the
    int64 tensor ``axes`` holds it for Unsqueeze) and centred (q + 8 -> q). Registers the shared
    constants in ``inits`` once."""
    if not any(i.name == "int4_sixteen" for i in inits):
        inits += [numpy_helper.from_array(np.array(16.0, dtype=np.float32), "int4_sixteen"),
                  numpy_helper.from_array(np.array(8.0, dtype=np.float32), "int4_eight")]
    return [
        helper.make_node("Cast", [packed], [p + "_bytes"], to=TensorProto.FLOAT),
        helper.make_node("Div", [p + "_bytes", "int4_sixteen"], [p + "_div"]),
        helper.make_node("Floor", [p + "_div"], [p + "_high"]),
        helper.make_node("Mul", [p + "_high", "int4_sixteen"], [p + "_high16"]),
        helper.make_node("Sub", [p + "_bytes", p + "_high16"], [p + "_low"]),
        helper.make_node("Unsqueeze", [p + "_high", axes], [p + "_high1"]),
        helper.make_node("Unsqueeze", [p + "_low", axes], [p + "_low1"]),
        helper.make_node("Concat", [p + "_high1", p + "_low1"], [p + "_pairs"], axis=axis),
        helper.make_node("Sub", [p + "_pairs", "int4_eight"], [p + "_centred"]),
    ]


def int8_from_int4_nodes(name, shape, block, inits):
    """Constant nodes computing ``<name>_int8`` (int8 [K, N]) and ``<name>_scale`` (float32 [N]) from
    the packed 4-bit weight: unpack the nibbles (float arithmetic, exact below 256), centre, times
    the block scales, then per output column scale = max |w| / 127 and int8 = round(w / scale), as
    the int8 MatMuls are stored. Every input is an initializer, so ONNX Runtime computes them once."""
    k, n = shape
    p = name + "_unpack"
    inits += [numpy_helper.from_array(np.array([k, n], dtype=np.int64), p + "_shape"),
              numpy_helper.from_array(np.array([k // block, block, n], dtype=np.int64), p + "_blocks"),
              numpy_helper.from_array(np.array([1], dtype=np.int64), p + "_axis1")]
    unpacked = nibble_nodes(name + "_packed4", p, p + "_axis1", 1, inits)  # [K/2, 2, N]
    if not any(i.name == "int8_max" for i in inits):
        inits += [numpy_helper.from_array(np.array(127.0, dtype=np.float32), "int8_max"),
                  numpy_helper.from_array(np.array(1e-30, dtype=np.float32), "int8_tiny")]
    return unpacked + [
        helper.make_node("Reshape", [p + "_centred", p + "_blocks"], [p + "_grouped"]),
        helper.make_node("Cast", [name + "_block_scale16"], [p + "_scale32"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", [p + "_scale32", p + "_axis1"], [p + "_scale_rows"]),
        helper.make_node("Mul", [p + "_grouped", p + "_scale_rows"], [p + "_scaled"]),
        helper.make_node("Reshape", [p + "_scaled", p + "_shape"], [p + "_float"]),
        helper.make_node("Abs", [p + "_float"], [p + "_abs"]),
        helper.make_node("ReduceMax", [p + "_abs"], [p + "_max"], axes=[0], keepdims=0),
        helper.make_node("Div", [p + "_max", "int8_max"], [p + "_step"]),
        helper.make_node("Max", [p + "_step", "int8_tiny"], [name + "_scale"]),
        helper.make_node("Div", [p + "_float", name + "_scale"], [p + "_ratio"]),
        helper.make_node("Round", [p + "_ratio"], [p + "_rounded"]),
        helper.make_node("Cast", [p + "_rounded"], [name + "_int8"], to=TensorProto.INT8),
    ]


BRANCH = "/topic/branch."  # node names torch.onnx.export gives the topic branch's layers


def quantize(src, dst, matmuls=True, dequantize="DequantizeLinear", table_bits=8, group=32,
             branch_bits=8, branch_block=64):
    """Writes dst: src with int8 weights (see the module docstring); with matmuls=False only the
    embedding table is quantized. ``table_bits=4``: embedding tables whose width is a multiple of
    ``group`` are stored in 4 bits instead (:func:`int4_table`). ``branch_bits=4``: the MatMul weights
    of the topic branch (nodes named ``/topic/branch.*``) are stored in 4 bits (:func:`int4_blocks`,
    blocks of ``branch_block`` inputs), half the bytes of int8, and expanded by constant nodes to
    the int8 weight and column scale that ``MatMulInteger`` reads (:func:`int8_from_int4_nodes`):
    ONNX Runtime folds those nodes when the session is created, so the branch runs on the same
    integer kernels as the encoder (com.microsoft.MatMulNBits ran the branch 1.3-2x slower on these
    CPUs). Needs ``dequantize="MatMulInteger"``. Returns a summary."""
    model = onnx.load(src)
    graph = model.graph
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    branch_weights = set()
    if branch_bits == 4 and dequantize != "MatMulInteger":
        raise ValueError("branch_bits 4 needs the MatMulInteger form")
    if branch_bits == 4:
        branch_weights = {n.input[1] for n in graph.node if n.op_type == "MatMul" and n.name.startswith(BRANCH)}
    elif branch_bits != 8:
        raise ValueError(f"branch_bits must be 8 or 4, not {branch_bits}")
    keep, new_inits, dq_nodes = [], [], []
    gather_tables = {}
    integer_weights = set()
    summary = {"dequantize": dequantize, "matmul_weights": 0, "matmul_params": 0, "embedding_params": 0, "float_params": 0,
               "max_weight_error_relative": 0.0}
    for init in graph.initializer:
        w = numpy_helper.to_array(init)
        uses = consumers.get(init.name, [])
        is_matmul = matmuls and (w.ndim == 2 and w.dtype == np.float32 and w.size >= MIN_QUANTIZED and uses
                     and all(n.op_type == "MatMul" and n.input[1] == init.name for n in uses))
        is_table = (w.ndim == 2 and w.dtype == np.float32 and w.shape[0] >= 10000 and uses
                    and all(n.op_type == "Gather" and n.input[0] == init.name for n in uses))
        if is_matmul and init.name in branch_weights and w.shape[0] % branch_block == 0:
            packed, scale = int4_blocks(w, branch_block)
            new_inits += [numpy_helper.from_array(packed, init.name + "_packed4"),
                          numpy_helper.from_array(scale, init.name + "_block_scale16"),
                          numpy_helper.from_array(np.zeros(w.shape[1], dtype=np.int8), init.name + "_zero")]
            dq_nodes += int8_from_int4_nodes(init.name, w.shape, branch_block, new_inits)
            back = minilm.unpack_int4_blocks(packed, scale)
            err = np.abs(minilm.int8_columns(back) - w).max() / np.abs(w).max()
            summary["max_branch_error_relative"] = max(summary.get("max_branch_error_relative", 0.0), float(err))
            summary["branch_int4_params"] = summary.get("branch_int4_params", 0) + int(w.size)
            integer_weights.add(init.name)
        elif is_matmul:
            scale = np.abs(w).max(axis=0) / 127.0
            scale[scale == 0] = 1.0
            q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
            err = np.abs(q.astype(np.float32) * scale - w).max() / np.abs(w).max()
            summary["max_weight_error_relative"] = max(summary["max_weight_error_relative"], float(err))
            new_inits += [numpy_helper.from_array(q, init.name + "_int8"),
                          numpy_helper.from_array(scale.astype(np.float32), init.name + "_scale")]
            if dequantize == "DequantizeLinear":
                new_inits.append(numpy_helper.from_array(np.zeros(w.shape[1], dtype=np.int8), init.name + "_zero"))
                dq_nodes.append(helper.make_node("DequantizeLinear",
                                                 [init.name + "_int8", init.name + "_scale", init.name + "_zero"],
                                                 [init.name], name=init.name + "_dequantize", axis=1))
            elif dequantize == "MatMulInteger":  # the MatMul itself is rewritten below
                new_inits.append(numpy_helper.from_array(np.zeros(w.shape[1], dtype=np.int8), init.name + "_zero"))
                integer_weights.add(init.name)
            else:  # Cast + Mul: the same values, and ONNX Runtime folds them into a float weight at load
                dq_nodes += [helper.make_node("Cast", [init.name + "_int8"], [init.name + "_float"], to=TensorProto.FLOAT),
                             helper.make_node("Mul", [init.name + "_float", init.name + "_scale"], [init.name],
                                              name=init.name + "_dequantize")]
            summary["matmul_weights"] += 1
            summary["matmul_params"] += int(w.size)
        elif is_table and table_bits == 4 and w.shape[1] % group == 0 and w.shape[1] >= group:
            packed, scale = int4_table(w, group)
            new_inits += [numpy_helper.from_array(packed, init.name + "_int4"),
                          numpy_helper.from_array(scale, init.name + "_group_scale")]
            gather_tables[init.name] = (w.shape, 4, group)
            err = np.abs(minilm.unpack_int4_table(packed, scale) - w).max() / np.abs(w).max()
            summary["max_table_error_relative"] = max(summary.get("max_table_error_relative", 0.0), float(err))
            summary["embedding_params"] += int(w.size)
            summary["embedding_int4_params"] = summary.get("embedding_int4_params", 0) + int(w.size)
        elif is_table:
            scale = np.abs(w).max(axis=1) / 127.0
            scale[scale == 0] = 1.0
            q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
            new_inits += [numpy_helper.from_array(q, init.name + "_int8"),
                          numpy_helper.from_array(scale.astype(np.float32), init.name + "_row_scale")]
            gather_tables[init.name] = (w.shape, 8, None)
            summary["embedding_params"] += int(w.size)
        else:
            keep.append(init)
            if w.dtype == np.float32:
                summary["float_params"] += int(w.size)
    nodes = list(dq_nodes)
    quantized_inputs = {}  # float activation -> (uint8 tensor, scale, zero point), shared by its MatMuls
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in integer_weights:
            x, w, out = node.input[0], node.input[1], node.output[0]
            if x not in quantized_inputs:
                quantized_inputs[x] = (x + "_quant", x + "_quant_scale", x + "_quant_zero")
                nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(quantized_inputs[x])))
            xq, xs, xz = quantized_inputs[x]
            nodes += [
                helper.make_node("MatMulInteger", [xq, w + "_int8", xz, w + "_zero"], [out + "_int32"]),
                helper.make_node("Cast", [out + "_int32"], [out + "_unscaled"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [xs, w + "_scale"], [out + "_scale"]),
                helper.make_node("Mul", [out + "_unscaled", out + "_scale"], [out]),
            ]
        elif node.op_type == "Gather" and node.input[0] in gather_tables and gather_tables[node.input[0]][1] == 4:
            table, ids, out = node.input[0], node.input[1], node.output[0]
            (_, width), _, g = gather_tables[table]
            new_inits += [numpy_helper.from_array(np.array([-1], dtype=np.int64), out + "_axes"),
                          numpy_helper.from_array(np.array([0, 0, width // g, g], dtype=np.int64), out + "_groups"),
                          numpy_helper.from_array(np.array([0, 0, width], dtype=np.int64), out + "_width")]
            # bytes -> both nibbles as floats (exact: integers below 256), interleaved back to
            # columns 2j, 2j+1, centred, times the scale of their row and group
            nodes += [helper.make_node("Gather", [table + "_int4", ids], [out + "_packed"], axis=0)]
            nodes += nibble_nodes(out + "_packed", out, out + "_axes", -1, new_inits)
            nodes += [
                helper.make_node("Reshape", [out + "_centred", out + "_groups"], [out + "_grouped"]),
                helper.make_node("Gather", [table + "_group_scale", ids], [out + "_scale16"], axis=0),
                helper.make_node("Cast", [out + "_scale16"], [out + "_scale"], to=TensorProto.FLOAT),
                helper.make_node("Unsqueeze", [out + "_scale", out + "_axes"], [out + "_scale_column"]),
                helper.make_node("Mul", [out + "_grouped", out + "_scale_column"], [out + "_scaled"]),
                helper.make_node("Reshape", [out + "_scaled", out + "_width"], [out]),
            ]
        elif node.op_type == "Gather" and node.input[0] in gather_tables:
            table, ids, out = node.input[0], node.input[1], node.output[0]
            axes = out + "_axes"
            new_inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), axes))
            nodes += [
                helper.make_node("Gather", [table + "_int8", ids], [out + "_int8"], axis=0),
                helper.make_node("Cast", [out + "_int8"], [out + "_rows"], to=TensorProto.FLOAT),
                helper.make_node("Gather", [table + "_row_scale", ids], [out + "_scale"], axis=0),
                helper.make_node("Unsqueeze", [out + "_scale", axes], [out + "_scale_column"]),
                helper.make_node("Mul", [out + "_rows", out + "_scale_column"], [out]),
            ]
        else:
            nodes.append(node)
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, dst)
    summary["bytes"] = os.path.getsize(dst)
    return summary


def main():
    model_pt, encoder_onnx, out = sys.argv[1], sys.argv[2], sys.argv[3]
    dequantize = sys.argv[4] if len(sys.argv) > 4 else "DequantizeLinear"
    table_bits = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    branch_bits = int(sys.argv[6]) if len(sys.argv) > 6 else 8
    torch.set_num_threads(2)
    os.makedirs(out, exist_ok=True)
    model, cfg = load(model_pt, encoder_onnx)
    fp32 = os.path.join(out, "model.fp32.onnx")
    export_fp32(model, fp32)
    summary = quantize(fp32, os.path.join(out, "model.onnx"), dequantize=dequantize,
                       table_bits=table_bits, branch_bits=branch_bits)
    summary.update({"fp32_bytes": os.path.getsize(fp32), "casing": bool(cfg["casing"]), "opset": OPSET})
    with open(os.path.join(out, "export.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"exported {out}: {summary}")


if __name__ == "__main__":
    main()
