"""
The Qwen3 decoder in plain PyTorch, with Hugging Face parameter names so a checkpoint written
here loads as `Qwen3ForCausalLM` and one exported from Hugging Face loads here. Library module:

    /usr/bin/python3 -c "import sys; sys.path.insert(0, 'training'); import model"

Qwen3 = Llama + RMSNorm on each head's q and k (before RoPE) + no biases. One forward serves
training (right padding, logits only at answer positions), evaluation/generation (left padding,
KV cache) and the parity reference for the ONNX graph that export.py builds op by op. Below it,
the two ways the runtime reads a model: greedy `generate` (transformers.js) and the label trie's
constrained probabilities (`LabelTrie`, `label_log_probs`: IntentClassifier). Checkpoint folders
are read and written by hf_checkpoint.py, which imports this module (never the other way round).
"""
import json
import math
from dataclasses import dataclass, asdict, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

# Qwen3 special tokens (same ids in every Qwen3 tokenizer).
IM_END_ID = 151645       # <|im_end|>: ends every answer
ENDOFTEXT_ID = 151643    # <|endoftext|>: bos and pad
MASK_FILL = -1e9         # finite, so a fully padded row is uniform instead of NaN (ONNX does the same)


@dataclass
class Qwen3Config:
    hidden_size: int = 64
    intermediate_size: int = 192
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    head_dim: int = 16
    vocab_size: int = 151936
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1000000.0
    tie_word_embeddings: bool = True
    eos_token_id: int = IM_END_ID
    bos_token_id: int = ENDOFTEXT_ID
    torch_dtype: str = "float32"
    initializer_range: float = 0.02

    @classmethod
    def from_dict(cls, d):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def to_hf_dict(self):
        # The fields transformers / transformers.js read for model_type "qwen3", plus the
        # defaults Hugging Face writes, so the folder is a normal Qwen3ForCausalLM checkpoint.
        d = asdict(self)
        d.update({
            "architectures": ["Qwen3ForCausalLM"],
            "model_type": "qwen3",
            "hidden_act": "silu",
            "attention_bias": False,
            "attention_dropout": 0.0,
            "rope_scaling": None,
            "use_cache": True,
            "use_sliding_window": False,
            "sliding_window": None,
            "max_window_layers": self.num_hidden_layers,
        })
        return dict(sorted(d.items()))

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_dict(), f, indent=2)
            f.write("\n")


class _skip_init:
    """Context: nn.Linear / nn.Embedding allocate without running their random init."""

    def __init__(self, active):
        self.active = active

    def __enter__(self):
        if self.active:
            self.saved = nn.Linear.reset_parameters, nn.Embedding.reset_parameters
            nn.Linear.reset_parameters = nn.Embedding.reset_parameters = lambda module: None

    def __exit__(self, *exc):
        if self.active:
            nn.Linear.reset_parameters, nn.Embedding.reset_parameters = self.saved


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope_inv_freq(cfg):
    # Computed exactly as Hugging Face does (float32), and export.py stores this same tensor.
    d = cfg.head_dim
    return 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))


def rope_cos_sin(position_ids, inv_freq):
    freqs = position_ids.float()[..., None] * inv_freq            # [B, T, d/2]
    emb = torch.cat([freqs, freqs], dim=-1)                      # [B, T, d]
    return emb.cos()[:, None], emb.sin()[:, None]                # [B, 1, T, d]


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def attention_allowed(attention_mask, T):
    """[B, 1, 1, T, S] bool: query t (the last T of S positions) may see key s.

    Causality is by index (the queries are the last T positions), padding by attention_mask, so
    left padding (generation) and right padding (training) both work; export.py builds the same
    from Shape/Range ops."""
    S = attention_mask.shape[1]
    q_idx = torch.arange(S - T, S, device=attention_mask.device)
    k_idx = torch.arange(S, device=attention_mask.device)
    causal = k_idx[None, :] <= q_idx[:, None]                    # [T, S]
    allowed = causal[None] & (attention_mask[:, None, :] > 0)    # [B, T, S]
    return allowed[:, None, None]


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.nh, self.kv, self.d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        assert self.nh % self.kv == 0
        H = cfg.hidden_size
        self.q_proj = nn.Linear(H, self.nh * self.d, bias=False)
        self.k_proj = nn.Linear(H, self.kv * self.d, bias=False)
        self.v_proj = nn.Linear(H, self.kv * self.d, bias=False)
        self.o_proj = nn.Linear(self.nh * self.d, H, bias=False)
        self.q_norm = RMSNorm(self.d, cfg.rms_norm_eps)
        self.k_norm = RMSNorm(self.d, cfg.rms_norm_eps)
        self.attn_dropout = 0.0

    def forward(self, x, cos, sin, allowed, past=None):
        B, T, _ = x.shape
        q = self.q_norm(self.q_proj(x).view(B, T, self.nh, self.d)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(B, T, self.kv, self.d)).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.kv, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        # GQA by broadcasting: head h uses kv head h // rep, as Hugging Face's repeat_kv.
        rep = self.nh // self.kv
        q5 = q.reshape(B, self.kv, rep, T, self.d)
        scores = (q5 @ k.unsqueeze(2).transpose(-1, -2)) * (1.0 / math.sqrt(self.d))
        scores = scores.masked_fill(~allowed, MASK_FILL)
        probs = scores.softmax(-1)
        if self.training and self.attn_dropout > 0:
            probs = F.dropout(probs, self.attn_dropout)
        out = (probs @ v.unsqueeze(2)).reshape(B, self.nh, T, self.d)
        return self.o_proj(out.transpose(1, 2).reshape(B, T, self.nh * self.d)), present


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, I = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)
        self.dropout = 0.0

    def forward(self, x, cos, sin, allowed, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, allowed, past)
        x = x + F.dropout(a, self.dropout, self.training)
        x = x + F.dropout(self.mlp(self.post_attention_layernorm(x)), self.dropout, self.training)
        return x, present


