#!/usr/bin/python3
"""Writes the tiny random-weight fixtures for the fused multi-head bundle and the Hugging Face layouts.

Catalogue entries (models/src/test/resources/nlpstream/catalog/<id>/, each with model.json whose sha256
fields are the real ones, a WordPiece tokenizer.json with a tiny vocabulary and reference.json):

  test-fused/         kind bert-multihead, fused form: ONE graph, inputs input_ids, attention_mask,
                      token_type_ids (int64 [B,S]); outputs sentiment_logits [B,3], class_logits [B,4],
                      entity_logits [B,S,9]. Uncased tokenizer.
  test-fused-cased/   the same plus the optional input case_ids (int64 [B,S]): a casing embedding added
                      to the token embeddings, so that an uncased tokenizer does not lose what NER needs.
  test-hf-sentiment/  kind hf-sequence-classification, a Hugging Face export (model.onnx, tokenizer.json,
                      config.json) of a DistilBERT-like classifier: NO token_type_ids input, output
                      logits [B,3], config.json id2label LABEL_0..LABEL_2 (mapped in model.json label_map).
  test-hf-ner/        kind hf-token-classification, a BERT-like token classifier with token_type_ids,
                      output logits [B,S,9], cased tokenizer, id2label in bert-base-NER's order
                      (O, B-MISC, I-MISC, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC).

Broken graphs for the start-up checks (models/src/test/resources/fixtures/hf/), each a micro model:

  int32-input-ids.onnx        a token classifier whose input_ids is int32
  no-attention-mask.onnx      a token classifier without the attention_mask input
  extra-input.onnx            a token classifier with an unsupported input pixel_values
  dynamic-labels.onnx         a token classifier (9 labels) whose logits' label dimension is declared dynamic
  fused-float-case-ids.onnx   a fused multi-head graph whose case_ids input is float32
  fused-no-entities.onnx      a fused graph without entity_logits

The weights are random (fixed seeds) and scaled up so that the logits are peaked: predictions have
clear margins and do not flip on float rounding between PyTorch and ONNX Runtime or between batch
shapes. The fixtures test mechanics (inputs fed, label mapping, windows, offsets, casing), never
accuracy. No data set was used; the vocabulary is written here.

reference.json holds, for a few ASCII sentences, this script's own WordPiece tokenization (ids, word
ids and character offsets), the case ids of CASE_ID below, and PyTorch's outputs: sentence-level
probabilities and, for the token models, the entities decoded with the runtime's documented rules.
The Java tests compare DJL + ONNX Runtime + the runtime's decoding against it: an independent
implementation of the same contract, so a missing [CLS] offset, a wrong casing rule or an input fed
under the wrong name shows up as a mismatch.

Run with Debian's interpreter (torch 1.13 and onnx 1.12; no transformers needed):

    /usr/bin/python3 models/src/test/python/make_fixture_hf.py
"""
import hashlib
import json
import math
import pathlib
import string

import onnx
import torch
import torch.nn as nn

RESOURCES = pathlib.Path(__file__).resolve().parents[1] / "resources"
CATALOG = RESOURCES / "nlpstream" / "catalog"
BROKEN = RESOURCES / "fixtures" / "hf"

SENTIMENT = ["negative", "neutral", "positive"]
CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
ENTITIES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
# dslim/bert-base-NER's order: the runtime must map labels by name, not by position.
HF_NER_LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]

HIDDEN = 16
LAYERS = 1
HEADS = 2
FFN = 32
MAX_POSITIONS = 40  # small on purpose: texts of more than 38 tokens need sliding windows

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = """the a an in on at of to and with for from by is was met visited said reported
paris berlin london york new angela merkel john smith mary apple inc google nasa mars crater
city big park team match film plot good bad great thin wooden acting record revenue sales
""".split()
SUFFIXES = ["##s", "##ed", "##ing", "##er", "##ly", "##ion", "##al"]
PUNCTUATION = list(".,!?;:'\"-()$%&/")

REFERENCE_SENTENCES = [
    "Angela Merkel met John Smith in Paris.",
    "NASA reported new sales of Apple Inc in New York!",
    "the film was good, the acting wooden and the plot thin.",
    "Mary visited the big city of Berlin with the team",
    "ok",
    "McDonald and iPhone sales in LONDON rose 12% on Monday.",
]

# ----------------------------------------------------------------------------- casing


