"""Token-id data sets for fine-tuning, built from what the Java runtime's tokenizer produced.

Reads ``<work>/inputs/<set>.{txt,json}`` (../prepare_data.py: texts and labels) and
``<work>/ids/<set>.{ids,spans,len}`` (../java/FeatureDump.java mode ``ids``: DJL's tokenization with
[CLS]/[SEP], character spans in code points, which index Python strings directly). Entity labels go
on every sub-token as in the frozen-head tooling (../conll.py ``token_labels``); case ids are the
runtime's casing classes of each token's span of the original text, computed by the project's
Python reference (``case_id`` in models/src/test/python/make_fixture_hf.py).
"""
import importlib.util
import json
import os
import random

import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # the frozen-head tooling (conll.py, train.py)

import conll  # noqa: E402
_FIXTURE = os.path.join(HERE, "..", "..", "src", "test", "python", "make_fixture_hf.py")


def _case_id_reference():
    spec = importlib.util.spec_from_file_location("make_fixture_hf", _FIXTURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines constants and functions only; writes nothing on import
    return module.case_id


case_id = _case_id_reference()


class Examples:
    """Variable-length examples of one data set: token ids, case ids, and a label per example
    (sentence tasks) or per token (entities). Rows are in the input file's order."""

    def __init__(self, name, ids, cases, labels, texts, meta, token_labels=None, spans=None, words=None):
        self.name = name
        self.ids = ids            # list of int64 arrays, [CLS] ... [SEP]
        self.cases = cases        # list of int64 arrays, same lengths
        self.labels = labels      # int64 array [N] (sentence tasks) or None
        self.token_labels = token_labels  # list of int64 arrays (entities) or None
        self.spans = spans
        self.words = words
        self.texts = texts
        self.meta = meta

    def __len__(self):
        return len(self.ids)

    def lengths(self):
        return np.array([len(x) for x in self.ids])

    def subset(self, idx):
        pick = lambda xs: None if xs is None else [xs[i] for i in idx]  # noqa: E731
        return Examples(self.name, pick(self.ids), pick(self.cases),
                        None if self.labels is None else self.labels[np.asarray(idx, dtype=np.int64)],
                        pick(self.texts), self.meta, pick(self.token_labels), pick(self.spans), pick(self.words))


def load(work, name, max_tokens=None):
    """One data set; ``max_tokens`` truncates as the tokenizer does (first max-2 tokens + [SEP])."""
    with open(os.path.join(work, "inputs", name + ".json"), encoding="utf-8") as f:
        meta = json.load(f)
    with open(os.path.join(work, "inputs", name + ".txt"), encoding="utf-8") as f:
        texts = f.read().split("\n")[: meta["count"]]
    base = os.path.join(work, "ids", name)
    lens = np.fromfile(base + ".len", dtype="<i4")
    flat = np.fromfile(base + ".ids", dtype="<i4").astype(np.int64)
    spans = np.fromfile(base + ".spans", dtype="<i4").reshape(-1, 2)
    if len(lens) != meta["count"] or flat.shape[0] != lens.sum() or len(texts) != meta["count"]:
        raise ValueError(f"{name}: ids dump does not match the inputs ({len(lens)} vs {meta['count']})")
    offsets = np.concatenate([[0], np.cumsum(lens)])
    ids, cases, sp = [], [], []
    for i, text in enumerate(texts):
        row = flat[offsets[i]:offsets[i + 1]]
        rs = spans[offsets[i]:offsets[i + 1]].tolist()
        if max_tokens is not None and len(row) > max_tokens:
            row = np.concatenate([row[: max_tokens - 1], row[-1:]])
            rs = rs[: max_tokens - 1] + rs[-1:]
        ids.append(row)
        cases.append(np.array([0 if s < 0 else case_id(text[s:e]) for s, e in rs], dtype=np.int64))
        sp.append(rs)
    if "words" in meta:
        token_labels = []
        for words, tags, rs in zip(meta["words"], meta["tags"], sp):
            tw = conll.token_word_index(rs, words)
            token_labels.append(np.array([conll.LABEL_ID[t] for t in conll.token_labels(tags, tw)], dtype=np.int64))
        return Examples(name, ids, cases, None, texts, meta, token_labels, sp, meta["words"])
    return Examples(name, ids, cases, np.asarray(meta["labels"], dtype=np.int64), texts, meta, spans=sp)


def batches(lengths, budget, max_items, rng):
    """Index batches of similar length: sorted by length (ties broken at random), cut so that
    items x longest <= budget padded tokens, then shuffled."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    out, cur, longest = [], [], 0
    for i in order:
        n = int(lengths[i])
        if cur and (max(longest, n) * (len(cur) + 1) > budget or len(cur) >= max_items):
            out.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, n)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def pad(ex, idx, pad_id=0):
    """input_ids, attention_mask, case_ids [B,S] and labels ([B] or [B,S] with -100 on padding)."""
    s = max(len(ex.ids[i]) for i in idx)
    x = np.full((len(idx), s), pad_id, dtype=np.int64)
    m = np.zeros((len(idx), s), dtype=np.int64)
    c = np.zeros((len(idx), s), dtype=np.int64)
    y = np.full((len(idx), s), -100, dtype=np.int64) if ex.token_labels is not None else ex.labels[idx]
    for r, i in enumerate(idx):
        n = len(ex.ids[i])
        x[r, :n] = ex.ids[i]
        m[r, :n] = 1
        c[r, :n] = ex.cases[i]
        if ex.token_labels is not None:
            y[r, :n] = ex.token_labels[i]
    return x, m, c, y


def sample_epochs(n, epochs, rng):
    """Indices covering ``epochs`` passes over n items (a fractional last pass is a random subset)."""
    out = []
    whole = int(epochs)
    for _ in range(whole):
        out.extend(rng.sample(range(n), n))
    rest = int(round((epochs - whole) * n))
    if rest:
        out.extend(rng.sample(range(n), rest))
    return out

