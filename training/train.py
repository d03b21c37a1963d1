"""
Trains fenliu's intent model, a Qwen3 that answers a message with its intent label, on the token
ids scripts/prepare-training-data.ts wrote (so training and serving share one prompt format). One
loop, two ways to start: a tiny Qwen3 from scratch (the committed demo model), or a Hugging Face
Qwen3 folder (e.g. Qwen3-0.6B) fine-tuned with LoRA or fully, on CPU or GPU, on one process or
several under torchrun:

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 /usr/bin/python3 training/train.py \
        --data training/build/demo --out training/build/demo-ckpt

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 /usr/bin/python3 training/train.py \
        --init-from ~/models/Qwen3-0.6B --data training/build/mine --out training/build/mine-lora

    torchrun --nproc_per_node 2 training/train.py --init-from ...   (DDP: gloo on CPU, NCCL on GPU)

--init-from scratch (default) builds the model from --hidden-size, --layers, ...; --init-from
FOLDER loads it and trains LoRA layers (--lora, the default: rank 8, alpha 32, dropout 0.1 on
q_proj and v_proj) or every weight (--full). Where the two differ (learning rate, batch, epochs,
warm-up, decay, dropout, ...) the defaults are the table PATH_DEFAULTS below; a flag given wins.

DATA holds train.jsonl (and optionally valid.jsonl, test.jsonl, tool_test.jsonl,
reply_test.jsonl) with rows {"input_ids", "answer_start", "label"} and meta.json {"labels", ...}.
The loss covers only the answer tokens input_ids[answer_start:]: the label's tokens then
<|im_end|>; for an intent bound to a tool the label, "\n" and the <tool_call> block (such a row
says in "label_tokens" how many answer tokens the label part is); for a reply-step row
("kind": "reply", prompt = the tool's result) the reply text.

Prints `step N | loss L | lr R | T s` every --log-every steps, then per split the accuracy as the
runtime computes it (the label with the highest label-trie probability, model.LabelTrie) and, for
comparison, of unconstrained greedy decoding; on tool_test the exact match of the whole greedy
answer (label and call) and on reply_test of the greedy reply. Writes OUT/config.json,
OUT/generation_config.json, OUT/model.safetensors (fp32, Hugging Face names, the tied embedding
once; LoRA merged in): the folder export.py takes as --checkpoint; OUT/adapter/ (LoRA: a PEFT
adapter); OUT/train_log.json (args, per-step loss, seconds, accuracies, label ids, sample prompts).

Under torchrun every process reads the whole data in the same order and draws the same
augmentation; each takes its share of every global batch (--batch-size is the global batch), and
the loss is normalised by the global number of answer tokens, so the gradients (and the loss
curve) are those of one process running the same global batch, up to floating-point summation
order. With --deterministic (the default from scratch), the same seed, --threads and device give
the same loss curve and weights bit for bit.

NOTE: without GLIBC_TUNABLES=glibc.malloc.hugetlb=1 every tensor over 32 MB (the [N, 151936]
logits) pays ~0.3 s of page faults per step here.
"""
import argparse
import json
import math
import os
import random
import resource
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import (Qwen3Config, Qwen3ForCausalLM, LabelTrie, label_log_probs, generate,  # noqa: E402
                   ENDOFTEXT_ID)
from hf_checkpoint import load_qwen3, save_qwen3, CheckpointError  # noqa: E402
from lora import apply_lora, save_adapter, merge_lora_, parse_targets, AdapterError  # noqa: E402
import char_embedding  # noqa: E402

USER_TURN = (151644, 872, 198)   # "<|im_start|>user\n": the user's message follows it
IM_END = 151645
DIGITS = range(15, 25)           # "0" .. "9": Qwen3's tokenizer writes every digit as its own token
SPLITS = ("train", "valid", "test", "tool_test", "reply_test")
PATHS = ("scratch", "lora", "full")

