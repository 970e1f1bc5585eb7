"""Multi-task fine-tuning of all-MiniLM-L6-v2 with its three heads (one shared encoder).

A run trains for a fixed plan of batches, drawn up front from the seed: each task contributes
length-bucketed batches (token budget per batch) covering its configured number of passes over its
data, and all tasks' batches are shuffled together, so every step trains one task's head and the
shared encoder. The run directory holds everything needed to resume:

  config.json       the run's configuration (a resumed run must be started with the same one)
  checkpoint.pt     model, optimizer, scheduler and step, written atomically every few minutes
  log.txt           progress lines; metrics.jsonl: one JSON line per dev evaluation
  model.pt          the final weights (state dict) and config, written when the plan is done

Starting the same command again resumes from checkpoint.pt (or does nothing if model.pt exists).

Two kinds of runs make the bundle (see finetune.sh):
  joint  sentiment (tweet_eval train + SST-2 training part) and entities (CoNLL eng.train) from the
         pretrained encoder;
  topic  from a joint run's model.pt: AG News rows (all, or 4 of 5 folds) mixed with a replay of the
         joint tasks' data so the other heads keep their quality; with --fold, the held-out fold
         is scored (cross-validation of exactly the recipe the final model gets).

usage: /usr/bin/python3 train_multitask.py --work <work> --run <run-dir> [options]
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import conll  # noqa: E402
import data  # noqa: E402
import minilm  # noqa: E402
import train as frozen  # noqa: E402  the frozen-head tooling: metrics and folds shared with it

SENTENCE_MAX_TOKENS = 128
FOLDS = 5


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="directory with inputs/ (prepare_data.py), ids/ and encoder/")
    ap.add_argument("--run", required=True, help="run directory (created; resumed if it holds a checkpoint)")
    ap.add_argument("--kind", choices=["joint", "topic"], default="joint")
    ap.add_argument("--encoder", default="all-minilm-l6-v2.onnx",
                    help="pretrained encoder graph under <work>/encoder/: all-minilm-l6-v2.onnx (6 layers, float) "
                         "or e5-small-v2-q.onnx (12 layers, dynamic int8)")
    ap.add_argument("--init", help="weights to start from: a run's model.pt, or a fused bundle's model.onnx "
                    "(int8 or float32, e.g. models/catalog/e5-small-ft/model.onnx); required for topic runs")
    ap.add_argument("--fold", type=int, default=-1, help="topic runs: AG News fold held out (-1: train on all rows)")
    ap.add_argument("--casing", type=int, default=1, help="1: casing embedding (case_ids input)")
    ap.add_argument("--tweet-epochs", type=float, default=0.7)
    ap.add_argument("--sst2-epochs", type=float, default=0.7)
    ap.add_argument("--conll-epochs", type=float, default=2.0)
    ap.add_argument("--sst2-sentence-epochs", type=float, default=0.0,
                    help="extra passes over SST-2's whole training sentences (on top of --sst2-epochs over all phrases)")
    ap.add_argument("--ag-epochs", type=float, default=6.0)
    ap.add_argument("--replay", type=float, default=1.0,
                    help="topic runs: replayed joint-task tokens per AG News token")
    ap.add_argument("--lr", type=float, default=8e-5, help="encoder peak learning rate")
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--casing-lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=float, default=0.05)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--train-embeddings", type=int, default=0,
                    help="1: train the word-embedding table too (0: it stays as pretrained)")
    ap.add_argument("--budget", type=int, default=1024, help="padded tokens per batch")
    ap.add_argument("--max-items", type=int, default=64)
    ap.add_argument("--evals", type=int, default=4, help="dev evaluations over the run (the last at its end)")
    ap.add_argument("--dev", default="tweet,sst2,conll", help="dev sets scored at each evaluation (ag: the held-out fold)")
    ap.add_argument("--seed", type=int, default=frozen.SEED)
    ap.add_argument("--checkpoint-minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (throughput trials)")
    return ap.parse_args(argv)


class Log:
    def __init__(self, run):
        self.path = os.path.join(run, "log.txt")

    def __call__(self, msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")


def load_tasks(args):
    w = args.work
    tasks = {}
    if args.kind == "joint" or args.replay > 0:
        tweet = data.load(w, "tweet_train", SENTENCE_MAX_TOKENS)
        sst2 = data.load(w, "sst2_train", SENTENCE_MAX_TOKENS)
        tasks["tweet"] = ("sentiment", tweet)
        tasks["sst2"] = ("sentiment", sst2)
        if args.sst2_sentence_epochs > 0:
            tasks["sst2_sentences"] = ("sentiment", data.load(w, "sst2_sentences", SENTENCE_MAX_TOKENS))
        tasks["conll"] = ("entities", data.load(w, "conll_train"))
    ag_heldout = None
    if args.kind == "topic":
        ag = data.load(w, "ag_news", SENTENCE_MAX_TOKENS)
        if args.fold >= 0:
            fold = frozen.stratified_folds(ag.labels, FOLDS, frozen.SEED)
            ag_heldout = ag.subset(np.flatnonzero(fold == args.fold))
            ag = ag.subset(np.flatnonzero(fold != args.fold))
        tasks["ag"] = ("classes", ag)
    return tasks, ag_heldout


def plan(args, tasks):
    """All batches of the run, as (task, indices), shuffled together. Deterministic in the seed."""
    rng = random.Random(args.seed)
    epochs = {"tweet": args.tweet_epochs, "sst2": args.sst2_epochs, "conll": args.conll_epochs,
              "sst2_sentences": args.sst2_sentence_epochs,
              "ag": args.ag_epochs}
    if args.kind == "topic":
        ag = tasks["ag"][1]
        ag_tokens = args.ag_epochs * ag.lengths().sum()
        joint = [t for t in tasks if t != "ag"]
        joint_tokens = sum(tasks[t][1].lengths().sum() for t in joint)
        for t in joint:  # replay in proportion to each joint task's size
            epochs[t] = args.replay * ag_tokens / joint_tokens
    out = []
    for name in sorted(tasks):
        ex = tasks[name][1]
        lengths = ex.lengths()
        picks = data.sample_epochs(len(ex), epochs[name], rng)
        n = len(ex)
        for start in range(0, len(picks), n):  # one pass (or the fractional rest) at a time
            part = picks[start:start + n]
            for b in data.batches(lengths[part], args.budget, args.max_items, rng):
                out.append((name, [part[i] for i in b]))
    rng.shuffle(out)
    return out, epochs


def make_model(args):
    onnx_path = os.path.join(args.work, "encoder", args.encoder)
    model = minilm.load_pretrained(onnx_path, casing=bool(args.casing), dropout=args.dropout, seed=args.seed)
    if args.kind == "topic" and not args.init:
        raise SystemExit("topic runs start from a joint model: give --init")
    if args.init:
        if args.init.endswith(".onnx"):
            weights = minilm.fused_state_dict(args.init)
            init_casing = "encoder.casing.weight" in weights
        else:
            state = torch.load(args.init, map_location="cpu")
            weights, init_casing = state["model"], state["config"]["casing"]
        if bool(init_casing) != bool(args.casing):
            raise ValueError(f"{args.init} has casing={init_casing}, this run casing={args.casing}")
        # a fitted topic probe (topic_probe.py) is not trained here: the linear head takes its place
        weights = {k: v for k, v in weights.items() if not k.startswith("topic.")}
        for k in ("classes.weight", "classes.bias"):
            weights.setdefault(k, model.state_dict()[k])
        model.load_state_dict(weights)
    # By default the word embeddings stay as pretrained: little data per word, and the dense update
    # of the 11.7M-parameter table costs time on 2 shared cores. A continuation run on top of a
    # fine-tuned bundle may train them (--train-embeddings 1).
    model.encoder.word.weight.requires_grad_(bool(args.train_embeddings))
    return model


def optimizer(args, model, total_steps):
    heads, casing, decay, no_decay = [], [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith(("sentiment.", "classes.", "entities.")):
            heads.append(p)
        elif name.startswith("encoder.casing."):
            casing.append(p)
        elif p.ndim == 1 or "norm" in name or name.startswith(("encoder.position", "encoder.token_type")):
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [{"params": decay, "lr": args.lr, "weight_decay": args.weight_decay},
              {"params": no_decay, "lr": args.lr, "weight_decay": 0.0},
              {"params": heads, "lr": args.head_lr, "weight_decay": args.weight_decay},
              {"params": casing, "lr": args.casing_lr, "weight_decay": 0.0}]
    opt = torch.optim.AdamW([g for g in groups if g["params"]])
    warm = max(1, int(args.warmup * total_steps))

    def factor(step):
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def tensors(ex, idx, casing):
    x, m, c, y = data.pad(ex, idx)
    t = lambda a: torch.from_numpy(a)  # noqa: E731
    return t(x), t(m), t(np.zeros_like(x)), (t(c) if casing else None), t(np.asarray(y))


def predict(model, ex, head, budget=4096):
    """Logits per example (sentence heads) or per token (entities), in ex's order."""
    model.eval()
    out = [None] * len(ex)
    rng = random.Random(0)
    with torch.no_grad():
        for idx in data.batches(ex.lengths(), budget, 256, rng):
            x, m, tt, c, _ = tensors(ex, idx, model.casing)
            h = model.hidden(x, m, tt, c)
            logits = model.head(head, h, m).numpy()
            for r, i in enumerate(idx):
                out[i] = logits[r, :len(ex.ids[i])] if head == "entities" else logits[r]
    model.train()
    return out


