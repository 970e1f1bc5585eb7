"""The project's default GPT-stage model: all-MiniLM-L6-v2's shape run as a causal decoder.

Architecture = Hugging Face ``BertLMHeadModel`` with ``is_decoder=True`` (post-LayerNorm BERT
layers, causal self-attention, learned absolute positions, GELU (erf) MLP, an MLM-style head:
dense + GELU + LayerNorm, then the output projection tied to the word embeddings plus a bias).
Parameter names follow Hugging Face's, so a state dict loads into ``BertLMHeadModel`` too.

Warm start: ``load_minilm`` copies every encoder weight (embeddings, 6 layers) out of the
``all-minilm-l6-v2.onnx`` file that the Maven Central jar carries; only the head transform and
the output bias start fresh.

The forward pass takes a KV cache in the layout the Java runtime feeds
(``past_key_values.N.key/value`` [B, heads, past, head_dim]) and derives positions from
``cumsum(attention_mask) - 1``, so left padding is transparent and one graph does prefill
(empty past) and decode.
"""
import math

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = torch.finfo(torch.float32).min

MINILM = dict(vocab=30522, width=384, layers=6, heads=12, ffn=1536, positions=512)


class Layer(nn.Module):
    def __init__(self, width, heads, ffn, dropout):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.attn_out = nn.Linear(width, width)
        self.attn_ln = nn.LayerNorm(width, eps=1e-12)
        self.inter = nn.Linear(width, ffn)
        self.out = nn.Linear(ffn, width)
        self.out_ln = nn.LayerNorm(width, eps=1e-12)
        self.drop = nn.Dropout(dropout)

    def split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, -1).transpose(1, 2)

    def forward(self, x, allowed, past_k, past_v):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        scores = scores.masked_fill(~allowed, MASK_VALUE)
        probs = self.drop(torch.softmax(scores, dim=-1))
        a = torch.matmul(probs, v)
        b, h, s, d = a.shape
        a = a.transpose(1, 2).reshape(b, s, h * d)
        x = self.attn_ln(x + self.drop(self.attn_out(a)))
        x = self.out_ln(x + self.drop(self.out(F.gelu(self.inter(x)))))
        return x, k, v


class MiniLmDecoder(nn.Module):
    def __init__(self, vocab=30522, width=384, layers=6, heads=12, ffn=1536, positions=512, dropout=0.1):
        super().__init__()
        self.cfg = dict(vocab=vocab, width=width, layers=layers, heads=heads, ffn=ffn, positions=positions)
        self.n_layers, self.heads, self.head_dim = layers, heads, width // heads
        self.word = nn.Embedding(vocab, width)
        self.position = nn.Embedding(positions, width)
        self.token_type = nn.Embedding(2, width)
        self.emb_ln = nn.LayerNorm(width, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(Layer(width, heads, ffn, dropout) for _ in range(layers))
        self.head_dense = nn.Linear(width, width)
        self.head_ln = nn.LayerNorm(width, eps=1e-12)
        self.out_bias = nn.Parameter(torch.zeros(vocab))
        self.apply(self._init)

    @staticmethod
    def _init(m):
        # BERT's initialisation (normal 0.02, zero bias, unit LayerNorm).
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
        if isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def fold_token_type(self):
        """Adds the (constant) token-type-0 embedding into the position table, for export."""
        with torch.no_grad():
            self.position.weight += self.token_type.weight[0]
            self.token_type.weight.zero_()
        self.token_type_folded = True

    token_type_folded = False

    def hidden(self, input_ids, attention_mask, past=None):
        """Final hidden states after the head transform, and the new KV cache."""
        s = input_ids.shape[1]
        t = attention_mask.shape[1]
        positions = (torch.cumsum(attention_mask, dim=-1) - 1).clamp(min=0)[:, t - s:]
        x = self.word(input_ids) + self.position(positions)
        if not self.token_type_folded:
            x = x + self.token_type.weight[0]
        x = self.drop(self.emb_ln(x))
        key_pos = torch.arange(t, device=input_ids.device)
        query_pos = torch.arange(s, device=input_ids.device) + (t - s)
        causal = key_pos[None, :] <= query_pos[:, None]
        allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)
        presents = []
        for i, layer in enumerate(self.layers):
            pk = past[2 * i] if past is not None else None
            pv = past[2 * i + 1] if past is not None else None
            x, k, v = layer(x, allowed, pk, pv)
            presents += [k, v]
        h = self.head_ln(F.gelu(self.head_dense(x)))
        return h, presents

    def logits(self, h):
        return F.linear(h, self.word.weight, self.out_bias)

    def forward(self, input_ids, attention_mask, past=None):
        h, presents = self.hidden(input_ids, attention_mask, past)
        return self.logits(h), presents

    def config_json(self, bos, eos, pad):
        c = self.cfg
        return {
            "architectures": ["BertLMHeadModel"], "model_type": "bert", "is_decoder": True,
            "vocab_size": c["vocab"], "hidden_size": c["width"], "num_hidden_layers": c["layers"],
            "num_attention_heads": c["heads"], "intermediate_size": c["ffn"], "hidden_act": "gelu",
            "max_position_embeddings": c["positions"], "type_vocab_size": 2, "layer_norm_eps": 1e-12,
            "position_embedding_type": "absolute", "tie_word_embeddings": True, "use_cache": True,
            "bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad, "torch_dtype": "float32",
        }


