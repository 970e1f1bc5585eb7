#!/usr/bin/python3
"""Builds the tiny random-weight decoder fixtures that the GPT-stage tests run.

Two model directories in the Hugging Face ONNX layout, each well under 1 MB:

  tiny-gpt2/   GPT-2 style: learned absolute positions computed *inside* the graph from
               cumsum(attention_mask) - 1 (no position_ids input), LayerNorm, GELU (tanh),
               multi-head attention; byte-level BPE tokenizer (GPT-2 pre-tokenizer/decoder).
  tiny-llama/  Llama style: RoPE driven by a position_ids input, grouped-query attention
               (4 query heads, 2 kv heads), RMSNorm, SwiGLU MLP; SentencePiece-style BPE
               tokenizer with byte fallback and a <s> prepended by the post-processor.

bad-past-names/ is malformed on purpose (past inputs named past.0.key/value) for the load checks.

Each model directory holds config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
model.onnx and reference.json. The ONNX graph is one "with past" decoder:

  in:  input_ids [B,S] int64, attention_mask [B,P+S] int64, (position_ids [B,S] int64),
       past_key_values.N.key / .value [B,kvHeads,P,headDim] float32
  out: logits [B,S,V] float32, present.N.key / .value [B,kvHeads,P+S,headDim] float32

An empty past (P = 0) does the prefill. Masked positions use a large finite negative number
(not -inf) so that fully masked rows of left padding stay finite (no NaN leaks into the cache).

reference.json holds, for a few prompts, the prompt token ids produced by this script's own
BPE encoder and the greedy continuation computed by PyTorch with full recomputation (no cache).
The Java tests check DJL's tokenization and the ONNX Runtime decoding loop against it: an
independent implementation of the same model, so a wrong export (positions, RoPE, GQA, cache
layout) or a wrong decoding loop shows up as a mismatch.

The weights are random: the models produce gibberish; the tests assert mechanics, not quality.
Weights are drawn with a larger scale than training would use so that the logits are peaked:
greedy choices then have clear margins and do not flip on float rounding differences between
PyTorch and ONNX Runtime, or between batch shapes.

Run with Debian's interpreter (torch 1.13, onnx 1.12; no transformers needed):

  /usr/bin/python3 models/training/gpt/export_fixtures.py [--out models/src/test/resources/gpt]
"""

import argparse
import json
import math
import os
import re

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = torch.finfo(torch.float32).min
CONTEXT = 256

# Training text for the tokenizers' merges: written for this fixture, no third-party data.
CORPUS = """\
The stream processor reads events from the input topic and writes enriched records.
Every record carries an id, a text and a timestamp. The model sees the text only.
A summary should be short. A reply should be polite and answer the question that was asked.
Hello, how are you today? I am fine, thank you. Can we meet tomorrow at ten?
Sure, see you at ten then. Do not forget the report about the new release.
The batch holds many sequences. When one finishes, another one joins the running batch.
Tokens are generated one at a time until the end of the sequence or the length limit.
We keep the end of a conversation and the start of an article when the input is too long.
The weather is nice and the team is happy with the results of the test run.
Thanks for the update! Please send the numbers before the meeting on Monday.
"""

REFERENCE_PROMPTS = [
    "Hello, how are you today?",
    "The stream processor reads events",
    "Please send the report",
    "A",
]
REFERENCE_NEW_TOKENS = 12


# ----------------------------------------------------------------------------- tokenizers

def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# GPT-2's pre-tokenizer regex restricted to ASCII letters/digits (Python's re has no \p{L});
# identical to the real one on the ASCII texts used here.
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def train_merges(word_counts, initial_vocab, num_merges):
    """Plain BPE training: repeatedly merge the most frequent adjacent pair (ties: smallest pair)."""
    words = {tuple(w): c for w, c in word_counts.items()}
    merges = []
    vocab = list(initial_vocab)
    known = set(vocab)
    for _ in range(num_merges):
        pairs = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        merged = best[0] + best[1]
        if merged not in known:
            vocab.append(merged)
            known.add(merged)
        new_words = {}
        for w, c in words.items():
            out = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return merges, vocab


