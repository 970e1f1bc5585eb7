"""Checks the torch port of all-MiniLM-L6-v2 against ONNX Runtime Java on real sentences.

Inputs (written by ../java/FeatureDump.java): ``<prefix>_ids.{ids,len}`` (mode ``ids``: the token ids
the runtime's tokenizer produces) and ``<prefix>.{f32,len}`` (mode ``tokens32``: the fp32
``last_hidden_state`` rows ONNX Runtime Java computed, in length-sorted padded batches). The port
runs the same texts in padded batches of its own (shuffled order, so padding differs from Java's).
Prints the max abs difference over all real tokens and exits 1 above the tolerance; writes the
figures to ``<out>`` as JSON. An encoder whose graph quantizes activations at run time (e5-small-v2-q:
``DynamicQuantizeLinear`` + ``MatMulInteger``, per-tensor uint8 scales that depend on the batch)
cannot match a float port to 1e-4: for it the criterion is the cosine of each token's hidden state
and of each text's mean-pooled vector (at least MIN_TOKEN_COSINE / MIN_POOLED_COSINE).

usage: /usr/bin/python3 parity.py <encoder.onnx> <prefix> <out.json>
"""
import json
import sys
import time

import numpy as np
import torch

import minilm

TOLERANCE = 1e-4
MIN_TOKEN_COSINE = 0.95
MIN_POOLED_COSINE = 0.99


def dynamic_int8(onnx_path):
    import onnx
    return any(n.op_type == "MatMulInteger" for n in onnx.load(onnx_path).graph.node)


def cosine(a, b):
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)


def main():
    onnx_path, prefix, out = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.set_num_threads(2)
    lens = np.fromfile(prefix + "_ids.len", dtype="<i4")
    ids = np.fromfile(prefix + "_ids.ids", dtype="<i4")
    ref = np.fromfile(prefix + ".f32", dtype="<f4").reshape(-1, minilm.HIDDEN)
    assert np.array_equal(lens, np.fromfile(prefix + ".len", dtype="<i4"))
    assert ref.shape[0] == ids.shape[0] == lens.sum()
    offsets = np.concatenate([[0], np.cumsum(lens)])
    model = minilm.load_pretrained(onnx_path).eval()
    order = np.random.RandomState(0).permutation(len(lens))
    worst, worst_rel, batches = 0.0, 0.0, 0
    token_cos, pooled_cos = [], []
    t0 = time.time()
    with torch.no_grad():
        for start in range(0, len(order), 16):
            idx = order[start:start + 16]
            s = int(lens[idx].max())
            x = np.zeros((len(idx), s), dtype=np.int64)
            m = np.zeros((len(idx), s), dtype=np.int64)
            for r, i in enumerate(idx):
                x[r, :lens[i]] = ids[offsets[i]:offsets[i + 1]]
                m[r, :lens[i]] = 1
            h = model.hidden(torch.from_numpy(x), torch.from_numpy(m), torch.zeros_like(torch.from_numpy(x))).numpy()
            for r, i in enumerate(idx):
                want = ref[offsets[i]:offsets[i + 1]]
                diff = np.abs(h[r, :lens[i]] - want)
                worst = max(worst, float(diff.max()))
                worst_rel = max(worst_rel, float(diff.max() / np.abs(want).max()))
                token_cos.append(cosine(h[r, :lens[i]], want))
                pooled_cos.append(float(cosine(h[r, :lens[i]].mean(0), want.mean(0))))
            batches += 1
    token_cos = np.concatenate(token_cos)
    quantized = dynamic_int8(onnx_path)
    result = {"texts": int(len(lens)), "tokens": int(lens.sum()), "batches": batches,
              "max_abs_diff": worst, "max_diff_relative_to_max_abs_value": worst_rel,
              "token_cosine_min": float(token_cos.min()), "token_cosine_mean": float(token_cos.mean()),
              "pooled_cosine_min": float(min(pooled_cos)), "pooled_cosine_mean": float(np.mean(pooled_cos)),
              "dynamic_int8_activations": quantized,
              "criterion": (f"token cosine >= {MIN_TOKEN_COSINE}, pooled cosine >= {MIN_POOLED_COSINE}" if quantized
                            else f"max abs diff <= {TOLERANCE}"),
              "seconds": round(time.time() - t0, 1)}
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"parity torch port vs ONNX Runtime Java: {result}")
    if (result["token_cosine_min"] < MIN_TOKEN_COSINE or result["pooled_cosine_min"] < MIN_POOLED_COSINE
            if quantized else worst > TOLERANCE):
        print("FAIL: the port differs from the ONNX encoder", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