class Qwen3Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class Qwen3ForCausalLM(nn.Module):
    def __init__(self, cfg, init=True):
        """init=False leaves the weights uninitialised (torch.empty), for a model whose every
        weight is about to be loaded: at 0.6 B parameters the random init alone takes seconds."""
        super().__init__()
        self.config = cfg
        with _skip_init(not init):
            self.model = Qwen3Model(cfg)
            if not cfg.tie_word_embeddings:
                self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.register_buffer("inv_freq", rope_inv_freq(cfg), persistent=False)
        self.embed_dropout = 0.0
        if init:
            self.reset_parameters()

    def reset_parameters(self):
        # Hugging Face's init: N(0, initializer_range) for linear and embedding, ones for norms.
        std = self.config.initializer_range
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            else:
                nn.init.normal_(p, mean=0.0, std=std)

    def set_dropout(self, p, attn_p=None, embed_p=None):
        for layer in self.model.layers:
            layer.dropout = p
            layer.self_attn.attn_dropout = p if attn_p is None else attn_p
        self.embed_dropout = p if embed_p is None else embed_p

    @property
    def lm_head_weight(self):
        return self.model.embed_tokens.weight if self.config.tie_word_embeddings else self.lm_head.weight

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None,
                logits_at=None, num_logits_to_keep=0):
        """Returns (logits, present_key_values).

        input_ids [B, T]; attention_mask [B, past + T] (1 = token, 0 = padding; default all 1);
        position_ids [B, T] (default: running count of attention_mask, as transformers.js);
        past_key_values: list of (key, value) [B, kv, past, d] per layer.
        Logits: at `logits_at` = (batch_idx, time_idx) LongTensors -> [N, V] (training only pays
        for the answer positions); otherwise Hugging Face's num_logits_to_keep (0 = all
        positions, k = the last k) -> [B, k or T, V]."""
        B, T = input_ids.shape
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(B, past_len + T, dtype=torch.long, device=input_ids.device)
        if position_ids is None:
            position_ids = default_position_ids(attention_mask)[:, -T:]
        cos, sin = rope_cos_sin(position_ids, self.inv_freq)
        allowed = attention_allowed(attention_mask, T)
        x = self.model.embed_tokens(input_ids)
        if self.training and self.embed_dropout > 0:
            x = F.dropout(x, self.embed_dropout)
        presents = []
        for i, layer in enumerate(self.model.layers):
            x, present = layer(x, cos, sin, allowed, None if past_key_values is None else past_key_values[i])
            presents.append(present)
        if logits_at is not None:
            x = x[logits_at[0], logits_at[1]]
        elif num_logits_to_keep > 0:
            x = x[:, -num_logits_to_keep:]
        x = self.model.norm(x)
        if getattr(self, "quantize_head_input", False):
            x = dynamic_quantize_round_trip(x)
        return F.linear(x, self.lm_head_weight), presents


def dynamic_quantize_round_trip(x):
    """What ONNX DynamicQuantizeLinear + MatMulInteger do to a matmul's input, in float: one uint8
    scale and zero point for the whole tensor (range widened to include 0), round half to even.
    Set `model.quantize_head_input` to reproduce exports whose lm_head multiplies as integers."""
    lo, hi = torch.clamp(x.min(), max=0), torch.clamp(x.max(), min=0)
    scale = (hi - lo) / 255
    if scale == 0:
        return x
    zero = torch.clamp(torch.round(-lo / scale), 0, 255)
    q = torch.clamp(torch.round(x / scale) + zero, 0, 255)
    return (q - zero) * scale