# The defaults that differ between the three ways to train, in one place. A flag given on the
# command line wins. From scratch: a tiny model on ~2000 rows wants a high learning rate, larger
# batches, many epochs and strong regularisation; a pretrained checkpoint wants the opposite, and
# runs on whatever device and thread count the machine has (the demo model must be the same
# everywhere: one CPU thread, deterministic).
#                         scratch                                    lora          full
PATH_DEFAULTS = {
    "epochs":            (12,                                        3,            3),
    "batch_size":        (32,                                        8,            8),
    "lr":                (3e-3,                                      2e-4,         2e-5),
    "warmup":            (20,                                        10,           10),
    "weight_decay":      (0.1,                                       0.0,          0.0),
    "beta2":             (0.95,                                      0.999,        0.999),
    "token_drop":        (0.25,                                      0.0,          0.0),
    "dropout":           (0.1,                                       0.0,          0.0),
    "embed_dropout":     (0.1,                                       0.0,          0.0),
    "compose":           (True,                                      False,        False),
    "train_unseen_rows": (False,                                     True,         True),
    "device":            ("cpu",                                     "auto",       "auto"),
    "threads":           (1,                                         0,            0),
    "deterministic":     (True,                                      False,        False),
    "max_minutes":       (8.0,                                       0.0,          0.0),
    "log_every":         (20,                                        10,           10),
    "eval_batch_size":   (64,                                        32,           32),
    "eval_splits":       ("train,valid,test,tool_test,reply_test",   "valid,test", "valid,test"),
}
# The model built from scratch (--init-from FOLDER takes the folder's config.json instead). The
# defaults fit a < 20 MB int8 export (151936 x 64 int8 embedding = 9.7 MB).
SCRATCH_MODEL = {"hidden_size": 64, "layers": 2, "heads": 4, "kv_heads": 2, "head_dim": 16,
                 "intermediate_size": 192, "rope_theta": 1000000.0, "max_position_embeddings": 2048}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one (per-path defaults say theirs in the help)."""

    def _get_help_string(self, action):
        if action.default is None or action.nargs == 0:  # per-path defaults, switches
            return action.help
        return super()._get_help_string(action)


def training_path(args):
    """'scratch', 'lora' or 'full'."""
    if args.init_from == "scratch":
        return "scratch"
    return "full" if args.full else "lora"


def get_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)

    def per_path(name, help_text, **kw):
        scratch, lora, full = PATH_DEFAULTS[name]
        flag = "--" + name.replace("_", "-")
        kw.setdefault("type", type(scratch))
        p.add_argument(flag, default=None,
                       help=f"{help_text} (default: {scratch!r} from scratch, {lora!r} LoRA, {full!r} full)", **kw)

    p.add_argument("--data", required=True, help="prepared data folder (train.jsonl, meta.json)")
    p.add_argument("--out", required=True, help="checkpoint folder to write (+ adapter/ with LoRA)")
    # what to train
    p.add_argument("--init-from", default="scratch", metavar="scratch|FOLDER",
                   help="'scratch': a new model (see --hidden-size ...); else a Hugging Face Qwen3 folder "
                        "(config.json + safetensors) to fine-tune")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--lora", action="store_true", help="with --init-from FOLDER: train LoRA layers (the default)")
    how.add_argument("--full", action="store_true", help="with --init-from FOLDER: train every weight")
    p.add_argument("--lora-rank", type=int, default=8)
    p.add_argument("--lora-alpha", type=float, default=32)
    p.add_argument("--lora-dropout", type=float, default=0.1)
    p.add_argument("--lora-targets", default="q_proj,v_proj",
                   help="comma list of q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj, or 'all'")
    p.add_argument("--no-merge", dest="merge", action="store_false",
                   help="LoRA: write the adapter only, not the merged checkpoint")
    # the model from scratch
    for name, value in SCRATCH_MODEL.items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=None,
                       help=f"from scratch only (default: {value:g})")
    # optimisation
    per_path("epochs", "passes over train.jsonl (ignored if --steps)", type=float)
    p.add_argument("--steps", type=int, default=0, help="optimizer steps (overrides --epochs)")
    per_path("batch_size", "global batch (split over torchrun processes)")
    per_path("lr", "peak learning rate (AdamW)")
    p.add_argument("--min-lr-ratio", type=float, default=0.1, help="cosine decays to lr * this")
    per_path("warmup", "linear warm-up steps")
    per_path("weight_decay", "AdamW decay on the matrices of the layers (never embedding or norms)")
    per_path("beta2", "AdamW's second-moment decay")
    p.add_argument("--grad-clip", type=float, default=1.0)
    # regularisation
    per_path("dropout", "residual and attention dropout")
    per_path("embed_dropout", "dropout on token embeddings")
    per_path("token_drop", "chance to delete each token of the user's message (augmentation)")
    p.add_argument("--resample-digits", type=int, default=0, metavar="N",
                   help="each time a row is used, replace every run of at least N digits (an order "
                        "id) by random digits, the same run by the same digits wherever it occurs "
                        "(message, call, tool result, reply): the model must copy ids, not recall "
                        "them (0: off)")
    p.add_argument("--copy-weight", type=int, default=1, metavar="W",
                   help="use each row whose answer copies from its prompt (a tool call with "
                        "arguments, a reply) W times per epoch: copying is learned far more slowly "
                        "than classifying")
    p.add_argument("--sampled-softmax", type=int, default=0, metavar="K",
                   help="train the head on the tokens of the training data plus K tokens drawn per "
                        "step from the rest of the vocabulary (see SampledHead; 0: full softmax)")
    per_path("train_unseen_rows", "let Adam move embedding rows of tokens absent from train.jsonl "
             "(else frozen)", action=argparse.BooleanOptionalAction, type=None)
    per_path("compose", "embeddings composed from characters/words (char_embedding.py; needs "
             "DATA/vocab.json)", action=argparse.BooleanOptionalAction, type=None)
    # run
    per_path("device", "cpu, cuda or auto")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (GPU); weights stay fp32")
    p.add_argument("--seed", type=int, default=0)
    per_path("threads", "torch CPU threads per process (0: torch's default); results are "
             "bit-reproducible for a given count, and one thread makes the demo model the same on any machine")
    per_path("deterministic", "torch.use_deterministic_algorithms (bit-identical reruns on CPU)",
             action=argparse.BooleanOptionalAction, type=None)
    per_path("max_minutes", "stop training after this wall time (0: no limit)")
    per_path("log_every", "print the loss every N steps")
    p.add_argument("--eval-every", type=int, default=0, help="valid accuracy every N steps (0: off)")
    per_path("eval_batch_size", "sequences per forward when scoring")
    per_path("eval_splits", "splits to score at the end ('' for none)")
    args = p.parse_args(argv)

    path = training_path(args)
    if path == "scratch":
        if args.lora or args.full:
            p.error("--lora and --full fine-tune a checkpoint: give --init-from FOLDER")
        for name, value in SCRATCH_MODEL.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
    else:
        given = [name for name in SCRATCH_MODEL if getattr(args, name) is not None]
        if given:
            p.error(f"--{given[0].replace('_', '-')} sets the size of a model from scratch; "
                    f"{args.init_from}/config.json gives it here")
    if not args.merge and path != "lora":
        p.error("--no-merge goes with LoRA only")
    column = PATHS.index(path)
    for name, values in PATH_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, values[column])
    return args


# -----------------------------------------------------------------------------
# data

def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_data(data_dir):
    with open(os.path.join(data_dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    splits = {}
    for name in SPLITS:
        path = os.path.join(data_dir, name + ".jsonl")
        if os.path.exists(path):
            splits[name] = read_jsonl(path)
    if "train" not in splits:
        sys.exit(f"train.py: no train.jsonl in {data_dir}")
    for name, rows in splits.items():
        for i, r in enumerate(rows):
            ids, a = r["input_ids"], r["answer_start"]
            if not (0 < a < len(ids)) or ids[-1] != IM_END:
                sys.exit(f"train.py: {name}.jsonl row {i + 1}: answer_start {a} / ids must end in <|im_end|>")
    return meta, splits


def is_reply(row):
    return row.get("kind") == "reply"


def copies(row):
    """Whether the row's answer copies from its prompt: a tool call with arguments, a reply."""
    return is_reply(row) or row.get("arguments", 0) > 0


