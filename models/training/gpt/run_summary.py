#!/usr/bin/python3
"""Numbers for the model card from a training run: dev-loss curve, train loss per 100 steps, tokens,
time, throughput, and how many examples of each source the schedule fed (recomputed from the seed).

  /usr/bin/python3 run_summary.py --work WORK [--run run]
"""
import argparse
import json
import os
import random
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_default as T  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--run", default="run")
    args = ap.parse_args()
    run = os.path.join(args.work, args.run)
    recs = [json.loads(line) for line in open(os.path.join(run, "log.jsonl"))]
    # A resumed run logs the steps after its checkpoint again: keep the last record of each step.
    by_step = {}
    for r in recs:
        by_step[r["step"]] = r
    steps = sorted(by_step)
    print("| step | dev loss SAMSum | dev loss DialogSum | dev loss DailyDialog |")
    print("|---|---|---|---|")
    for s in steps:
        if "dev" in by_step[s]:
            d = by_step[s]["dev"]
            print("| %d | %.3f | %.3f | %.3f |" % (s, d["samsum"], d["dialogsum"], d["dailydialog"]))
    print()
    print("| steps | train loss SAMSum | DialogSum | DailyDialog | tokens/s |")
    print("|---|---|---|---|---|")
    bucket = defaultdict(lambda: defaultdict(list))
    rate = defaultdict(list)
    for s in steps:
        r = by_step[s]
        if "loss" not in r:
            continue
        b = (s - 1) // 100
        for k, v in r["loss"].items():
            bucket[b][k].append(v)
        rate[b].append(r["tok_s"])
    for b in sorted(bucket):
        m = {k: sum(v) / len(v) for k, v in bucket[b].items()}
        print("| %d-%d | %.3f | %.3f | %.3f | %.0f |" % (b * 100 + 1, min((b + 1) * 100, steps[-1]), m.get("samsum", float("nan")),
              m.get("dialogsum", float("nan")), m.get("dailydialog", float("nan")), sum(rate[b]) / len(rate[b])))
    last = by_step[steps[-1]]
    print()
    print("final step %d, tokens %d, training time %.0f s (%.2f h), mean %.1f tokens/s" % (
        steps[-1], last["tokens"], last["elapsed_s"], last["elapsed_s"] / 3600, last["tokens"] / last["elapsed_s"]))

    a = json.load(open(os.path.join(run, "args.json")))
    state_args = None
    final = os.path.join(run, "final.pt")
    if os.path.exists(final):
        import torch
        state_args = torch.load(final)["args"]
    a = state_args or a
    data = os.path.join(args.work, "data")
    drop = {line.split()[0] for line in open(os.path.join(data, "dev_overlap.txt"))}
    train = T.load_examples(os.path.join(data, "train.jsonl"), drop)
    rng = random.Random(a["seed"])
    sources = []
    for name in ["samsum", "dialogsum", "dailydialog"]:
        exs = [e for e in train if e["src"] == name]
        sources.append(T.Source(name, exs, T.common_prefix([e["prompt"] for e in exs]), random.Random(rng.random())))
    plan = T.schedule(sources, [float(w) for w in a["weights"].split(",")], a["steps"], a["budget"], rng)
    seen = defaultdict(int)
    nsteps = defaultdict(int)
    for s, idx in plan:
        seen[sources[s].name] += len(idx)
        nsteps[sources[s].name] += 1
    for src in sources:
        print("%s: %d train examples, %d steps, %d examples fed (%.2f epochs)" % (
            src.name, len(src.examples), nsteps[src.name], seen[src.name], seen[src.name] / len(src.examples)))


if __name__ == "__main__":
    main()