def apply_merges(symbols, ranks):
    """BPE encoding of one pre-tokenized word: merge the lowest-ranked adjacent pair first."""
    symbols = list(symbols)
    while len(symbols) > 1:
        best = None
        for i, pair in enumerate(zip(symbols, symbols[1:])):
            r = ranks.get(pair)
            if r is not None and (best is None or r < best[0]):
                best = (r, pair)
        if best is None:
            break
        pair = best[1]
        out = []
        i = 0
        while i < len(symbols):
            if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                out.append(symbols[i] + symbols[i + 1])
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        symbols = out
    return symbols


class ByteLevelBpe:
    """GPT-2 style byte-level BPE; <|endoftext|> is BOS/EOS, nothing is added when encoding."""

    def __init__(self, corpus, num_merges=150):
        self.b2u = bytes_to_unicode()
        base = [self.b2u[b] for b in range(256)]
        counts = {}
        for line in corpus.splitlines(keepends=True):
            for piece in GPT2_SPLIT.findall(line):
                word = "".join(self.b2u[b] for b in piece.encode("utf-8"))
                counts[word] = counts.get(word, 0) + 1
        self.merges, tokens = train_merges({tuple(w): c for w, c in counts.items()}, base, num_merges)
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.eot = "<|endoftext|>"
        self.eot_id = len(self.vocab)
        self.ranks = {m: i for i, m in enumerate(self.merges)}

    def vocab_size(self):
        return self.eot_id + 1

    def encode(self, text):
        ids = []
        for piece in GPT2_SPLIT.findall(text):
            word = [self.b2u[b] for b in piece.encode("utf-8")]
            ids.extend(self.vocab[s] for s in apply_merges(word, self.ranks))
        return ids

    def tokenizer_json(self):
        vocab = dict(self.vocab)
        vocab[self.eot] = self.eot_id
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": self.eot_id, "content": self.eot, "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": True, "special": True}],
            "normalizer": None,
            "pre_tokenizer": byte_level,
            "post_processor": dict(byte_level, trim_offsets=False),
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                      "vocab": vocab, "merges": [a + " " + b for a, b in self.merges]},
        }


class SentencePieceBpe:
    """Llama style BPE: '▁' for spaces, byte fallback, <s> prepended by the post-processor."""

    SPACE = "\u2581"

    def __init__(self, corpus, num_merges=120):
        specials = ["<unk>", "<s>", "</s>"]
        byte_tokens = ["<0x%02X>" % b for b in range(256)]
        chars = sorted(set(chr(c) for c in range(33, 127)) | {self.SPACE})
        base = specials + byte_tokens + chars
        counts = {}
        for line in corpus.splitlines():
            normalized = self.normalize(line)
            for piece in re.findall(self.SPACE + "[^" + self.SPACE + "]*", normalized):
                counts[piece] = counts.get(piece, 0) + 1
        self.merges, tokens = train_merges({tuple(w): c for w, c in counts.items()}, base, num_merges)
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.bos_id, self.eos_id = 1, 2

    def normalize(self, text):
        return self.SPACE + text.replace(" ", self.SPACE)

    def vocab_size(self):
        return len(self.vocab)

    def encode(self, text):
        """With the post-processor's <s> (what encode(text, addSpecialTokens=true) returns)."""
        ids = [self.bos_id]
        for s in apply_merges(list(self.normalize(text)), self.ranks):
            if s in self.vocab:
                ids.append(self.vocab[s])
            else:
                ids.extend(self.vocab["<0x%02X>" % b] for b in s.encode("utf-8"))
        return ids

    def tokenizer_json(self):
        added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for i, t in enumerate(["<unk>", "<s>", "</s>"])]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": self.SPACE},
                {"type": "Replace", "pattern": {"String": " "}, "content": self.SPACE}]},
            "pre_tokenizer": None,
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [self.bos_id], "tokens": ["<s>"]}}},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": self.SPACE}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                      "vocab": self.vocab, "merges": [a + " " + b for a, b in self.merges]},
        }


# ----------------------------------------------------------------------------- models

def attend(q, k, v, attention_mask):
    """Causal attention over [past + new] keys; masks padding and the future with a finite minimum."""
    s, t = q.shape[2], k.shape[2]
    key_pos = torch.arange(t, device=q.device)
    query_pos = torch.arange(s, device=q.device) + (t - s)
    causal = key_pos[None, :] <= query_pos[:, None]                          # [S, T]
    allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)  # [B, 1, S, T]
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~allowed, MASK_VALUE)
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def split_heads(x, heads):
    b, s, _ = x.shape
    return x.view(b, s, heads, -1).transpose(1, 2)


