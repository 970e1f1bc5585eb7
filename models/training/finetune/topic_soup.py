#!/usr/bin/python3
"""Weight soup of topic branches: runs of topic_branch.py with the same recipe and other seeds,
averaged parameter by parameter (the topic head only; the shared encoder is the same in every run),
so that one branch runs at run time.

Every run starts from the same published layers and, with ``--lp-penalty``, from nearly the same
fitted linear layer, so their weights stay close enough to average (a soup of seeds of one recipe).
The soup is made fold by fold (each outer fold's branches were trained without that fold's rows) and
scored on the held-out rows in Python; its all-rows soup, when every run has ``model.pt``, is the one
to ship. Which runs go into the soup is fixed before their held-out figures are seen: a soup picked
for its CV figure would be a selection on the held-out rows.

  /usr/bin/python3 topic_soup.py --work WORK --out DIR RUN_DIR RUN_DIR...
writes DIR/folds/fold-<k>/model.pt, DIR/model.pt (if every run has one), DIR/branch.json (the runs,
their settings, the soup's held-out accuracy per fold) and DIR/heldout_log_probs.npy.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import data  # noqa: E402
import minilm  # noqa: E402
import topic_branch as tb  # noqa: E402
import topic_probe as tp  # noqa: E402
import train as frozen  # noqa: E402


def soup(paths):
    """(model, config) of the first run with its topic parameters replaced by the mean over ``paths``;
    refuses runs whose shared encoder differs (not soups of one recipe on one encoder)."""
    states = [torch.load(p, map_location="cpu") for p in paths]
    first = states[0]["model"]
    mean = {}
    for name, value in first.items():
        values = [s["model"][name] for s in states]
        if name.startswith("topic."):
            mean[name] = torch.stack([v.float() for v in values]).mean(0).to(value.dtype)
        else:
            for p, v in zip(paths[1:], values[1:]):
                if not torch.equal(v, value):
                    raise ValueError(f"{p}: {name} differs from {paths[0]}: not the same shared encoder")
            mean[name] = value
    model = minilm.from_state_dict(mean, where=paths[0]).eval()
    return model, dict(states[0]["config"], topic_soup=[os.path.dirname(p) for p in paths])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(2)
    reports = [json.load(open(os.path.join(r, "branch.json"))) for r in args.runs]
    recipe = [{k: v for k, v in r["settings"].items() if k not in ("seed", "threads")} for r in reports]
    if any(r != recipe[0] for r in recipe[1:]):
        raise ValueError(f"runs of different recipes: {recipe}")
    ag = data.load(args.work, "ag_news", 256)
    y = np.asarray(ag.labels)
    folds = frozen.stratified_folds(y, 5, frozen.SEED)
    layer = reports[0]["reads_layer"]
    heldout = np.zeros((len(y), len(minilm.CLASS_LABELS)), dtype=np.float32)
    out = {"runs": args.runs, "settings": recipe[0], "seeds": [r["settings"]["seed"] for r in reports],
           "run_cv_accuracy_mixed": [r["cv_accuracy_mixed"] for r in reports], "folds": []}
    states = None
    for f in range(5):
        model, cfg = soup([os.path.join(r, "folds", f"fold-{f}", "model.pt") for r in args.runs])
        if states is None:  # the shared encoder is the same in every fold model
            states = tb.layer_states(model, ag, layer)
        test = np.flatnonzero(folds == f)
        heldout[test] = tb.predict(model.topic, states, list(ag.ids), test)
        correct = int((heldout[test].argmax(1) == y[test]).sum())
        out["folds"].append({"fold": f, "rows": len(test), "correct": correct})
        tp.save(model, dict(cfg, topic_branch_fold=f), os.path.join(args.out, "folds", f"fold-{f}", "model.pt"))
        print(f"fold {f}: {correct} of {len(test)}", flush=True)
    out["cv_accuracy_mixed"] = sum(r["correct"] for r in out["folds"]) / len(y)
    print(f"soup of {len(args.runs)} runs, 5-fold CV (Python, float32, bag of words mixed in): "
          f"{out['cv_accuracy_mixed']:.4f} (runs: {out['run_cv_accuracy_mixed']})", flush=True)
    alls = [os.path.join(r, "model.pt") for r in args.runs]
    if all(os.path.exists(p) for p in alls):
        model, cfg = soup(alls)
        tp.save(model, cfg, os.path.join(args.out, "model.pt"))
    np.save(os.path.join(args.out, "heldout_log_probs.npy"), heldout)
    with open(os.path.join(args.out, "branch.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