def label_part(row):
    """The answer tokens classification decides: the whole answer (label + <|im_end|>), or for a
    tool intent the label, "\n" and <tool_call> (the call's arguments follow)."""
    a = row["answer_start"]
    n = row.get("label_tokens")
    return row["input_ids"][a:a + n] if n else row["input_ids"][a:]


def label_answers(meta, rows):
    """{label: the answer tokens classification decides (label_part)} taken from the data itself,
    so they are exactly the tokenizer's; each label must start its answer the same way in every
    row. Reply-step rows are not classification and are left out."""
    answers = {}
    for r in rows:
        if is_reply(r):
            continue
        ans = tuple(label_part(r))
        if answers.setdefault(r["label"], ans) != ans:
            sys.exit(f"train.py: label {r['label']!r} has two different token sequences")
    missing = [l for l in meta["labels"] if l not in answers]
    if missing:
        print(f"warning: no example for labels {missing}: they can never be predicted")
    return {l: list(answers[l]) for l in meta["labels"] if l in answers}


def user_span(ids, answer_start):
    """[begin, end) of the user's message tokens, or None if the prompt has no user turn."""
    for b in range(answer_start - len(USER_TURN), -1, -1):
        if tuple(ids[b:b + len(USER_TURN)]) == USER_TURN:
            b += len(USER_TURN)
            e = b
            while e < answer_start and ids[e] != IM_END:
                e += 1
            return b, e
    return None


