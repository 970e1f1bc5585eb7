"""Writes the minilm-heads catalogue entry: heads.onnx (float16 storage, float16.py), model.json (real sha256 of every file) and
MODEL_CARD.md (from MODEL_CARD.template.md, filled with the measured figures of metrics.json).

usage: /usr/bin/python3 bundle.py --work <work> --encoder <onnx> --tokenizer <json> --out <dir> [--seconds N]
"""
import argparse
import hashlib
import json
import os
import string

import conll
import float16

HERE = os.path.dirname(os.path.abspath(__file__))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pct(x):
    return f"{100 * x:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=int, default=0, help="wall time of the rebuild so far")
    ap.add_argument("--feature-note", default="", help="how the encoder features of this build were made")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    heads_path = os.path.join(args.out, "heads.onnx")
    # the catalogue keeps the weights in float16 (half the bytes; ONNX Runtime computes in float32):
    # the figures below are the float32 heads', and the Java runtime's on the stored file match them
    # (see the card)
    float16.store_float16(os.path.join(args.work, "heads.onnx"), heads_path)

    manifest = {
        "id": "minilm-heads", "version": "1", "kind": "bert-multihead",
        "encoder": {"id": "all-minilm-l6-v2", "file": "classpath:all-minilm-l6-v2.onnx", "sha256": sha256(args.encoder),
                    "tokenizer": "classpath:all-minilm-l6-v2-tokenizer.json",
                    "tokenizer_sha256": sha256(args.tokenizer), "max_tokens": 256, "hidden_size": 384},
        "heads": {"file": "heads.onnx", "sha256": sha256(heads_path)},
        "labels": {"sentiment": ["negative", "neutral", "positive"],
                   "classes": ["World", "Sports", "Business", "Sci/Tech"],
                   "entities": conll.ENTITY_LABELS},
    }
    with open(os.path.join(args.out, "model.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

    with open(os.path.join(args.work, "metrics.json"), encoding="utf-8") as f:
        m = json.load(f)
    s, c, e = m["sentiment"], m["classes"], m["entities"]
    word, tok = e["conll2003_testa_word_level"], e["conll2003_testa_token_level_decoding"]
    per_type = "\n".join(
        f"| {t} | {pct(v['precision'])} | {pct(v['recall'])} | {pct(v['f1'])} | {v['gold']} |"
        for t, v in word["per_type"].items())
    values = {
        "heads_sha256": manifest["heads"]["sha256"], "heads_bytes": os.path.getsize(heads_path),
        "encoder_sha256": manifest["encoder"]["sha256"], "tokenizer_sha256": manifest["encoder"]["tokenizer_sha256"],
        "model_json_sha256": sha256(os.path.join(args.out, "model.json")),
        "sst2_acc": pct(s["sst2_heldout"]["accuracy"]), "sst2_n": s["sst2_heldout"]["n"],
        "tweet_acc": pct(s["tweet_eval_validation"]["accuracy"]),
        "tweet_f1": pct(s["tweet_eval_validation"]["macro_f1"]),
        "tweet_recall": pct(s["tweet_eval_validation"]["macro_recall"]),
        "tweet_n": s["tweet_eval_validation"]["n"],
        "tweet_train_n": s["train_examples"]["tweet_eval_train"], "sst2_train_n": s["train_examples"]["sst2_train_part"],
        "ag_acc": pct(c["ag_news_cv"]["accuracy"]), "ag_std": pct(c["ag_news_cv"]["std_fold_accuracy"]),
        "ag_f1": pct(c["ag_news_cv"]["macro_f1"]),
        "ag_folds": ", ".join(pct(a) for a in c["ag_news_cv"]["fold_accuracies"]),
        "ner_p": pct(word["precision"]), "ner_r": pct(word["recall"]), "ner_f1": pct(word["f1"]),
        "ner_gold": word["gold"], "ner_tok_p": pct(tok["precision"]), "ner_tok_r": pct(tok["recall"]),
        "ner_tok_f1": pct(tok["f1"]), "ner_per_type": per_type,
        "ner_train_sentences": e["train_sentences"], "ner_train_tokens": e["train_tokens"],
        "p_sent": m["parameters"]["sentiment"], "p_cls": m["parameters"]["classes"], "p_ent": m["parameters"]["entities"],
        "sent_cfg": json.dumps(s["config"]), "cls_cfg": json.dumps(c["config"]), "ent_cfg": json.dumps(e["config"]),
        "onnx_diff": f"{m['onnx_check']['max_abs_diff']:.1e}", "seed": m["seed"], "torch": m["torch"],
        "rebuild_minutes": f"{args.seconds / 60:.0f}" if args.seconds else "?",
        "feature_note": args.feature_note or "timing of the feature pass not recorded",
    }
    with open(os.path.join(HERE, "MODEL_CARD.template.md"), encoding="utf-8") as f:
        card = string.Template(f.read()).substitute(values)
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write(card)
    print(f"wrote {args.out}: heads.onnx {values['heads_bytes']} bytes sha256 {values['heads_sha256']}")


if __name__ == "__main__":
    main()
