"""
Hugging Face checkpoint folders (sharded, bf16/fp16, clear errors), LoRA (identity at init,
merge = unmerged forward, PEFT adapter round trip) and a short fine-tuning run (train.py
--init-from FOLDER). Run from the
repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import json
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_checkpoint import (CheckpointError, load_qwen3, write_random_qwen3, save_qwen3, read_config,  # noqa: E402
                           QWEN3_0_6B, INDEX)
from lora import (AdapterError, apply_lora, load_adapter, merge_lora_, save_adapter, parse_targets,  # noqa: E402
                  LINEAR_NAMES)
from tensor_file import SafetensorsFile, load_file, save_file  # noqa: E402
import train  # noqa: E402
from test_train import write_dataset  # noqa: E402

TINY = dict(QWEN3_0_6B, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=8)


def tiny_folder(d, dtype=torch.bfloat16, shard=None, seed=0, **over):
    write_random_qwen3(d, dict(TINY, **over), seed=seed, dtype=dtype, max_shard_bytes=shard)
    return d


class TestCheckpointFolders(unittest.TestCase):
    def setUp(self):
        torch.set_num_threads(1)
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_sharded_bf16_loads_exactly(self):
        tiny_folder(self.d, shard=2_000_000)  # the 151936 x 32 bf16 embedding alone is 9.7 MB
        index = json.load(open(os.path.join(self.d, INDEX)))
        self.assertGreater(len(set(index["weight_map"].values())), 1)
        model = load_qwen3(self.d)
        self.assertEqual(model.model.embed_tokens.weight.dtype, torch.float32)
        shard = index["weight_map"]["model.layers.1.mlp.down_proj.weight"]
        raw = SafetensorsFile(os.path.join(self.d, shard)).get("model.layers.1.mlp.down_proj.weight")
        self.assertEqual(raw.dtype, torch.bfloat16)
        self.assertTrue(torch.equal(model.model.layers[1].mlp.down_proj.weight, raw.float()))
        self.assertTrue(torch.equal(model.model.norm.weight, torch.ones(32)))
        self.assertAlmostEqual(model.model.layers[0].self_attn.q_proj.weight.std().item(), 0.02, delta=0.004)

    def test_same_seed_same_weights_whatever_the_sharding(self):
        a = load_qwen3(tiny_folder(os.path.join(self.d, "a"), dtype=torch.float16))
        b = load_qwen3(tiny_folder(os.path.join(self.d, "b"), dtype=torch.float16, shard=3_000_000))
        c = load_qwen3(tiny_folder(os.path.join(self.d, "c"), dtype=torch.float16, seed=1))
        for (n, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
            self.assertTrue(torch.equal(p, q), n)
            if not n.endswith("norm.weight"):
                self.assertFalse(torch.equal(p, r), n)

    def test_tied_head_written_anyway_is_ignored(self):
        tiny_folder(self.d, dtype=torch.float32)
        path = os.path.join(self.d, "model.safetensors")
        t = load_file(path)
        t["lm_head.weight"] = t["model.embed_tokens.weight"].clone()
        save_file(t, path)
        model = load_qwen3(self.d)
        self.assertTrue(torch.equal(model.lm_head_weight, t["model.embed_tokens.weight"]))

    def test_save_then_load_round_trip(self):
        model = load_qwen3(tiny_folder(os.path.join(self.d, "a"), dtype=torch.float32))
        save_qwen3(model, os.path.join(self.d, "b"))
        back = load_qwen3(os.path.join(self.d, "b"))
        for (n, p), q in zip(model.named_parameters(), back.parameters()):
            self.assertTrue(torch.equal(p, q), n)

    def assertCheckpointError(self, pattern, folder=None):
        with self.assertRaises(CheckpointError) as ctx:
            load_qwen3(folder or self.d)
        self.assertRegex(str(ctx.exception), pattern)

    def test_missing_config(self):
        tiny_folder(self.d)
        os.remove(os.path.join(self.d, "config.json"))
        self.assertCheckpointError(r"config\.json: missing")

    def test_missing_weights(self):
        tiny_folder(self.d)
        os.remove(os.path.join(self.d, "model.safetensors"))
        open(os.path.join(self.d, "pytorch_model.bin"), "wb").close()
        self.assertCheckpointError(r"no model\.safetensors or model\.safetensors\.index\.json.*\.bin")

    def test_missing_shard(self):
        tiny_folder(self.d, shard=2_000_000)
        os.remove(os.path.join(self.d, "model-00002-of-00002.safetensors"))
        self.assertCheckpointError(r"model-00002-of-00002\.safetensors: missing \(listed in")

    def edit_config(self, **changes):
        """A tiny folder whose config.json then gets `changes`."""
        tiny_folder(self.d)
        path = os.path.join(self.d, "config.json")
        cfg = json.load(open(path))
        cfg.update(changes)
        json.dump(cfg, open(path, "w"))

    def test_not_qwen3(self):
        self.edit_config(model_type="llama", architectures=["LlamaForCausalLM"])
        self.assertCheckpointError(r"model_type is 'llama' \(architectures: LlamaForCausalLM\); only Qwen3")

    def test_shape_mismatch(self):
        self.edit_config(intermediate_size=64)
        self.assertCheckpointError(r"mlp\.\w+_proj\.weight has shape \[\d+, \d+\], but config\.json implies")

    def test_layer_count_mismatch(self):
        self.edit_config(num_hidden_layers=3)
        self.assertCheckpointError(r"missing 11 tensor\(s\): model\.layers\.2\.")

    def test_truncated_file(self):
        tiny_folder(self.d)
        path = os.path.join(self.d, "model.safetensors")
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 100)
        self.assertCheckpointError(r"truncated file")

    def test_hf_defaults_for_absent_fields(self):
        d = {k: v for k, v in TINY.items() if k not in ("head_dim", "tie_word_embeddings")}
        os.makedirs(self.d, exist_ok=True)
        json.dump(d, open(os.path.join(self.d, "config.json"), "w"))
        cfg = read_config(self.d)
        self.assertEqual(cfg.head_dim, 32 // 4)
        self.assertFalse(cfg.tie_word_embeddings)


def bigger(model, std=0.3):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if not n.endswith("norm.weight"):
                p.normal_(0, std)
    return model


class TestLoRA(unittest.TestCase):
    def setUp(self):
        torch.set_num_threads(1)
        self.tmp = tempfile.TemporaryDirectory()
        self.base = tiny_folder(os.path.join(self.tmp.name, "base"), dtype=torch.float32)
        self.ids = torch.tensor([[151644, 872, 198, 1001, 2002, 151645, 198, 151644, 77091, 198]])

    def tearDown(self):
        self.tmp.cleanup()

    def test_seed_defaults_and_identity_at_init(self):
        model = load_qwen3(self.base)
        ref, _ = model(self.ids)
        wrapped = apply_lora(model)
        self.assertEqual(len(wrapped), 4)  # q_proj and v_proj in 2 layers
        self.assertTrue(all(n.endswith(("q_proj", "v_proj")) for n in wrapped))
        m = next(iter(wrapped.values()))
        self.assertEqual((m.rank, m.alpha, m.scaling, m.lora_dropout.p), (8, 32, 4.0, 0.1))
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        self.assertTrue(trainable and all(".lora_A." in n or ".lora_B." in n for n in trainable))
        model.eval()
        out, _ = model(self.ids)
        self.assertTrue(torch.equal(out, ref))  # B = 0: the adapter starts as the identity

    def test_targets(self):
        self.assertEqual(parse_targets("all"), LINEAR_NAMES)
        with self.assertRaisesRegex(AdapterError, "choose from"):
            parse_targets("q_proj,lm_head")
        model = load_qwen3(self.base)
        self.assertEqual(len(apply_lora(model, targets=parse_targets("all"))), 14)

    def test_merge_equals_unmerged_and_adapter_round_trip(self):
        model = load_qwen3(self.base)
        apply_lora(model, rank=4, alpha=16, targets=("q_proj", "k_proj", "down_proj"))
        with torch.no_grad():  # a trained-looking adapter
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.normal_(0, 0.05)
        model.eval()
        unmerged, _ = model(self.ids)
        folder = os.path.join(self.tmp.name, "adapter")
        save_adapter(model, folder, base="Qwen/Qwen3-0.6B")
        cfg = json.load(open(os.path.join(folder, "adapter_config.json")))
        self.assertEqual((cfg["peft_type"], cfg["r"], cfg["lora_alpha"], cfg["task_type"]), ("LORA", 4, 16, "CAUSAL_LM"))
        self.assertEqual(cfg["target_modules"], ["down_proj", "k_proj", "q_proj"])
        keys = SafetensorsFile(os.path.join(folder, "adapter_model.safetensors")).keys()
        self.assertIn("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight", keys)
        self.assertIn("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", keys)
        self.assertEqual(len(keys), 12)

        merge_lora_(model)
        self.assertEqual(set(model.state_dict()), set(load_qwen3(self.base).state_dict()))
        merged, _ = model(self.ids)
        self.assertTrue(torch.allclose(merged, unmerged, atol=1e-5))
        self.assertGreater((merged - load_qwen3(self.base)(self.ids)[0]).abs().max().item(), 1e-3)

        fresh = load_qwen3(self.base)
        load_adapter(fresh, folder)
        again, _ = fresh.eval()(self.ids)
        self.assertTrue(torch.equal(again, unmerged))

    def test_adapter_for_another_model_is_refused(self):
        model = load_qwen3(self.base)
        apply_lora(model)
        folder = os.path.join(self.tmp.name, "adapter")
        save_adapter(model, folder)
        other = load_qwen3(tiny_folder(os.path.join(self.tmp.name, "other"), dtype=torch.float32, hidden_size=16,
                                       head_dim=4))
        with self.assertRaisesRegex(AdapterError, r"has shape \[8, 32\], the model needs \[8, 16\]"):
            load_adapter(other, folder)


class TestFinetune(unittest.TestCase):
    def test_lora_run_lowers_the_loss_and_writes_adapter_and_merged(self):
        torch.set_num_threads(1)
        with tempfile.TemporaryDirectory() as d:
            write_dataset(d)
            # initializer_range 0.3: a tied 32-wide random embedding at 0.02 cannot express any
            # answer, whatever the adapter does; larger rows stand in for a pretrained model's.
            base = tiny_folder(os.path.join(d, "base"), dtype=torch.bfloat16, initializer_range=0.3)
            out = os.path.join(d, "out")
            args = train.get_args(["--init-from", base, "--data", d, "--out", out, "--steps", "40", "--lr", "1e-2",
                                      "--batch-size", "8", "--lora-targets", "all", "--lora-dropout", "0",
                                      "--warmup", "2", "--log-every", "100", "--eval-splits", "", "--threads", "1"])
            model, result = train.train(args)
            losses = [s["loss"] for s in result["steps"]]
            self.assertLess(sum(losses[-5:]) / 5, losses[0] / 3)
            self.assertTrue(os.path.exists(os.path.join(out, "adapter", "adapter_model.safetensors")))
            merged = load_qwen3(out)
            with_adapter = load_qwen3(base)
            load_adapter(with_adapter, os.path.join(out, "adapter"))
            ids = torch.tensor([[151644, 872, 198, 1001, 1002, 5003, 151645]])
            a, _ = merged(ids)
            b, _ = with_adapter.eval()(ids)
            self.assertLess((a - b).abs().max().item(), 1e-5)
            log = json.load(open(os.path.join(out, "train_log.json")))
            self.assertEqual(len(log["sample_prompts"]), 16)


if __name__ == "__main__":
    unittest.main()
