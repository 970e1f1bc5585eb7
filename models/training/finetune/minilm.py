"""all-MiniLM-L6-v2 as a plain-torch BERT, loaded from the ONNX initializers of the Maven Central
weight carrier, plus the fused multi-task network (shared encoder, three heads) that is exported as
the catalogue's model.onnx.

The ONNX file names its embedding, bias and LayerNorm initializers after the Hugging Face module
they came from, but its MatMul weights are anonymous (``onnx::MatMul_787``...): each is mapped to
its Linear layer through the graph structure MatMul(x, W) -> Add(<layer>.bias, .) (see
:func:`onnx_state_dict`). The export stores W as [in, out], the transpose of torch's Linear weight.

Graph facts the port reproduces (read from the ONNX graph, checked by :func:`check_graph_constants`):
LayerNorm epsilon 1e-12, 12 heads of 32, exact (erf) GELU, extended attention mask
(1 - mask) * finfo(float32).min added to the attention scores, positions 0..S-1 for every row
(right padding), token type embeddings from token_type_ids.
"""
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HIDDEN = 384
LAYERS = 6
HEADS = 12
FFN = 1536
VOCAB = 30522
MAX_POSITIONS = 512
LN_EPS = 1e-12
CASE_CLASSES = 5  # io.nlpstream.models.tokenizer.Casing.CLASSES

SENTIMENT_LABELS = ["negative", "neutral", "positive"]
CLASS_LABELS = ["World", "Sports", "Business", "Sci/Tech"]


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.dense = nn.Linear(HIDDEN, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, x, bias, dropout):
        b, s, _ = x.shape
        d = HIDDEN // HEADS

        def heads(t):
            return t.view(b, s, HEADS, d).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
        att = F.dropout(torch.softmax(scores, dim=-1), dropout, self.training)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, s, HIDDEN)
        return self.norm(x + F.dropout(self.dense(y), dropout, self.training))


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = SelfAttention()
        self.intermediate = nn.Linear(HIDDEN, FFN)
        self.output = nn.Linear(FFN, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, x, bias, dropout):
        x = self.attention(x, bias, dropout)
        y = self.output(F.gelu(self.intermediate(x)))
        return self.norm(x + F.dropout(y, dropout, self.training))


class Encoder(nn.Module):
    """BERT encoder of all-MiniLM-L6-v2, optionally with a casing embedding.

    ``case_ids`` (int64 [B,S], classes of io.nlpstream.models.tokenizer.Casing) are embedded and
    added with the word, position and token type embeddings before the embedding LayerNorm. The
    casing table starts at zero, so a fresh encoder with casing computes exactly what the original
    does.
    """

    def __init__(self, casing=False, dropout=0.1):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.casing = nn.Embedding(CASE_CLASSES, HIDDEN) if casing else None
        if self.casing is not None:
            nn.init.zeros_(self.casing.weight)
        self.norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.dropout = dropout

    def forward(self, input_ids, attention_mask, token_type_ids, case_ids=None):
        s = input_ids.shape[1]
        positions = torch.arange(s, device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(positions)
        if self.casing is not None:
            x = x + self.casing(case_ids)
        x = F.dropout(self.norm(x), self.dropout, self.training)
        bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, bias, self.dropout)
        return x


class MultiTask(nn.Module):
    """One shared encoder pass feeding the three heads of the bundle contract.

    Sentence heads read the attention-masked mean of the last hidden states ([CLS]/[SEP] included,
    as all-MiniLM-L6-v2 was trained); the entity head is a per-token linear layer. Outputs of real
    positions depend only on the real positions of their row (padded keys are masked in attention,
    padded rows are excluded from the mean), so batch composition does not change any result beyond
    float rounding.
    """

    def __init__(self, casing=False, dropout=0.1, head_dropout=0.1):
        super().__init__()
        self.encoder = Encoder(casing, dropout)
        self.sentiment = nn.Linear(HIDDEN, len(SENTIMENT_LABELS))
        self.classes = nn.Linear(HIDDEN, len(CLASS_LABELS))
        self.entities = nn.Linear(HIDDEN, 9)
        self.head_dropout = head_dropout

    @property
    def casing(self):
        return self.encoder.casing is not None

    def hidden(self, input_ids, attention_mask, token_type_ids, case_ids=None):
        return self.encoder(input_ids, attention_mask, token_type_ids, case_ids)

    def pooled(self, h, attention_mask):
        m = attention_mask.to(h.dtype).unsqueeze(-1)
        return (h * m).sum(1) / m.sum(1).clamp(min=1.0)

    def head(self, name, h, attention_mask):
        """Logits of one head from the encoder output (training runs one task per batch)."""
        if name == "entities":
            return self.entities(F.dropout(h, self.head_dropout, self.training))
        p = F.dropout(self.pooled(h, attention_mask), self.head_dropout, self.training)
        return self.sentiment(p) if name == "sentiment" else self.classes(p)

    def forward(self, input_ids, attention_mask, token_type_ids, case_ids=None):
        h = self.hidden(input_ids, attention_mask, token_type_ids, case_ids)
        p = self.pooled(h, attention_mask)
        return self.sentiment(p), self.classes(p), self.entities(h)