def case_id(span):
    """The casing class of a token's span of the ORIGINAL text (the contract of the case_ids input).

    Only cased letters count (str.isupper / str.islower, i.e. Unicode Lu / Ll):
      0 no cased letter (digits, punctuation, uncased scripts), 1 all lower-case,
      2 first cased letter upper, the rest lower (a single upper-case letter too),
      3 all upper-case (two or more), 4 anything else (mixed).
    Special tokens and padding get 0.
    """
    cased = [c for c in span if c.isupper() or c.islower()]
    if not cased:
        return 0
    if all(c.islower() for c in cased):
        return 1
    if cased[0].isupper() and all(c.islower() for c in cased[1:]):
        return 2
    if all(c.isupper() for c in cased):
        return 3
    return 4


# ----------------------------------------------------------------------------- tokenizer


def vocabulary(cased):
    letters = list(string.ascii_lowercase) + (list(string.ascii_uppercase) if cased else [])
    tokens = SPECIALS + PUNCTUATION + list(string.digits) + letters
    tokens += ["##" + c for c in letters + list(string.digits)]
    words = WORDS + ([w.capitalize() for w in WORDS] if cased else [])
    tokens = list(dict.fromkeys(tokens + words + SUFFIXES))
    return {t: i for i, t in enumerate(tokens)}


def tokenizer_json(vocab, cased):
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIALS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": not cased},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


def encode(text, vocab, cased):
    """BERT basic tokenization + WordPiece for ASCII text: content tokens with word ids and offsets."""
    words = []  # (start, end)
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in string.punctuation:
            words.append((i, i + 1))
            i += 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in string.punctuation:
                j += 1
            words.append((i, j))
            i = j
    ids, word_ids, starts, ends = [], [], [], []
    for w, (ws, we) in enumerate(words):
        word = text[ws:we] if cased else text[ws:we].lower()
        pieces = []
        s = 0
        while s < len(word):
            e = len(word)
            while e > s:
                piece = word[s:e] if s == 0 else "##" + word[s:e]
                if piece in vocab:
                    break
                e -= 1
            if e == s:
                pieces = None
                break
            pieces.append((vocab[word[s:e] if s == 0 else "##" + word[s:e]], ws + s, ws + e))
            s = e
        if pieces is None:
            pieces = [(vocab["[UNK]"], ws, we)]
        for pid, ps, pe in pieces:
            ids.append(pid)
            word_ids.append(w)
            starts.append(ps)
            ends.append(pe)
    return ids, word_ids, starts, ends


# ----------------------------------------------------------------------------- models


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN)
        self.ffn1 = nn.Linear(HIDDEN, FFN)
        self.ffn2 = nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN)

    def forward(self, x, mask_bias):
        b, s, _ = x.shape
        q, k, v = self.qkv(x).split(HIDDEN, dim=-1)
        d = HIDDEN // HEADS
        q, k, v = (t.reshape(b, s, HEADS, d).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.ln1(x + self.out(ctx))
        return self.ln2(x + self.ffn2(torch.nn.functional.gelu(self.ffn1(x))))


class Encoder(nn.Module):
    """A BERT-style encoder: word + position (+ token type) (+ casing) embeddings, post-LN layers."""

    def __init__(self, vocab_size, token_types=True, casing=False):
        super().__init__()
        self.word = nn.Embedding(vocab_size, HIDDEN)
        self.position = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN) if token_types else None
        self.casing = nn.Embedding(5, HIDDEN) if casing else None
        self.ln = nn.LayerNorm(HIDDEN)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])

    def forward(self, input_ids, attention_mask, token_type_ids=None, case_ids=None):
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.word(input_ids) + self.position(positions)
        if self.token_type is not None:
            x = x + self.token_type(token_type_ids)
        if self.casing is not None:
            x = x + self.casing(case_ids)
        x = self.ln(x)
        # A large finite negative, not -inf, so that nothing becomes NaN.
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


