import os
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import float16  # noqa: E402


class StoreFloat16Test(unittest.TestCase):
    def test_large_weights_stored_half_and_cast_back_small_ones_kept(self):
        rng = np.random.RandomState(0)
        w = rng.standard_normal((64, 32)).astype(np.float32)
        b = rng.standard_normal(32).astype(np.float32)
        g = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 64])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 32])],
            [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "a.onnx"), os.path.join(d, "b.onnx")
            onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), src)
            summary = float16.store_float16(src, dst)
            m = onnx.load(dst)
        self.assertEqual(summary["converted"], 1)
        self.assertLess(summary["bytes_after"], summary["bytes_before"])
        inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
        self.assertEqual(set(inits), {"w_fp16", "b"})
        self.assertEqual(inits["w_fp16"].dtype, np.float16)
        self.assertEqual(inits["b"].dtype, np.float32)
        self.assertTrue(np.all(np.abs(inits["w_fp16"].astype(np.float32) - w) <= np.abs(w) * 2.0 ** -11 + 1e-7))
        cast = m.graph.node[0]
        self.assertEqual((cast.op_type, list(cast.input), list(cast.output)), ("Cast", ["w_fp16"], ["w"]))
        self.assertEqual(helper.get_attribute_value(cast.attribute[0]), TensorProto.FLOAT)
        self.assertEqual([n.op_type for n in m.graph.node[1:]], ["MatMul", "Add"])

    def test_values_beyond_the_float16_range_refuse(self):
        w = np.full((64, 32), 1e6, dtype=np.float32)
        g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 32])],
                              [numpy_helper.from_array(w, "w")])
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "a.onnx")
            onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), src)
            with self.assertRaisesRegex(ValueError, "float16 range"):
                float16.store_float16(src, os.path.join(d, "b.onnx"))


if __name__ == "__main__":
    unittest.main()