# ---------------------------------------------------------------- loading from ONNX

def onnx_state_dict(path):
    """The encoder's weights as a state dict of :class:`Encoder` (names of this module)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    # anonymous MatMul weight -> the named bias added to the MatMul's output
    matmul_layer = {}
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            continue
        adds = [c for c in consumers.get(node.output[0], []) if c.op_type == "Add"]
        biases = [i for a in adds for i in a.input if i in inits and i.endswith(".bias")]
        if len(biases) != 1:
            raise ValueError(f"MatMul {node.name}: expected one Add with a named bias, found {biases}")
        layer = biases[0][: -len(".bias")]
        if layer in matmul_layer.values():
            raise ValueError(f"two MatMul weights map to {layer}")
        matmul_layer[node.input[1]] = layer

    hf = {}
    for name, value in inits.items():
        if name in matmul_layer:
            hf[matmul_layer[name] + ".weight"] = value.T.copy()  # ONNX [in,out] -> torch [out,in]
        elif name != "embeddings.position_ids":
            hf[name] = value

    rename = {"embeddings.word_embeddings.weight": "word.weight",
              "embeddings.position_embeddings.weight": "position.weight",
              "embeddings.token_type_embeddings.weight": "token_type.weight",
              "embeddings.LayerNorm.weight": "norm.weight", "embeddings.LayerNorm.bias": "norm.bias"}
    parts = {"attention.self.query": "attention.query", "attention.self.key": "attention.key",
             "attention.self.value": "attention.value", "attention.output.dense": "attention.dense",
             "attention.output.LayerNorm": "attention.norm", "intermediate.dense": "intermediate",
             "output.dense": "output", "output.LayerNorm": "norm"}
    state = {}
    for name, value in hf.items():
        if name in rename:
            state[rename[name]] = value
            continue
        prefix, rest = name.split(".", 2)[:2], name.split(".", 2)[2]  # encoder.layer.<i>.<...>
        layer_no, inner = rest.split(".", 1)
        module, param = inner.rsplit(".", 1)
        if prefix != ["encoder", "layer"] or module not in parts:
            raise ValueError(f"unexpected initializer {name}")
        state[f"layers.{layer_no}.{parts[module]}.{param}"] = value
    return {k: torch.from_numpy(np.array(v, dtype=v.dtype, copy=True)) for k, v in state.items()}


def check_graph_constants(path):
    """Fails unless the ONNX graph has the constants this port hard-codes (LN eps, mask fill, heads)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    consts = {}
    for node in graph.node:
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    eps = {float(v) for k, v in consts.items() if "LayerNorm/Constant_1" in k}
    fill = [float(v) for k, v in consts.items() if k == "/Constant_1_output_0"]
    head_shape = {tuple(v.tolist()) for k, v in consts.items() if "attention/self/Constant_2" in k or
                  "attention/self/Constant_3" in k}
    ops = {n.op_type for n in graph.node}
    problems = []
    if len(eps) != 1 or abs(next(iter(eps)) - LN_EPS) > 1e-15:
        problems.append(f"LayerNorm eps {eps}")
    if fill != [float(torch.finfo(torch.float32).min)]:
        problems.append(f"mask fill {fill}")
    if head_shape != {(HEADS,), (HIDDEN // HEADS,)}:
        problems.append(f"head shape {head_shape}")
    if "Erf" not in ops or "Tanh" in ops:
        problems.append("GELU is not the exact erf form")
    if problems:
        raise ValueError(f"{path}: graph differs from the port: {problems}")


def load_pretrained(path, casing=False, dropout=0.1, head_dropout=0.1, seed=0):
    """A :class:`MultiTask` whose encoder holds all-MiniLM-L6-v2's weights; heads seeded from ``seed``."""
    check_graph_constants(path)
    torch.manual_seed(seed)
    model = MultiTask(casing, dropout, head_dropout)
    missing, unexpected = model.encoder.load_state_dict(onnx_state_dict(path), strict=False)
    allowed_missing = {"casing.weight"} if casing else set()
    if set(missing) != allowed_missing or unexpected:
        raise ValueError(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    return model
