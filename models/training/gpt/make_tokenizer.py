#!/usr/bin/python3
"""Writes the default GPT model's tokenizer.json: all-MiniLM-L6-v2's uncased WordPiece tokenizer
(same normalizer, pre-tokenizer, vocabulary and decoder, so token ids equal the encoder's) with a
decoder-style post-processor: [CLS] is prepended as BOS and nothing is appended ([SEP] is the EOS
the model generates). Padding and truncation settings are cleared (the runtime sets its own).

  /usr/bin/python3 models/training/gpt/make_tokenizer.py SOURCE_TOKENIZER_JSON OUT_TOKENIZER_JSON
"""
import json
import sys


def decoder_tokenizer(source):
    t = dict(source)
    assert t["model"]["type"] == "WordPiece" and len(t["model"]["vocab"]) == 30522
    assert t["model"]["vocab"]["[CLS]"] == 101 and t["model"]["vocab"]["[SEP]"] == 102
    t["truncation"] = None
    t["padding"] = None
    t["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]}},
    }
    return t


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        tok = decoder_tokenizer(json.load(f))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
        f.write("\n")