def merge_heads(x):
    b, h, s, d = x.shape
    return x.transpose(1, 2).reshape(b, s, h * d)


class Gpt2Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.c_attn = nn.Linear(width, 3 * width)
        self.attn_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.c_fc = nn.Linear(width, 4 * width)
        self.mlp_proj = nn.Linear(4 * width, width)

    def forward(self, x, attention_mask, past_k, past_v):
        q, k, v = self.c_attn(self.ln_1(x)).split(x.shape[-1], dim=-1)
        q, k, v = split_heads(q, self.heads), split_heads(k, self.heads), split_heads(v, self.heads)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        x = x + self.attn_proj(merge_heads(attend(q, k, v, attention_mask)))
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class TinyGpt2(nn.Module):
    has_position_ids = False

    def __init__(self, vocab, width=64, layers=2, heads=4, positions=CONTEXT):
        super().__init__()
        self.cfg = dict(vocab=vocab, width=width, layers=layers, heads=heads, positions=positions)
        self.kv_heads, self.head_dim, self.layers = heads, width // heads, layers
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(positions, width)
        self.blocks = nn.ModuleList(Gpt2Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width, eps=1e-5)
        self.lm_head = nn.Linear(width, vocab, bias=False)

    def forward(self, input_ids, attention_mask, past):
        # GPT-2 style exports derive positions from the mask, so left padding is transparent.
        s = input_ids.shape[1]
        positions = (torch.cumsum(attention_mask, dim=-1) - 1).clamp(min=0)[:, -s:]
        x = self.wte(input_ids) + self.wpe(positions)
        presents = []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, attention_mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return self.lm_head(self.ln_f(x)), presents

    def config_json(self, eos, bos):
        c = self.cfg
        return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": c["vocab"],
                "n_positions": c["positions"], "n_ctx": c["positions"], "n_embd": c["width"],
                "n_layer": c["layers"], "n_head": c["heads"], "activation_function": "gelu_new",
                "layer_norm_epsilon": 1e-5, "bos_token_id": bos, "eos_token_id": eos,
                "tie_word_embeddings": False, "torch_dtype": "float32"}


class RmsNorm(nn.Module):
    def __init__(self, width, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self, width, heads, kv_heads, head_dim, hidden):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
        self.input_layernorm = RmsNorm(width)
        self.q_proj = nn.Linear(width, heads * head_dim, bias=False)
        self.k_proj = nn.Linear(width, kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(width, kv_heads * head_dim, bias=False)
        self.o_proj = nn.Linear(heads * head_dim, width, bias=False)
        self.post_attention_layernorm = RmsNorm(width)
        self.gate_proj = nn.Linear(width, hidden, bias=False)
        self.up_proj = nn.Linear(width, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, width, bias=False)

    def forward(self, x, attention_mask, cos, sin, past_k, past_v):
        h = self.input_layernorm(x)
        q = split_heads(self.q_proj(h), self.heads)
        k = split_heads(self.k_proj(h), self.kv_heads)
        v = split_heads(self.v_proj(h), self.kv_heads)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)   # the cache holds kv_heads, not heads (GQA)
        v = torch.cat([past_v, v], dim=2)
        rep = self.heads // self.kv_heads
        b, t = k.shape[0], k.shape[2]
        k_all = k[:, :, None].expand(b, self.kv_heads, rep, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        v_all = v[:, :, None].expand(b, self.kv_heads, rep, t, self.head_dim).reshape(b, self.heads, t, self.head_dim)
        x = x + self.o_proj(merge_heads(attend(q, k_all, v_all, attention_mask)))
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, k, v


class TinyLlama(nn.Module):
    has_position_ids = True

    def __init__(self, vocab, width=64, layers=2, heads=4, kv_heads=2, hidden=128, positions=CONTEXT,
                 theta=10000.0):
        super().__init__()
        self.cfg = dict(vocab=vocab, width=width, layers=layers, heads=heads, kv_heads=kv_heads,
                        hidden=hidden, positions=positions, theta=theta)
        self.kv_heads, self.head_dim, self.layers = kv_heads, width // heads, layers
        self.embed_tokens = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList(
            LlamaBlock(width, heads, kv_heads, self.head_dim, hidden) for _ in range(layers))
        self.norm = RmsNorm(width)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, past):
        freqs = position_ids[..., None].float() * self.inv_freq          # [B, S, D/2]
        emb = torch.cat([freqs, freqs], dim=-1)[:, None]                # [B, 1, S, D]
        cos, sin = emb.cos(), emb.sin()
        x = self.embed_tokens(input_ids)
        presents = []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, attention_mask, cos, sin, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return self.lm_head(self.norm(x)), presents

    def config_json(self, eos, bos):
        c = self.cfg
        return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": c["vocab"],
                "hidden_size": c["width"], "intermediate_size": c["hidden"],
                "num_hidden_layers": c["layers"], "num_attention_heads": c["heads"],
                "num_key_value_heads": c["kv_heads"], "head_dim": self.head_dim,
                "max_position_embeddings": c["positions"], "rms_norm_eps": 1e-6,
                "rope_theta": c["theta"], "hidden_act": "silu", "bos_token_id": bos, "eos_token_id": eos,
                "tie_word_embeddings": False, "torch_dtype": "float32"}


