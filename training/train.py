"""
Trains a small Qwen3 from scratch to answer a message's intent label, on the token ids that
scripts/prepare-training-data.ts wrote (so training and serving share one prompt format):

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 /usr/bin/python3 training/train.py \
        --data training/build/demo --out training/build/demo-ckpt

DATA holds train.jsonl (and optionally valid.jsonl, test.jsonl, tool_test.jsonl,
reply_test.jsonl) with rows {"input_ids", "answer_start", "label"} and meta.json {"labels", ...}.
The loss covers only the answer tokens input_ids[answer_start:]: the label's tokens then
<|im_end|>; for an intent bound to a tool the label, "\n" and the <tool_call> block (such a row
says in "label_tokens" how many answer tokens the label part is); for a reply-step row
("kind": "reply", prompt = the tool's result) the reply text.

Prints `step N | loss L | lr R | T s` every --log-every steps, then per split the accuracy of
greedy generation (what the runtime classifier does) and of the argmax over the labels' token
sequences; on tool_test the exact match of the whole greedy answer (label and call) and on
reply_test of the greedy reply. Writes OUT/config.json, OUT/model.safetensors (fp32, Hugging Face names, the
tied embedding once) and OUT/train_log.json (args, per-step loss, wall seconds, accuracies).

NOTE: without GLIBC_TUNABLES=glibc.malloc.hugetlb=1 every tensor over 32 MB (the [N, 151936]
logits) pays ~0.3 s of page faults per step here.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Qwen3Config, Qwen3ForCausalLM, save_checkpoint, generate, ENDOFTEXT_ID  # noqa: E402
import char_embedding  # noqa: E402

USER_TURN = (151644, 872, 198)   # "<|im_start|>user\n": the user's message follows it
IM_END = 151645
DIGITS = range(15, 25)           # "0" .. "9": Qwen3's tokenizer writes every digit as its own token
SPLITS = ("train", "valid", "test", "tool_test", "reply_test")


def get_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", required=True, help="prepared data folder (train.jsonl, meta.json)")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    # model: the defaults fit a < 20 MB int8 export (151936 x 64 int8 embedding = 9.7 MB)
    p.add_argument("--hidden-size", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--head-dim", type=int, default=16)
    p.add_argument("--intermediate-size", type=int, default=192)
    p.add_argument("--rope-theta", type=float, default=1000000.0)
    p.add_argument("--max-position-embeddings", type=int, default=2048)
    # optimisation
    p.add_argument("--epochs", type=float, default=12, help="passes over train.jsonl (ignored if --steps)")
    p.add_argument("--steps", type=int, default=0, help="optimizer steps (overrides --epochs)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (AdamW)")
    p.add_argument("--min-lr-ratio", type=float, default=0.1, help="cosine decays to lr * this")
    p.add_argument("--warmup", type=int, default=20, help="linear warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.1,
                   help="AdamW decay on the matrices of the layers (never embedding or norms)")
    p.add_argument("--grad-clip", type=float, default=1.0)
    # regularisation
    p.add_argument("--dropout", type=float, default=0.1, help="residual and attention dropout")
    p.add_argument("--embed-dropout", type=float, default=0.1, help="dropout on token embeddings")
    p.add_argument("--token-drop", type=float, default=0.25,
                   help="chance to delete each token of the user's message (augmentation)")
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
    p.add_argument("--train-unseen-rows", action="store_true",
                   help="let Adam move embedding rows of tokens absent from train.jsonl (default: frozen)")
    # run
    p.add_argument("--no-compose", dest="compose", action="store_false",
                   help="plain per-token embeddings (default: composed from characters/words, "
                        "see char_embedding.py; needs DATA/vocab.json)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; results are bit-reproducible for a given count, and one "
                        "thread makes the demo model the same on any machine")
    p.add_argument("--max-minutes", type=float, default=8.0,
                   help="stop training after this wall time (evaluation takes ~1 more minute)")
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--eval-every", type=int, default=0, help="valid first-token accuracy every N steps (0: off)")
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--eval-splits", default="train,valid,test,tool_test,reply_test",
                   help="splits to score at the end (the train split's label argmax takes ~1 min)")
    return p.parse_args(argv)


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


def answer_loss(model, seqs, head=None):
    """Mean cross-entropy of the answer tokens; with `head` (a SampledHead) over its candidate
    tokens instead of the whole vocabulary."""
    ids, mask, at, targets = make_batch(seqs)
    if head is None:
        logits, _ = model(ids, attention_mask=mask, logits_at=at)
        return F.cross_entropy(logits, targets)
    return head.loss(answer_hidden(model, ids, mask, at), targets)


def answer_hidden(model, ids, mask, at):
    """The final-norm hidden states at the answer positions `at`, without the model's own
    full-vocabulary head: a forward hook keeps the norm's output and hands the head zero rows."""
    kept = {}

    def keep(module, inputs, output):
        kept["x"] = output
        return output[:0]

    hook = model.model.norm.register_forward_hook(keep)
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
        self.position = torch.full((vocab,), -1, dtype=torch.long)
        self.position[self.seen] = torch.arange(len(seen))
        self.generator = torch.Generator().manual_seed(seed)

    def loss(self, x, targets):
        pick = torch.randperm(len(self.others), generator=self.generator)[:self.k]
        drawn = self.others[pick]
        weight = self.model.lm_head_weight
        logits = torch.cat([F.linear(x, weight[self.seen]),
                            F.linear(x, weight[drawn]) + self.correction], dim=1)
        return F.cross_entropy(logits, self.position[targets])