def augment(row, rng, p):
    """Token dropout on the user's message only: deleting a few sub-words forces the model to use
    every cue of the message instead of memorising one token per example (measured: README).
    Tokens the answer's tool call copies (an order id's digits, an address) are never deleted,
    so the call stays true to the message; reply-step rows are left as they are (their last
    "user" turn is the tool's result)."""
    ids, a = row["input_ids"], row["answer_start"]
    span = user_span(ids, a) if p > 0 and not is_reply(row) else None
    if span is None or span[1] - span[0] < 2:
        return ids, a
    b, e = span
    keep = rng.random(e - b) >= p
    if row.get("label_tokens"):
        copied = set(ids[a + row["label_tokens"]:])
        keep |= np.array([t in copied for t in ids[b:e]], dtype=bool)
    if not keep.any():
        keep[rng.integers(e - b)] = True
    msg = [t for t, k in zip(ids[b:e], keep) if k]
    removed = (e - b) - len(msg)
    return ids[:b] + msg + ids[e:], a - removed


def digit_runs(ids, min_len):
    """[(begin, end)] of the maximal runs of at least min_len digit tokens."""
    runs, b = [], None
    for i, t in enumerate(list(ids) + [-1]):
        if t in DIGITS:
            b = i if b is None else b
        else:
            if b is not None and i - b >= min_len:
                runs.append((b, i))
            b = None
    return runs


def resample_digits(row, rng, min_len):
    """A copy of row whose digit runs of at least min_len (order ids, tracking numbers) are fresh
    random digits: equal runs get equal new digits, so an id the answer copies from the message
    (or a reply from the tool's result) still matches. Lengths do not change."""
    if min_len <= 0:
        return row
    ids = row["input_ids"]
    runs = digit_runs(ids, min_len)
    if not runs:
        return row
    new_ids, fresh = list(ids), {}
    for b, e in runs:
        old = tuple(ids[b:e])
        if old not in fresh:
            fresh[old] = [DIGITS[0] + int(d) for d in rng.integers(0, 10, e - b)]
        new_ids[b:e] = fresh[old]
    return dict(row, input_ids=new_ids)


def make_batch(seqs, pad_id=ENDOFTEXT_ID):
    """seqs: list of (ids, answer_start). Right-padded ids/mask and the answer-only targets:
    positions answer_start-1 .. len-2 predict input_ids[answer_start:]."""
    T = max(len(ids) for ids, _ in seqs)
    ids_t = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    bi, ti, targets = [], [], []
    for i, (ids, a) in enumerate(seqs):
        ids_t[i, :len(ids)] = torch.tensor(ids)
        mask[i, :len(ids)] = 1
        for t in range(a - 1, len(ids) - 1):
            bi.append(i)
            ti.append(t)
            targets.append(ids[t + 1])
    return ids_t, mask, (torch.tensor(bi), torch.tensor(ti)), torch.tensor(targets)


