#!/usr/bin/python3
"""Lists training items that overlap a dev item, by the data READMEs' test-overlap rule applied to
dev: a train item is dropped if its text shares at least 50% of the word 8-gram shingles of the
shorter of it and some single dev text (lower-cased, [a-z0-9]+ tokens; texts under 8 tokens are
compared whole). The data sets remove train/test overlap but keep train/dev overlap; dropping it
keeps the dev figures honest.

  /usr/bin/python3 dev_overlap.py WORK/data/texts.jsonl > WORK/data/dev_overlap.txt
"""
import json
import re
import sys
from collections import defaultdict


def shingles(text):
    toks = re.findall(r"[a-z0-9]+", text.lower())
    if len(toks) < 8:
        return {" ".join(toks)}
    return {" ".join(toks[i:i + 8]) for i in range(len(toks) - 7)}


def overlapping(texts):
    """Ids of train items meeting the rule against some dev item of the same source."""
    dev = defaultdict(dict)
    train = []
    for t in texts:
        src = t["id"].split("/")[0]
        if t["split"] == "dev":
            dev[src][t["id"]] = shingles(t["text"])
        else:
            train.append((src, t["id"], shingles(t["text"])))
    index = defaultdict(lambda: defaultdict(list))
    for src, items in dev.items():
        for did, sh in items.items():
            for s in sh:
                index[src][s].append(did)
    out = []
    for src, tid, sh in train:
        counts = defaultdict(int)
        for s in sh:
            for did in index[src].get(s, ()):
                counts[did] += 1
        for did, c in counts.items():
            if c >= 0.5 * min(len(sh), len(dev[src][did])):
                out.append((tid, did))
                break
    return out


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        texts = [json.loads(line) for line in f]
    for tid, did in overlapping(texts):
        print(tid, did)