# -----------------------------------------------------------------------------
# evaluation

@torch.no_grad()
def first_token_accuracy(model, rows, answers, batch_size=64):
    """Cheap proxy: argmax over the labels' first tokens at the answer position."""
    labels = list(answers)
    first = torch.tensor([answers[l][0] for l in labels])
    correct = 0
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        # a 1-token answer stub: logits_at picks position answer_start-1 only
        seqs = [(r["input_ids"][:r["answer_start"] + 1], r["answer_start"]) for r in chunk]
        ids, mask, at, _ = make_batch(seqs)
        logits, _ = model(ids, attention_mask=mask, logits_at=at)
        pred = logits[:, first].argmax(-1).tolist()
        correct += sum(labels[p] == r["label"] for p, r in zip(pred, chunk))
    return correct / max(1, len(rows))


@torch.no_grad()
def label_scores(model, prompts, answers, batch_size=64):
    """[len(prompts), len(labels)] sum of log p(answer tokens | prompt), teacher forced."""
    labels = list(answers)
    pairs = [(p, answers[l]) for p in prompts for l in labels]
    scores = []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i:i + batch_size]
        ids, mask, at, targets = make_batch([(p + a, len(p)) for p, a in chunk])
        logits, _ = model(ids, attention_mask=mask, logits_at=at)
        lp = logits.log_softmax(-1).gather(1, targets[:, None])[:, 0]
        owner = torch.repeat_interleave(torch.arange(len(chunk)), torch.tensor([len(a) for _, a in chunk]))
        scores.append(torch.zeros(len(chunk)).index_add_(0, owner, lp))
    return torch.cat(scores).view(len(prompts), len(labels))


def label_generated(out, answer):
    """Whether greedy output `out` (eos not included) gives the label part `answer`: the whole
    answer for a plain label; the label up to <tool_call> as a prefix for a tool intent."""
    if answer and answer[-1] == IM_END:
        return out == answer[:-1]
    return out[:len(answer)] == answer


