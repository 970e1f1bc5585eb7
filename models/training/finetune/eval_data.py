"""Writes the dev files that the Java evaluation (java/RuntimeEval.java, DatasetFiles formats) reads
and that ../shared/data does not hold as files of their own:

  <work>/eval/sst2_heldout.tsv   the SST-2 held-out part (prepare_data.py's 1000 sentences, as the
                                 models saw them), GLUE TSV with header, 0 negative / 1 positive
  <work>/eval/ag_fold<k>.csv     the AG News rows of fold k (the folds of ../train.py), in the
                                 original CSV format
tweet_eval validation and CoNLL-2003 eng.testa are read from ../shared/data directly.

usage: /usr/bin/python3 eval_data.py <data-dir> <work>
"""
import csv
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import train as frozen  # noqa: E402

FOLDS = 5


def main():
    data_dir, work = sys.argv[1], sys.argv[2]
    out = os.path.join(work, "eval")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(work, "inputs", "sst2_dev.json"), encoding="utf-8") as f:
        labels = json.load(f)["labels"]
    with open(os.path.join(work, "inputs", "sst2_dev.txt"), encoding="utf-8") as f:
        texts = f.read().split("\n")[: len(labels)]
    with open(os.path.join(out, "sst2_heldout.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("sentence\tlabel\n")
        for t, y in zip(texts, labels):
            assert "\t" not in t
            f.write(f"{t}\t{y // 2}\n")  # bundle order 0 negative / 2 positive -> GLUE 0/1
    with open(os.path.join(data_dir, "ag_news", "train_sample_581.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    y = np.array([int(r[0]) - 1 for r in rows])
    fold = frozen.stratified_folds(y, FOLDS, frozen.SEED)
    for k in range(FOLDS):
        with open(os.path.join(out, f"ag_fold{k}.csv"), "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
            for i in np.flatnonzero(fold == k):
                w.writerow(rows[i])
    print(f"wrote {out}: sst2_heldout.tsv ({len(labels)}), ag_fold0..{FOLDS - 1}.csv "
          f"({np.bincount(fold).tolist()} rows)")


if __name__ == "__main__":
    main()