def answer_loss_sum(model, seqs, head=None, device=None, autocast=None):
    """(sum of the answer tokens' cross-entropy, token count); with `head` (a SampledHead) over
    its candidate tokens instead of the whole vocabulary. The mean is sum / count."""
    ids, mask, at, targets = make_batch(seqs)
    if device is not None:
        ids, mask, targets = ids.to(device), mask.to(device), targets.to(device)
        at = (at[0].to(device), at[1].to(device))
    with autocast or torch.autocast("cpu", enabled=False):
        if head is None:
            logits, _ = model(ids, attention_mask=mask, logits_at=at)
        else:
            logits = head.logits(answer_hidden(model, ids, mask, at))
            targets = head.position.to(targets.device)[targets]
    return F.cross_entropy(logits.float(), targets, reduction="sum"), len(targets)


def answer_hidden(model, ids, mask, at):
    """The final-norm hidden states at the answer positions `at`, without the model's own
    full-vocabulary head: a forward hook keeps the norm's output and hands the head zero rows."""
    kept = {}

    def keep(module, inputs, output):
        kept["x"] = output
        return output[:0]

    core = getattr(model, "module", model)  # the model itself under DistributedDataParallel
    hook = core.model.norm.register_forward_hook(keep)
    try:
        model(ids, attention_mask=mask, logits_at=at)
    finally:
        hook.remove()
    return kept["x"]


class SampledHead:
    """Sampled softmax for the tied head. Every token of the training data is a candidate at every
    step (the targets are among them), plus `k` tokens drawn afresh each step from the rest of the
    vocabulary, whose logits get log(rest / k) added so they stand for all of it in the softmax's
    denominator. With answers of tens of tokens (tool calls, replies) the [positions x 151936]
    logits are most of a step's time; this makes them [positions x (seen + k)]."""

    def __init__(self, model, seen, k, seed):
        self.model, self.k = model, k
        vocab = model.config.vocab_size
        self.seen = torch.tensor(seen, dtype=torch.long)
        others = torch.ones(vocab, dtype=torch.bool)
        others[self.seen] = False
        self.others = others.nonzero()[:, 0]
        self.correction = math.log(max(1, len(self.others)) / max(1, k))
        self.position = torch.full((vocab,), -1, dtype=torch.long)  # a target's column in logits()
        self.position[self.seen] = torch.arange(len(seen))
        self.generator = torch.Generator().manual_seed(seed)

    def logits(self, x):
        pick = torch.randperm(len(self.others), generator=self.generator)[:self.k]
        drawn = self.others[pick].to(x.device)
        weight = self.model.lm_head_weight
        return torch.cat([F.linear(x, weight[self.seen.to(x.device)]),
                          F.linear(x, weight[drawn]) + self.correction], dim=1)


# -----------------------------------------------------------------------------
# evaluation

def prompt_of(row):
    return row["input_ids"][:row["answer_start"]]


@torch.no_grad()
def label_accuracy(model, rows, trie, batch_size=64):
    """Share of rows whose label the runtime would answer: the highest label-trie probability
    (model.LabelTrie, as IntentClassifier; uncalibrated, so never routed to the fallback)."""
    rows = [r for r in rows if not is_reply(r)]
    best = label_log_probs(model, [prompt_of(r) for r in rows], trie, batch_size).argmax(-1).tolist()
    return sum(trie.labels[b] == r["label"] for b, r in zip(best, rows)) / max(1, len(rows))


def label_generated(out, answer):
    """Whether greedy output `out` (eos not included) gives the label part `answer`: the whole
    answer for a plain label; the label up to <tool_call> as a prefix for a tool intent."""
    if answer and answer[-1] == IM_END:
        return out == answer[:-1]
    return out[:len(answer)] == answer


@torch.no_grad()
def evaluate(model, rows, answers, batch_size=64):
    """{'accuracy': the runtime's label is right (label_accuracy), 'generate': unconstrained greedy
    decoding answers exactly the label (stricter: the runtime never decodes a label freely),
    'n': rows}. Reply-step rows are skipped."""
    model.eval()
    rows = [r for r in rows if not is_reply(r)]
    gen_ok = 0
    max_new = max(len(a) for a in answers.values())
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        outs = generate(model, [prompt_of(r) for r in chunk], max_new)
        gen_ok += sum(label_generated(o, answers.get(r["label"], [])) for o, r in zip(outs, chunk))
    return {"accuracy": label_accuracy(model, rows, LabelTrie(answers), batch_size),
            "generate": gen_ok / max(1, len(rows)), "n": len(rows)}


