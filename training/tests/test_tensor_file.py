"""
Round trips of our .safetensors reader/writer (tensor_file.py), and of a checkpoint folder. Run from the repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import json
import os
import struct
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tensor_file import load_file, save_file, read_header  # noqa: E402
from model import Qwen3Config, Qwen3ForCausalLM  # noqa: E402
from hf_checkpoint import load_qwen3, save_qwen3  # noqa: E402


class TestSafetensors(unittest.TestCase):
    def test_round_trip_all_dtypes(self):
        g = torch.Generator().manual_seed(0)
        tensors = {
            "f32": torch.randn(3, 5, generator=g),
            "f16": torch.randn(4, generator=g).half(),
            "bf16": torch.randn(2, 3, 4, generator=g).to(torch.bfloat16),
            "i8": torch.randint(-128, 127, (7,), generator=g, dtype=torch.int8),
            "i64": torch.randint(-10**12, 10**12, (2, 2), generator=g),
            "u8": torch.randint(0, 255, (3,), generator=g, dtype=torch.uint8),
            "bool": torch.tensor([True, False, True]),
            "scalar": torch.tensor(3.5),
            "empty": torch.zeros(0, 4),
        }
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            save_file(tensors, path, metadata={"format": "pt"})
            back = load_file(path)
            header, start = read_header(path)
        self.assertEqual(set(back), set(tensors))
        for k, t in tensors.items():
            self.assertEqual(back[k].dtype, t.dtype, k)
            self.assertEqual(tuple(back[k].shape), tuple(t.shape), k)
            self.assertTrue(torch.equal(back[k], t), k)  # bit-exact, bf16 included
        self.assertEqual(header["__metadata__"], {"format": "pt"})
        self.assertEqual(header["bf16"]["dtype"], "BF16")
        self.assertEqual(start % 8, 0)  # data starts aligned

    def test_reads_hand_made_file(self):
        # Written byte by byte from the format's description, independent of save_file.
        data = struct.pack("<2f", 1.5, -2.0) + struct.pack("<H", 0x3F80)  # bf16 1.0 = 0x3F80
        header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                  "b": {"dtype": "BF16", "shape": [1], "data_offsets": [8, 10]}}
        head = json.dumps(header).encode()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.safetensors")
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", len(head)) + head + data)
            t = load_file(path)
        self.assertEqual(t["a"].tolist(), [1.5, -2.0])
        self.assertEqual(t["b"].float().tolist(), [1.0])

    def test_checkpoint_round_trip_tied(self):
        cfg = Qwen3Config(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                          num_attention_heads=2, num_key_value_heads=1, head_dim=8)
        torch.manual_seed(0)
        m = Qwen3ForCausalLM(cfg)
        with tempfile.TemporaryDirectory() as d:
            save_qwen3(m, d)
            names = set(load_file(os.path.join(d, "model.safetensors")))
            with open(os.path.join(d, "config.json")) as f:
                hf = json.load(f)
            m2 = load_qwen3(d)
        self.assertNotIn("lm_head.weight", names)  # tied: the embedding is stored once
        self.assertIn("model.layers.0.self_attn.q_norm.weight", names)
        self.assertEqual(hf["model_type"], "qwen3")
        self.assertEqual(hf["architectures"], ["Qwen3ForCausalLM"])
        self.assertTrue(hf["tie_word_embeddings"])
        for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
            self.assertTrue(torch.equal(a, b), k)


if __name__ == "__main__":
    unittest.main()
