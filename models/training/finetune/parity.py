"""Checks the torch port of all-MiniLM-L6-v2 against ONNX Runtime Java on real sentences.

Inputs (written by ../java/FeatureDump.java): ``<prefix>_ids.{ids,len}`` (mode ``ids``: the token ids
the runtime's tokenizer produces) and ``<prefix>.{f32,len}`` (mode ``tokens32``: the fp32
``last_hidden_state`` rows ONNX Runtime Java computed, in length-sorted padded batches). The port
runs the same texts in padded batches of its own (shuffled order, so padding differs from Java's).
Prints the max abs difference over all real tokens and exits 1 above the tolerance; writes the
figures to ``<out>`` as JSON.

usage: /usr/bin/python3 parity.py <encoder.onnx> <prefix> <out.json>
"""
import json
import sys
import time

import numpy as np
import torch

import minilm

TOLERANCE = 1e-4


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
            batches += 1
    result = {"texts": int(len(lens)), "tokens": int(lens.sum()), "batches": batches,
              "max_abs_diff": worst, "max_diff_relative_to_max_abs_value": worst_rel, "tolerance": TOLERANCE,
              "seconds": round(time.time() - t0, 1)}
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"parity torch port vs ONNX Runtime Java: {result}")
    if worst > TOLERANCE:
        print("FAIL: the port differs from the ONNX encoder", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
