"""Unit tests of the fine-tuning tooling's data handling and int8 compression.

Run from models/training/finetune: /usr/bin/python3 -m unittest discover -s tests
"""
import json
import os
import random
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import data  # noqa: E402
import export  # noqa: E402
import minilm  # noqa: E402
import topic_branch  # noqa: E402
import topic_lexical  # noqa: E402
import torch  # noqa: E402


class BatchesTest(unittest.TestCase):
    def test_every_item_once_within_budget(self):
        rng = random.Random(3)
        lengths = [rng.randint(3, 90) for _ in range(500)]
        out = data.batches(lengths, 512, 16, random.Random(1))
        seen = sorted(i for b in out for i in b)
        self.assertEqual(seen, list(range(500)))
        for b in out:
            self.assertLessEqual(len(b), 16)
            if len(b) > 1:
                self.assertLessEqual(len(b) * max(lengths[i] for i in b), 512)

    def test_an_item_longer_than_the_budget_runs_alone(self):
        out = data.batches([10, 600, 12], 512, 16, random.Random(1))
        self.assertIn([1], out)

    def test_fractional_epochs(self):
        picks = data.sample_epochs(10, 2.5, random.Random(0))
        self.assertEqual(len(picks), 25)
        self.assertEqual(sorted(picks[:10]), list(range(10)))
        self.assertEqual(sorted(picks[10:20]), list(range(10)))
        self.assertEqual(len(set(picks[20:])), 5)


class CaseIdTest(unittest.TestCase):
    """The classes of io.nlpstream.models.tokenizer.Casing (see its Javadoc examples)."""

    def test_classes(self):
        cases = {"42": 0, ",": 0, "東京": 0, "paris": 1, "ing": 1, "Paris": 2, "A": 2, "O'neil": 2,
                 "NASA": 3, "UK": 3, "iPhone": 4, "McDonald": 4}
        for text, want in cases.items():
            self.assertEqual(data.case_id(text), want, text)

    def test_word_piece_continuations_use_their_own_span(self):
        text = "McDonald"
        spans = [(0, 1), (1, 2), (2, 5), (5, 8)]  # m ##c ##don ##ald
        self.assertEqual([data.case_id(text[s:e]) for s, e in spans], [2, 1, 2, 1])


