"""Compares heads.onnx as run by ONNX Runtime Java (HeadsCheck.java) with the torch module, on the
check batches of real dev features that train.py wrote, and checks the fp16 conversion of
FeatureDump.java against numpy. Fails (exit 1) on any mismatch; appends the figures to metrics.json.

usage: /usr/bin/python3 verify.py --work <work-dir>
"""
import argparse
import json
import os
import sys

import numpy as np

TOLERANCE = 1e-3  # float32 logits; observed differences are ~1e-5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    d = os.path.join(args.work, "verify")
    ok = True
    report = {"batches": {}}
    with open(os.path.join(d, "batches.txt")) as f:
        batches = [line.split() for line in f if line.strip()]
    worst = 0.0
    for name, b, s in batches:
        b, s = int(b), int(s)
        ref = np.load(os.path.join(d, name + ".torch.npz"))
        mask = ref["mask"].astype(bool)
        diffs = {}
        for out, key, shape in (("sentiment_logits", "sentiment", (b, 3)), ("class_logits", "classes", (b, 4)),
                                ("entity_logits", "entities", (b, s, 9))):
            got = np.fromfile(os.path.join(d, f"{name}.ort.{out}.f32"), dtype="<f4")
            if got.size != int(np.prod(shape)):
                print(f"{name} {out}: {got.size} values, expected shape {shape}")
                ok = False
                continue
            got = got.reshape(shape)
            want = ref[key]
            diff = np.abs(got[mask] - want[mask]) if key == "entities" else np.abs(got - want)
            diffs[out] = float(diff.max())
            if key == "entities":
                diffs["entity_argmax_agreement"] = float((got[mask].argmax(-1) == want[mask].argmax(-1)).mean())
        worst = max([worst] + [v for k, v in diffs.items() if k.endswith("logits")])
        report["batches"][name] = {"shape": [b, s], **diffs}
        print(f"{name} [B={b}, S={s}]: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    report["max_abs_diff"] = worst
    if worst > TOLERANCE:
        print(f"heads.onnx on ORT Java differs from torch by {worst:.2e} > {TOLERANCE}")
        ok = False

    f32 = np.fromfile(os.path.join(d, "fp16.f32"), dtype="<f4")
    f16 = np.fromfile(os.path.join(d, "fp16.f16"), dtype="<u2")
    with np.errstate(over="ignore"):
        ref16 = f32.astype(np.float16)
    nan = np.isnan(f32)
    bad = int((f16[~nan] != ref16.view(np.uint16)[~nan]).sum()) + int((~np.isnan(f16[nan].view(np.float16))).sum())
    report["fp16_mismatches"] = bad
    print(f"fp16 conversion: {bad} mismatches with numpy in {f32.size} values")
    ok = ok and bad == 0

    path = os.path.join(args.work, "metrics.json")
    with open(path) as f:
        metrics = json.load(f)
    metrics["onnx_check"] = report
    with open(path, "w") as f:
        json.dump(metrics, f, indent=2)
    print(f"max |ORT Java - torch| over all outputs: {worst:.2e}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
