#!/usr/bin/python3
"""Many topic-branch CV runs at once (seeds, K, recipes, weight soups), for an accelerator (issue 3).

A study, not a step of finetune.sh: nothing here is exported. topic_branch.py's recipe, with every
tensor on one device (CUDA when there is one), so that one call can train hundreds of fold branches;
on this project's CPUs one K = 4 fold takes 4-6 minutes, on a GPU about a second is expected. Each
run writes every row's held-out class log-probabilities (the fold model that did not see it), alone
and with the word-piece bag of words at mix 0.35, as topic_branch.py does, so topic_lexical.py and
plain numpy can combine them afterwards.

What a sweep holds (``SWEEP``): several seeds of one recipe, their logit ensemble (k seeds cost k
branches: not affordable, an upper bound) and their *weight soup* (the seeds' branches averaged
parameter by parameter; one branch at run time). Every seed's head starts from the same
initialisation (``head_seed``) so that soups average comparable weights; the seed changes the row
order and dropout only.

The accelerator machine of this workplace takes the working tree and at most 64 MiB, so ``pack``
writes what it needs that the tree lacks (the AG News ids and e5-small-v2's top layers in float16,
18 MB) into one folder to carry. The tracked tree alone is 58 MiB, so for that call the GPT model
(23.6 MB, not needed here) must leave the index: ``git rm --cached`` it and list it in
.git/info/exclude, then ``git reset -- <it>`` and drop the exclude line afterwards (the file itself
never moves). Smoke-tested on the CPU only so far (``--smoke``: 88 of 118 on fold 0, as the scratch
run before it); the one GPU call tried was refused (no machine lent at the time).

  /usr/bin/python3 topic_sweep.py pack --work work --base work/encoder/e5-small-v2-q.onnx --out ../../../.gpu
  python3 models/training/finetune/topic_sweep.py run --pack .gpu --out "$OUT" [--deadline 380] [--smoke]

``run`` stops starting new runs after ``--deadline`` seconds and rewrites results.json and
heldout.npz after each one, so a cut-off call still returns what it finished.
"""
import argparse
import copy
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import data  # noqa: E402
import minilm  # noqa: E402
import topic_branch as tb  # noqa: E402
import topic_probe as tp  # noqa: E402
import train as frozen  # noqa: E402

BUNDLE = os.path.join(HERE, "..", "..", "catalog", "e5-small-ft", "model.onnx")
TOP_LAYERS = range(7, 12)  # e5-small-v2's layers 8-12 (0-based 7-11): branches of K <= 5
SEEDS = (20240601, 1, 2, 3, 4, 5, 6, 7)
# (name, seeds, recipe overrides), in the order they run
SWEEP = (
    ("k4", SEEDS, {}),
    ("k4-lpft", SEEDS, {"lp_penalty": 0.01, "bucket": 8}),
    ("k4-avg3", SEEDS[:5], {"last_avg": 3}),
    ("k3", SEEDS[:5], {"k": 3}),
    ("k5", SEEDS[:5], {"k": 5}),
    ("k4-e12", SEEDS[:5], {"epochs": 12}),
    ("k4-lr3", SEEDS[:5], {"lr": 3e-4}),
    ("k2", SEEDS[:5], {"k": 2}),
    ("k4-lr1-e12", SEEDS[:5], {"lr": 1e-4, "epochs": 12}),
    ("k4-lpft-e12", SEEDS[:5], {"lp_penalty": 0.01, "bucket": 8, "epochs": 12}),
    ("k3-lpft", SEEDS[:5], {"lp_penalty": 0.01, "bucket": 8, "k": 3}),
    ("k5-lpft", SEEDS[:5], {"lp_penalty": 0.01, "bucket": 8, "k": 5}),
)