class LoadTest(unittest.TestCase):
    def write_set(self, work, name, texts, ids, spans, meta):
        os.makedirs(os.path.join(work, "inputs"), exist_ok=True)
        os.makedirs(os.path.join(work, "ids"), exist_ok=True)
        with open(os.path.join(work, "inputs", name + ".txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(texts) + "\n")
        with open(os.path.join(work, "inputs", name + ".json"), "w", encoding="utf-8") as f:
            json.dump(dict(meta, count=len(texts)), f)
        base = os.path.join(work, "ids", name)
        np.array([len(x) for x in ids], dtype="<i4").tofile(base + ".len")
        np.array([t for x in ids for t in x], dtype="<i4").tofile(base + ".ids")
        np.array([s for x in spans for s in x], dtype="<i4").reshape(-1, 2).tofile(base + ".spans")

    def test_entities_get_labels_on_every_sub_token_and_case_ids_from_spans(self):
        with tempfile.TemporaryDirectory() as work:
            # "EU rejects McDonald" -> [CLS] eu rejects m ##c ##don ##ald [SEP]
            words = ["EU", "rejects", "McDonald"]
            spans = [(-1, -1), (0, 2), (3, 10), (11, 12), (12, 13), (13, 16), (16, 19), (-1, -1)]
            self.write_set(work, "s", [" ".join(words)], [[101, 7, 8, 9, 10, 11, 12, 102]], [spans],
                           {"words": [words], "tags": [["B-ORG", "O", "B-PER"]]})
            ex = data.load(work, "s")
            labels = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
            self.assertEqual([labels[i] for i in ex.token_labels[0]],
                             ["O", "B-ORG", "O", "B-PER", "I-PER", "I-PER", "I-PER", "O"])
            self.assertEqual(ex.cases[0].tolist(), [0, 3, 1, 2, 1, 2, 1, 0])

    def test_truncation_keeps_the_separator(self):
        with tempfile.TemporaryDirectory() as work:
            ids = [101] + list(range(1000, 1010)) + [102]
            spans = [(-1, -1)] + [(i, i + 1) for i in range(10)] + [(-1, -1)]
            self.write_set(work, "t", ["abcdefghij"], [ids], [spans], {"labels": [2]})
            ex = data.load(work, "t", max_tokens=6)
            self.assertEqual(ex.ids[0].tolist(), [101, 1000, 1001, 1002, 1003, 102])
            self.assertEqual(ex.cases[0].tolist(), [0, 1, 1, 1, 1, 0])


class QuantizeTest(unittest.TestCase):
    def graph(self, path, w, table):
        nodes = [helper.make_node("Gather", ["table", "ids"], ["emb"], axis=0),
                 helper.make_node("MatMul", ["emb", "w"], ["y"])]
        g = helper.make_graph(
            nodes, "g",
            [helper.make_tensor_value_info("ids", TensorProto.INT64, ["b", "s"])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "s", w.shape[1]])],
            [numpy_helper.from_array(table, "table"), numpy_helper.from_array(w, "w")])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), path)

    def check(self, dequantize):
        rng = np.random.RandomState(0)
        w = rng.standard_normal((128, 256)).astype(np.float32)
        w[:, 3] *= 40  # one column with large values must not cost the others their precision
        table = rng.standard_normal((10000, 128)).astype(np.float32) * 0.05
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "a.onnx"), os.path.join(d, "b.onnx")
            self.graph(src, w, table)
            summary = export.quantize(src, dst, dequantize=dequantize)
            m = onnx.load(dst)
        inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
        self.assertEqual(summary["matmul_params"], w.size)
        self.assertEqual(summary["embedding_params"], table.size)
        self.assertNotIn("w", inits)
        self.assertNotIn("table", inits)
        self.assertEqual(inits["w_int8"].dtype, np.int8)
        self.assertEqual(inits["table_int8"].dtype, np.int8)
        back = inits["w_int8"].astype(np.float32) * inits["w_scale"]
        # per-column scale: each column's error is at most half its own step
        self.assertTrue(np.all(np.abs(back - w) <= inits["w_scale"] / 2 + 1e-7))
        self.assertLess(np.abs(back[:, 0] - w[:, 0]).max(), 0.05)
        rows = inits["table_int8"].astype(np.float32) * inits["table_row_scale"][:, None]
        self.assertTrue(np.all(np.abs(rows - table) <= inits["table_row_scale"][:, None] / 2 + 1e-7))
        ops = [n.op_type for n in m.graph.node]
        self.assertNotIn("DequantizeLinear" if dequantize != "DequantizeLinear" else "Nothing", ops)
        return ops

    def test_dequantize_linear(self):
        ops = self.check("DequantizeLinear")
        self.assertIn("DequantizeLinear", ops)

    def test_cast_mul(self):
        ops = self.check("CastMul")
        self.assertEqual(ops.count("Cast"), 2)  # the MatMul weight and the gathered table rows

    def test_matmul_integer(self):
        ops = self.check("MatMulInteger")
        self.assertNotIn("MatMul", ops)
        self.assertEqual(ops.count("MatMulInteger"), 1)
        self.assertEqual(ops.count("DynamicQuantizeLinear"), 1)

    def test_int4_table_rows_as_stored(self):
        rng = np.random.RandomState(2)
        w = rng.standard_normal((64, 128)).astype(np.float32)
        table = rng.standard_normal((10000, 64)).astype(np.float32) * 0.05
        table[7, :32] *= 30  # a large group keeps its neighbours' precision
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "a.onnx"), os.path.join(d, "b.onnx")
            self.graph(src, w, table)
            summary = export.quantize(src, dst, dequantize="MatMulInteger", table_bits=4)
            m = onnx.load(dst)
        inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
        self.assertEqual(summary["embedding_int4_params"], table.size)
        self.assertEqual(inits["table_int4"].shape, (10000, 32))
        self.assertEqual(inits["table_group_scale"].shape, (10000, 2))
        back = minilm.unpack_int4_table(inits["table_int4"], inits["table_group_scale"])
        step = np.repeat(inits["table_group_scale"].astype(np.float32), 32, axis=1)
        self.assertTrue(np.all(np.abs(back - table) <= step / 2 + 1e-6))
        self.assertLess(np.abs(back[7, 32:] - table[7, 32:]).max(), 0.05)
        # the graph's own unpacking (float nibble arithmetic) against the stored values, by a tiny
        # evaluator of the node list for the ops it uses
        ids = np.array([[7, 0, 9999]], dtype=np.int64)
        env = dict(inits, ids=ids)
        for n in m.graph.node:
            a = [env[i] for i in n.input]
            attrs = {x.name: helper.get_attribute_value(x) for x in n.attribute}
            if n.op_type == "Gather" and n.output[0] != "emb_int8":
                r = np.take(a[0], a[1], axis=attrs.get("axis", 0))
            elif n.op_type == "Cast":
                r = a[0].astype(np.float32)
            elif n.op_type in ("Div", "Mul", "Sub"):
                r = {"Div": np.divide, "Mul": np.multiply, "Sub": np.subtract}[n.op_type](a[0], a[1])
            elif n.op_type == "Floor":
                r = np.floor(a[0])
            elif n.op_type == "Unsqueeze":
                r = np.expand_dims(a[0], tuple(a[1]))
            elif n.op_type == "Concat":
                r = np.concatenate(a, axis=attrs["axis"])
            elif n.op_type == "Reshape":
                r = a[0].reshape([a[0].shape[i] if v == 0 else v for i, v in enumerate(a[1])])
            else:
                break  # the MatMul part
            env[n.output[0]] = r
        self.assertTrue(np.array_equal(env["emb"][0], back[ids[0]]))

    def test_matmul_integer_quantizes_a_shared_activation_once(self):
        rng = np.random.RandomState(1)
        ws = [rng.standard_normal((128, 128)).astype(np.float32) for _ in range(3)]
        nodes = [helper.make_node("MatMul", ["x", f"w{i}"], [f"y{i}"]) for i in range(3)]
        g = helper.make_graph(
            nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 128])],
            [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, ["b", 128]) for i in range(3)],
            [numpy_helper.from_array(w, f"w{i}") for i, w in enumerate(ws)])
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "a.onnx"), os.path.join(d, "b.onnx")
            onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), src)
            export.quantize(src, dst, dequantize="MatMulInteger")
            ops = [n.op_type for n in onnx.load(dst).graph.node]
        self.assertEqual(ops.count("DynamicQuantizeLinear"), 1)  # as for a layer's query, key and value
        self.assertEqual(ops.count("MatMulInteger"), 3)


