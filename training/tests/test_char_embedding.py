"""
Character-composed embeddings: which features a token gets, that composition reaches tokens the
data never showed, and that baking leaves a plain Qwen3 with identical logits. Run from the
repo root:

    /usr/bin/python3 -m unittest discover -s training/tests
"""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import char_embedding  # noqa: E402
from model import Qwen3Config, Qwen3ForCausalLM  # noqa: E402


def tiny_model(vocab_size):
    cfg = Qwen3Config(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                      num_key_value_heads=1, head_dim=8, vocab_size=vocab_size)
    torch.manual_seed(0)
    return Qwen3ForCausalLM(cfg).eval()


class TokenFeatures(unittest.TestCase):
    def test_cjk_characters(self):
        self.assertEqual(char_embedding.token_features("订单"), ["订", "单"])

    def test_latin_word_ignores_case_and_space(self):
        features = char_embedding.token_features(" Refund")
        self.assertEqual(features, char_embedding.token_features("refund"))
        self.assertEqual(features[:3], ["w:refund", "g:<re", "g:ref"])
        self.assertEqual(features[-1], "g:nd>")

    def test_punctuation_and_special_tokens_have_none(self):
        self.assertEqual(char_embedding.token_features("，"), [])
        self.assertEqual(char_embedding.token_features("\ufffd"), [])


class Composition(unittest.TestCase):
    VOCAB = ["订单", "订", "单", "退款", "<|im_end|>", "x"]

    def test_bags_hold_each_tokens_features(self):
        ids, offsets, features = char_embedding.feature_bags(self.VOCAB, len(self.VOCAB))
        self.assertEqual(offsets.tolist(), [0, 2, 3, 4, 6, 6])
        self.assertEqual(ids[:4].tolist(), [features["订"], features["单"], features["订"], features["单"]])

    def test_unseen_token_moves_with_its_characters_and_bake_keeps_logits(self):
        model = tiny_model(len(self.VOCAB))
        char_embedding.attach(model, self.VOCAB)
        before = char_embedding.token_weight(model).detach().clone()
        # Train only on tokens 1 and 2 (订, 单): token 0 (订单) never appears.
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(5):
            opt.zero_grad()
            logits, _ = model(torch.tensor([[1, 2, 5]]))
            logits[0, -1, 3].neg().backward()
            opt.step()
        composed = model.model.embed_tokens.weight.detach()
        self.assertTrue(torch.equal(char_embedding.token_weight(model)[0], before[0]))
        self.assertGreater((composed[0] - before[0]).abs().max().item(), 1e-3)
        ids = torch.tensor([[0, 3, 4]])
        with torch.no_grad():
            expected, _ = model(ids)
            char_embedding.bake(model)
            baked, _ = model(ids)
        self.assertEqual(list(dict(model.named_parameters())), [n for n, _ in model.named_parameters()])
        self.assertNotIn("parametrizations", " ".join(model.state_dict()))
        self.assertTrue(torch.allclose(expected, baked, atol=1e-6))


if __name__ == "__main__":
    unittest.main()
