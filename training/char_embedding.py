"""
Character-composed token embeddings for training from scratch on a few hundred Chinese rows.

Qwen3's tokenizer writes Chinese as multi-character words (订单, 取消, 物流), so a message at run
time often holds tokens the training rows never showed (定单 for 订单, 退货 beside 退款). From
scratch, such a token's embedding is random noise. Here every token's embedding is

    E[t] = E_token[t] + mean(E_char[c] for each CJK character c of t)

so an unseen token made of seen characters still means something. The sum is a plain Qwen3
embedding table once baked (bake()), so the exported model is unchanged in architecture and
transformers.js loads it as any Qwen3.

    vocab = json.load(open("training/build/demo/vocab.json"))   # token id -> text (TypeScript)
    compose = attach(model, vocab)                              # before building the optimizer
    ...train...
    bake(model)                                                 # before saving
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize


def is_cjk(ch):
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def token_features(text):
    """What a token is made of: its CJK characters and, for Latin text, the lower-cased word
    (so " Refund", "refund" and "REFUND" share it) and that word's character trigrams (so
    "refunds" and "tuihuo" relate to "refund" and "tui"). Special tokens (<|im_end|>) have none."""
    if text.startswith("<|") and text.endswith("|>"):
        return []
    features = [ch for ch in text if is_cjk(ch)]
    word = "".join(ch for ch in text.lower() if "a" <= ch <= "z")
    if word:
        features.append("w:" + word)
        padded = f"<{word}>"
        features += ["g:" + padded[i:i + 3] for i in range(len(padded) - 2)]
    return features


def feature_bags(vocab_texts, vocab_size):
    """Each token's features as bags for embedding_bag: (feature ids, offsets, feature count)."""
    features, ids, offsets = {}, [], []
    for token_id in range(vocab_size):
        offsets.append(len(ids))
        text = vocab_texts[token_id] if token_id < len(vocab_texts) else ""
        ids += [features.setdefault(f, len(features)) for f in token_features(text)]
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long), features


class ComposeWithChars(nn.Module):
    """Parametrization of embed_tokens.weight: adds the mean embedding of each token's features."""

    def __init__(self, feature_ids, offsets, n_features, hidden_size):
        super().__init__()
        self.register_buffer("feature_ids", feature_ids, persistent=False)
        self.register_buffer("offsets", offsets, persistent=False)
        # Zero start: the model begins exactly as without features and learns how much to use.
        self.char_embed = nn.Parameter(torch.zeros(n_features, hidden_size))

    def forward(self, token_weight):
        # NOTE: embedding_bag (mean; an empty bag gives zeros) is far faster than a sparse matmul
        # here, forward and backward.
        composed = F.embedding_bag(self.feature_ids, self.char_embed, self.offsets, mode="mean")
        return token_weight + composed


def attach(model, vocab_texts):
    """Makes the model's (tied) embedding character-composed. Returns the parametrization."""
    embed = model.model.embed_tokens
    feature_ids, offsets, features = feature_bags(vocab_texts, embed.weight.shape[0])
    compose = ComposeWithChars(feature_ids, offsets, len(features), embed.weight.shape[1])
    parametrize.register_parametrization(embed, "weight", compose)
    print(f"composed embedding: {len(features)} features (CJK characters, words, trigrams), "
          f"{len(feature_ids)} token links")
    return compose


def token_weight(model):
    """The trainable per-token table (the original weight when characters are attached)."""
    embed = model.model.embed_tokens
    if parametrize.is_parametrized(embed, "weight"):
        return embed.parametrizations.weight.original
    return embed.weight


def bake(model):
    """Replaces the parametrization by the plain table it computes: a standard Qwen3 again."""
    embed = model.model.embed_tokens
    if parametrize.is_parametrized(embed, "weight"):
        parametrize.remove_parametrizations(embed, "weight", leave_parametrized=True)