class LexicalExpertTest(unittest.TestCase):
    def test_piece_grams_leave_out_cls_sep_and_hash_bigrams_past_the_vocabulary(self):
        grams = topic_lexical.piece_grams(np.array([101, 2000, 2001, 2002, 102]), 64)
        self.assertEqual(grams[:3], [2000, 2001, 2002])
        self.assertEqual(len(grams), 5)  # 3 unigrams, 2 bigrams
        self.assertTrue(all(minilm.VOCAB <= g < minilm.VOCAB + 64 for g in grams[3:]))

    def test_features_have_unit_norm_without_repeats_and_ignore_unseen_grams(self):
        grams = [["a", "b"], ["b", "c"], ["a", "c", "d"], ["a", "z", "b"]]
        for kind in ("word12", "wp12"):
            x = topic_lexical.tfidf(grams, [0, 1, 2], [0, 1, 2, 3], kind)
            self.assertEqual(x.shape, (4, 4))  # a, b, c, d: "z" was never seen in training
            np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-6)
            # "d" is rarer than "a" in the training rows, so it weighs more in row 2
            self.assertGreater(x[2, 3], x[2, 0])
            # the unseen "z" does not change row 3's features: it reads as "a b"
            np.testing.assert_allclose(x[3], topic_lexical.tfidf(grams[:3] + [["a", "b"]], [0, 1, 2], [3], kind)[0])


