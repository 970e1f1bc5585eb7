#!/usr/bin/python3
"""Exports a trained default GPT model (train_default.py checkpoint) as the Hugging Face-layout
bundle the Java runtime loads (io.nlpstream.models.gpt.Generator):

  config.json             BertLMHeadModel (is_decoder) shape, context, BOS [CLS] / EOS [SEP] / PAD
  generation_config.json  eos_token_id 102 ([SEP]), bos 101, pad 0, greedy
  tokenizer.json          make_tokenizer.py's decoder variant of the MiniLM WordPiece tokenizer
  model.onnx              one decoder-with-past graph (opset 14): input_ids, attention_mask,
                          past_key_values.N.key/value [B,12,P,32] -> logits [B,S,30522] (every
                          position: the runtime reads the last one), present.N.key/value;
                          positions = cumsum(attention_mask) - 1 inside the graph

Weight compression (the bundle's default; --fp32 skips it): every MatMul weight is stored as an
int8 initializer with one fp32 scale per output channel (symmetric, zero point 0), turned back
into fp32 by Cast + Mul nodes on constants, which ONNX Runtime's constant folding evaluates once
when the session is created: the file is small, inference runs at fp32 speed. (DequantizeLinear
would be the obvious node, but ORT deliberately does not fold it, so it would dequantize all
weights again at every decoding step: measured ~0.75 s per step here.) The tied
embedding/output matrix is stored ONCE as int8 [vocab, width] with a scale per token row, used by
the embedding Gather and, transposed, by the output MatMul; torch.onnx.export's second copy is
removed. LayerNorm parameters, biases and the position table stay fp32.

Also writes reference.json: PyTorch's own greedy continuations (full recomputation, no cache) of a
few dev inputs with their prompt ids, computed with the weights the graph holds (int8 values times
their scales), which DefaultModelIT compares against the Java runtime: same prompt ids, same tokens.

  /usr/bin/python3 export_default.py --ckpt WORK/run/final.pt --out DIR --tokenizer WORK/tokenizer.json \
      --data WORK/data [--fp32]
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnx.helper as oh
import onnx.numpy_helper as onh
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minilm_decoder import MiniLmDecoder  # noqa: E402

BOS, EOS, PAD = 101, 102, 0


class Exported(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, *past):
        logits, presents = self.model(input_ids, attention_mask, list(past))
        return (logits, *presents)


def load(ckpt, context):
    state = torch.load(ckpt)
    model = MiniLmDecoder(dropout=0.0)
    model.load_state_dict(state["model"])
    model.eval()
    # Only the positions the model was trained on are kept; the runtime never goes beyond config's context.
    with torch.no_grad():
        model.position.weight = torch.nn.Parameter(model.position.weight[:context].clone())
    model.cfg["positions"] = context
    return model, state


def export_fp32(model, path):
    model.fold_token_type()
    L, H, D = model.n_layers, model.heads, model.head_dim
    past_names, present_names = [], []
    for i in range(L):
        past_names += ["past_key_values.%d.key" % i, "past_key_values.%d.value" % i]
        present_names += ["present.%d.key" % i, "present.%d.value" % i]
    b, s, p = 2, 3, 4
    ids = torch.randint(1000, 2000, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.long)
    past = [torch.randn(b, H, p, D) for _ in range(2 * L)]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for n in past_names:
        axes[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in present_names:
        axes[n] = {0: "batch_size", 2: "total_sequence_length"}
    torch.onnx.export(Exported(model), tuple([ids, mask] + past), path,
                      input_names=["input_ids", "attention_mask"] + past_names,
                      output_names=["logits"] + present_names,
                      dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


def quantize_per_channel(w, axis):
    """Symmetric int8 with one scale per slice along ``axis``."""
    amax = np.max(np.abs(w), axis=1 - axis, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale.reshape(-1)


def compress(src, dst, word_weight):
    """int8 weight-only compression and deduplication of the tied matrix (see the module doc)."""
    m = onnx.load(src)
    g = m.graph
    arrays = {t.name: onh.to_array(t) for t in g.initializer}
    vocab, width = word_weight.shape

    def find(pred):
        return [n for n in g.node if pred(n)]

    gathers = find(lambda n: n.op_type == "Gather" and n.input[0] in arrays
                   and arrays[n.input[0]].shape == (vocab, width))
    assert len(gathers) == 1, [n.name for n in gathers]
    emb_name = gathers[0].input[0]
    assert np.array_equal(arrays[emb_name], word_weight), "embedding initializer is not the word matrix"
    out_mm = find(lambda n: n.op_type == "MatMul" and n.input[1] in arrays
                  and arrays[n.input[1]].shape == (width, vocab))
    assert len(out_mm) == 1, [n.name for n in out_mm]
    assert np.array_equal(arrays[out_mm[0].input[1]], word_weight.T), "output projection is not the tied matrix"

    new_nodes, new_inits, drop = [], [], {emb_name, out_mm[0].input[1]}

    def dequantize(base, q, scale, shape):
        """int8 -> float32 as Cast and Mul: ONNX Runtime folds these constants into fp32 weights
        when it loads the graph (it does not fold DequantizeLinear, which would then run at every
        decoding step)."""
        new_inits.extend([onh.from_array(q, base + ".int8"), onh.from_array(scale.reshape(shape), base + ".scale")])
        return [oh.make_node("Cast", [base + ".int8"], [base + ".int8_as_float"], to=onnx.TensorProto.FLOAT,
                             name=base + ".cast"),
                oh.make_node("Mul", [base + ".int8_as_float", base + ".scale"], [base + ".weight"],
                             name=base + ".dequantize")]

    q, scale = quantize_per_channel(word_weight, axis=0)
    new_nodes += dequantize("word_embeddings", q, scale, (vocab, 1))
    for node in g.node:
        if node is gathers[0]:
            new_nodes.append(oh.make_node("Gather", ["word_embeddings.weight", node.input[1]], list(node.output),
                                          axis=0, name=node.name))
        elif node is out_mm[0]:
            new_nodes += [
                oh.make_node("Transpose", ["word_embeddings.weight"], ["lm_head.weight"], perm=[1, 0],
                             name="lm_head.transpose"),
                oh.make_node("MatMul", [node.input[0], "lm_head.weight"], list(node.output), name=node.name),
            ]
        elif node.op_type == "MatMul" and node.input[1] in arrays and arrays[node.input[1]].ndim == 2 \
                and arrays[node.input[1]].size >= 4096:
            name = node.input[1]
            wq, ws = quantize_per_channel(arrays[name], axis=1)
            base = "linear%d" % len(drop)
            drop.add(name)
            new_nodes += dequantize(base, wq, ws, (1, wq.shape[1]))
            new_nodes.append(oh.make_node("MatMul", [node.input[0], base + ".weight"], list(node.output),
                                          name=node.name))
        else:
            new_nodes.append(node)
    used = {i for n in new_nodes for i in n.input}
    kept = [t for t in g.initializer if t.name not in drop and t.name in used]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    onnx.checker.check_model(m)
    onnx.save(m, dst)


def fake_quantize(model):
    """Rounds every weight that compress() stores as int8 to its int8 value times its scale, so that
    PyTorch computes what the compressed graph computes (the reference for the Java check)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                q, s = quantize_per_channel(module.weight.numpy().T, axis=1)
                module.weight.copy_(torch.from_numpy((q.astype(np.float32) * s[None, :]).T))
        q, s = quantize_per_channel(model.word.weight.numpy(), axis=0)
        model.word.weight.copy_(torch.from_numpy(q.astype(np.float32) * s[:, None]))


