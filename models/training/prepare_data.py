"""Turns ../shared/data into the encoder inputs and labels used by train.py.

Writes into <work>/inputs/: <name>.txt (one text per line, the exact string the encoder sees) and
<name>.json (labels and metadata). Deterministic: the only randomness is the SST-2 dev split,
drawn with a fixed seed.

usage: /usr/bin/python3 prepare_data.py <data-dir> <work-dir>
"""
import csv
import html
import json
import os
import random
import re
import sys

import conll

SST2_DEV_SENTENCES = 1000
SST2_SPLIT_SEED = 13


def clean_line(text):
    """One line of input: no line breaks inside an item (the dump reads \\n-separated lines)."""
    return re.sub(r"\s+", " ", text.replace("\r", " ").replace("\n", " ")).strip()


def write(out_dir, name, texts, meta):
    with open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8", newline="\n") as f:
        for t in texts:
            line = clean_line(t)
            if not line:
                raise ValueError(f"{name}: empty text")
            f.write(line + "\n")
    meta = dict(meta, count=len(texts))
    with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)
    print(f"  {name}: {len(texts)} texts")


def tweet_eval(data, out_dir):
    d = os.path.join(data, "tweet_eval_sentiment")
    for split, name in (("train", "tweet_train"), ("val", "tweet_val")):
        with open(os.path.join(d, f"{split}_text.txt"), encoding="utf-8") as f:
            texts = f.read().split("\n")
        with open(os.path.join(d, f"{split}_labels.txt"), encoding="utf-8") as f:
            labels = [int(x) for x in f.read().split()]
        texts = texts[: len(labels)]
        assert len(texts) == len(labels), (len(texts), len(labels))
        # mapping.txt: 0 negative, 1 neutral, 2 positive == the bundle's sentiment label order
        write(out_dir, name, texts, {"labels": labels})


def sst2_detok(phrase):
    """Undo the most visible PTB tokenization artefacts so that phrases look like text the runtime
    gets ('does n't' -> "doesn't", -lrb- -> '('); WordPiece splits other punctuation anyway."""
    p = phrase.strip()
    p = p.replace(" n't", "n't").replace("-lrb-", "(").replace("-rrb-", ")")
    return p


def sst2(data, out_dir):
    """SST-2 train split into a training part and a held-out dev part of whole sentences.

    SST-2 train holds every phrase of ~6.9k sentences. A random phrase split would leak (a dev
    phrase's sub- and super-phrases would be in training), so the dev part is a seeded sample of
    maximal phrases (those contained in no other phrase: the sentences) and every phrase that
    occurs inside a dev sentence is removed from training.
    """
    with open(os.path.join(data, "sst2", "train.tsv"), encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    phrases = [" ".join(r[0].split()) for r in rows]
    labels = [int(r[1]) for r in rows]
    distinct = set(phrases)
    contained = set()
    for p in distinct:
        w = p.split()
        n = len(w)
        for i in range(n):
            for j in range(i + 1, n + 1):
                if j - i < n:
                    g = " ".join(w[i:j])
                    if g in distinct:
                        contained.add(g)
    roots = sorted(p for p in distinct if p not in contained)
    roots_set = set(roots)
    rng = random.Random(SST2_SPLIT_SEED)
    dev_roots = set(rng.sample(roots, SST2_DEV_SENTENCES))
    inside_dev = set()
    for r in dev_roots:
        w = r.split()
        for i in range(len(w)):
            for j in range(i + 1, len(w) + 1):
                inside_dev.add(" ".join(w[i:j]))
    dev_idx, train_idx, dropped = [], [], 0
    dev_seen = set()
    for i, p in enumerate(phrases):
        if p in dev_roots:
            if p not in dev_seen:
                dev_seen.add(p)
                dev_idx.append(i)
        elif p in inside_dev:
            dropped += 1
        else:
            train_idx.append(i)
    print(f"  sst2: {len(roots)} sentences, {len(dev_idx)} held out, {dropped} phrases inside them dropped")
    # the binary SST-2 labels map to the bundle's order: 0 -> negative (0), 1 -> positive (2)
    write(out_dir, "sst2_train", [sst2_detok(phrases[i]) for i in train_idx],
          {"labels": [2 * labels[i] for i in train_idx], "rows": train_idx})
    # The training part's whole sentences (maximal phrases) once each: a fine-tuning run may give
    # them extra passes, since the held-out part (and SST-2's own dev split) holds sentences only.
    seen, sentence_idx = set(), []
    for i in train_idx:
        if phrases[i] in roots_set and phrases[i] not in seen:
            seen.add(phrases[i])
            sentence_idx.append(i)
    write(out_dir, "sst2_sentences", [sst2_detok(phrases[i]) for i in sentence_idx],
          {"labels": [2 * labels[i] for i in sentence_idx], "rows": sentence_idx})
    write(out_dir, "sst2_dev", [sst2_detok(phrases[i]) for i in dev_idx],
          {"labels": [2 * labels[i] for i in dev_idx], "rows": dev_idx, "dropped_from_train": dropped,
           "sentences": len(roots), "seed": SST2_SPLIT_SEED})


def ag_text(s):
    """AG News fields: backslashes stand for former line breaks; ' #36;' is a mangled '&#36;'."""
    s = s.replace("\\", " ")
    s = re.sub(r"(^|\s)#(\d+);", lambda m: m.group(1) + html.unescape("&#" + m.group(2) + ";"), s)
    return html.unescape(s)


def ag_news(data, out_dir):
    with open(os.path.join(data, "ag_news", "train_sample_581.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    texts, labels = [], []
    for cls, title, desc in rows:
        title, desc = ag_text(title).strip(), ag_text(desc).strip()
        sep = " " if title[-1:] in ".!?" else ". "
        texts.append(title + sep + desc)
        labels.append(int(cls) - 1)  # 1 World, 2 Sports, 3 Business, 4 Sci/Tech -> 0..3
    write(out_dir, "ag_news", texts, {"labels": labels})


def conll_split(data, out_dir, file_name, name):
    sentences = conll.read_conll(os.path.join(data, "conll2003", file_name))
    words = [w for w, _ in sentences]
    bio = [conll.iob1_to_bio(t) for _, t in sentences]
    # The text the encoder sees is the words joined by single spaces; a word never contains a space.
    assert all(" " not in w and w for ws in words for w in ws)
    write(out_dir, name, [" ".join(ws) for ws in words], {"words": words, "tags": bio})


def main():
    data, work = sys.argv[1], sys.argv[2]
    out_dir = os.path.join(work, "inputs")
    os.makedirs(out_dir, exist_ok=True)
    tweet_eval(data, out_dir)
    sst2(data, out_dir)
    ag_news(data, out_dir)
    conll_split(data, out_dir, "eng.train", "conll_train")
    conll_split(data, out_dir, "eng.testa", "conll_testa")


if __name__ == "__main__":
    main()