def masked_mean(hidden, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


class FusedMultiHead(nn.Module):
    def __init__(self, vocab_size, casing):
        super().__init__()
        self.encoder = Encoder(vocab_size, token_types=True, casing=casing)
        self.sentiment = nn.Linear(HIDDEN, len(SENTIMENT))
        self.classes = nn.Linear(HIDDEN, len(CLASSES))
        self.entities = nn.Linear(HIDDEN, len(ENTITIES))

    def forward(self, input_ids, attention_mask, token_type_ids, case_ids=None):
        hidden = self.encoder(input_ids, attention_mask, token_type_ids, case_ids)
        pooled = masked_mean(hidden, attention_mask)
        return self.sentiment(pooled), self.classes(pooled), self.entities(hidden)


class SequenceClassifier(nn.Module):
    """DistilBERT-like: no token types; classifies the [CLS] position through a pre-classifier."""

    def __init__(self, vocab_size, labels):
        super().__init__()
        self.encoder = Encoder(vocab_size, token_types=False)
        self.pre = nn.Linear(HIDDEN, HIDDEN)
        self.classifier = nn.Linear(HIDDEN, labels)

    def forward(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids, attention_mask)
        return self.classifier(torch.relu(self.pre(hidden[:, 0])))


class TokenClassifier(nn.Module):
    def __init__(self, vocab_size, labels, token_types=True):
        super().__init__()
        self.encoder = Encoder(vocab_size, token_types=token_types)
        self.classifier = nn.Linear(HIDDEN, labels)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        return self.classifier(self.encoder(input_ids, attention_mask, token_type_ids))


def scale(model, factor):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.mul_(factor)


# ----------------------------------------------------------------------------- export


def export(model, path, input_names, output_names, token_outputs, input_dtypes=None):
    b, s = 2, 7
    example = []
    for name in input_names:
        dtype = (input_dtypes or {}).get(name, torch.int64)
        example.append(torch.zeros(b, s, dtype=dtype) if name != "input_ids" else torch.randint(0, 5, (b, s)).to(dtype))
    axes = {name: {0: "batch_size", 1: "sequence_length"} for name in input_names}
    for name in output_names:
        axes[name] = {0: "batch_size", 1: "sequence_length"} if name in token_outputs else {0: "batch_size"}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, tuple(example), str(path), input_names=input_names, output_names=output_names,
                      dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    graph = onnx.load(str(path))
    # Node names and doc strings are a third of a graph this small; ONNX Runtime needs neither.
    for node in graph.graph.node:
        node.name = ""
        node.doc_string = ""
    onnx.checker.check_model(graph)
    onnx.save(graph, str(path))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path, obj, compact=False):
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) if compact else json.dumps(obj, indent=2)
    path.write_text(text + "\n", encoding="utf-8")


def softmax(logits):
    return torch.softmax(logits, dim=-1)


def decode_entities(text, word_ids, starts, ends, probs, labels, type_of):
    """The runtime's documented decoding: the first token of a word decides for the word; B-X starts,
    I-X continues an open X (else starts one), O closes. type_of maps a model label to (type or None, begin)."""
    entities = []
    open_type, first, last = None, None, None
    best = probs.argmax(dim=-1).tolist()
    for t in range(len(word_ids) + 1):
        if t == len(word_ids):
            typ, begin = None, False
        elif t > 0 and word_ids[t] == word_ids[t - 1]:
            typ, begin = open_type, False
        else:
            typ, begin = type_of(labels[best[t]])
        extend = typ is not None and typ == open_type and not begin
        if not extend and open_type is not None:
            entities.append({"text": text[starts[first]:ends[last]], "type": open_type,
                             "start": starts[first], "end": ends[last]})
            open_type = None
        if typ is None:
            continue
        if not extend:
            open_type, first = typ, t
        last = t
    return entities


def contract_type(label):
    if label == "O":
        return None, False
    return label[2:], label.startswith("B-")


def batch_inputs(vocab, ids, casing_ids=None):
    seq = [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]
    t = torch.tensor([seq])
    inputs = {"input_ids": t, "attention_mask": torch.ones_like(t), "token_type_ids": torch.zeros_like(t)}
    if casing_ids is not None:
        inputs["case_ids"] = torch.tensor([[0] + casing_ids + [0]])
    return inputs


def reference_tokens(text, vocab, cased):
    ids, word_ids, starts, ends = encode(text, vocab, cased)
    return {"text": text, "ids": ids, "word_ids": word_ids, "starts": starts, "ends": ends,
            "case_ids": [case_id(text[s:e]) for s, e in zip(starts, ends)]}


# ----------------------------------------------------------------------------- fixtures