class TopicBranchBatchesTest(unittest.TestCase):
    def test_plain_batches_keep_the_order(self):
        order = np.array([4, 0, 3, 1, 2])
        got = topic_branch.batches(order, [1] * 5, 2, 0, np.random.RandomState(0))
        self.assertEqual([b.tolist() for b in got], [[4, 0], [3, 1], [2]])

    def test_bucketed_batches_cover_every_row_once_and_pad_less(self):
        rng = np.random.RandomState(1)
        lengths = rng.randint(5, 200, size=101).tolist()
        order = rng.permutation(101)
        got = topic_branch.batches(order, lengths, 8, 4, np.random.RandomState(2))
        self.assertEqual(sorted(np.concatenate(got).tolist()), list(range(101)))
        self.assertTrue(all(len(b) <= 8 for b in got))
        plain = topic_branch.batches(order, lengths, 8, 0, None)

        def padded(bs):
            return sum(len(b) * max(lengths[i] for i in b) for b in bs)
        self.assertLess(padded(got), padded(plain))
        # rows are sorted by length only within a run of 4 batches, never across runs
        runs = [set(order[s:s + 32].tolist()) for s in range(0, 101, 32)]
        self.assertTrue(all(any(set(b.tolist()) <= r for r in runs) for b in got))


class LinearProbeInitTest(unittest.TestCase):
    def test_the_linear_layer_starts_fitted_to_the_training_rows(self):
        torch.manual_seed(0)
        rng = np.random.RandomState(3)
        y = np.tile(np.arange(len(minilm.CLASS_LABELS)), 10)
        centres = rng.normal(size=(len(minilm.CLASS_LABELS), minilm.HIDDEN)).astype(np.float32)
        states = [torch.from_numpy(centres[c] + 0.5 * rng.normal(size=(6, minilm.HIDDEN)).astype(np.float32)) for c in y]
        ids = [np.full(6, 2000 + i, dtype=np.int64) for i in range(len(y))]
        topic = minilm.TopicHead((11,), bow=True, branch=1, dropout=0.1)
        train = np.arange(len(y))
        before = topic_branch.predict(topic, states, ids, train)
        batches = (topic_branch.padded(states, ids, train[s:s + 16]) for s in range(0, len(train), 16))
        topic_branch.linear_probe_init(topic, ((h, m) for h, _, m in batches), y[train], 0.01)
        after = topic_branch.predict(topic, states, ids, train)
        self.assertEqual((after.argmax(1) == y).mean(), 1.0)
        self.assertLess(-after[train, y].mean(), -before[train, y].mean())