def greedy(model, prompt, max_new):
    ids = list(prompt)
    out = []
    with torch.no_grad():
        for _ in range(max_new):
            x = torch.tensor([ids])
            logits, _ = model(x, torch.ones_like(x))
            t = int(torch.argmax(logits[0, -1]))
            out.append(t)
            if t == EOS:
                break
            ids.append(t)
    return out


def reference_examples(data_dir, per_source, max_prompt):
    """A few short dev examples (not truncated) with their input text, from EncodeDataset's files."""
    texts = {}
    with open(os.path.join(data_dir, "texts.jsonl"), encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            if t["split"] == "dev":
                texts[t["id"]] = t["text"]
    picked = {}
    with open(os.path.join(data_dir, "dev.jsonl"), encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if e["truncated"] or len(e["prompt"]) > max_prompt or len(picked.get(e["src"], [])) >= per_source:
                continue
            if e["src"] == "dailydialog":
                dialogue, turn = e["id"].rsplit("-", 1)
                e["input"] = "\n".join(texts[dialogue].split("\n")[:int(turn)])
            else:
                e["input"] = texts[e["id"]]
            picked.setdefault(e["src"], []).append(e)
    return [e for src in sorted(picked) for e in picked[src]]


def sha256(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest(out, context):
    """model.json: the catalogue entry (files with sha256, prompt style, context, licence)."""
    def ref(name):
        return {"file": name, "sha256": sha256(os.path.join(out, name))}
    return {
        "id": "minilm-gpt-dialog", "version": "1", "kind": "gpt-decoder",
        "model": ref("model.onnx"), "config": ref("config.json"),
        "generation_config": ref("generation_config.json"), "tokenizer": ref("tokenizer.json"),
        "reference": ref("reference.json"),
        "prompt_templates": "plain", "context_tokens": context, "eos_token_id": EOS,
        "licence": "trained on DailyDialog (CC BY-NC-SA 4.0), SAMSum (CC BY-NC-ND 4.0) and DialogSum "
                   "(CC BY-NC-SA 4.0): demonstration and tests only, non-commercial; see MODEL_CARD.md",
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", required=True, help="make_tokenizer.py's output")
    ap.add_argument("--data", required=True, help="EncodeDataset's output directory (reference prompts)")
    ap.add_argument("--context", type=int, default=384)
    ap.add_argument("--fp32", action="store_true", help="keep fp32 weights (for comparisons; not the bundle)")
    ap.add_argument("--reference-per-source", type=int, default=2)
    ap.add_argument("--reference-new-tokens", type=int, default=24)
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    model, state = load(args.ckpt, args.context)
    if not args.fp32:
        fake_quantize(model)
    word = model.word.weight.detach().numpy().copy()

    # Reference continuations (PyTorch, the weights the graph will hold, no cache), before folding.
    refs = []
    for e in reference_examples(args.data, args.reference_per_source, args.context - args.reference_new_tokens - 40):
        refs.append({"id": e["id"], "kind": e["kind"], "input": e["input"], "prompt_ids": e["prompt"],
                     "greedy_ids": greedy(model, e["prompt"], args.reference_new_tokens)})

    tmp = os.path.join(args.out, "model.fp32.onnx")
    export_fp32(model, tmp)
    if args.fp32:
        os.replace(tmp, os.path.join(args.out, "model.onnx"))
    else:
        compress(tmp, os.path.join(args.out, "model.onnx"), word)
        os.remove(tmp)

    def write(name, obj):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, ensure_ascii=False)
            f.write("\n")

    write("config.json", model.config_json(BOS, EOS, PAD))
    write("generation_config.json", {"bos_token_id": BOS, "eos_token_id": EOS, "pad_token_id": PAD,
                                     "do_sample": False})
    with open(args.tokenizer, encoding="utf-8") as f:
        tok = f.read()
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(tok)
    write("reference.json", {
        "checkpoint_step": state["step"], "weights": "fp32" if args.fp32 else "int8 (dequantized in PyTorch)",
        "max_new_tokens": args.reference_new_tokens, "templates": "plain",
        "note": "PyTorch greedy continuations without cache of dev inputs; the Java runtime must reproduce "
                "prompt_ids and greedy_ids (EOS included) exactly",
        "examples": refs})
    if not args.fp32:
        write("model.json", manifest(args.out, args.context))
    print("exported step %d to %s: %s" % (state["step"], args.out,
          ", ".join("%s %d" % (n, os.path.getsize(os.path.join(args.out, n))) for n in sorted(os.listdir(args.out)))))


if __name__ == "__main__":
    main()
