"""CoNLL-2003 reading, IOB1 -> BIO conversion, sub-token labelling and CoNLL entity scoring.

Pure Python (no numpy/torch) so that the unit tests in tests/ can exercise it directly.
"""

ENTITY_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
LABEL_ID = {label: i for i, label in enumerate(ENTITY_LABELS)}


def read_conll(path):
    """Sentences of a CoNLL-2003 file as (words, tags) with the file's own (IOB1) NER tags.

    -DOCSTART- lines are document markers, not sentences, and are skipped.
    """
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            cols = line.split(" ")
            if cols[0] == "-DOCSTART-":
                continue
            words.append(cols[0])
            tags.append(cols[-1])
    if words:
        sentences.append((words, tags))
    return sentences


def iob1_to_bio(tags):
    """IOB1 (B- only between two adjacent entities of one type) to BIO/IOB2 (B- on every start)."""
    out = []
    prev = "O"
    for tag in tags:
        if tag == "O":
            out.append("O")
        else:
            prefix, etype = tag.split("-", 1)
            starts = prefix == "B" or prev == "O" or prev.split("-", 1)[1] != etype
            out.append(("B-" if starts else "I-") + etype)
        prev = out[-1]
    return out


def word_spans(words):
    """Character spans of the words in ' '.join(words)."""
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w)))
        pos += len(w) + 1
    return spans


def token_word_index(token_spans, words):
    """For each token, the index of the word its span starts in, or -1 (special tokens, no span).

    token_spans are (start, end) character offsets in ' '.join(words), (-1, -1) for special tokens.
    """
    spans = word_spans(words)
    out = []
    w = 0
    for start, end in token_spans:
        if start < 0:
            out.append(-1)
            continue
        while w + 1 < len(spans) and start >= spans[w + 1][0]:
            w += 1
        while w > 0 and start < spans[w][0]:
            w -= 1
        out.append(w if spans[w][0] <= start < spans[w][1] else -1)
    return out


def token_labels(bio_tags, token_word):
    """Token-level BIO labels: a word's first sub-token takes the word's tag, its continuation
    sub-tokens I-<type> (O for O words); special tokens are O."""
    labels, seen = [], set()
    for w in token_word:
        if w < 0:
            labels.append("O")
        elif w not in seen:
            seen.add(w)
            labels.append(bio_tags[w])
        else:
            tag = bio_tags[w]
            labels.append("O" if tag == "O" else "I-" + tag.split("-", 1)[1])
    return labels


def first_subtoken_tags(token_tags, token_word, n_words):
    """Word tags from token predictions via each word's first sub-token (O if it has none, e.g.
    a word cut off by truncation)."""
    tags = ["O"] * n_words
    seen = set()
    for tag, w in zip(token_tags, token_word):
        if w >= 0 and w not in seen:
            seen.add(w)
            tags[w] = tag
    return tags


def chunks(tags):
    """Entities (type, start, end_exclusive) in a tag sequence, decoded as conlleval does: an
    I-X that follows O or another type opens a new entity (so IOB1 and BIO both decode)."""
    out = []
    etype, start = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        if tag == "O":
            prefix, t = "O", None
        else:
            prefix, t = tag.split("-", 1)
        ends = etype is not None and (prefix == "O" or prefix == "B" or t != etype)
        if ends:
            out.append((etype, start, i))
            etype, start = None, None
        if prefix != "O" and (prefix == "B" or etype is None):
            etype, start = t, i
    return out


def entity_prf(gold_sequences, pred_sequences):
    """Exact-match entity precision/recall/F1 (type and both boundaries), micro over all
    sentences, plus per-type figures, as conlleval computes them."""
    tp = fp = fn = 0
    per_type = {}
    for gold, pred in zip(gold_sequences, pred_sequences):
        g, p = set(chunks(gold)), set(chunks(pred))
        for e in g | p:
            stats = per_type.setdefault(e[0], [0, 0, 0])
            if e in g and e in p:
                stats[0] += 1
            elif e in p:
                stats[1] += 1
            else:
                stats[2] += 1
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)

    def prf(t, f_p, f_n):
        precision = t / (t + f_p) if t + f_p else 0.0
        recall = t / (t + f_n) if t + f_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "gold": t + f_n, "predicted": t + f_p}

    result = prf(tp, fp, fn)
    result["per_type"] = {k: prf(*v) for k, v in sorted(per_type.items())}
    return result
