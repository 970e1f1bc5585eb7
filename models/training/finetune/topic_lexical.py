#!/usr/bin/python3
"""A TF-IDF lexical expert for the AG News topic head, and what it adds to other experts (issue 3).

A study, not a step of finetune.sh: nothing here is exported. The expert is a multinomial logistic
regression on L2-normalised TF-IDF features of a text's n-grams, mixed in log space with the
held-out class log-probabilities that other runs wrote (topic_branch.py's ``heldout_log_probs.npy``,
which already hold the word-piece bag of words at mix 0.35).

Features (``--features``):
  ``word12``  lowercased words of the text (regex), unigrams and bigrams, log(1 + tf) * idf;
  ``wp12``    the runtime's word pieces ([CLS]/[SEP] left out), unigrams and bigrams hashed into
              ``--buckets`` rows, tf * idf divided by sqrt(sum over the text's grams of idf^2): the
              form one ONNX graph can compute with two Gathers and a ReduceSum, no vocabulary lookup.
idf = log((1 + n) / (1 + df)) + 1 over the training rows; grams never seen there count for nothing.

Selection is honest: the penalty is chosen per outer fold (the folds of ../train.py) by 4-fold CV on
that fold's training rows (lexical expert alone, log-loss), and the mixing weight is fixed up front
(``--weight``, default 1, the plain product of experts), not tuned on the outer folds.

  /usr/bin/python3 topic_lexical.py --work work [--features word12|wp12] [--runs DIR ...] [--out J.json]
"""
import argparse
import json
import os
import re
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

PENALTIES = (3e-6, 1e-5, 3e-5, 1e-4)
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
CLS, SEP = 101, 102


def word_grams(text):
    """Lowercased word unigrams and bigrams."""
    words = WORD.findall(text.lower())
    return words + [a + " " + b for a, b in zip(words, words[1:])]


def piece_grams(ids, buckets):
    """Word-piece unigrams (their ids) and bigrams hashed to ids VOCAB .. VOCAB + buckets - 1."""
    inner = [int(t) for t in ids if t not in (CLS, SEP)]
    return inner + [minilm.VOCAB + (a * 1000003 + b) % buckets for a, b in zip(inner, inner[1:])]


def tfidf(grams, train_rows, rows, kind):
    """[len(rows), D] features of ``rows`` with the vocabulary and idf of ``train_rows``."""
    df = {}
    for i in train_rows:
        for g in set(grams[i]):
            df[g] = df.get(g, 0) + 1
    column = {g: j for j, g in enumerate(df)}
    n = len(train_rows)
    idf = np.array([np.log((1 + n) / (1 + c)) + 1 for c in df.values()], dtype=np.float64)
    tf = np.zeros((len(rows), len(column)))
    for r, i in enumerate(rows):
        for g in grams[i]:
            j = column.get(g)
            if j is not None:
                tf[r, j] += 1
    if kind == "word12":
        x = np.log1p(tf) * idf
        norm = np.sqrt((x * x).sum(1, keepdims=True))
    else:  # graph form: sum over the text's grams of idf and of idf^2
        x = tf * idf
        norm = np.sqrt((x * idf).sum(1, keepdims=True))
    return (x / np.maximum(norm, 1e-6)).astype(np.float32)


def lexical(grams, y, train_rows, test_rows, penalties, kind):
    """{penalty: held-out class log-probabilities of ``test_rows``} from the expert fitted on
    ``train_rows`` (features built once per split)."""
    x = tfidf(grams, train_rows, np.concatenate([train_rows, test_rows]), kind)
    out = {}
    for p in penalties:
        w, b = tp.fit_lr(x[:len(train_rows)], y[train_rows], p, iters=200)
        out[p] = tp.log_softmax(x[len(train_rows):] @ w.T + b)
    return out


def nested(grams, y, folds, kind, log=print):
    """Each row's held-out log-probabilities, the penalty chosen inside each outer training part."""
    out = np.zeros((len(y), len(minilm.CLASS_LABELS)), dtype=np.float32)
    chosen = []
    for f in range(folds.max() + 1):
        train, test = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
        inner = frozen.stratified_folds(y[train], 4, frozen.SEED + f)
        loss = dict.fromkeys(PENALTIES, 0.0)
        for g in range(4):
            a, b = train[inner != g], train[inner == g]
            for p, lp in lexical(grams, y, a, b, PENALTIES, kind).items():
                loss[p] -= lp[np.arange(len(b)), y[b]].sum()
        best = min(PENALTIES, key=lambda p: loss[p])
        chosen.append(best)
        out[test] = lexical(grams, y, train, test, (best,), kind)[best]
        log(f"fold {f}: penalty {best}, {int((out[test].argmax(1) == y[test]).sum())} of {len(test)}")
    return out, chosen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--features", choices=("word12", "wp12"), default="wp12")
    ap.add_argument("--buckets", type=int, default=65536, help="hash rows of the word-piece bigrams")
    ap.add_argument("--weight", type=float, default=1.0, help="weight of the lexical expert per run (log space)")
    ap.add_argument("--runs", nargs="*", default=[], help="dirs with heldout_log_probs.npy (summed)")
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ag = data.load(args.work, "ag_news", 256)
    y = np.asarray(ag.labels)
    folds = frozen.stratified_folds(y, 5, frozen.SEED)
    if args.features == "word12":
        grams = [word_grams(t) for t in ag.texts]
    else:
        grams = [piece_grams(ids, args.buckets) for ids in ag.ids]
    held, chosen = nested(grams, y, folds, args.features)
    acc = lambda lp: float((lp.argmax(1) == y).mean())  # noqa: E731
    report = {"features": args.features, "penalties": chosen, "lexical_alone": acc(held)}
    if args.runs:
        runs = sum(np.load(os.path.join(r, "heldout_log_probs.npy")) for r in args.runs)
        report.update(runs=args.runs, weight=args.weight, runs_alone=acc(runs),
                      with_lexical=acc(runs + args.weight * len(args.runs) * held))
    print(json.dumps(report))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
