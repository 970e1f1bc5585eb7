"""Catalogue entries of the fine-tuned fused model.

  manifest  writes a bundle directory (model.onnx + model.json) for one exported graph, e.g. the
            fold models and the float32 graph that the Java evaluation opens from a work directory;
  install   writes models/catalog/<id>/: the final int8 model.onnx, model.json and MODEL_CARD.md
            (from MODEL_CARD.template.md, filled with the figures the build measured).

usage: /usr/bin/python3 bundle_ft.py manifest --onnx <model.onnx> --tokenizer <json> --id <id> --out <dir>
       /usr/bin/python3 bundle_ft.py install --work <work> --casing 0|1 --id <id> --tokenizer <json> --out <dir> [--seconds N]
"""
import argparse
import json
import os
import shutil
import string
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import bundle as frozen_bundle  # noqa: E402  sha256 and number formatting of the frozen-head tooling
import conll  # noqa: E402
import minilm  # noqa: E402

sha256, pct = frozen_bundle.sha256, frozen_bundle.pct
MAX_TOKENS = 256


def write_manifest(onnx_path, tokenizer, model_id, out):
    os.makedirs(out, exist_ok=True)
    target = os.path.join(out, "model.onnx")
    if os.path.abspath(onnx_path) != os.path.abspath(target):
        shutil.copyfile(onnx_path, target)
    manifest = {
        "id": model_id, "version": "1", "kind": "bert-multihead",
        "model": {"file": "model.onnx", "sha256": sha256(target)},
        "tokenizer": {"file": "classpath:all-minilm-l6-v2-tokenizer.json", "sha256": sha256(tokenizer)},
        "max_tokens": MAX_TOKENS,
        "labels": {"sentiment": minilm.SENTIMENT_LABELS, "classes": minilm.CLASS_LABELS,
                   "entities": conll.ENTITY_LABELS},
    }
    with open(os.path.join(out, "model.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def java_results(path):
    """RuntimeEval.java output keyed by (model, task, file name)."""
    return {(r["model"], r["task"], os.path.basename(r["file"])): r for r in read_json(path)}


def java_cv(folds_json):
    """Pooled AG News CV accuracy from the Java evaluations of the fold bundles."""
    rows = sorted(read_json(folds_json), key=lambda r: r["model"])
    n = sum(r["n"] for r in rows)
    return {"accuracy": sum(r["accuracy"] * r["n"] for r in rows) / n, "n": n,
            "folds": [r["accuracy"] for r in rows]}


def pipeline_figures(path):
    """{model: [(batched records/s, single records/s), ...]} from finetune.sh's ./nlpstream bench lines."""
    out = {}
    for r in read_jsonl(path):
        out.setdefault(r["model"], []).append((r["batched"]["records_per_s"], r["single"]["records_per_s"]))
    return out


def install(args):
    w = args.work
    c = args.casing
    final = os.path.join(w, "bundles", f"{args.id}-all")
    out = args.out
    manifest = write_manifest(os.path.join(final, "export", "model.onnx"), args.tokenizer, args.id, out)
    export = read_json(os.path.join(final, "export", "export.json"))
    probe_export = read_json(os.path.join(w, "bundles", f"{args.id}-probe", "export", "export.json"))
    check = read_json(os.path.join(w, "check", "check.json"))
    parity = read_json(os.path.join(w, "parity", "parity.json"))
    ft = java_results(os.path.join(w, "eval", "final.json"))
    frozen = java_results(os.path.join(w, "eval", "frozen.json"))
    cv = java_cv(os.path.join(w, "eval", "folds.json"))
    joint_run = os.path.join(w, "runs", f"joint-c{c}")
    soup = read_json(os.path.join(w, "runs", "topic-branch-soup", "branch.json"))
    runs = [read_json(os.path.join(r, "branch.json")) for r in soup["runs"]]
    joint_cfg = read_json(os.path.join(joint_run, "config.json"))
    curve = read_jsonl(os.path.join(joint_run, "metrics.jsonl"))
    with open(os.path.join(w, "eval", "bench.txt"), encoding="utf-8") as f:
        bench = [line.rstrip("\n") for line in f if line.strip()]
    pipeline = pipeline_figures(os.path.join(w, "eval", "pipeline_bench.jsonl"))

    def get(res, model, task, name):
        return res[(model, task, name)]

    fid, fp = f"{args.id}-all", f"{args.id}-all-fp32"
    rows = []
    for label, task, name, key, target in [
            ("SST-2 held-out part of train (1000 sentences), accuracy (binary)", "sentiment", "sst2_heldout.tsv",
             "accuracy", 0.90),
            ("TweetEval validation (2000), macro-recall", "sentiment", "val_text.txt", "macro_recall", 0.65),
            ("TweetEval validation, accuracy", "sentiment", "val_text.txt", "accuracy", None),
            ("CoNLL-2003 eng.testa, entity F1", "ner", "eng.testa", "f1", 0.90)]:
        value = get(ft, fid, task, name)[key]
        goal = "" if target is None else f"≥ {pct(target)} — {'met' if value >= target else 'not met'}"
        rows.append(f"| {label} | {pct(get(frozen, 'minilm-heads', task, name)[key])} | "
                    f"**{pct(value)}** | {pct(get(ft, fp, task, name)[key])} | {goal} |")
    rows.append(f"| AG News 581-row sample, 5-fold CV accuracy | 80.2 (card) | **{pct(cv['accuracy'])}** | — | "
                f"≥ 88.0 — {'met' if cv['accuracy'] >= 0.88 else 'not met'} |")
    ner = get(ft, fid, "ner", "eng.testa")
    per_type = "\n".join(f"| {t} | {pct(v['f1'])} | {v['gold']} | {v['predicted']} | {v['correct']} |"
                         for t, v in sorted(ner["by_type"].items()))
    curve_rows = "\n".join(
        f"| {m['step']}/{m['of']} | {pct(m['tweet_eval_validation']['macro_recall'])} | "
        f"{pct(m['sst2_heldout']['accuracy'])} | {pct(m['conll2003_testa_word_level']['f1'])} |" for m in curve)
    chosen = "\n".join(
        f"| {f['fold']} | {f['rows']} | {' / '.join(str(r['folds'][f['fold']]['self_training']['pseudo_labelled']) for r in runs)} | "
        f"{f['correct']} ({pct(f['correct'] / f['rows'])}) | {pct(a)} |" for f, a in zip(soup["folds"], cv["folds"]))
    st = soup["settings"]
    recipe = (f"{st['k']} layers from e5-small-v2 (`--src {st['src']}`), {st['epochs']} epochs, batch {st['batch']} "
              f"(length buckets of {st['bucket']}), peak learning rates {st['lr']} / {st['head_lr']}, dropout "
              f"{st['dropout']}, LP-FT penalty {st['lp_penalty']}, bag-of-words mix {st['mix']}, self-training on "
              f"`{st['unlabelled']}` at confidence {st['confidence']}")
    pipe_rows = "\n".join(
        f"| {model} | {', '.join(f'{b:.1f}' for b, _ in runs)} | {', '.join(f'{s:.1f}' for _, s in runs)} |"
        for model, runs in pipeline.items())
    mean = {m: (sum(b for b, _ in r) / len(r), sum(s for _, s in r) / len(r)) for m, r in pipeline.items()}
    base, new = mean["minilm-heads"], mean[fid]
    values = {
        "id": args.id, "casing_sentence": (
            "a casing embedding (5 classes of `io.nlpstream.models.tokenizer.Casing`, input `case_ids`) added "
            "to the token embeddings" if c else "no casing input (the encoder is uncased)"),
        "inputs": "`input_ids`, `attention_mask`, `token_type_ids`" + (", `case_ids`" if c else ""),
        "metrics_rows": "\n".join(rows), "per_type": per_type, "curve_rows": curve_rows,
        "ner_p": pct(ner["precision"]), "ner_r": pct(ner["recall"]),
        "cv_python": pct(soup["cv_accuracy_mixed"]),
        "cv_runs": ", ".join(f"seed {r['settings']['seed']} {pct(r['cv_accuracy_mixed'])}" for r in runs),
        "chosen_rows": chosen, "branch_recipe": recipe, "branch_k": st["k"], "branch_reads": runs[0]["reads_layer"],
        "branch_mix": st["mix"], "soup_seeds": " and ".join(str(s) for s in soup["seeds"]),
        "branch_int4_params": export.get("branch_int4_params", 0),
        "branch_err": f"{export.get('max_branch_error_relative', 0.0):.3f}",
        "joint_cfg": json.dumps({k: v for k, v in joint_cfg.items() if k not in ("work", "init", "max_steps", "run")}),
        "parity_tok": f"{parity['token_cosine_min']:.3f}", "parity_tok_mean": f"{parity['token_cosine_mean']:.4f}",
        "parity_pool": f"{parity['pooled_cosine_min']:.4f}",
        "parity_texts": parity["texts"], "parity_tokens": parity["tokens"],
        "check_texts": check["texts"], "check_tokens": check["tokens"],
        "fp32_torch": f"{max(check['fp32_vs_torch_max_abs_diff'].values()):.1e}",
        "int8_diff_sent": f"{check['int8_vs_fp32_max_abs_diff']['sentiment']:.3f}",
        "int8_diff_cls": f"{check['int8_vs_fp32_max_abs_diff']['classes']:.3f}",
        "int8_diff_ent": f"{check['int8_vs_fp32_max_abs_diff']['entities']:.3f}",
        "agree_sent": pct(check["int8_vs_fp32_argmax_agreement"]["sentiment"]),
        "agree_cls": pct(check["int8_vs_fp32_argmax_agreement"]["classes"]),
        "agree_cls_news": pct(check["int8_vs_fp32_classes_agreement_news"]["agreement"]),
        "news_texts": check["int8_vs_fp32_classes_agreement_news"]["texts"],
        "agree_ent": pct(check["int8_vs_fp32_argmax_agreement"]["entities"]),
        "id_mismatch": check["token_id_mismatches"], "case_mismatch": check["case_id_mismatches"],
        # the shared encoder was quantized when the joint run was exported (the probe bundle); the
        # branch runs start from that bundle, so re-exporting gives the same int8 values (error 0)
        "weight_err": f"{probe_export['max_weight_error_relative']:.4f}",
        "table_err": f"{probe_export.get('max_table_error_relative', 0.0):.3f}",
        "model_bytes": os.path.getsize(os.path.join(out, "model.onnx")), "fp32_bytes": export["fp32_bytes"],
        "model_mb": f"{os.path.getsize(os.path.join(out, 'model.onnx')) / 1e6:.1f}",
        "fp32_mb": f"{export['fp32_bytes'] / 1e6:.1f}",
        "matmul_params": export["matmul_params"], "embedding_params": export["embedding_params"],
        "float_params": export["float_params"], "dequantize": export.get("dequantize", "DequantizeLinear"),
        "bench": "\n".join(bench), "pipe_rows": pipe_rows,
        "pipe_batched": f"{100 * (new[0] / base[0] - 1):+.1f}", "pipe_single": f"{100 * (new[1] / base[1] - 1):+.1f}",
        "model_sha256": manifest["model"]["sha256"], "tokenizer_sha256": manifest["tokenizer"]["sha256"],
        "rebuild_minutes": f"{args.seconds / 60:.0f}" if args.seconds else "?",
    }
    with open(os.path.join(HERE, "MODEL_CARD.template.md"), encoding="utf-8") as f:
        card = string.Template(f.read()).substitute(values)
    with open(os.path.join(out, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write(card)
    print(f"wrote {out}: model.onnx {values['model_bytes']} bytes sha256 {values['model_sha256']}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("manifest")
    m.add_argument("--onnx", required=True)
    m.add_argument("--tokenizer", required=True)
    m.add_argument("--id", required=True)
    m.add_argument("--out", required=True)
    i = sub.add_parser("install")
    i.add_argument("--work", required=True)
    i.add_argument("--casing", type=int, required=True)
    i.add_argument("--id", required=True)
    i.add_argument("--tokenizer", required=True)
    i.add_argument("--out", required=True)
    i.add_argument("--seconds", type=int, default=0)
    args = ap.parse_args()
    if args.cmd == "manifest":
        write_manifest(args.onnx, args.tokenizer, args.id, args.out)
    else:
        install(args)


if __name__ == "__main__":
    main()
