#!/usr/bin/python3
"""Trains the default GPT-stage model (MiniLM-shaped causal decoder, see minilm_decoder.py) on the
token ids EncodeDataset.java wrote (prompts exactly as the Java runtime builds them).

Loss on the target tokens and the EOS ([SEP]) only. Each batch holds one source (SAMSum, DialogSum
or DailyDialog); the template text before the input is the same for every example of a kind, so
its keys/values are computed once per batch and broadcast (a causal prefix is independent of what
follows). Batches are length-bucketed under a token budget. The whole batch schedule is drawn
from the seed before the first step, so a resumed run continues the same schedule.

Resumable: the checkpoint WORK/run/last.pt (model, optimizer, step) is written atomically every
--ckpt-every steps; rerunning the same command continues from it. Log: WORK/run/log.jsonl (one JSON
object per logged step; dev loss every --dev-every steps on a fixed dev subset).

  nice -n 10 /usr/bin/python3 train_default.py --work WORK [--init minilm|random] [--steps N]
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minilm_decoder import MiniLmDecoder, load_minilm  # noqa: E402

EOS = 102
PAD = 0


def load_examples(path, drop):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            dialogue = d["id"].rsplit("-", 1)[0] if d["src"] == "dailydialog" else d["id"]
            if dialogue in drop:
                continue
            out.append(d)
    return out


def common_prefix(prompts):
    p = prompts[0]
    n = len(p)
    for q in prompts[1:]:
        n = min(n, len(q))
        while p[:n] != q[:n]:
            n -= 1
    return p[:n]


class Source:
    """Examples of one data set, drawn without replacement (reshuffled every epoch)."""

    def __init__(self, name, examples, prefix, rng):
        self.name, self.examples, self.prefix, self.rng = name, examples, prefix, rng
        self.order, self.pos, self.epoch = [], 0, 0

    def draw(self):
        if self.pos == len(self.order):
            self.order = list(range(len(self.examples)))
            self.rng.shuffle(self.order)
            self.pos = 0
            self.epoch += 1
        self.pos += 1
        return self.order[self.pos - 1]


def rest_tokens(ex, prefix_len):
    return ex["prompt"][prefix_len:] + ex["target"] + [EOS]


def schedule(sources, weights, steps, budget, rng, pool=64):
    """[(source index, [example indices])] for every step: a weighted choice of source per step,
    then examples drawn from a length-sorted pool so batches pad little."""
    pools = [[] for _ in sources]
    out = []
    for _ in range(steps):
        s = rng.choices(range(len(sources)), weights=weights)[0]
        src = sources[s]
        if not pools[s]:
            draws = [src.draw() for _ in range(pool * 24)]
            draws.sort(key=lambda i: len(src.examples[i]["prompt"]) + len(src.examples[i]["target"]))
            batches, cur = [], []
            for i in draws:
                n = len(rest_tokens(src.examples[i], len(src.prefix)))
                longest = max([n] + [len(rest_tokens(src.examples[j], len(src.prefix))) for j in cur[-1:]])
                if cur and longest * (len(cur) + 1) > budget:
                    batches.append(cur)
                    cur = []
                cur.append(i)
            if cur:
                batches.append(cur)
            rng.shuffle(batches)
            pools[s] = batches
        out.append((s, pools[s].pop()))
    return out


def batch_loss(model, prefix, examples):
    """Mean cross-entropy over target+EOS tokens, and the number of such tokens."""
    p = len(prefix)
    rows = [rest_tokens(e, p) for e in examples]
    tgt_len = [len(e["target"]) + 1 for e in examples]
    b, L = len(rows), max(len(r) for r in rows)
    ids = torch.full((b, L), PAD, dtype=torch.long)
    mask = torch.zeros((b, p + L), dtype=torch.long)
    mask[:, :p] = 1
    labels = torch.full((b, L), -100, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, p:p + len(r)] = 1
        # Position j predicts token j+1; the first target token is predicted from the last prompt token.
        start = len(r) - tgt_len[i]
        labels[i, start - 1:len(r) - 1] = ids[i, start:len(r)]
    pre = torch.tensor([prefix])
    _, past = model.hidden(pre, torch.ones((1, p), dtype=torch.long))
    past = [t.expand(b, -1, -1, -1) for t in past]
    h, _ = model.hidden(ids, mask, past)
    sel = labels != -100
    logits = model.logits(h[sel])
    n = int(sel.sum())
    return F.cross_entropy(logits, labels[sel]), n, int(mask.sum()) - p * b + p


def evaluate(model, dev_sets):
    model.eval()
    out = {}
    with torch.no_grad():
        for name, (prefix, exs) in dev_sets.items():
            tot, n = 0.0, 0
            exs = sorted(exs, key=lambda e: len(e["prompt"]))
            for i in range(0, len(exs), 16):
                loss, k, _ = batch_loss(model, prefix, exs[i:i + 16])
                tot += float(loss) * k
                n += k
            out[name] = tot / n
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--run", default="run")
    ap.add_argument("--init", choices=["minilm", "random"], default="minilm")
    ap.add_argument("--steps", type=int, default=1400)
    ap.add_argument("--budget", type=int, default=2048, help="padded tokens per batch (after the shared prefix)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--weights", default="0.35,0.30,0.35", help="share of steps: samsum,dialogsum,dailydialog")
    ap.add_argument("--dev-every", type=int, default=200)
    ap.add_argument("--dev-n", default="120,80,200", help="dev examples for the loss: samsum,dialogsum,dailydialog")
    ap.add_argument("--ckpt-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stop-after", type=int, default=0, help="exit after this many steps of this invocation (trials)")
    ap.add_argument("--final-at", type=int, default=0,
                    help="write final.pt at this step of the --steps schedule and stop (0: at the schedule's end)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run = os.path.join(args.work, args.run)
    os.makedirs(run, exist_ok=True)
    data = os.path.join(args.work, "data")

    drop = set()
    with open(os.path.join(data, "dev_overlap.txt")) as f:
        for line in f:
            drop.add(line.split()[0])
    train = load_examples(os.path.join(data, "train.jsonl"), drop)
    dev = load_examples(os.path.join(data, "dev.jsonl"), set())
    names = ["samsum", "dialogsum", "dailydialog"]
    rng = random.Random(args.seed)
    sources, prefixes = [], {}
    for name in names:
        exs = [e for e in train if e["src"] == name]
        prefix = common_prefix([e["prompt"] for e in exs])
        prefixes[name] = prefix
        sources.append(Source(name, exs, prefix, random.Random(rng.random())))
        print("%s: %d train examples, shared prefix %d tokens" % (name, len(exs), len(prefix)), flush=True)
    dev_rng = random.Random(7)
    dev_sets = {}
    for name, n in zip(names, map(int, args.dev_n.split(","))):
        exs = [e for e in dev if e["src"] == name]
        dev_sets[name] = (prefixes[name], dev_rng.sample(exs, n))
        assert all(e["prompt"][:len(prefixes[name])] == prefixes[name] for e in exs)
    weights = [float(w) for w in args.weights.split(",")]
    plan = schedule(sources, weights, args.steps, args.budget, rng)

    model = MiniLmDecoder(dropout=0.0)
    if args.init == "minilm":
        load_minilm(model, os.path.join(args.work, "minilm", "all-minilm-l6-v2.onnx"))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    ckpt = os.path.join(run, "last.pt")
    step, elapsed, tokens = 0, 0.0, 0
    if os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed, tokens = state["step"], state["elapsed"], state["tokens"]
        print("resumed at step %d" % step, flush=True)
    else:
        with open(os.path.join(run, "args.json"), "w") as f:
            json.dump(vars(args), f, indent=1)
    log = open(os.path.join(run, "log.jsonl"), "a")

    def save():
        tmp = ckpt + ".tmp"
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "tokens": tokens, "args": vars(args)}, tmp)
        os.replace(tmp, ckpt)

    if step == 0:
        rec = {"step": 0, "dev": evaluate(model, dev_sets)}
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()
    model.train()
    window = []
    done_here = 0
    while step < args.steps:
        t0 = time.time()
        s, idx = plan[step]
        src = sources[s]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss, n_tgt, n_tok = batch_loss(model, src.prefix, [src.examples[i] for i in idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        opt.step()
        dt = time.time() - t0
        step += 1
        done_here += 1
        elapsed += dt
        tokens += n_tok
        window.append((names[s], float(loss), n_tok, dt))
        if step % 10 == 0 or step == args.steps:
            by = {}
            for name, l, _, _ in window:
                by.setdefault(name, []).append(l)
            rec = {"step": step, "lr": round(lr_at(step - 1), 7), "loss": {k: round(sum(v) / len(v), 4) for k, v in by.items()},
                   "tok_s": round(sum(w[2] for w in window) / sum(w[3] for w in window), 1),
                   "gnorm": round(gnorm, 3), "tokens": tokens, "elapsed_s": round(elapsed), "wall": time.strftime("%H:%M:%S")}
            window = []
            if step % args.dev_every == 0 or step == args.steps:
                rec["dev"] = evaluate(model, dev_sets)
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if step % args.ckpt_every == 0 or step == args.steps:
            save()
        if args.stop_after and done_here >= args.stop_after:
            break
        if args.final_at and step >= args.final_at:
            break
    if step == (args.final_at or args.steps):
        torch.save({"model": model.state_dict(), "step": step, "elapsed": elapsed, "tokens": tokens,
                    "args": vars(args)}, os.path.join(run, "final.pt"))
        print("done: %d steps, %.0f s, %d tokens" % (step, elapsed, tokens), flush=True)


if __name__ == "__main__":
    main()