def _minilm_weights(onnx_path):
    """Named float tensors of all-minilm-l6-v2.onnx, MatMul weights named after the bias they feed."""
    m = onnx.load(onnx_path)
    init = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    consumers = {}
    for n in m.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    named = {k: v for k, v in init.items() if not k.startswith("onnx::")}
    for n in m.graph.node:
        if n.op_type != "MatMul" or n.input[1] not in init:
            continue
        adds = [c for c in consumers.get(n.output[0], []) if c.op_type == "Add"]
        biases = [i for c in adds for i in c.input if i in init and i.endswith(".bias")]
        if len(biases) != 1:
            raise ValueError("cannot name MatMul weight %s" % n.input[1])
        # ONNX MatMul weights are [in, out]; torch Linear keeps [out, in].
        named[biases[0][:-len(".bias")] + ".weight"] = init[n.input[1]].T
    return named


def load_minilm(model, onnx_path):
    """Copies the encoder's weights into ``model`` (which must have the MiniLM shape)."""
    w = _minilm_weights(onnx_path)
    sd = {
        "word.weight": w["embeddings.word_embeddings.weight"],
        "position.weight": w["embeddings.position_embeddings.weight"],
        "token_type.weight": w["embeddings.token_type_embeddings.weight"],
        "emb_ln.weight": w["embeddings.LayerNorm.weight"],
        "emb_ln.bias": w["embeddings.LayerNorm.bias"],
    }
    ours = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
            "attn_out": "attention.output.dense", "attn_ln": "attention.output.LayerNorm",
            "inter": "intermediate.dense", "out": "output.dense", "out_ln": "output.LayerNorm"}
    for i in range(model.n_layers):
        for mine, theirs in ours.items():
            for p in ("weight", "bias"):
                sd["layers.%d.%s.%s" % (i, mine, p)] = w["encoder.layer.%d.%s.%s" % (i, theirs, p)]
    missing = model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in sd.items()},
                                    strict=False)
    fresh = sorted(missing.missing_keys)
    assert fresh == ["head_dense.bias", "head_dense.weight", "head_ln.bias", "head_ln.weight", "out_bias"], fresh
    assert not missing.unexpected_keys, missing.unexpected_keys
    return fresh


def hf_state_dict(model):
    """The weights under Hugging Face BertLMHeadModel's names."""
    sd = model.state_dict()
    out = {
        "bert.embeddings.word_embeddings.weight": sd["word.weight"],
        "bert.embeddings.position_embeddings.weight": sd["position.weight"],
        "bert.embeddings.token_type_embeddings.weight": sd["token_type.weight"],
        "bert.embeddings.LayerNorm.weight": sd["emb_ln.weight"],
        "bert.embeddings.LayerNorm.bias": sd["emb_ln.bias"],
        "cls.predictions.transform.dense.weight": sd["head_dense.weight"],
        "cls.predictions.transform.dense.bias": sd["head_dense.bias"],
        "cls.predictions.transform.LayerNorm.weight": sd["head_ln.weight"],
        "cls.predictions.transform.LayerNorm.bias": sd["head_ln.bias"],
        "cls.predictions.bias": sd["out_bias"],
        "cls.predictions.decoder.weight": sd["word.weight"],
    }
    names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attn_out": "attention.output.dense", "attn_ln": "attention.output.LayerNorm",
             "inter": "intermediate.dense", "out": "output.dense", "out_ln": "output.LayerNorm"}
    for i in range(model.n_layers):
        for mine, theirs in names.items():
            for p in ("weight", "bias"):
                out["bert.encoder.layer.%d.%s.%s" % (i, theirs, p)] = sd["layers.%d.%s.%s" % (i, mine, p)]
    return out