def default_position_ids(attention_mask):
    # transformers.js / Hugging Face: cumsum(mask) - 1, padding positions set to 1.
    pos = attention_mask.long().cumsum(-1) - 1
    return pos.masked_fill(attention_mask == 0, 1)


@torch.no_grad()
def generate(model, prompts, max_new_tokens, eos_ids=(IM_END_ID, ENDOFTEXT_ID), pad_id=ENDOFTEXT_ID):
    """Greedy decoding with the KV cache, prompts left-padded into one batch, as transformers.js
    does for IntentClassifier. Returns each prompt's new tokens up to (not including) eos."""
    B, T = len(prompts), max(len(p) for p in prompts)
    ids = torch.full((B, T), pad_id, dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, T - len(p):] = torch.tensor(p)
        mask[i, T - len(p):] = 1
    logits, past = model(ids, attention_mask=mask, num_logits_to_keep=1)
    out, done = [[] for _ in prompts], [False] * B
    for _ in range(max_new_tokens):
        nxt = logits[:, -1].argmax(-1)
        for i, t in enumerate(nxt.tolist()):
            if not done[i]:
                if t in eos_ids:
                    done[i] = True
                else:
                    out[i].append(t)
        if all(done):
            break
        mask = torch.cat([mask, torch.ones((B, 1), dtype=torch.long)], dim=1)
        pos = (mask.sum(-1, keepdim=True) - 1)
        logits, past = model(nxt[:, None], attention_mask=mask, position_ids=pos, past_key_values=past,
                             num_logits_to_keep=1)
    return out


class LabelTrie:
    """The labels' answers as a token trie, built as the runtime builds it (src/engine/label-trie.ts).

    Each label's answer (its tokens and <|im_end|>; for an intent bound to a tool, the label, "\n"
    and <tool_call>) is a path from the root. The model is asked only at branch points (nodes with
    two or more children): a label's probability is the product, over the branch points on its
    path, of the model's probability for its child renormalised over the allowed children, so the
    labels' probabilities sum to 1. IntentClassifier answers the label with the highest."""

    def __init__(self, answers):
        """answers: {label: answer token ids}, in label order (ties go to the earlier label)."""
        self.labels = list(answers)
        self.answers = [tuple(a) for a in answers.values()]
        for i, a in enumerate(self.answers):
            for j, b in enumerate(self.answers):
                if i != j and (not a or b[:len(a)] == a):
                    raise ValueError(f"label {self.labels[i]!r}: its answer {list(a)} is empty or a "
                                     f"prefix of label {self.labels[j]!r}'s")
        children = {}
        for tokens in self.answers:
            for j, t in enumerate(tokens):
                children.setdefault(tokens[:j], set()).add(t)
        # {path from the root: the tokens allowed after it}, only where the model must choose
        self.branch_points = {path: sorted(c) for path, c in children.items() if len(c) > 1}

    def log_probs(self, choices):
        """Each label's log-probability from one prompt's {branch point: {child: log-prob}}."""
        return [sum(choices[a[:j]][t] for j, t in enumerate(a) if a[:j] in self.branch_points)
                for a in self.answers]


@torch.no_grad()
def last_logits(model, seqs, pad_id=ENDOFTEXT_ID):
    """[len(seqs), V] logits at each sequence's last position (right-padded batch)."""
    T = max(len(s) for s in seqs)
    device = model.lm_head_weight.device
    ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    at = (torch.arange(len(seqs), device=device), mask.sum(1).to(device) - 1)
    logits, _ = model(ids.to(device), attention_mask=mask.to(device), logits_at=at)
    return logits.float()


@torch.no_grad()
def label_log_probs(model, prompts, trie, batch_size=64):
    """[len(prompts), len(trie.labels)]: each label's log-probability as IntentClassifier computes
    it (see LabelTrie): per prompt one forward for each branch point, the prompt followed by the
    branch point's path, whose last logits are renormalised over the allowed children."""
    jobs = [(i, path) for i in range(len(prompts)) for path in trie.branch_points]
    choices = [{} for _ in prompts]
    for b in range(0, len(jobs), batch_size):
        chunk = jobs[b:b + batch_size]
        logits = last_logits(model, [list(prompts[i]) + list(path) for i, path in chunk])
        for row, (i, path) in zip(logits, chunk):
            allowed = trie.branch_points[path]
            choices[i][path] = dict(zip(allowed, row[allowed].log_softmax(-1).tolist()))
    scores = torch.tensor([trie.log_probs(c) for c in choices], dtype=torch.float64)
    return scores.view(len(prompts), len(trie.labels))
