#!/usr/bin/python3
"""Unlabelled news items for self-training the topic branch (topic_branch.py ``--unlabelled``).

CoNLL-2003's training file is Reuters newswire from 1996, 946 documents, each a headline, often a
byline and a dateline ("BRUSSELS 1996-08-22"), then the story: much what an AG News row is (a
Reuters-style title and its lead). Each document becomes one item "<headline>. <first sentence of
the story>", in AG News's form; its words are joined back without the tokenisation's spaces before
punctuation. Only eng.train is read (eng.testa stays the entity dev split), and no label of it is
used: the topic labels are the teacher's predictions.

  /usr/bin/python3 news_docs.py <data dir> <work dir>   -> <work>/inputs/news_docs.{txt,json}
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import prepare_data  # noqa: E402

DATELINE = re.compile(r"^[A-Z][A-Za-z .,'-]* \d{4}-\d\d-\d\d$")
MIN_LEAD_WORDS = 8


def documents(path):
    """Each document of a CoNLL-2003 file as its list of sentences (lists of words)."""
    docs, doc, words = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("-DOCSTART-"):
                if doc:
                    docs.append(doc)
                doc = []
            elif not line:
                if words:
                    doc.append(words)
                words = []
            else:
                words.append(line.split(" ")[0])
    if words:
        doc.append(words)
    if doc:
        docs.append(doc)
    return docs


def detokenize(words):
    text = " ".join(words)
    text = re.sub(r" ([.,:;!?%)])", r"\1", text)
    text = re.sub(r"([($]) ", r"\1", text)
    return re.sub(r" ('s|n't|'re|'ve|'ll|'d)\b", r"\1", text)


def item(doc):
    """``headline. lead`` or None when the document has no story sentence (results tables)."""
    headline = detokenize(doc[0])
    for words in doc[1:]:
        text = detokenize(words)
        if len(words) >= MIN_LEAD_WORDS and not DATELINE.match(text):
            sep = " " if headline[-1:] in ".!?" else ". "
            return headline + sep + text
    return None


def main():
    data, work = sys.argv[1], sys.argv[2]
    docs = documents(os.path.join(data, "conll2003", "eng.train"))
    texts = [t for t in (item(d) for d in docs) if t]
    os.makedirs(os.path.join(work, "inputs"), exist_ok=True)
    prepare_data.write(os.path.join(work, "inputs"), "news_docs", texts,
                       {"labels": [0] * len(texts), "source": "conll2003/eng.train", "documents": len(docs),
                        "note": "labels are placeholders: unlabelled"})


if __name__ == "__main__":
    main()
