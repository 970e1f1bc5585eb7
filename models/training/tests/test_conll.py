"""Unit tests of the BIO conversion, sub-token labelling and entity scoring.

Run from models/training: /usr/bin/python3 -m unittest discover -s tests
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import conll  # noqa: E402


class Iob1ToBioTest(unittest.TestCase):
    def test_entity_starts_get_b(self):
        self.assertEqual(conll.iob1_to_bio(["I-ORG", "O", "I-MISC", "O", "I-PER", "I-PER"]),
                         ["B-ORG", "O", "B-MISC", "O", "B-PER", "I-PER"])

    def test_b_between_adjacent_entities_of_one_type_is_kept(self):
        self.assertEqual(conll.iob1_to_bio(["I-LOC", "I-LOC", "B-LOC", "I-LOC"]),
                         ["B-LOC", "I-LOC", "B-LOC", "I-LOC"])

    def test_type_change_starts_an_entity(self):
        self.assertEqual(conll.iob1_to_bio(["I-PER", "I-ORG", "I-ORG"]), ["B-PER", "B-ORG", "I-ORG"])

    def test_both_schemes_decode_to_the_same_entities(self):
        iob1 = ["I-ORG", "I-ORG", "B-ORG", "O", "I-PER", "I-LOC"]
        self.assertEqual(conll.chunks(iob1), conll.chunks(conll.iob1_to_bio(iob1)))
        self.assertEqual(conll.chunks(iob1), [("ORG", 0, 2), ("ORG", 2, 3), ("PER", 4, 5), ("LOC", 5, 6)])


class SubTokenTest(unittest.TestCase):
    words = ["EU", "rejects", "U.S.", "lamb"]
    # [CLS] eu rejects u . s . lamb [SEP] with spans in "EU rejects U.S. lamb"
    spans = [(-1, -1), (0, 2), (3, 10), (11, 12), (12, 13), (13, 14), (14, 15), (16, 20), (-1, -1)]

    def test_token_word_index_maps_spans_to_words(self):
        self.assertEqual(conll.token_word_index(self.spans, self.words), [-1, 0, 1, 2, 2, 2, 2, 3, -1])

    def test_first_subtoken_gets_word_tag_continuations_get_i(self):
        tw = conll.token_word_index(self.spans, self.words)
        self.assertEqual(conll.token_labels(["B-ORG", "O", "B-LOC", "O"], tw),
                         ["O", "B-ORG", "O", "B-LOC", "I-LOC", "I-LOC", "I-LOC", "O", "O"])

    def test_word_tags_come_from_first_subtoken(self):
        tw = conll.token_word_index(self.spans, self.words)
        pred = ["O", "B-ORG", "O", "B-LOC", "O", "B-PER", "O", "I-MISC", "O"]
        self.assertEqual(conll.first_subtoken_tags(pred, tw, 4), ["B-ORG", "O", "B-LOC", "I-MISC"])

    def test_words_without_tokens_are_o(self):
        # truncation cut the last word off
        tw = conll.token_word_index(self.spans[:5] + [(-1, -1)], self.words)
        self.assertEqual(conll.first_subtoken_tags(["O", "B-ORG", "O", "B-LOC", "I-LOC", "O"], tw, 4),
                         ["B-ORG", "O", "B-LOC", "O"])

    def test_word_spans(self):
        self.assertEqual(conll.word_spans(self.words), [(0, 2), (3, 10), (11, 15), (16, 20)])


class EntityScoreTest(unittest.TestCase):
    def test_exact_match_only(self):
        gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
        pred = [["B-PER", "O", "O", "B-LOC"], ["B-MISC", "O"]]
        r = conll.entity_prf(gold, pred)
        # one of three predicted entities is right (LOC); PER has a wrong end, ORG the wrong type
        self.assertAlmostEqual(r["precision"], 1 / 3)
        self.assertAlmostEqual(r["recall"], 1 / 3)
        self.assertAlmostEqual(r["f1"], 1 / 3)
        self.assertEqual(r["per_type"]["LOC"]["f1"], 1.0)
        self.assertEqual(r["per_type"]["PER"]["f1"], 0.0)

    def test_perfect_and_empty(self):
        gold = [["B-PER", "I-PER", "O"]]
        self.assertEqual(conll.entity_prf(gold, gold)["f1"], 1.0)
        r = conll.entity_prf(gold, [["O", "O", "O"]])
        self.assertEqual((r["precision"], r["recall"], r["f1"]), (0.0, 0.0, 0.0))

    def test_stray_i_opens_an_entity(self):
        self.assertEqual(conll.chunks(["O", "I-PER", "I-PER", "B-PER", "I-LOC"]),
                         [("PER", 1, 3), ("PER", 3, 4), ("LOC", 4, 5)])


if __name__ == "__main__":
    unittest.main()
