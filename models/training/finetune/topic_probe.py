#!/usr/bin/python3
"""Topic head as a linear probe on a fine-tuned encoder (the joint run's), so the encoder that the
sentiment and entity heads were tuned with stays exactly as it is.

The joint run tunes the encoder for sentiment and entities only; fine-tuning it further on the 581
AG News rows (the ``topic`` runs) costs entity F1 (CoNLL word level 90.6 -> 85.0). Here the encoder
is frozen: the pooled vectors of the AG News rows (masked mean, as the fused graph pools) feed a
standardised multinomial logistic regression, scored by 5-fold stratified CV (the folds of
../train.py) and then fitted on all rows; standardisation is folded into the linear layer, which
replaces ``classes`` in the state dict.

  /usr/bin/python3 topic_probe.py --work WORK --init RUN/model.pt --out RUN2/model.pt [--report R.json]
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
import train as frozen  # noqa: E402


def features(model, ex, batch=32):
    out = []
    with torch.no_grad():
        for s in range(0, len(ex.ids), batch):
            idx = list(range(s, min(s + batch, len(ex.ids))))
            x, m, c, _ = data.pad(ex, idx)
            x, m, c = torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(c)
            h = model.hidden(x, m, torch.zeros_like(x), c if model.casing else None)
            out.append(model.pooled(h, m).numpy())
    return np.concatenate(out)


def fit(x, y, wd, epochs=300, lr=0.05):
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = torch.from_numpy((x - mu) / sd).float()
    t = torch.from_numpy(y).long()
    lin = torch.nn.Linear(x.shape[1], 4)
    opt = torch.optim.AdamW(lin.parameters(), lr=lr, weight_decay=wd)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(lin(z), t).backward()
        opt.step()
    w = lin.weight.detach().numpy() / sd
    b = lin.bias.detach().numpy() - w @ mu
    return w.astype(np.float32), b.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--report")
    args = ap.parse_args()
    torch.manual_seed(frozen.SEED)
    state = torch.load(args.init)
    casing = bool(state["config"].get("casing", 1))
    model = minilm.MultiTask(casing)
    model.load_state_dict(state["model"])
    model.eval()
    ag = data.load(args.work, "ag_news", 256)
    x, y = features(model, ag), np.asarray(ag.labels)
    folds = frozen.stratified_folds(y, 5, frozen.SEED)
    report = {}
    for wd in (0.01, 0.1, 1.0):
        pred = np.zeros_like(y)
        for f in range(5):
            w, b = fit(x[folds != f], y[folds != f], wd)
            pred[folds == f] = (x[folds == f] @ w.T + b).argmax(1)
        report[str(wd)] = frozen.classification_metrics(y, pred, 4)
        print("weight decay %s: 5-fold CV accuracy %.4f" % (wd, report[str(wd)]["accuracy"]), flush=True)
    best = max(report, key=lambda k: report[k]["accuracy"])
    w, b = fit(x, y, float(best))
    sd = dict(state["model"])
    sd["classes.weight"], sd["classes.bias"] = torch.from_numpy(w), torch.from_numpy(b)
    cfg = dict(state["config"], topic_probe={"weight_decay": float(best), "cv": report[best]})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({"model": sd, "config": cfg}, args.out)
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"chosen_weight_decay": float(best), "cv": report}, f, indent=1)
    print("wrote %s (weight decay %s, CV accuracy %.4f)" % (args.out, best, report[best]["accuracy"]))


if __name__ == "__main__":
    main()