def scale_weights(model, seed):
    """Random weights with peaked logits (see the module docstring)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                if name.endswith("bias"):
                    p.copy_(torch.randn(p.shape, generator=g) * 0.1)
                continue
            fan_in = p.shape[1]
            if "wte" in name or "wpe" in name or "embed_tokens" in name:
                std = 1.0
            elif "lm_head" in name:
                std = 3.0 / math.sqrt(fan_in)
            else:
                std = 1.0 / math.sqrt(fan_in)
            p.copy_(torch.randn(p.shape, generator=g) * std)


# ----------------------------------------------------------------------------- decoding reference

def positions_from_mask(mask):
    return (torch.cumsum(mask, dim=-1) - 1).clamp(min=0)


def run(model, ids, mask, past):
    if model.has_position_ids:
        pos = positions_from_mask(mask)[:, -ids.shape[1]:]
        return model(ids, mask, pos, past)
    return model(ids, mask, past)


def empty_past(model, batch):
    return [torch.zeros(batch, model.kv_heads, 0, model.head_dim) for _ in range(2 * model.layers)]


@torch.no_grad()
def greedy_uncached(model, prompt, steps, eos):
    ids = list(prompt)
    out = []
    for _ in range(steps):
        x = torch.tensor([ids])
        logits, _ = run(model, x, torch.ones_like(x), empty_past(model, 1))
        tok = int(torch.argmax(logits[0, -1]))
        out.append(tok)
        if tok == eos:
            break
        ids.append(tok)
    return out


@torch.no_grad()
def greedy_cached(model, prompt, steps, eos):
    x = torch.tensor([prompt])
    mask = torch.ones_like(x)
    logits, past = run(model, x, mask, empty_past(model, 1))
    out = []
    for _ in range(steps):
        tok = int(torch.argmax(logits[0, -1]))
        out.append(tok)
        if tok == eos:
            break
        mask = torch.cat([mask, torch.ones(1, 1, dtype=torch.long)], dim=1)
        logits, past = run(model, torch.tensor([[tok]]), mask, past)
    return out


# ----------------------------------------------------------------------------- export

class Exported(nn.Module):
    """Flat-argument wrapper: torch.onnx.export needs positional tensors, not lists."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, *rest):
        if self.model.has_position_ids:
            logits, presents = self.model(input_ids, attention_mask, rest[0], list(rest[1:]))
        else:
            logits, presents = self.model(input_ids, attention_mask, list(rest))
        return (logits, *presents)