@torch.no_grad()
def arguments_exact_match(model, rows, batch_size=32):
    """On tool-call rows that say where their arguments start ("arguments_at"): the share whose
    greedy continuation after the fixed part (label, <tool_call>, name, "arguments":) is exactly
    the arguments, </tool_call> and eos. The runtime forces that fixed part too, so this is the
    argument exact match given the right intent, before the runtime's schema constraints."""
    rows = [r for r in rows if r.get("arguments_at")]
    forced = [dict(r, answer_start=r["answer_start"] + r["arguments_at"]) for r in rows]
    return answer_exact_match(model, forced, batch_size)


@torch.no_grad()
def answer_exact_match(model, rows, batch_size=32, max_new=None):
    """{'exact': share of rows whose greedy answer is exactly the target (up to eos), 'n': rows,
    'per_label': {label: [exact, n]}, 'misses': the first few misses as {row, got, want} token
    ids}. Unconstrained greedy decoding: stricter than the runtime, which constrains the call."""
    model.eval()
    if not rows:
        return {"exact": 0.0, "n": 0, "per_label": {}, "misses": []}
    targets = [r["input_ids"][r["answer_start"]:-1] for r in rows]
    limit = max_new or max(len(t) for t in targets) + 8
    ok, per_label, misses = 0, {}, []
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        outs = generate(model, [prompt_of(r) for r in chunk], limit)
        for j, (o, r) in enumerate(zip(outs, chunk)):
            hit = o == targets[i + j]
            ok += hit
            stats = per_label.setdefault(r["label"], [0, 0])
            stats[0] += hit
            stats[1] += 1
            if not hit and len(misses) < 20:
                misses.append({"row": i + j, "got": o, "want": targets[i + j]})
    return {"exact": ok / len(rows), "n": len(rows), "per_label": per_label, "misses": misses}


