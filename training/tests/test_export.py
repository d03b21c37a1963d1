"""
export.py: int8 quantize/dequantize error bound, the ONNX graph's interface (what transformers.js
needs), and reference_logits.py's prefill + step. The numerical parity of the ONNX graphs is
checked against onnxruntime on the Node side. Run from the repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import os
import sys
import tempfile
import unittest

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import export  # noqa: E402
from model import Qwen3Config, Qwen3ForCausalLM  # noqa: E402
from hf_checkpoint import save_qwen3  # noqa: E402
from reference_logits import reference  # noqa: E402


def tiny_model():
    cfg = Qwen3Config(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=8)
    torch.manual_seed(0)
    return Qwen3ForCausalLM(cfg).eval()


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


class TestInt8(unittest.TestCase):
    def test_error_bound(self):
        g = torch.Generator().manual_seed(0)
        w = torch.randn(300, 64, generator=g) * torch.rand(300, 1, generator=g) * 3
        w[7] = 0.0  # an all-zero row must not divide by zero
        q, s = export.quantize_int8(w)
        self.assertEqual(q.dtype, torch.int8)
        self.assertEqual(tuple(s.shape), (300,))
        self.assertLessEqual(int(q.abs().max()), 127)
        deq = export.dequantize_int8(q, s)
        err = (deq - w).abs()
        self.assertTrue((err <= s[:, None] / 2 * (1 + 1e-5) + 1e-12).all())  # half a step per row
        self.assertTrue(torch.equal(deq[7], w[7]))
        self.assertTrue(((deq - w).abs().amax(1) <= w.abs().amax(1) / 254 * (1 + 1e-5)).all())

    def test_dequantize_model_touches_matrices_only(self):
        m = tiny_model()
        before = {k: v.clone() for k, v in m.state_dict().items()}
        export.dequantize_model_(m)
        for k, v in m.state_dict().items():
            if v.dim() == 2:
                self.assertFalse(torch.equal(v, before[k]), k)
            else:
                self.assertTrue(torch.equal(v, before[k]), k)  # norms stay fp32


class TestGraph(unittest.TestCase):
    def check_interface(self, model_proto, cfg):
        g = model_proto.graph
        self.assertEqual([o.version for o in model_proto.opset_import if o.domain in ("", "ai.onnx")], [14])
        inputs = {i.name: i for i in g.input}
        self.assertEqual(dims(inputs["input_ids"]), ["batch_size", "sequence_length"])
        self.assertEqual(dims(inputs["num_logits_to_keep"]), [])
        self.assertEqual(inputs["num_logits_to_keep"].type.tensor_type.elem_type, TensorProto.INT64)
        for i in range(cfg.num_hidden_layers):
            for kind in ("key", "value"):
                self.assertEqual(dims(inputs[f"past_key_values.{i}.{kind}"]),
                                 ["batch_size", cfg.num_key_value_heads, "past_sequence_length", cfg.head_dim])
        outputs = [o.name for o in g.output]
        self.assertEqual(outputs[0], "logits")
        self.assertIn(f"present.{cfg.num_hidden_layers - 1}.value", outputs)
        ops = {n.op_type for n in g.node}
        self.assertFalse(ops & {"GatherBlockQuantized", "MatMulNBits", "Gemm"}, ops)
        self.assertTrue(all(n.domain in ("", "ai.onnx") for n in g.node))
        vocab_sized = [t for t in g.initializer if cfg.vocab_size in t.dims and cfg.hidden_size in t.dims]
        self.assertEqual(len(vocab_sized), 1)  # tied lm_head: one copy of the embedding
        return vocab_sized[0]

    def test_fp32_and_int8_graphs(self):
        m = tiny_model()
        emb = self.check_interface(export.build_graph(m, "fp32"), m.config)
        self.assertEqual(emb.data_type, TensorProto.FLOAT)
        q = export.build_graph(m, "int8")
        emb = self.check_interface(q, m.config)
        self.assertEqual(emb.data_type, TensorProto.INT8)
        for t in q.graph.initializer:
            if len(t.dims) == 2 and min(t.dims) > 1 and not t.name.endswith(".scale"):
                self.assertEqual(t.data_type, TensorProto.INT8, t.name)
        qe, se = export.quantize_int8(m.model.embed_tokens.weight)
        inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
        self.assertTrue((inits["model.embed_tokens.weight.int8"] == qe.numpy()).all())

    def test_q8_multiplies_uint8_weights_with_zero_point_128(self):
        # uint8 x uint8 is exact in onnxruntime's AVX2 kernel; uint8 x int8 saturates (export.py)
        m = tiny_model()
        q = export.build_graph(m, "q8")
        self.check_interface(q, m.config)
        inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
        matmuls = [n for n in q.graph.node if n.op_type == "MatMulInteger"]
        self.assertEqual(len(matmuls), 2 * 7 + 1)  # every linear and the tied head
        for n in matmuls:
            self.assertEqual(len(n.input), 4, n.name)
            self.assertEqual(inits[n.input[3]].dtype, np.uint8)
            self.assertEqual(int(inits[n.input[3]]), 128)
        qe, _ = export.quantize_int8(m.model.embed_tokens.weight)
        table = inits["model.embed_tokens.weight.u8"]
        self.assertEqual(table.dtype, np.uint8)
        self.assertTrue((table.astype(np.int16) - 128 == qe.numpy()).all())
        qd, _ = export.quantize_int8(m.model.layers[0].mlp.down_proj.weight)
        down = inits["model.layers.0.mlp.down_proj.weight.u8"]
        self.assertTrue((down.astype(np.int16) - 128 == qd.t().numpy()).all())

    def test_export_writes_the_model_folder(self):
        m = tiny_model()
        with tempfile.TemporaryDirectory() as d:
            save_qwen3(m, os.path.join(d, "ckpt"))
            export.export(os.path.join(d, "ckpt"), os.path.join(d, "out"), ["fp32", "int8"])
            names = sorted(os.listdir(os.path.join(d, "out"))) + sorted(os.listdir(os.path.join(d, "out", "onnx")))
            self.assertEqual(names, ["config.json", "generation_config.json", "onnx", "model.onnx", "model_int8.onnx"])
            onnx.checker.check_model(os.path.join(d, "out", "onnx", "model_int8.onnx"))


class TestReference(unittest.TestCase):
    def test_step_equals_full_forward(self):
        m = tiny_model()
        rows = [[5, 6, 7, 8, 9], [11, 12, 13]]
        ids = [[151643] * (5 - len(r)) + r for r in rows]
        mask = [[0] * (5 - len(r)) + [1] * len(r) for r in rows]
        prefill, step, pos, pos2 = reference(m, ids, mask, [[42], [43]])
        self.assertEqual(tuple(prefill.shape), (2, 5, m.config.vocab_size))
        self.assertEqual(tuple(step.shape), (2, 1, m.config.vocab_size))
        self.assertEqual(pos.tolist(), [[0, 1, 2, 3, 4], [1, 1, 0, 1, 2]])
        self.assertEqual(pos2.tolist(), [[5], [3]])
        for i, r in enumerate(rows):
            full, _ = m(torch.tensor([r + [42 + i]]))
            self.assertTrue(torch.allclose(step[i, 0], full[0, -1], atol=1e-5))
            self.assertTrue(torch.allclose(prefill[i, -len(r):], full[0, :-1], atol=1e-5))


if __name__ == "__main__":
    unittest.main()