def pack(args):
    """The carried folder: e5top.pt ({layer: float16 state dict}) and work/{ids,inputs}/ag_news.*."""
    source = minilm.load_pretrained(args.base, casing=False)
    os.makedirs(args.out, exist_ok=True)
    torch.save({i: {k: v.half() for k, v in source.encoder.layers[i].state_dict().items()} for i in TOP_LAYERS},
               os.path.join(args.out, "e5top.pt"))
    for sub in ("ids", "inputs"):
        os.makedirs(os.path.join(args.out, "work", sub), exist_ok=True)
        for name in os.listdir(os.path.join(args.work, sub)):
            if name.startswith("ag_news."):
                shutil.copy(os.path.join(args.work, sub, name), os.path.join(args.out, "work", sub, name))
    print(f"wrote {args.out}")


class Sweep:
    """The shared encoder's layer outputs for the 581 rows on one device, and fold training on them."""

    def __init__(self, pack_dir, device):
        self.dev = device
        model, _ = tp.load_model(BUNDLE)
        self.model = model.to(device).eval()
        self.e5top = torch.load(os.path.join(pack_dir, "e5top.pt"))
        ag = data.load(os.path.join(pack_dir, "work"), "ag_news", 256)
        self.y = np.asarray(ag.labels)
        n = len(self.y)
        self.folds = frozen.stratified_folds(self.y, 5, frozen.SEED)
        self.counts = np.zeros((n, minilm.VOCAB), dtype=np.float32)
        for i, row in enumerate(ag.ids):
            np.add.at(self.counts[i], row, 1.0)
        s = max(len(r) for r in ag.ids)
        x, m, c = (torch.zeros(n, s, dtype=torch.long) for _ in range(3))
        for i, (r, cs) in enumerate(zip(ag.ids, ag.cases)):
            x[i, :len(r)], m[i, :len(r)], c[i, :len(r)] = torch.from_numpy(r), 1, torch.from_numpy(cs)
        self.x, self.m, self.c = x.to(device), m.to(device), c.to(device)
        self.lengths = m.sum(1).numpy()
        self.yt = torch.from_numpy(self.y).to(device)
        self._states, self._bow = {}, {}

    def states(self, first):
        """The shared encoder's output after layer ``first``, [N, S, H] (padded keys masked)."""
        if first not in self._states:
            with torch.no_grad():
                out = []
                for s in range(0, len(self.y), 64):
                    sl = slice(s, s + 64)
                    _, kept = self.model.encoder(self.x[sl], self.m[sl], torch.zeros_like(self.x[sl]),
                                                 self.c[sl] if self.model.casing else None, keep=(first,))
                    out.append(kept[0])
                self._states[first] = torch.cat(out)
        return self._states[first]

    def bow(self, f):
        """Every row's log-probabilities from the bag of words fitted on outer fold ``f``'s training rows."""
        if f not in self._bow:
            train = np.flatnonzero(self.folds != f)
            w, b = tp.fit_lr(self.counts[train], self.y[train], 0.001)
            self._bow[f] = tp.log_softmax(self.counts @ w.T + b)
        return self._bow[f]

    def batch(self, h, rows):
        s = int(self.lengths[rows].max())
        return h[rows, :s], self.x[rows, :s], self.m[rows, :s]

    def train(self, f, k=4, seed=SEEDS[0], epochs=8, lr=1.5e-4, head_lr=3e-3, batch=16, dropout=0.1,
              head_seed=0, last_avg=0, lp_penalty=0.0, bucket=0):
        """topic_branch.py's recipe on outer fold ``f``'s training rows; ``last_avg`` > 0: the last
        epochs' weights averaged; ``lp_penalty`` and ``bucket`` as topic_branch.py's ``--lp-penalty``
        (LP-FT start of the linear layer) and ``--bucket`` (length-bucketed batches)."""
        torch.manual_seed(head_seed)
        topic = minilm.TopicHead((12 - k,), bow=False, branch=k, dropout=dropout)
        for j, mine in enumerate(topic.branch):
            mine.load_state_dict({name: v.float() for name, v in self.e5top[12 - k + j].items()})
        topic = topic.to(self.dev)
        torch.manual_seed(seed)
        rng = np.random.RandomState(seed)
        h = self.states(12 - k)
        rows = np.flatnonzero(self.folds != f)
        if lp_penalty > 0:
            tb.linear_probe_init(topic, ((hb, mb) for hb, _, mb in (self.batch(h, rows[s:s + 64])
                                                                    for s in range(0, len(rows), 64))),
                                 self.y[rows], lp_penalty)
        opt, sched = tb.optimizer(topic, lr, head_lr, epochs * ((len(rows) + batch - 1) // batch))
        avg = None
        for e in range(epochs):
            topic.train()
            for idx in tb.batches(rng.permutation(rows), self.lengths, batch, bucket, rng):
                loss = F.cross_entropy(topic(*self._inputs(h, idx)), self.yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            if last_avg and e >= epochs - last_avg:
                sd = {name: v.detach().clone() for name, v in topic.state_dict().items()}
                avg = sd if avg is None else {name: avg[name] + sd[name] for name in avg}
        if avg is not None:
            topic.load_state_dict({name: v / last_avg for name, v in avg.items()})
        return topic

    def _inputs(self, h, idx):
        hb, xb, mb = self.batch(h, idx)
        return [hb], xb, mb

    def predict(self, topic, f):
        test = np.flatnonzero(self.folds == f)
        h = self.states(12 - len(topic.branch))
        topic.eval()
        with torch.no_grad():
            out = [topic(*self._inputs(h, test[s:s + 64])) for s in range(0, len(test), 64)]
        return test, torch.cat(out).cpu().numpy()


def soup(topics):
    """One branch whose every parameter is the mean of ``topics``'."""
    states = [t.state_dict() for t in topics]
    out = copy.deepcopy(topics[0])
    out.load_state_dict({k: sum(s[k] for s in states) / len(states) for k in states[0]})
    return out


def run(args):
    start = time.time()
    sweep = Sweep(args.pack, torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    y, n = sweep.y, len(sweep.y)
    results, arrays = {}, {}

    def record(name, lp):
        bow = np.stack([sweep.bow(f) for f in range(5)], 1)[np.arange(n), sweep.folds]
        mixed = 0.65 * lp + 0.35 * bow
        arrays[name], arrays[name + "+bow"] = lp.astype(np.float32), mixed.astype(np.float32)
        results[name] = {"alone": float((lp.argmax(1) == y).mean()), "bow": float((mixed.argmax(1) == y).mean()),
                         "seconds": round(time.time() - start)}
        print(name, results[name], flush=True)
        np.savez_compressed(os.path.join(args.out, "heldout.npz"), **arrays)
        with open(os.path.join(args.out, "results.json"), "w") as fh:
            json.dump(results, fh, indent=1)

    t0 = time.time()
    topic = sweep.train(0, k=2 if args.smoke else 4, epochs=1 if args.smoke else 8)
    test, lp = sweep.predict(topic, 0)
    print(f"one fold branch: {time.time() - t0:.1f} s, fold 0 {int((lp.argmax(1) == y[test]).sum())} of {len(test)}",
          flush=True)
    if args.smoke:
        return
    for name, seeds, recipe in SWEEP:
        if time.time() - start > args.deadline:
            print("not started (deadline):", name, flush=True)
            continue
        per_seed = {s: np.zeros((n, 4), dtype=np.float32) for s in seeds}
        souped = np.zeros((n, 4), dtype=np.float32)
        for f in range(5):
            topics = []
            for s in seeds:
                t = sweep.train(f, seed=s, **recipe)
                test, lp = sweep.predict(t, f)
                per_seed[s][test] = lp
                topics.append(t)
            test, lp = sweep.predict(soup(topics), f)
            souped[test] = lp
        for s in seeds:
            record(f"{name}/s{s}", per_seed[s])
        record(f"{name}/soup", souped)
        record(f"{name}/ensemble", sum(per_seed.values()) / len(seeds))
    print(f"done in {time.time() - start:.0f} s")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--work", required=True)
    p.add_argument("--base", required=True, help="e5-small-v2-q.onnx as published")
    p.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--pack", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--deadline", type=float, default=1e9, help="seconds after which no new run starts")
    r.add_argument("--smoke", action="store_true", help="one K = 2 fold branch, one epoch")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    (pack if args.command == "pack" else run)(args)


if __name__ == "__main__":
    main()