def build_fused(name, casing, seed):
    torch.manual_seed(seed)
    vocab = vocabulary(cased=False)
    model = FusedMultiHead(len(vocab), casing).eval()
    scale(model, 3.0)
    with torch.no_grad():
        model.entities.weight.mul_(2.0)
    out = CATALOG / name
    out.mkdir(parents=True, exist_ok=True)
    inputs = ["input_ids", "attention_mask", "token_type_ids"] + (["case_ids"] if casing else [])
    export(model, out / "model.onnx", inputs, ["sentiment_logits", "class_logits", "entity_logits"],
           {"entity_logits"})
    write_json(out / "tokenizer.json", tokenizer_json(vocab, cased=False), compact=True)
    references = []
    with torch.no_grad():
        for text in REFERENCE_SENTENCES:
            ref = reference_tokens(text, vocab, cased=False)
            inputs = batch_inputs(vocab, ref["ids"], ref["case_ids"] if casing else None)
            sentiment, classes, entities = model(*inputs.values())
            ref["sentiment"] = dict(zip(SENTIMENT, softmax(sentiment[0]).tolist()))
            ref["classes"] = dict(zip(CLASSES, softmax(classes[0]).tolist()))
            ref["entities"] = decode_entities(text, ref["word_ids"], ref["starts"], ref["ends"],
                                              softmax(entities[0, 1:-1]), ENTITIES, contract_type)
            references.append(ref)
    write_json(out / "reference.json", references, compact=True)
    write_json(out / "model.json", {
        "id": name,
        "version": "0",
        "kind": "bert-multihead",
        "model": {"file": "model.onnx", "sha256": sha256(out / "model.onnx")},
        "tokenizer": {"file": "tokenizer.json", "sha256": sha256(out / "tokenizer.json")},
        "max_tokens": MAX_POSITIONS,
        "labels": {"sentiment": SENTIMENT, "classes": CLASSES, "entities": ENTITIES},
    })
    return model


def hf_config(architecture, model_type, labels, extra=None):
    config = {
        "architectures": [architecture],
        "model_type": model_type,
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": FFN,
        "max_position_embeddings": MAX_POSITIONS,
        "pad_token_id": 0,
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
    }
    config.update(extra or {})
    return config


def hf_manifest(name, kind, out, extra):
    manifest = {
        "id": name,
        "version": "0",
        "kind": kind,
        "model": {"file": "model.onnx", "sha256": sha256(out / "model.onnx")},
        "tokenizer": {"file": "tokenizer.json", "sha256": sha256(out / "tokenizer.json")},
        "config": {"file": "config.json", "sha256": sha256(out / "config.json")},
    }
    manifest.update(extra)
    write_json(out / "model.json", manifest)


def build_hf_sentiment(seed):
    torch.manual_seed(seed)
    vocab = vocabulary(cased=False)
    labels = ["LABEL_0", "LABEL_1", "LABEL_2"]
    label_map = {"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"}
    model = SequenceClassifier(len(vocab), len(labels)).eval()
    scale(model, 3.0)
    out = CATALOG / "test-hf-sentiment"
    out.mkdir(parents=True, exist_ok=True)
    export(model, out / "model.onnx", ["input_ids", "attention_mask"], ["logits"], set())
    write_json(out / "tokenizer.json", tokenizer_json(vocab, cased=False), compact=True)
    write_json(out / "config.json", hf_config("DistilBertForSequenceClassification", "distilbert", labels))
    references = []
    with torch.no_grad():
        for text in REFERENCE_SENTENCES:
            ref = reference_tokens(text, vocab, cased=False)
            inputs = batch_inputs(vocab, ref["ids"])
            probs = softmax(model(inputs["input_ids"], inputs["attention_mask"])[0]).tolist()
            ref["sentiment"] = {label_map[l]: p for l, p in zip(labels, probs)}
            references.append(ref)
    write_json(out / "reference.json", references, compact=True)
    hf_manifest("test-hf-sentiment", "hf-sequence-classification", out, {"label_map": label_map})


def build_hf_ner(seed):
    torch.manual_seed(seed)
    vocab = vocabulary(cased=True)
    model = TokenClassifier(len(vocab), len(HF_NER_LABELS)).eval()
    scale(model, 3.0)
    with torch.no_grad():
        model.classifier.weight.mul_(2.0)
    out = CATALOG / "test-hf-ner"
    out.mkdir(parents=True, exist_ok=True)
    export(model, out / "model.onnx", ["input_ids", "attention_mask", "token_type_ids"], ["logits"], {"logits"})
    write_json(out / "tokenizer.json", tokenizer_json(vocab, cased=True), compact=True)
    write_json(out / "config.json", hf_config("BertForTokenClassification", "bert", HF_NER_LABELS))
    references = []
    with torch.no_grad():
        for text in REFERENCE_SENTENCES:
            ref = reference_tokens(text, vocab, cased=True)
            logits = model(*batch_inputs(vocab, ref["ids"]).values())
            ref["entities"] = decode_entities(text, ref["word_ids"], ref["starts"], ref["ends"],
                                              softmax(logits[0, 1:-1]), HF_NER_LABELS, contract_type)
            references.append(ref)
    write_json(out / "reference.json", references, compact=True)
    hf_manifest("test-hf-ner", "hf-token-classification", out, {})


