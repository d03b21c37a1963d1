"""
train.py: answer-only loss, token dropout on the user's message only, determinism of two short
runs, and frozen rows for tokens the data never shows. Run from the repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import train  # noqa: E402
from model import Qwen3Config, Qwen3ForCausalLM  # noqa: E402
from safetensors import load_file  # noqa: E402

HEAD = [151644, 872, 198]                                                  # <|im_start|>user\n
TAIL = [151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]          # ...assistant\n<think>\n\n</think>\n\n
LABELS = {"查询订单": [51154, 50410], "取消服务": [50350, 47874], "转人工": [46670, 102249]}


def row(msg, label):
    prompt = HEAD + msg + TAIL
    return {"input_ids": prompt + LABELS[label] + [151645], "answer_start": len(prompt), "label": label}


def write_dataset(d, n=24):
    rng = np.random.default_rng(0)
    words = {"查询订单": [1001, 1002, 1003], "取消服务": [2001, 2002, 2003], "转人工": [3001, 3002, 3003]}
    rows = []
    for i in range(n):
        label = list(LABELS)[i % 3]
        msg = [int(rng.choice(words[label])) for _ in range(2)] + rng.integers(5000, 5100, 3).tolist()
        rows.append(row(msg, label))
    with open(os.path.join(d, "train.jsonl"), "w") as f:
        f.write("\n".join(json.dumps(r) for r in rows) + "\n")
    # vocab.json (token id -> text, written by prepare-training-data.ts) for the composed embedding
    vocab = [""] * 151936
    for i, text in {1001: "订单", 1002: "订", 1003: "单号", 2001: "取消", 2002: "取", 2003: "消息",
                    3001: "人工", 3002: "人", 3003: "refund", 4000: "单"}.items():
        vocab[i] = text
    with open(os.path.join(d, "vocab.json"), "w") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump({"labels": list(LABELS), "system": None, "vocab_size": 151936,
                   "eos_token_id": [151645, 151643], "pad_token_id": 151643, "bos_token_id": 151643}, f)
    return rows


class TestLoss(unittest.TestCase):
    def setUp(self):
        torch.set_num_threads(1)
        cfg = Qwen3Config(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                          num_attention_heads=2, num_key_value_heads=1, head_dim=8)
        torch.manual_seed(0)
        self.m = Qwen3ForCausalLM(cfg).eval()
        self.rows = [row([1001, 1002], "查询订单"), row([2001, 2002, 2003, 2004, 2005], "取消服务")]

    def test_targets_are_the_answer_only(self):
        seqs = [(r["input_ids"], r["answer_start"]) for r in self.rows]
        ids, mask, (bi, ti), targets = train.make_batch(seqs)
        self.assertEqual(targets.tolist(), [51154, 50410, 151645, 50350, 47874, 151645])
        self.assertEqual(bi.tolist(), [0, 0, 0, 1, 1, 1])
        a0 = self.rows[0]["answer_start"]
        self.assertEqual(ti[:3].tolist(), [a0 - 1, a0, a0 + 1])
        self.assertEqual(mask.sum(1).tolist(), [len(r["input_ids"]) for r in self.rows])  # right padding

    def test_loss_equals_manual_answer_cross_entropy(self):
        seqs = [(r["input_ids"], r["answer_start"]) for r in self.rows]
        loss = train.answer_loss(self.m, seqs)
        per_token = []
        for ids, a in seqs:  # unpadded, full logits, then keep only answer positions
            logits, _ = self.m(torch.tensor([ids]))
            per_token.append(F.cross_entropy(logits[0, a - 1:-1], torch.tensor(ids[a:]), reduction="none"))
        self.assertAlmostEqual(loss.item(), torch.cat(per_token).mean().item(), places=5)

    def test_prompt_tokens_do_not_enter_the_loss_targets(self):
        r = self.rows[0]
        changed = dict(r, input_ids=list(r["input_ids"]))
        changed["input_ids"][-2] = 99  # a label token
        l1 = train.answer_loss(self.m, [(r["input_ids"], r["answer_start"])])
        l2 = train.answer_loss(self.m, [(changed["input_ids"], changed["answer_start"])])
        self.assertNotAlmostEqual(l1.item(), l2.item(), places=4)

    def test_token_drop_touches_only_the_message(self):
        r = self.rows[1]
        rng = np.random.default_rng(0)
        for _ in range(20):
            ids, a = train.augment(r, rng, 0.5)
            self.assertEqual(ids[:3], HEAD)
            self.assertEqual(ids[a - len(TAIL):], TAIL + LABELS["取消服务"] + [151645])
            msg = ids[3:a - len(TAIL)]
            self.assertGreaterEqual(len(msg), 1)
            self.assertTrue(set(msg) <= {2001, 2002, 2003, 2004, 2005})
        self.assertEqual(train.augment(r, rng, 0.0), (r["input_ids"], r["answer_start"]))


class TestRuns(unittest.TestCase):
    def run_once(self, data, out, extra=()):
        args = train.get_args(["--data", data, "--out", out, "--hidden-size", "16", "--layers", "1",
                               "--heads", "2", "--kv-heads", "1", "--head-dim", "8",
                               "--intermediate-size", "32", "--steps", "6", "--batch-size", "8",
                               "--threads", "1", "--eval-splits", "", "--log-every", "100", *extra])
        model, log = train.train(args)
        return model, log

    def test_deterministic(self):
        with tempfile.TemporaryDirectory() as d:
            write_dataset(d)
            _, log1 = self.run_once(d, os.path.join(d, "a"))
            _, log2 = self.run_once(d, os.path.join(d, "b"))
            losses1 = [s["loss"] for s in log1["steps"]]
            self.assertEqual(losses1, [s["loss"] for s in log2["steps"]])
            with open(os.path.join(d, "a", "model.safetensors"), "rb") as f1, \
                    open(os.path.join(d, "b", "model.safetensors"), "rb") as f2:
                self.assertEqual(f1.read(), f2.read())  # same weights bit for bit
            self.assertLess(losses1[-1], losses1[0])

    def test_unseen_rows_stay_as_initialised(self):
        # Plain per-token embedding: rows of tokens absent from train.jsonl are the initial ones.
        with tempfile.TemporaryDirectory() as d:
            rows = write_dataset(d)
            self.run_once(d, os.path.join(d, "a"), ["--no-compose"])
            emb = load_file(os.path.join(d, "a", "model.safetensors"))["model.embed_tokens.weight"]
            args = train.get_args(["--data", d, "--out", "x", "--hidden-size", "16", "--layers", "1",
                                   "--heads", "2", "--kv-heads", "1", "--head-dim", "8",
                                   "--intermediate-size", "32"])
            init = train.build_model(args).model.embed_tokens.weight.detach()
            seen = sorted({t for r in rows for t in r["input_ids"]})
            unseen = torch.ones(emb.shape[0], dtype=torch.bool)
            unseen[seen] = False
            self.assertTrue(torch.equal(emb[unseen], init[unseen]))
            self.assertFalse(torch.equal(emb[seen], init[seen]))

if __name__ == "__main__":
    unittest.main()