def evaluate(model, dev, which):
    res = {}
    if "tweet" in which:
        logits = np.stack(predict(model, dev["tweet"], "sentiment"))
        res["tweet_eval_validation"] = frozen.classification_metrics(dev["tweet"].labels, logits.argmax(1), 3)
    if "sst2" in which:
        logits = np.stack(predict(model, dev["sst2"], "sentiment"))
        binary = np.where(logits[:, 2] > logits[:, 0], 2, 0)
        res["sst2_heldout"] = {"accuracy": float((binary == dev["sst2"].labels).mean()), "n": len(binary)}
    if "conll" in which:
        ex = dev["conll"]
        preds = [p.argmax(-1) for p in predict(model, ex, "entities")]
        sentences = [{"tags": ex.meta["tags"][i], "words": ex.words[i], "spans": ex.spans[i],
                      "word": conll.token_word_index(ex.spans[i], ex.words[i])} for i in range(len(ex))]
        word, token = frozen.entity_metrics(sentences, preds)
        res["conll2003_testa_word_level"] = word
        res["conll2003_testa_token_level_decoding"] = token
    if "ag" in which and dev.get("ag") is not None:
        logits = np.stack(predict(model, dev["ag"], "classes"))
        res["ag_news_heldout_fold"] = frozen.classification_metrics(dev["ag"].labels, logits.argmax(1), 4)
        res["ag_news_heldout_fold"]["pred"] = logits.argmax(1).tolist()
    return res