@torch.no_grad()
def evaluate_splits(model, splits, answers, args):
    """(accuracy, generation) of every split named in --eval-splits, printed as they come."""
    accuracy, generation = {}, {}
    half = max(1, args.eval_batch_size // 2)
    for name, rows in splits.items():
        if name not in args.eval_splits.split(","):
            continue
        if name != "reply_test":
            a = accuracy[name] = evaluate(model, rows, answers, args.eval_batch_size)
            print(f"{name:5s} accuracy {a['accuracy']:.3f} (the runtime's: label-trie argmax) | "
                  f"unconstrained greedy {a['generate']:.3f} | n {a['n']}")
        if name in ("tool_test", "reply_test"):
            g = generation[name] = answer_exact_match(model, rows, half)
            what = "label and call" if name == "tool_test" else "reply"
            print(f"{name}: greedy {what} exact match {g['exact']:.3f} | n {g['n']}")
        if name == "tool_test":
            g = generation["tool_arguments"] = arguments_exact_match(model, rows, half)
            print(f"tool_test: greedy arguments exact match after the fixed part {g['exact']:.3f} | n {g['n']}")
    return accuracy, generation


# -----------------------------------------------------------------------------
# model, optimizer, processes

def build_model(args):
    """A new Qwen3 of the --hidden-size ... shape, initialised from --seed."""
    cfg = Qwen3Config(hidden_size=args.hidden_size, intermediate_size=args.intermediate_size,
                      num_hidden_layers=args.layers, num_attention_heads=args.heads,
                      num_key_value_heads=args.kv_heads, head_dim=args.head_dim,
                      rope_theta=args.rope_theta, max_position_embeddings=args.max_position_embeddings)
    torch.manual_seed(args.seed)
    model = Qwen3ForCausalLM(cfg)
    model.set_dropout(args.dropout, embed_p=args.embed_dropout)
    return model


def init_model(args, path):
    """(model, a line saying what trains): --init-from scratch or FOLDER, then LoRA layers or not."""
    if path == "scratch":
        model = build_model(args)
        mode = f"from scratch (hidden {args.hidden_size}, {args.layers} layers)"
    else:
        try:
            model = load_qwen3(args.init_from)
        except CheckpointError as e:
            sys.exit(f"train.py: {e}")
        torch.manual_seed(args.seed)  # LoRA's A init: the same on every process
        model.set_dropout(args.dropout, embed_p=args.embed_dropout)
        mode = "full fine-tuning"
    if args.compose:
        with open(os.path.join(args.data, "vocab.json"), encoding="utf-8") as f:
            char_embedding.attach(model, json.load(f))
    if path == "lora":
        try:
            targets = parse_targets(args.lora_targets)
            apply_lora(model, args.lora_rank, args.lora_alpha, args.lora_dropout, targets)
        except AdapterError as e:
            sys.exit(f"train.py: {e}")
        mode = (f"LoRA r={args.lora_rank} alpha={args.lora_alpha:g} dropout={args.lora_dropout:g} "
                f"on {','.join(targets)}")
    return model, mode


def make_optimizer(model, args):
    # Decay only the layers' matrices: decaying the embedding would shrink the rows of tokens the
    # data never shows (they must stay as initialised), and norms are scales, not weights.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.dim() == 2 and "embed_tokens" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": args.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, args.beta2), eps=1e-8, foreach=True)


def lr_at(step, total, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, total - args.warmup)
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def setup(args):
    """(device, rank, world size): the device, threads and determinism, and the process group when
    launched by torchrun."""
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = 0
    if world > 1:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.deterministic:
        torch.use_deterministic_algorithms(True)  # same seed + thread count -> same bits
    if args.batch_size < world:
        sys.exit(f"train.py: --batch-size {args.batch_size} is smaller than the {world} processes")
    return device, rank, world


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -----------------------------------------------------------------------------
# training

def train(args):
    t_start = time.time()
    path = training_path(args)
    device, rank, world = setup(args)
    say = print if rank == 0 else (lambda *a, **k: None)
    meta, splits = load_data(args.data)
    train_rows = splits["train"]
    answers = label_answers(meta, train_rows)
    timings = {}

    t = time.time()
    model, mode = init_model(args, path)
    if path != "scratch":
        timings["load_base_s"] = round(time.time() - t, 2)
    model.to(device).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in trainable)
    n_params = sum(p.numel() for p in model.parameters())
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    opt = make_optimizer(model, args)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.bf16)
    emb = char_embedding.token_weight(model)

    # Tokens the training data never shows: Adam would move their rows anyway (the full-vocab
    # softmax gives every row a tiny gradient and Adam normalises it to a full-size step), so
    # they would all drift to one vector. Zeroing their gradient keeps them exactly as
    # initialised; as lm_head rows they then act as a fixed "everything else" near logit 0.
    seen = sorted({t for r in train_rows for t in r["input_ids"]})
    row_mask = None
    if not args.train_unseen_rows and emb.requires_grad:
        row_mask = torch.zeros(emb.shape[0], 1, device=device)
        row_mask[seen] = 1.0

    head = SampledHead(model, seen, args.sampled_softmax, args.seed) if args.sampled_softmax else None

    # Rows that copy from their prompt come copy_weight times per epoch.
    epoch_rows = [i for i, r in enumerate(train_rows)
                  for _ in range(args.copy_weight if copies(r) else 1)]
    steps_per_epoch = math.ceil(len(epoch_rows) / args.batch_size)
    total = args.steps or max(1, round(args.epochs * steps_per_epoch))
    say(f"{len(train_rows)} train rows, {len(answers)} labels, {len(seen)} distinct tokens seen; {mode}; "
        f"{n_train / 1e6:.3f} M of {n_params / 1e6:.2f} M parameters trainable; {total} steps of global "
        f"batch {args.batch_size} on {world} process(es), {device}")

    # Every process draws the same order and augmentation for the whole global batch, then takes
    # its share, so a row is the same whichever process handles it.
    shuffle_rng = random.Random(args.seed)
    aug_rng = np.random.default_rng(args.seed)
    order, log, t0 = [], [], time.time()
    for step in range(total):
        if len(order) < args.batch_size:  # next epoch: a fresh permutation appended
            perm = list(epoch_rows)
            shuffle_rng.shuffle(perm)
            order += perm
        batch, order = order[:args.batch_size], order[args.batch_size:]
        seqs = [augment(resample_digits(train_rows[i], aug_rng, args.resample_digits), aug_rng,
                        args.token_drop) for i in batch]
        global_tokens = sum(len(ids) - a for ids, a in seqs)
        lr = lr_at(step, total, args)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        with parametrize.cached():  # the composed embedding is built once per step, not per use
            loss_sum, _ = answer_loss_sum(net, seqs[rank::world], head, device, autocast)
            # DDP averages gradients over processes: scaled by world, the result is sum / global count.
            (loss_sum * (world / global_tokens)).backward()
        if row_mask is not None:
            emb.grad.mul_(row_mask)
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(trainable, args.grad_clip)
        opt.step()
        logged = loss_sum.detach()
        if world > 1:
            dist.all_reduce(logged)
        loss = (logged / global_tokens).item()
        elapsed = time.time() - t0
        log.append({"step": step + 1, "loss": loss, "lr": lr, "elapsed": round(elapsed, 3)})
        if (step + 1) % args.log_every == 0 or step + 1 == total:
            say(f"step {step + 1:5d} | loss {loss:.4f} | lr {lr:.2e} | {elapsed:6.1f} s", flush=True)
        if args.eval_every and (step + 1) % args.eval_every == 0 and "valid" in splits and rank == 0:
            model.eval()
            with parametrize.cached(), autocast:
                acc = label_accuracy(model, splits["valid"], LabelTrie(answers), args.eval_batch_size)
            model.train()
            log[-1]["valid_accuracy"] = acc
            say(f"step {step + 1:5d} | valid accuracy {acc:.3f}", flush=True)
        if args.max_minutes and elapsed > args.max_minutes * 60:
            say(f"stopping at step {step + 1}: --max-minutes {args.max_minutes} reached")
            break
    timings["train_s"] = round(time.time() - t0, 2)
    timings["seconds_per_step"] = round(timings["train_s"] / max(1, len(log)), 3)

    result = {"args": vars(args), "mode": mode, "world_size": world, "parameters": n_params,
              "trainable_parameters": n_train, "seen_tokens": len(seen), "steps": log,
              "train_seconds": timings["train_s"], "labels": answers}
    if rank == 0:
        model.eval()
        char_embedding.bake(model)  # a plain Qwen3 embedding table from here on (evaluation, export)
        with autocast:
            result["accuracy"], result["generation"] = evaluate_splits(model, splits, answers, args)
        save(model, path, args, result, splits, timings, t_start)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return model, result


