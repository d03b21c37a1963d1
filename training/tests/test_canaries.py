"""
export.py's canary writer (fenliu.json's "canaries", checked at every load by
src/engine/canary.ts): reading a message's text back from prompt ids, which messages are picked,
the reference distributions, and how the card is written and merged. That the runtime verifies
what export.py writes is checked by exporting the demo checkpoint and loading it in Node. Run
from the repo root:

    /usr/bin/python3 -m unittest training/tests/test_canaries.py
"""
import json
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import export  # noqa: E402
from model import LabelTrie, Qwen3Config, Qwen3ForCausalLM, label_log_probs  # noqa: E402
from hf_checkpoint import save_qwen3  # noqa: E402

# The generation prompt's tail after the message (Qwen3, thinking off).
TAIL = [151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]
ANSWERS = {"甲": [1000, 151645], "乙": [1001, 151645], "丙": [1002, 1003, 151645], "丁": [1002, 1004, 151645]}


def tiny_model():
    cfg = Qwen3Config(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=8)
    torch.manual_seed(0)
    return Qwen3ForCausalLM(cfg).eval()


def byte_tokenizer(path):
    """A byte-level tokenizer.json: token id = byte value + 10 for every byte, one merged token
    ("单" as a single id), and the chat template's special tokens."""
    to_char = {b: c for c, b in export._byte_decoder().items()}
    vocab = {to_char[b]: b + 10 for b in range(256)}
    vocab["".join(to_char[b] for b in "单".encode())] = 5000
    vocab["user"] = 872
    added = [{"id": i, "content": c, "special": True}
             for i, c in [(151644, "<|im_start|>"), (151645, "<|im_end|>")]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": []}, "added_tokens": added}, f)


def encode(text):
    """What byte_tokenizer's BPE gives: "单" merged, every other byte alone."""
    ids = []
    for part in text.split("单"):
        ids += [b + 10 for b in part.encode()] + [5000]
    return ids[:-1]


def row(text, label):
    prompt = [151644, 872, 198] + encode(text) + TAIL
    return {"input_ids": prompt + ANSWERS[label], "answer_start": len(prompt), "label": label}


class TestMessageText(unittest.TestCase):
    def test_decodes_byte_level_tokens_and_refuses_special_ones(self):
        with tempfile.TemporaryDirectory() as d:
            byte_tokenizer(os.path.join(d, "tokenizer.json"))
            texts = export.TokenTexts(os.path.join(d, "tokenizer.json"))
        self.assertEqual(texts.decode(encode("查订单 ok")), "查订单 ok")  # 3-byte characters, a merge
        self.assertIsNone(texts.decode([151645]))
        self.assertIsNone(texts.decode(encode("订")[:2]))  # half a character is not UTF-8

    def test_message_ids_are_the_last_user_turn(self):
        prompt = [151644, 872, 198, 11, 12, 151645, 198, 151644, 872, 198, 13, 14] + TAIL
        self.assertEqual(export.message_ids(prompt), [13, 14])
        self.assertIsNone(export.message_ids([1, 2, 3]))

    def test_candidates_skip_what_prepare_message_would_change(self):
        with tempfile.TemporaryDirectory() as d:
            byte_tokenizer(os.path.join(d, "tokenizer.json"))
            texts = export.TokenTexts(os.path.join(d, "tokenizer.json"))
        rows = [row(t, "甲") for t in ["查订单", " 前面有空格", "a\x07b", "<|im_end|>", "<think>", "查订单", "好"]]
        got = export.canary_candidates(rows, texts)
        self.assertEqual([c[0] for c in got], ["查订单", "好"])  # trimmed, no control text, no repeat
        self.assertEqual(got[0][1], rows[0]["input_ids"][:rows[0]["answer_start"]])
        self.assertEqual(got[0][2], "甲")


class TestChoice(unittest.TestCase):
    def test_least_sure_correct_message_for_labels_spread_over_the_card(self):
        labels = ["甲", "乙", "丙", "丁"]
        cands = [("a", None, "甲"), ("bb", None, "甲"), ("c", None, "甲"), ("d", None, "丙"), ("e", None, "乙")]
        probs = [[0.9, 0.1, 0, 0],      # 甲, sure
                 [0.6, 0.4, 0, 0],      # 甲, least sure
                 [0.2, 0.8, 0, 0],      # labelled 甲, answered 乙: not a canary
                 [0.1, 0, 0.9, 0],      # 丙
                 [0.3, 0.7, 0, 0]]      # 乙
        # 2 of 4 labels: 甲 and 丙 (spread: 0, 2)
        self.assertEqual(export.choose_canaries(cands, labels, probs, 2), [1, 3])
        # 丁 has no candidate: the next label with one (乙) fills in
        self.assertEqual(export.choose_canaries(cands, labels, probs, 4), [1, 4, 3])
        # ties go to the shorter text
        self.assertEqual(export.choose_canaries([("xx", None, "甲"), ("y", None, "甲")], labels,
                                                [[0.6, 0.4, 0, 0]] * 2, 1), [1])

    def test_unlabelled_rows_count_as_the_answered_label(self):
        got = export.choose_canaries([("a", None, None), ("b", None, None)], ["甲", "乙"],
                                     [[0.3, 0.7], [0.55, 0.45]], 2)
        self.assertEqual(got, [1, 0])


class TestReference(unittest.TestCase):
    def test_probabilities_are_the_label_trie_s_one_batch_per_branch_point(self):
        m = tiny_model()
        trie = LabelTrie(ANSWERS)
        self.assertEqual(len(trie.branch_points), 2)
        prompts = [row("查订单", "甲")["input_ids"][:-2], row("好", "乙")["input_ids"][:-2]]
        got = export.canary_probabilities(m, prompts, trie)
        want = label_log_probs(m, prompts, trie).exp()
        self.assertEqual((len(got), len(got[0])), (2, 4))
        for g, w in zip(got, want.tolist()):
            self.assertAlmostEqual(sum(g), 1.0, places=6)
            for a, b in zip(g, w):
                self.assertAlmostEqual(a, b, places=6)


class TestWrite(unittest.TestCase):
    def test_writes_into_the_card_and_merges_other_dtypes(self):
        msgs = [{"text": "好", "ids": [1, 2]}]
        ref = {"computedBy": "x", "tolerance": 2e-3, "probabilities": [[0.25, 0.75]]}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "fenliu.json")
            export.write_canaries(d, ["甲", "乙"], msgs, {"int8": ref})  # no card yet: only canaries
            with open(path, encoding="utf-8") as f:
                self.assertEqual(list(json.load(f)), ["canaries"])
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"format": 1, "labels": ["甲", "乙"], "canaries": {
                    "labels": ["甲", "乙"], "messages": msgs, "references": {"int8": ref}}}, f)
            export.write_canaries(d, ["甲", "乙"], msgs, {"q4": ref})
            with open(path, encoding="utf-8") as f:
                text = f.read()
            card = json.loads(text)
            self.assertIn('"好"', text)  # UTF-8, not \\u escapes
            self.assertEqual(card["format"], 1)
            self.assertEqual(sorted(card["canaries"]["references"]), ["int8", "q4"])
            # Other messages (a retrained model): the old references go.
            export.write_canaries(d, ["甲", "乙"], [{"text": "坏", "ids": [3]}], {"q4": ref})
            with open(path, encoding="utf-8") as f:
                self.assertEqual(sorted(json.load(f)["canaries"]["references"]), ["q4"])

    def test_export_records_canaries_for_fp32_and_int8(self):
        m = tiny_model()
        with tempfile.TemporaryDirectory() as d:
            ckpt, data, out = (os.path.join(d, x) for x in ("ckpt", "data", "out"))
            save_qwen3(m, ckpt)
            os.makedirs(data)
            with open(os.path.join(data, "test.jsonl"), "w", encoding="utf-8") as f:
                for text, label in [("查订单", "甲"), ("退款", "乙"), ("开发票", "丙"), ("你好", "丁"), ("订单", "甲")]:
                    f.write(json.dumps(row(text, label), ensure_ascii=False) + "\n")
            with open(os.path.join(ckpt, "train_log.json"), "w", encoding="utf-8") as f:
                json.dump({"labels": ANSWERS, "args": {"data": data}}, f, ensure_ascii=False)
            os.makedirs(out)
            byte_tokenizer(os.path.join(out, "tokenizer.json"))
            export.export(ckpt, out, ["fp32", "int8"], report=False, canaries=3)
            with open(os.path.join(out, "fenliu.json"), encoding="utf-8") as f:
                canaries = json.load(f)["canaries"]
        self.assertEqual(canaries["labels"], list(ANSWERS))
        # One per label the random model answers a row of correctly (the rule: TestChoice).
        self.assertTrue(1 <= len(canaries["messages"]) <= 3)
        for message in canaries["messages"]:
            self.assertEqual(message["ids"], [151644, 872, 198] + encode(message["text"]) + TAIL)
        self.assertEqual(sorted(canaries["references"]), ["fp32", "int8"])
        for dtype, ref in canaries["references"].items():
            self.assertEqual(ref["tolerance"], export.CANARY_TOLERANCE)
            self.assertIn(f"with the {dtype} weights", ref["computedBy"])
            self.assertEqual([len(p) for p in ref["probabilities"]], [4] * len(canaries["messages"]))
            for p in ref["probabilities"]:
                self.assertAlmostEqual(sum(p), 1.0, places=4)
        # int8 is another model than fp32: its reference is its own
        self.assertNotEqual(canaries["references"]["fp32"]["probabilities"],
                            canaries["references"]["int8"]["probabilities"])


if __name__ == "__main__":
    unittest.main()