def summary(res):
    parts = []
    if "tweet_eval_validation" in res:
        t = res["tweet_eval_validation"]
        parts.append(f"tweet acc {t['accuracy']:.4f} macro-recall {t['macro_recall']:.4f}")
    if "sst2_heldout" in res:
        parts.append(f"sst2 {res['sst2_heldout']['accuracy']:.4f}")
    if "conll2003_testa_word_level" in res:
        parts.append(f"conll F1 {res['conll2003_testa_word_level']['f1']:.4f} "
                     f"(token-decoded {res['conll2003_testa_token_level_decoding']['f1']:.4f})")
    if "ag_news_heldout_fold" in res:
        parts.append(f"ag fold acc {res['ag_news_heldout_fold']['accuracy']:.4f}")
    return "; ".join(parts)


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    log = Log(args.run)
    final_path = os.path.join(args.run, "model.pt")
    if os.path.exists(final_path):
        log(f"{final_path} exists: nothing to do")
        return
    cfg = {k: v for k, v in vars(args).items() if k not in ("run", "threads", "checkpoint_minutes")}
    cfg_path = os.path.join(args.run, "config.json")
    if os.path.exists(cfg_path):
        with open(cfg_path) as f:
            old = json.load(f)
        if old != cfg:
            diff = {k: (old.get(k), cfg.get(k)) for k in set(old) | set(cfg) if old.get(k) != cfg.get(k)}
            raise SystemExit(f"{args.run} was started with another configuration: {diff}")
    else:
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)

    frozen.seed_all(args.seed)
    t_load = time.time()
    tasks, ag_heldout = load_tasks(args)
    which = set(args.dev.split(",")) if args.dev else set()
    dev = {}
    if "tweet" in which:
        dev["tweet"] = data.load(args.work, "tweet_val", SENTENCE_MAX_TOKENS)
    if "sst2" in which:
        dev["sst2"] = data.load(args.work, "sst2_dev", SENTENCE_MAX_TOKENS)
    if "conll" in which:
        dev["conll"] = data.load(args.work, "conll_testa")
    dev["ag"] = ag_heldout
    batches, epochs = plan(args, tasks)
    total = len(batches) if not args.max_steps else min(args.max_steps, len(batches))
    tokens = sum(len(idx) * max(len(tasks[t][1].ids[i]) for i in idx) for t, idx in batches)
    log(f"{args.kind} run: {len(batches)} batches, {tokens} padded tokens; passes {epochs}; "
        f"data loaded in {time.time() - t_load:.0f} s")

    model = make_model(args)
    model.train()
    opt, sched = optimizer(args, model, len(batches))
    step = 0
    ckpt_path = os.path.join(args.run, "checkpoint.pt")
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        torch.set_rng_state(ck["torch_rng"])
        step = ck["step"]
        log(f"resumed at step {step}/{len(batches)}")

    eval_at = sorted({int(round(len(batches) * (k + 1) / args.evals)) for k in range(args.evals)}) if args.evals else []
    heads = {"tweet": "sentiment", "sst2": "sentiment", "sst2_sentences": "sentiment", "conll": "entities",
             "ag": "classes"}
    last_ckpt = time.time()
    t0, done_tokens = time.time(), 0
    running = {}
    while step < total:
        name, idx = batches[step]
        ex = tasks[name][1]
        x, m, tt, c, y = tensors(ex, idx, model.casing)
        logits = model.head(heads[name], model.hidden(x, m, tt, c), m)
        if heads[name] == "entities":
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        else:
            loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        done_tokens += x.numel()
        r = running.setdefault(name, [0.0, 0])
        r[0] += float(loss)
        r[1] += 1
        if step % 100 == 0:
            rate = done_tokens / (time.time() - t0)
            eta = (sum(len(i) * max(len(tasks[t][1].ids[j]) for j in i) for t, i in batches[step:total])) / rate
            losses = " ".join(f"{k} {v[0] / v[1]:.4f}" for k, v in sorted(running.items()))
            log(f"step {step}/{total} loss {losses} | {rate:.0f} tokens/s, ETA {eta / 60:.0f} min")
            running = {}
        if step in eval_at and which:
            t_eval = time.time()
            res = evaluate(model, dev, which)
            res.update({"step": step, "of": len(batches), "seconds": round(time.time() - t_eval, 1)})
            with open(os.path.join(args.run, "metrics.jsonl"), "a") as f:
                f.write(json.dumps(res) + "\n")
            log(f"dev at step {step}: {summary(res)} ({time.time() - t_eval:.0f} s)")
            t0, done_tokens = time.time(), 0
        if time.time() - last_ckpt > args.checkpoint_minutes * 60 and step < total:
            save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(),
                         "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state(), "step": step}, ckpt_path)
            last_ckpt = time.time()
    if args.max_steps:
        log(f"stopped after {step} steps (--max-steps)")
        return
    save_atomic({"model": model.state_dict(), "config": cfg}, final_path)
    if os.path.exists(ckpt_path):
        os.remove(ckpt_path)
    log(f"done: {final_path}")


if __name__ == "__main__":
    main()
