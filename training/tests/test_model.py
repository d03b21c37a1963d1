"""
Qwen3 forward: causal + padding mask, KV cache = full forward, GQA head mapping, logits
selection; the label trie's constrained probabilities (as src/engine/label-trie.ts). Run from the repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import math
import os
import sys
import unittest

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from model import (Qwen3Config, Qwen3ForCausalLM, LabelTrie, default_position_ids, generate,  # noqa: E402
                   label_log_probs, rope_cos_sin, rotate_half)

ATOL = 1e-5


def tiny_model(seed=0, **kw):
    cfg = Qwen3Config(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=8, **kw)
    torch.manual_seed(seed)
    m = Qwen3ForCausalLM(cfg).eval()
    # bigger weights than the 0.02 init so attention patterns actually differ between positions
    with torch.no_grad():
        for n, p in m.named_parameters():
            if not n.endswith("norm.weight"):
                p.normal_(0, 0.3)
    return m


def left_pad(rows, pad=151643):
    T = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (T - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (T - len(r)) + [1] * len(r) for r in rows])
    return ids, mask


class TestForward(unittest.TestCase):
    def setUp(self):
        torch.set_num_threads(1)
        self.m = tiny_model()
        g = torch.Generator().manual_seed(1)
        self.rows = [torch.randint(0, 151936, (n,), generator=g).tolist() for n in (9, 5, 7)]

    def test_causal(self):
        ids = torch.tensor([self.rows[0]])
        a, _ = self.m(ids)
        ids2 = ids.clone()
        ids2[0, 6:] = 7  # change the future only
        b, _ = self.m(ids2)
        self.assertTrue(torch.allclose(a[:, :6], b[:, :6], atol=ATOL))
        self.assertFalse(torch.allclose(a[:, 6:], b[:, 6:], atol=ATOL))

    def test_left_padding_equals_unpadded(self):
        ids, mask = left_pad(self.rows)
        batch, _ = self.m(ids, attention_mask=mask)
        for i, r in enumerate(self.rows):
            single, _ = self.m(torch.tensor([r]))
            self.assertTrue(torch.allclose(batch[i, -len(r):], single[0], atol=ATOL), i)
        self.assertTrue(torch.isfinite(batch).all())  # fully padded query rows: finite fill, no NaN

    def test_right_padding_equals_unpadded(self):
        # training pads on the right with position_ids 0..T-1
        T = max(len(r) for r in self.rows)
        ids = torch.tensor([r + [151643] * (T - len(r)) for r in self.rows])
        mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in self.rows])
        batch, _ = self.m(ids, attention_mask=mask, position_ids=torch.arange(T).expand(len(self.rows), T))
        for i, r in enumerate(self.rows):
            single, _ = self.m(torch.tensor([r]))
            self.assertTrue(torch.allclose(batch[i, :len(r)], single[0], atol=ATOL), i)

    def test_kv_cache_equals_full_forward(self):
        ids, mask = left_pad(self.rows)
        full, _ = self.m(ids, attention_mask=mask)
        split = 4
        logits, past = self.m(ids[:, :split], attention_mask=mask[:, :split],
                              position_ids=default_position_ids(mask[:, :split]))
        steps = [logits]
        for t in range(split, ids.shape[1]):  # one token at a time with the cache
            m_t = mask[:, :t + 1]
            logits, past = self.m(ids[:, t:t + 1], attention_mask=m_t,
                                  position_ids=default_position_ids(m_t)[:, -1:], past_key_values=past)
            steps.append(logits)
        cached = torch.cat(steps, dim=1)
        real = mask.bool()
        self.assertTrue(torch.allclose(cached[real], full[real], atol=ATOL))
        self.assertEqual(tuple(past[0][0].shape), (3, 2, ids.shape[1], 8))

    def test_logit_selection(self):
        ids, mask = left_pad(self.rows)
        full, _ = self.m(ids, attention_mask=mask)
        last, _ = self.m(ids, attention_mask=mask, num_logits_to_keep=1)
        self.assertTrue(torch.allclose(last[:, 0], full[:, -1], atol=ATOL))
        two, _ = self.m(ids, attention_mask=mask, num_logits_to_keep=2)
        self.assertTrue(torch.allclose(two, full[:, -2:], atol=ATOL))
        b, t = torch.tensor([0, 2, 1]), torch.tensor([3, 8, 5])
        at, _ = self.m(ids, attention_mask=mask, logits_at=(b, t))
        self.assertTrue(torch.allclose(at, full[b, t], atol=ATOL))

    def test_matches_naive_qwen3_attention(self):
        # An independent, literal Hugging Face style layer: repeat_kv + causal softmax.
        m, cfg = self.m, self.m.config
        ids = torch.tensor([self.rows[0]])
        T = ids.shape[1]
        x = m.model.embed_tokens(ids)
        cos, sin = rope_cos_sin(torch.arange(T)[None], m.inv_freq)
        for layer in m.model.layers:
            at = layer.self_attn
            h = layer.input_layernorm(x)
            q = at.q_norm(at.q_proj(h).view(1, T, 4, 8)).transpose(1, 2)
            k = at.k_norm(at.k_proj(h).view(1, T, 2, 8)).transpose(1, 2)
            v = at.v_proj(h).view(1, T, 2, 8).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k, v = k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1)  # repeat_kv
            s = q @ k.transpose(-1, -2) / math.sqrt(8)
            s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            o = (s.softmax(-1) @ v).transpose(1, 2).reshape(1, T, 32)
            x = x + at.o_proj(o)
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        naive = F.linear(m.model.norm(x), m.model.embed_tokens.weight)
        ours, _ = m(ids)
        self.assertTrue(torch.allclose(ours, naive, atol=ATOL))

    def test_generate_matches_argmax_loop(self):
        out = generate(self.m, self.rows[:2], max_new_tokens=3, eos_ids=())
        for r, o in zip(self.rows[:2], out):
            seq = list(r)
            for _ in range(3):
                logits, _ = self.m(torch.tensor([seq]))
                seq.append(int(logits[0, -1].argmax()))
            self.assertEqual(o, seq[len(r):])


END = 151645


class TestLabelTrie(unittest.TestCase):
    """The cases of test/unit/label-trie.test.ts, so Python and the runtime define one accuracy."""

    def test_one_branch_point_when_first_tokens_differ(self):
        trie = LabelTrie({"a": [1, END], "b": [2, 3, END], "c": [4, 5, 6, END]})
        self.assertEqual(list(trie.branch_points), [()])
        logits = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)  # tokens 1, 2, 4: nothing else competes
        choices = {(): dict(zip([1, 2, 4], logits.log_softmax(-1).tolist()))}
        expected = logits.softmax(-1).tolist()
        for lp, p in zip(trie.log_probs(choices), expected):
            self.assertAlmostEqual(math.exp(lp), p, places=10)

    def test_every_branch_point_and_the_distribution_sums_to_one(self):
        trie = LabelTrie({"a": [1, 2, END], "b": [1, 3, END], "c": [1, END], "d": [4, END]})
        self.assertEqual(trie.branch_points, {(): [1, 4], (1,): [2, 3, END]})
        choices = {(): {1: math.log(0.8), 4: math.log(0.2)},
                   (1,): {2: math.log(0.5), 3: math.log(0.3), END: math.log(0.2)}}
        p = [math.exp(lp) for lp in trie.log_probs(choices)]
        for got, want in zip(p, [0.8 * 0.5, 0.8 * 0.3, 0.8 * 0.2, 0.2]):
            self.assertAlmostEqual(got, want, places=10)
        self.assertAlmostEqual(sum(p), 1.0, places=12)

    def test_forced_tokens_cost_nothing(self):
        trie = LabelTrie({"a": [1, 2, 3, 5, END], "b": [1, 2, 3, 6, END]})
        self.assertEqual(list(trie.branch_points), [(1, 2, 3)])

    def test_an_answer_that_prefixes_another_is_refused(self):
        with self.assertRaisesRegex(ValueError, "prefix"):
            LabelTrie({"a": [1, 2], "b": [1, 2, END]})

    def test_model_probabilities_are_renormalised_over_the_allowed_tokens(self):
        torch.set_num_threads(1)
        m = tiny_model()
        trie = LabelTrie({"a": [7, 8, END], "b": [7, 9, END], "c": [10, END]})
        prompts = [[5, 6, 11, 12], [13, 14]]
        got = label_log_probs(m, prompts, trie, batch_size=3)  # batches cut across prompts
        self.assertEqual(tuple(got.shape), (2, 3))
        for i, prompt in enumerate(prompts):
            root, _ = m(torch.tensor([prompt]))
            after7, _ = m(torch.tensor([prompt + [7]]))
            r = root[0, -1, [7, 10]].log_softmax(-1)
            s = after7[0, -1, [8, 9]].log_softmax(-1)
            want = [r[0] + s[0], r[0] + s[1], r[1]]
            for j in range(3):
                self.assertAlmostEqual(got[i, j].item(), want[j].item(), places=5)
            self.assertAlmostEqual(got[i].exp().sum().item(), 1.0, places=6)


if __name__ == "__main__":
    unittest.main()