def save(model, path, args, result, splits, timings, t_start):
    """OUT/adapter/ (LoRA), OUT/{config.json, generation_config.json, model.safetensors} (LoRA
    merged in) and OUT/train_log.json."""
    os.makedirs(args.out, exist_ok=True)
    model.cpu()
    written = []
    if path == "lora":
        t = time.time()
        save_adapter(model, os.path.join(args.out, "adapter"), base=os.path.abspath(args.init_from))
        timings["save_adapter_s"] = round(time.time() - t, 2)
        written.append("adapter/{adapter_config.json, adapter_model.safetensors}")
    if args.merge:
        t = time.time()
        merge_lora_(model)  # nothing to do without LoRA layers
        timings["merge_s"] = round(time.time() - t, 2)
        t = time.time()
        save_qwen3(model, args.out, dtype=torch.float32)
        timings["save_s"] = round(time.time() - t, 2)
        written.append("{config.json, generation_config.json, model.safetensors} (fp32"
                       + (", LoRA folded in)" if path == "lora" else ")"))
    # Prompts and label ids that export.py uses to measure its quantization error.
    probe = splits.get("test") or splits.get("valid") or splits["train"]
    result["sample_prompts"] = [prompt_of(r) for r in probe[:16]]
    result["config"] = model.config.to_hf_dict()
    timings["wall_s"] = result["wall_seconds"] = round(time.time() - t_start, 2)
    timings["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["timings"] = timings
    with open(os.path.join(args.out, "train_log.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
        f.write("\n")
    for what in written:
        print(f"wrote {args.out}/{what}")
    print(f"trained {len(result['steps'])} steps in {timings['train_s']:.1f} s; peak RSS "
          f"{timings['peak_rss_mb']:.0f} MB; wrote {args.out}/train_log.json")


if __name__ == "__main__":
    train(get_args())