@torch.no_grad()
def evaluate(model, rows, answers, batch_size=64):
    """{'generate': greedy decoding answers exactly the label (as the runtime), 'label_argmax':
    the label with the highest log-prob of its label part is right, 'n': rows}. Reply-step rows
    are skipped."""
    model.eval()
    rows = [r for r in rows if not is_reply(r)]
    labels = list(answers)
    prompts = [r["input_ids"][:r["answer_start"]] for r in rows]
    max_new = max(len(a) for a in answers.values())
    gen_ok = argmax_ok = 0
    for i in range(0, len(rows), batch_size):
        chunk, ps = rows[i:i + batch_size], prompts[i:i + batch_size]
        outs = generate(model, ps, max_new)
        gen_ok += sum(label_generated(o, answers.get(r["label"], [])) for o, r in zip(outs, chunk))
        best = label_scores(model, ps, answers, batch_size).argmax(-1).tolist()
        argmax_ok += sum(labels[b] == r["label"] for b, r in zip(best, chunk))
    n = max(1, len(rows))
    return {"generate": gen_ok / n, "label_argmax": argmax_ok / n, "n": len(rows)}


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
        outs = generate(model, [r["input_ids"][:r["answer_start"]] for r in chunk], limit)
        for j, (o, r) in enumerate(zip(outs, chunk)):
            hit = o == targets[i + j]
            ok += hit
            stats = per_label.setdefault(r["label"], [0, 0])
            stats[0] += hit
            stats[1] += 1
            if not hit and len(misses) < 20:
                misses.append({"row": i + j, "got": o, "want": targets[i + j]})
    return {"exact": ok / len(rows), "n": len(rows), "per_label": per_label, "misses": misses}


# -----------------------------------------------------------------------------
# training

def build_model(args):
    cfg = Qwen3Config(hidden_size=args.hidden_size, intermediate_size=args.intermediate_size,
                      num_hidden_layers=args.layers, num_attention_heads=args.heads,
                      num_key_value_heads=args.kv_heads, head_dim=args.head_dim,
                      rope_theta=args.rope_theta, max_position_embeddings=args.max_position_embeddings)
    torch.manual_seed(args.seed)
    model = Qwen3ForCausalLM(cfg)
    model.set_dropout(args.dropout, embed_p=args.embed_dropout)
    return model


def make_optimizer(model, args):
    # Decay only the layers' matrices: decaying the embedding would shrink the rows of tokens the
    # data never shows (they must stay as initialised), and norms are scales, not weights.
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() == 2 and "embed_tokens" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": args.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8, foreach=True)


