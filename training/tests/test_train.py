"""
train.py: the defaults of each path (scratch, LoRA, full), answer-only loss, token dropout on the
user's message only, determinism of two short runs, and frozen rows for tokens the data never
shows. Run from the repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import contextlib
import io
import json
import math
import os
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import train  # noqa: E402
from model import Qwen3Config, Qwen3ForCausalLM, LabelTrie, label_log_probs  # noqa: E402
from tensor_file import load_file  # noqa: E402

HEAD = [151644, 872, 198]                                                  # <|im_start|>user\n
TAIL = [151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]          # ...assistant\n<think>\n\n</think>\n\n
LABELS = {"查询订单": [51154, 50410], "取消服务": [50350, 47874], "转人工": [46670, 102249]}


def row(msg, label):
    prompt = HEAD + msg + TAIL
    return {"input_ids": prompt + LABELS[label] + [151645], "answer_start": len(prompt), "label": label}


def mean_loss(model, seqs, head=None):
    loss_sum, n = train.answer_loss_sum(model, seqs, head)
    return loss_sum / n


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


class TestArgs(unittest.TestCase):
    COMMON = ["--data", "d", "--out", "o"]

    def test_each_path_takes_its_column_of_defaults(self):
        scratch = train.get_args(self.COMMON)
        lora = train.get_args(self.COMMON + ["--init-from", "folder"])
        explicit = train.get_args(self.COMMON + ["--init-from", "folder", "--lora"])
        full = train.get_args(self.COMMON + ["--init-from", "folder", "--full"])
        for name, values in train.PATH_DEFAULTS.items():
            self.assertEqual((getattr(scratch, name), getattr(lora, name), getattr(full, name)), values, name)
            self.assertEqual(getattr(explicit, name), getattr(lora, name), name)
        self.assertEqual((scratch.lr, lora.lr, full.lr), (3e-3, 2e-4, 2e-5))
        self.assertEqual((scratch.batch_size, lora.batch_size, scratch.epochs, lora.epochs), (32, 8, 12, 3))
        self.assertEqual((scratch.hidden_size, scratch.layers), (64, 2))
        self.assertIsNone(lora.hidden_size)  # the folder's config.json decides

    def test_a_flag_given_wins(self):
        args = train.get_args(self.COMMON + ["--init-from", "folder", "--lr", "1e-3", "--token-drop", "0.1",
                                             "--no-train-unseen-rows", "--compose", "--threads", "2"])
        self.assertEqual((args.lr, args.token_drop, args.train_unseen_rows, args.compose, args.threads),
                         (1e-3, 0.1, False, True, 2))
        args = train.get_args(self.COMMON + ["--no-compose", "--no-deterministic", "--weight-decay", "0"])
        self.assertEqual((args.compose, args.deterministic, args.weight_decay), (False, False, 0.0))

    def test_flags_of_another_path_are_refused(self):
        for extra in (["--lora"], ["--full"], ["--no-merge"], ["--init-from", "folder", "--full", "--no-merge"],
                      ["--init-from", "folder", "--hidden-size", "32"], ["--init-from", "f", "--lora", "--full"]):
            with self.assertRaises(SystemExit, msg=extra), contextlib.redirect_stderr(io.StringIO()):
                train.get_args(self.COMMON + extra)


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
        loss = mean_loss(self.m, seqs)
        per_token = []
        for ids, a in seqs:  # unpadded, full logits, then keep only answer positions
            logits, _ = self.m(torch.tensor([ids]))
            per_token.append(F.cross_entropy(logits[0, a - 1:-1], torch.tensor(ids[a:]), reduction="none"))
        self.assertAlmostEqual(loss.item(), torch.cat(per_token).mean().item(), places=5)

    def test_prompt_tokens_do_not_enter_the_loss_targets(self):
        r = self.rows[0]
        changed = dict(r, input_ids=list(r["input_ids"]))
        changed["input_ids"][-2] = 99  # a label token
        l1 = mean_loss(self.m, [(r["input_ids"], r["answer_start"])])
        l2 = mean_loss(self.m, [(changed["input_ids"], changed["answer_start"])])
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


class TestToolRows(unittest.TestCase):
    """Rows whose answer is a tool call (label, <tool_call> block) and reply-step rows."""
    # 查询订单 \n <tool_call> \n {"name": …, "arguments": {"order_id": "<13 digits>"}} \n </tool_call>
    LABEL = [51154, 50410, 198, 151657]
    CALL_HEAD = [198, 4913, 606, 788, 330, 20393, 788, 5212, 1358, 842, 788, 330]
    CALL_TAIL = [95642, 198, 151658]

    def tool_row(self, digits, extra_msg=()):
        order_id = [15 + d for d in digits]
        prompt = HEAD + [1001, *extra_msg, *order_id] + TAIL
        answer = self.LABEL + self.CALL_HEAD + order_id + self.CALL_TAIL + [151645]
        return {"input_ids": prompt + answer, "answer_start": len(prompt), "label": "查询订单",
                "label_tokens": len(self.LABEL)}

    def test_label_answers_take_the_label_part_and_skip_replies(self):
        a = self.tool_row([2, 0, 2, 4, 1, 1, 3, 0, 1, 2, 3, 4, 5])
        b = self.tool_row([9, 9, 9, 9, 1, 1, 3, 0, 1, 2, 3, 4, 5])
        reply = dict(row([1001], "查询订单"), kind="reply")
        reply["input_ids"] = reply["input_ids"][:-3] + [5000, 151645]  # another answer: ignored
        plain = row([2001], "取消服务")
        answers = train.label_answers({"labels": ["查询订单", "取消服务"]}, [a, b, reply, plain])
        self.assertEqual(answers, {"查询订单": self.LABEL, "取消服务": LABELS["取消服务"] + [151645]})
        self.assertTrue(train.label_generated(self.LABEL + [198, 4913], answers["查询订单"]))
        self.assertFalse(train.label_generated(LABELS["取消服务"] + [5], answers["取消服务"]))
        self.assertTrue(train.label_generated(LABELS["取消服务"], answers["取消服务"]))

    def test_token_drop_keeps_what_the_call_copies_and_leaves_replies_alone(self):
        r = self.tool_row([2, 0, 2, 4, 1, 1, 3, 0, 1, 2, 3, 4, 5], extra_msg=[1002, 1003, 1004, 1005])
        rng = np.random.default_rng(0)
        digits = [t for t in r["input_ids"][:r["answer_start"]] if t in train.DIGITS]
        for _ in range(20):
            ids, a = train.augment(r, rng, 0.9)
            self.assertEqual([t for t in ids[:a] if t in train.DIGITS], digits)
            self.assertEqual(ids[a:], r["input_ids"][r["answer_start"]:])
        reply = dict(row([1001, 1002, 1003], "查询订单"), kind="reply")
        self.assertEqual(train.augment(reply, rng, 0.9), (reply["input_ids"], reply["answer_start"]))

    def test_resample_digits_replaces_long_runs_alike_everywhere(self):
        r = self.tool_row([2, 0, 2, 4, 1, 1, 3, 0, 1, 2, 3, 4, 5], extra_msg=[15, 16, 17, 1002])  # "012"
        rng = np.random.default_rng(1)
        out = train.resample_digits(r, rng, 8)
        ids, old = out["input_ids"], r["input_ids"]
        self.assertEqual(len(ids), len(old))
        runs = train.digit_runs(ids, 8)
        self.assertEqual(runs, train.digit_runs(old, 8))
        (b1, e1), (b2, e2) = runs
        self.assertEqual(ids[b1:e1], ids[b2:e2])               # the message's id is the call's id
        self.assertNotEqual(ids[b1:e1], old[b1:e1])
        self.assertTrue(all(t in train.DIGITS for t in ids[b1:e1]))
        outside = [i for i in range(len(ids)) if not (b1 <= i < e1 or b2 <= i < e2)]
        self.assertEqual([ids[i] for i in outside], [old[i] for i in outside])  # "012" too short
        self.assertIs(train.resample_digits(r, rng, 0), r)

    def test_sampled_head_over_the_whole_vocabulary_is_the_full_softmax(self):
        torch.manual_seed(0)
        cfg = Qwen3Config(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                          num_key_value_heads=1, head_dim=8)
        m = Qwen3ForCausalLM(cfg).eval()
        seqs = [([1, 2, 3, 4, 5], 3), ([6, 7, 8, 9], 2)]
        seen = sorted({t for ids, _ in seqs for t in ids})
        rest = cfg.vocab_size - len(seen)
        full = mean_loss(m, seqs)
        everything = train.SampledHead(m, seen, rest, seed=0)
        self.assertAlmostEqual(mean_loss(m, seqs, everything).item(), full.item(), places=4)
        sampled = train.SampledHead(m, seen, 500, seed=0)
        self.assertAlmostEqual(sampled.correction, math.log(rest / 500))
        self.assertTrue(torch.isfinite(mean_loss(m, seqs, sampled)))


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

    def test_reports_the_runtime_accuracy(self):
        with tempfile.TemporaryDirectory() as d:
            rows = write_dataset(d)
            model, log = self.run_once(d, os.path.join(d, "a"), ["--eval-splits", "train"])
            self.assertEqual(set(log["accuracy"]["train"]), {"accuracy", "generate", "n"})
            trie = LabelTrie(log["labels"])
            best = label_log_probs(model, [r["input_ids"][:r["answer_start"]] for r in rows], trie).argmax(-1)
            right = sum(trie.labels[b] == r["label"] for b, r in zip(best.tolist(), rows))
            self.assertEqual(log["accuracy"]["train"]["accuracy"], right / len(rows))
            saved = json.load(open(os.path.join(d, "a", "train_log.json")))
            self.assertEqual(saved["accuracy"], log["accuracy"])

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
