"""
Trains a small Qwen3 from scratch to answer a message's intent label, on the token ids that
scripts/prepare-training-data.ts wrote (so training and serving share one prompt format):

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 /usr/bin/python3 training/train.py \
        --data training/build/demo --out training/build/demo-ckpt

DATA holds train.jsonl (and optionally valid.jsonl, test.jsonl) with rows
{"input_ids", "answer_start", "label"} and meta.json {"labels", ...}. The loss covers only the
answer tokens input_ids[answer_start:] (the label's tokens then <|im_end|>).

Prints `step N | loss L | lr R | T s` every --log-every steps, then per split the accuracy of
greedy generation (what the runtime classifier does) and of the argmax over the labels' full
token sequences. Writes OUT/config.json, OUT/model.safetensors (fp32, Hugging Face names, the
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
    p.add_argument("--eval-splits", default="train,valid,test",
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
    for name in ("train", "valid", "test"):
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


def label_answers(meta, rows):
    """{label: answer ids (label tokens + <|im_end|>)} taken from the data itself, so they are
    exactly the tokenizer's; each label must be answered the same way in every row."""
    answers = {}
    for r in rows:
        ans = tuple(r["input_ids"][r["answer_start"]:])
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
    every cue of the message instead of memorising one token per example (measured: README)."""
    ids, a = row["input_ids"], row["answer_start"]
    span = user_span(ids, a) if p > 0 else None
    if span is None or span[1] - span[0] < 2:
        return ids, a
    b, e = span
    keep = rng.random(e - b) >= p
    if not keep.any():
        keep[rng.integers(e - b)] = True
    msg = [t for t, k in zip(ids[b:e], keep) if k]
    removed = (e - b) - len(msg)
    return ids[:b] + msg + ids[e:], a - removed


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


def answer_loss(model, seqs):
    ids, mask, at, targets = make_batch(seqs)
    logits, _ = model(ids, attention_mask=mask, logits_at=at)
    return F.cross_entropy(logits, targets)


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


@torch.no_grad()
def evaluate(model, rows, answers, batch_size=64):
    """{'generate': greedy decoding answers exactly the label (as the runtime), 'label_argmax':
    the label with the highest full-sequence log-prob is right, 'n': rows}."""
    model.eval()
    labels = list(answers)
    prompts = [r["input_ids"][:r["answer_start"]] for r in rows]
    max_new = max(len(a) for a in answers.values())
    gen_ok = argmax_ok = 0
    for i in range(0, len(rows), batch_size):
        chunk, ps = rows[i:i + batch_size], prompts[i:i + batch_size]
        outs = generate(model, ps, max_new)
        gen_ok += sum(o == answers.get(r["label"], [])[:-1] for o, r in zip(outs, chunk))
        best = label_scores(model, ps, answers, batch_size).argmax(-1).tolist()
        argmax_ok += sum(labels[b] == r["label"] for b, r in zip(best, chunk))
    n = max(1, len(rows))
    return {"generate": gen_ok / n, "label_argmax": argmax_ok / n, "n": len(rows)}


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

    steps_per_epoch = math.ceil(len(train_rows) / args.batch_size)
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
            perm = list(range(len(train_rows)))
            shuffle_rng.shuffle(perm)
            order += perm
        batch, order = order[:args.batch_size], order[args.batch_size:]
        seqs = [augment(train_rows[i], aug_rng, args.token_drop) for i in batch]
        lr = lr_at(step, total, args)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        with parametrize.cached():  # the composed embedding is built once per step, not per use
            loss = answer_loss(model, seqs)
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
    accuracy = {}
    for name, rows in splits.items():
        if name not in args.eval_splits.split(","):
            continue
        accuracy[name] = evaluate(model, rows, answers, args.eval_batch_size)
        a = accuracy[name]
        print(f"{name:5s} accuracy: generate {a['generate']:.3f} | label argmax {a['label_argmax']:.3f} | n {a['n']}")

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