def lr_at(step, total, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, total - args.warmup)
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def train(args):
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)  # same seed + thread count -> same bits
    meta, splits = load_data(args.data)
    train_rows = splits["train"]
    answers = label_answers(meta, train_rows)
    model = build_model(args)
    if args.compose:
        with open(os.path.join(args.data, "vocab.json"), encoding="utf-8") as f:
            char_embedding.attach(model, json.load(f))
    opt = make_optimizer(model, args)
    emb = char_embedding.token_weight(model)

    # Tokens the training data never shows: Adam would move their rows anyway (the full-vocab
    # softmax gives every row a tiny gradient and Adam normalises it to a full-size step), so
    # they would all drift to one vector. Zeroing their gradient keeps them exactly as
    # initialised; as lm_head rows they then act as a fixed "everything else" near logit 0.
    seen = sorted({t for r in train_rows for t in r["input_ids"]})
    row_mask = None
    if not args.train_unseen_rows:
        row_mask = torch.zeros(emb.shape[0], 1)
        row_mask[seen] = 1.0

    head = SampledHead(model, seen, args.sampled_softmax, args.seed) if args.sampled_softmax else None

    # Rows that copy from their prompt come copy_weight times per epoch.
    epoch_rows = [i for i, r in enumerate(train_rows)
                  for _ in range(args.copy_weight if copies(r) else 1)]
    steps_per_epoch = math.ceil(len(epoch_rows) / args.batch_size)
    total = args.steps or max(1, round(args.epochs * steps_per_epoch))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(train_rows)} train rows, {len(answers)} labels, {len(seen)} distinct tokens seen; "
          f"{n_params / 1e6:.2f} M parameters; {total} steps of batch {args.batch_size}")

    shuffle_rng = random.Random(args.seed)
    aug_rng = np.random.default_rng(args.seed)
    order, log, t0 = [], [], time.time()
    model.train()
    step = 0
    for step in range(total):
        if len(order) < args.batch_size:  # next epoch: a fresh permutation appended
            perm = list(epoch_rows)
            shuffle_rng.shuffle(perm)
            order += perm
        batch, order = order[:args.batch_size], order[args.batch_size:]
        seqs = [augment(resample_digits(train_rows[i], aug_rng, args.resample_digits), aug_rng,
                        args.token_drop) for i in batch]
        lr = lr_at(step, total, args)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        with parametrize.cached():  # the composed embedding is built once per step, not per use
            loss = answer_loss(model, seqs, head)
            loss.backward()
        if row_mask is not None:
            emb.grad.mul_(row_mask)
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        elapsed = time.time() - t0
        log.append({"step": step + 1, "loss": loss.item(), "lr": lr, "elapsed": round(elapsed, 3)})
        if (step + 1) % args.log_every == 0 or step + 1 == total:
            print(f"step {step + 1:5d} | loss {loss.item():.4f} | lr {lr:.2e} | {elapsed:6.1f} s", flush=True)
        if args.eval_every and (step + 1) % args.eval_every == 0 and "valid" in splits:
            model.eval()
            with parametrize.cached():
                acc = first_token_accuracy(model, splits["valid"], answers, args.eval_batch_size)
            model.train()
            log[-1]["valid_first_token"] = acc
            print(f"step {step + 1:5d} | valid first-token accuracy {acc:.3f}", flush=True)
        if elapsed > args.max_minutes * 60:
            print(f"stopping at step {step + 1}: --max-minutes {args.max_minutes} reached")
            break
    train_seconds = time.time() - t0

    model.eval()
    char_embedding.bake(model)  # a plain Qwen3 embedding table from here on (evaluation, export)
    accuracy, generation = {}, {}
    for name, rows in splits.items():
        if name not in args.eval_splits.split(","):
            continue
        if name != "reply_test":
            accuracy[name] = evaluate(model, rows, answers, args.eval_batch_size)
            a = accuracy[name]
            print(f"{name:5s} accuracy: generate {a['generate']:.3f} | label argmax {a['label_argmax']:.3f} | n {a['n']}")
        if name in ("tool_test", "reply_test"):
            generation[name] = answer_exact_match(model, rows, args.eval_batch_size // 2)
            g = generation[name]
            what = "label and call" if name == "tool_test" else "reply"
            print(f"{name}: greedy {what} exact match {g['exact']:.3f} | n {g['n']}")
        if name == "tool_test":
            generation["tool_arguments"] = arguments_exact_match(model, rows, args.eval_batch_size // 2)
            g = generation["tool_arguments"]
            print(f"tool_test: greedy arguments exact match after the fixed part {g['exact']:.3f} | n {g['n']}")

    save_checkpoint(model, args.out)
    # Prompts and label ids that export.py uses to measure its quantization error.
    probe = splits.get("test") or splits.get("valid") or train_rows
    result = {
        "args": vars(args),
        "config": model.config.to_hf_dict(),
        "parameters": n_params,
        "seen_tokens": len(seen),
        "steps": log,
        "train_seconds": round(train_seconds, 2),
        "wall_seconds": round(time.time() - t0, 2),
        "accuracy": accuracy,
        "generation": generation,
        "labels": answers,
        "sample_prompts": [r["input_ids"][:r["answer_start"]] for r in probe[:16]],
    }
    with open(os.path.join(args.out, "train_log.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
        f.write("\n")
    print(f"trained {len(log)} steps in {train_seconds:.1f} s; wrote {args.out}/"
          "{config.json, model.safetensors, train_log.json}")
    return model, result


if __name__ == "__main__":
    train(get_args())
