"""
export.py's 4-bit path: block quantization (layout MatMulNBits reads, error bound), the q4/q4f16
graphs' interface, and fp32 with ONNX external data. Numerical parity of these graphs against
PyTorch runs in onnxruntime on the Node side (test/pipeline/train-export-parity.test.ts). Run from
the repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import json
import os
import sys
import tempfile
import unittest

import onnx
import torch
from onnx import TensorProto

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import export  # noqa: E402
from model import Qwen3Config, Qwen3ForCausalLM  # noqa: E402
from hf_checkpoint import save_qwen3  # noqa: E402


def tiny_model(hidden=48):
    # hidden 48 with block 32: the last block is padded, which the lookup must slice off
    cfg = Qwen3Config(hidden_size=hidden, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=8)
    torch.manual_seed(0)
    return Qwen3ForCausalLM(cfg).eval()


class TestQ4(unittest.TestCase):
    def test_layout_and_error_bound(self):
        g = torch.Generator().manual_seed(0)
        w = torch.randn(40, 72, generator=g) * torch.rand(40, 1, generator=g) * 3
        w[3] = 0.0
        packed, scales = export.quantize_q4(w, block=32)
        self.assertEqual((packed.dtype, tuple(packed.shape)), (torch.uint8, (40, 3, 16)))
        self.assertEqual(tuple(scales.shape), (40, 3))
        deq = export.dequantize_q4(packed, scales, 72)
        self.assertEqual(tuple(deq.shape), (40, 72))
        self.assertTrue(torch.equal(deq[3], w[3]))
        # within half a step, except values beyond +7 steps (the side opposite the block's peak,
        # clamped to 7): within one step
        blocks = torch.nn.functional.pad(w, (0, 24)).view(40, 3, 32)
        err = (torch.nn.functional.pad(deq, (0, 24)).view(40, 3, 32) - blocks).abs()
        step = scales.abs()[..., None]
        inside = (blocks / scales[..., None]) <= 7.5
        self.assertTrue((err[inside] <= (step / 2 * (1 + 1e-5) + 1e-12).expand_as(err)[inside]).all())
        self.assertTrue((err <= step * (1 + 1e-5) + 1e-12).all())
        # low nibble = even column (MatMulNBits' order), zero point 8
        i, k = 5, 10
        byte = int(packed[i, 0, k // 2])
        self.assertAlmostEqual(deq[i, k].item(), ((byte & 15) - 8) * scales[i, 0].item(), places=6)
        self.assertAlmostEqual(deq[i, k + 1].item(), ((byte >> 4) - 8) * scales[i, 0].item(), places=6)

    def test_f16_scales(self):
        w = torch.randn(8, 64)
        packed, scales = export.quantize_q4(w, scale_dtype=torch.float16)
        self.assertEqual(scales.dtype, torch.float16)
        self.assertLess((export.dequantize_q4(packed, scales, 64) - w).abs().max().item(),
                        w.abs().max().item() / 8)

    def test_dequantize_model_touches_matrices_only(self):
        m = tiny_model()
        before = {k: v.clone() for k, v in m.state_dict().items()}
        export.dequantize_for(m, "q4f16", q4_head_bits=4)
        for k, v in m.state_dict().items():
            self.assertEqual(torch.equal(v, before[k]), v.dim() != 2, k)


class TestQ4Graphs(unittest.TestCase):
    def test_interfaces(self):
        m = tiny_model()
        for dtype, float_type in (("q4", TensorProto.FLOAT), ("q4f16", TensorProto.FLOAT16)):
            g = export.build_graph(m, dtype).graph
            ops = [n.op_type for n in g.node]
            self.assertNotIn("GatherBlockQuantized", ops)  # onnxruntime-web WASM lacks it
            nbits = [n for n in g.node if n.op_type == "MatMulNBits"]
            self.assertTrue(all(n.domain == "com.microsoft" for n in nbits))
            # 7 linears per layer in 4 bits; the lookup and the tied lm_head share one 8-bit table
            # (uint8, zero point 128), the head multiplying as integers
            self.assertEqual(len(nbits), 2 * 7, dtype)
            self.assertEqual(ops.count("MatMulInteger"), 1)
            table = "model.embed_tokens.weight.u8"
            self.assertEqual(sum(1 for i in g.initializer if i.name == table), 1)
            self.assertIn(table, [n.input[0] for n in g.node if n.op_type == "Gather"])
            self.assertIn(table, [n.input[0] for n in g.node if n.op_type == "Transpose"])
            # --q4-head-bits 4: one 4-bit table for the lookup and the head (MatMulNBits)
            g4 = export.build_graph(m, dtype, q4_head_bits=4).graph
            nbits4 = [n for n in g4.node if n.op_type == "MatMulNBits"]
            self.assertEqual(len(nbits4), 2 * 7 + 1, dtype)
            table4 = "model.embed_tokens.weight.q4"
            self.assertIn(table4, [n.input[1] for n in nbits4])
            self.assertIn(table4, [n.input[0] for n in g4.node if n.op_type == "Gather"])
            types = {v.name: v.type.tensor_type.elem_type for v in list(g.input) + list(g.output)}
            self.assertEqual(types["past_key_values.0.key"], float_type)
            self.assertEqual(types["present.1.value"], float_type)
            self.assertEqual(types["logits"], TensorProto.FLOAT)
            self.assertEqual(types["num_logits_to_keep"], TensorProto.INT64)

    def test_export_external_data_and_config(self):
        with tempfile.TemporaryDirectory() as d:
            save_qwen3(tiny_model(hidden=32), os.path.join(d, "ckpt"))
            out = os.path.join(d, "model")
            results = export.export(os.path.join(d, "ckpt"), out, ["fp32", "q4"], external="always", report=False)
            self.assertTrue(results["fp32"]["external_data"])
            self.assertFalse(results["q4"]["external_data"])
            self.assertLess(os.path.getsize(os.path.join(out, "onnx", "model.onnx")), 200_000)
            data = os.path.getsize(os.path.join(out, "onnx", "model.onnx_data"))
            self.assertGreater(data, 151936 * 32 * 4)
            cfg = json.load(open(os.path.join(out, "config.json")))
            self.assertEqual(cfg["transformers.js_config"], {"use_external_data_format": {"model.onnx": 1}})
            loaded = onnx.load(os.path.join(out, "onnx", "model.onnx"))  # reads the external tensors back
            emb = [i for i in loaded.graph.initializer if i.name == "model.embed_tokens.weight"][0]
            self.assertEqual(len(emb.raw_data), 151936 * 32 * 4)


if __name__ == "__main__":
    unittest.main()