class BundleRoundTripTest(unittest.TestCase):
    """A fused bundle graph loads back into the torch model it was exported from (continuation runs
    start from catalogue bundles)."""

    def test_fp32_exact_and_int8_within_its_steps(self):
        torch.manual_seed(0)
        model = minilm.MultiTask(casing=True, layers=2).eval()
        with torch.no_grad():  # distinct values everywhere: the exporter merges equal initializers
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        with tempfile.TemporaryDirectory() as d:
            fp32, int8 = os.path.join(d, "model.fp32.onnx"), os.path.join(d, "model.onnx")
            export.export_fp32(model, fp32)
            export.quantize(fp32, int8)
            exact = minilm.load_bundle(fp32).eval()
            approx = minilm.load_bundle(int8)
        self.assertEqual(len(exact.encoder.layers), 2)
        want = model.state_dict()
        for name, value in exact.state_dict().items():
            self.assertTrue(torch.equal(value, want[name]), name)
        for name, value in approx.state_dict().items():
            step = want[name].abs().max() / 127
            self.assertLessEqual(float((value - want[name]).abs().max()), float(step) / 2 + 1e-6, name)
        ids = torch.tensor([[101, 2000, 2001, 102]])
        m = torch.ones_like(ids)
        with torch.no_grad():
            a = model(ids, m, torch.zeros_like(ids), torch.ones_like(ids))
            b = exact(ids, m, torch.zeros_like(ids), torch.ones_like(ids))
        for x, y in zip(a, b):
            self.assertTrue(torch.allclose(x, y, atol=1e-5))

    def test_topic_head_and_matmul_integer_form(self):
        self.round_trip(minilm.TopicHead([1, 2]), (1, 2), 0)

    def test_equal_mix_weights_stored_once_load_back(self):
        # the exporter keeps one of two equal initializers and names the other through an Identity
        self.round_trip(minilm.TopicHead([2]), (2,), 0, mix=0.5)

    def test_topic_branch_reads_one_layer_and_runs_its_own(self):
        self.round_trip(minilm.TopicHead([1], branch=2), (1,), 2)
        with self.assertRaises(ValueError):
            minilm.TopicHead([1, 2], branch=1)

    def test_int4_branch_expands_to_int8_matmuls_and_loads_back_within_its_steps(self):
        approx, want, ops = self.round_trip(minilm.TopicHead([1], branch=2), (1,), 2, branch_bits=4)
        # shared encoder and branch, 2 layers each: query, key, value, dense, intermediate, output
        self.assertEqual(ops.count("MatMulInteger"), 2 * 2 * 6)
        self.assertEqual(ops.count("Round"), 2 * 6)  # one int8 step per branch weight, folded at load
        checked = 0
        for name, value in approx.state_dict().items():
            if name.startswith("topic.branch.") and name.endswith(".weight") and value.ndim == 2:
                w = want[name].numpy().T  # [in, out], blocks of 64 inputs per output column
                blocks = w.reshape(w.shape[0] // 64, 64, w.shape[1])
                step4 = np.repeat(np.abs(blocks).max(axis=1) / 7, 64, axis=0)
                back = minilm.unpack_int4_blocks(*export.int4_blocks(w, 64))
                step8 = np.abs(back).max(axis=0) / 127
                err = np.abs(value.numpy().T - w)
                self.assertTrue(np.all(err <= step4 * 1.001 / 2 + step8 / 2 + 1e-6), name)
                self.assertGreater(err.max(), (np.abs(w).max() / 127) / 2, name)  # coarser than int8
                checked += 1
        self.assertEqual(checked, 2 * 6)

    def test_int4_blocks_pack_row_pairs_high_nibble_first(self):
        w = np.zeros((64, 2), dtype=np.float32)
        w[0, 0], w[1, 0], w[63, 1] = 7.0, -7.0, 3.5  # scales 1 and 0.5: exact in float16
        packed, scale = export.int4_blocks(w, 64)
        self.assertEqual(packed.shape, (32, 2))
        self.assertEqual(scale.shape, (1, 2))
        self.assertEqual(int(packed[0, 0]), 15 * 16 + 1)  # q + 8: 15 (row 0) high, 1 (row 1) low
        self.assertEqual(int(packed[31, 1]), 8 * 16 + 15)
        self.assertTrue(np.array_equal(minilm.unpack_int4_blocks(packed, scale), w))

    def round_trip(self, topic, layers, branch, mix=None, branch_bits=8):
        torch.manual_seed(1)
        model = minilm.MultiTask(casing=False, layers=2)
        model.set_topic_head(topic)
        model.eval()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
            if mix is not None:
                topic.pool_weight.fill_(mix)
                topic.bow_weight.fill_(mix)
        with tempfile.TemporaryDirectory() as d:
            fp32, int8 = os.path.join(d, "model.fp32.onnx"), os.path.join(d, "model.onnx")
            export.export_fp32(model, fp32)
            export.quantize(fp32, int8, dequantize="MatMulInteger", branch_bits=branch_bits)
            exact = minilm.load_bundle(fp32).eval()
            approx = minilm.load_bundle(int8).eval()
            ops = [n.op_type for n in onnx.load(int8).graph.node]
        self.assertEqual(exact.topic.layers, layers)
        self.assertEqual(approx.topic.layers, layers)
        self.assertEqual(len(exact.topic.branch), branch)
        self.assertEqual(len(approx.topic.branch), branch)
        want = model.state_dict()
        for name, value in exact.state_dict().items():
            if not name.startswith("classes."):  # the probe replaced the linear head: not exported
                self.assertTrue(torch.equal(value, want[name]), name)
        for name, value in approx.state_dict().items():
            if not name.startswith("classes.") and not (branch_bits == 4 and name.startswith("topic.branch.")):
                step = want[name].abs().max() / 127
                self.assertLessEqual(float((value - want[name]).abs().max()), float(step) / 2 + 1e-6, name)
        ids = torch.tensor([[101, 2000, 2001, 2002, 102], [101, 2003, 102, 0, 0]])
        m = (ids != 0).long()
        with torch.no_grad():
            a = model(ids, m, torch.zeros_like(ids))
            b = exact(ids, m, torch.zeros_like(ids))
        for x, y in zip(a, b):
            self.assertTrue(torch.allclose(x, y, atol=1e-5))
        self.assertFalse(torch.allclose(a[1], model.classes(model.pooled(model.hidden(ids, m, torch.zeros_like(ids)), m))))
        return approx, want, ops


if __name__ == "__main__":
    unittest.main()