# ----------------------------------------------------------------------------- broken graphs


class MicroTokenClassifier(nn.Module):
    """A few hundred weights: enough for a loadable graph with a given interface."""

    def __init__(self, labels=9, dynamic_labels=False):
        super().__init__()
        self.embed = nn.Embedding(8, 4)
        self.classifier = nn.Linear(4, labels)
        self.dynamic_labels = dynamic_labels

    def forward(self, input_ids, attention_mask=None, extra=None):
        x = self.embed(input_ids.long().clamp(0, 7))
        if attention_mask is not None:
            x = x * attention_mask.unsqueeze(-1).to(x.dtype)
        if extra is not None:
            x = x + extra.sum()
        logits = self.classifier(x)
        if self.dynamic_labels:
            # A reshape to a shape computed at run time: not even ONNX Runtime's shape inference
            # knows the label dimension, so only a run can tell it.
            logits = logits.reshape(input_ids.shape[0], input_ids.shape[1], -1)
        return logits


class MicroFused(nn.Module):
    def __init__(self, entities=True):
        super().__init__()
        self.embed = nn.Embedding(8, 4)
        self.casing = nn.Linear(1, 4)
        self.heads = nn.Linear(4, 3 + 4 + 9)
        self.entities = entities

    def forward(self, input_ids, attention_mask, token_type_ids, case_ids=None):
        x = self.embed(input_ids.clamp(0, 7)) * attention_mask.unsqueeze(-1).float() + token_type_ids.unsqueeze(-1)
        if case_ids is not None:
            x = x + self.casing(case_ids.unsqueeze(-1))
        out = self.heads(x)
        pooled = out.mean(dim=1)
        result = (pooled[:, :3], pooled[:, 3:7])
        return result + (out[:, :, 7:],) if self.entities else result


def build_broken():
    torch.manual_seed(7)
    BROKEN.mkdir(parents=True, exist_ok=True)
    export(MicroTokenClassifier().eval(), BROKEN / "int32-input-ids.onnx", ["input_ids", "attention_mask"],
           ["logits"], {"logits"}, input_dtypes={"input_ids": torch.int32})
    export(MicroTokenClassifier().eval(), BROKEN / "no-attention-mask.onnx", ["input_ids"], ["logits"], {"logits"})
    export(MicroTokenClassifier().eval(), BROKEN / "extra-input.onnx", ["input_ids", "attention_mask", "pixel_values"],
           ["logits"], {"logits"}, input_dtypes={"pixel_values": torch.float32})
    path = BROKEN / "dynamic-labels.onnx"
    export(MicroTokenClassifier(dynamic_labels=True).eval(), path, ["input_ids", "attention_mask"], ["logits"],
           {"logits"})
    graph = onnx.load(str(path))
    dim = graph.graph.output[0].type.tensor_type.shape.dim[2]
    dim.Clear()
    dim.dim_param = "num_labels"
    onnx.save(graph, str(path))
    export(MicroFused().eval(), BROKEN / "fused-float-case-ids.onnx",
           ["input_ids", "attention_mask", "token_type_ids", "case_ids"],
           ["sentiment_logits", "class_logits", "entity_logits"], {"entity_logits"},
           input_dtypes={"case_ids": torch.float32})
    export(MicroFused(entities=False).eval(), BROKEN / "fused-no-entities.onnx",
           ["input_ids", "attention_mask", "token_type_ids"], ["sentiment_logits", "class_logits"], set())


def main():
    build_fused("test-fused", casing=False, seed=11)
    build_fused("test-fused-cased", casing=True, seed=12)
    build_hf_sentiment(seed=13)
    build_hf_ner(seed=14)
    build_broken()
    total = 0
    for d in [CATALOG / n for n in ("test-fused", "test-fused-cased", "test-hf-sentiment", "test-hf-ner")] + [BROKEN]:
        size = sum(f.stat().st_size for f in d.iterdir())
        total += size
        print(f"{d.relative_to(RESOURCES)}: {size} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