def export(model, path):
    layers = model.layers
    past_names, present_names = [], []
    for i in range(layers):
        past_names += ["past_key_values.%d.key" % i, "past_key_values.%d.value" % i]
        present_names += ["present.%d.key" % i, "present.%d.value" % i]
    b, s, p = 2, 3, 4
    ids = torch.randint(0, model.lm_head.out_features, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.long)
    past = [torch.randn(b, model.kv_heads, p, model.head_dim) for _ in range(2 * layers)]
    inputs = [ids, mask]
    names = ["input_ids", "attention_mask"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    if model.has_position_ids:
        inputs.append(positions_from_mask(mask)[:, -s:])
        names.append("position_ids")
        axes["position_ids"] = {0: "batch_size", 1: "sequence_length"}
    for n in past_names:
        axes[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in present_names:
        axes[n] = {0: "batch_size", 2: "total_sequence_length"}
    torch.onnx.export(Exported(model).eval(), tuple(inputs + past), path,
                      input_names=names + past_names, output_names=["logits"] + present_names,
                      dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def build(out_dir, name, model, tokenizer, eos, bos, tokenizer_config):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    model.eval()
    export(model, os.path.join(d, "model.onnx"))
    write_json(os.path.join(d, "config.json"), model.config_json(eos, bos))
    write_json(os.path.join(d, "generation_config.json"),
               {"bos_token_id": bos, "eos_token_id": eos, "do_sample": False})
    write_json(os.path.join(d, "tokenizer.json"), tokenizer.tokenizer_json())
    write_json(os.path.join(d, "tokenizer_config.json"), tokenizer_config)
    refs = []
    for text in REFERENCE_PROMPTS:
        prompt = tokenizer.encode(text)
        uncached = greedy_uncached(model, prompt, REFERENCE_NEW_TOKENS, eos)
        cached = greedy_cached(model, prompt, REFERENCE_NEW_TOKENS, eos)
        assert uncached == cached, (name, text, uncached, cached)
        refs.append({"text": text, "prompt_ids": prompt, "greedy_ids": uncached})
    write_json(os.path.join(d, "reference.json"), {
        "note": "prompt_ids: this script's BPE encoder (special tokens included); greedy_ids: PyTorch, "
                "full recomputation, stops after eos_token_id or max_new_tokens",
        "max_new_tokens": REFERENCE_NEW_TOKENS, "eos_token_id": eos, "references": refs})
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print("%s: vocab %d, %d bytes" % (d, model.lm_head.out_features, size))


def build_renamed_past(out_dir, tokenizer):
    """A malformed fixture: a 1-layer decoder whose past inputs are named past.0.key/value.

    Everything else is consistent, so a loader must fail on the names alone."""
    d = os.path.join(out_dir, "bad-past-names")
    os.makedirs(d, exist_ok=True)
    model = TinyGpt2(tokenizer.vocab_size(), width=16, layers=1, heads=2)
    scale_weights(model, seed=3)
    model.eval()
    path = os.path.join(d, "model.onnx")
    export(model, path)
    graph = onnx.load(path)
    renames = {"past_key_values.0.key": "past.0.key", "past_key_values.0.value": "past.0.value"}
    for value in graph.graph.input:
        value.name = renames.get(value.name, value.name)
    for node in graph.graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = renames.get(name, name)
    onnx.checker.check_model(graph)
    onnx.save(graph, path)
    write_json(os.path.join(d, "config.json"), model.config_json(tokenizer.eot_id, tokenizer.eot_id))
    write_json(os.path.join(d, "tokenizer.json"), tokenizer.tokenizer_json())
    print("%s: malformed on purpose (past input names)" % d)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "src", "test", "resources", "gpt"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args()
    torch.manual_seed(0)

    bpe = ByteLevelBpe(CORPUS)
    gpt2 = TinyGpt2(bpe.vocab_size())
    scale_weights(gpt2, seed=1)
    build(args.out, "tiny-gpt2", gpt2, bpe, eos=bpe.eot_id, bos=bpe.eot_id,
          tokenizer_config={"tokenizer_class": "GPT2Tokenizer", "bos_token": bpe.eot, "eos_token": bpe.eot,
                            "unk_token": bpe.eot, "model_max_length": CONTEXT, "add_bos_token": False})

    build_renamed_past(args.out, bpe)

    sp = SentencePieceBpe(CORPUS)
    llama = TinyLlama(sp.vocab_size())
    scale_weights(llama, seed=2)
    build(args.out, "tiny-llama", llama, sp, eos=sp.eos_id, bos=sp.bos_id,
          tokenizer_config={"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
                            "unk_token": "<unk>", "model_max_length": CONTEXT, "add_bos_token": True,
                            "add_eos_token": False})


if __name__ == "__main__":
    main()
