"""
Fine-tunes a Hugging Face Qwen3 checkpoint (e.g. Qwen3-0.6B) on fenliu's prepared token ids, with
LoRA (default) or full fine-tuning, on CPU or GPU, on one process or several under torchrun:

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 /usr/bin/python3 training/finetune.py \
        --base ~/models/Qwen3-0.6B --data training/build/mydata --out training/build/my-lora

    torchrun --nproc_per_node 2 training/finetune.py ...     (DDP: gloo on CPU, NCCL on GPU)

DATA is what scripts/prepare-training-data.ts writes (train.jsonl [+ valid/test.jsonl] rows
{"input_ids", "answer_start", "label"}, meta.json); the loss covers the answer tokens only
(the label's tokens and <|im_end|>). LoRA defaults are the seed's: rank 8, alpha 32, dropout 0.1
on q_proj and v_proj; --lora-targets takes any of the seven linear layers or "all"; --full
trains every weight instead.

Writes
  OUT/adapter/   adapter_config.json + adapter_model.safetensors (PEFT format; LoRA only)
  OUT/merged/    config.json, generation_config.json, model.safetensors (fp32, adapter merged),
                 train_log.json: the folder training/export.py takes as --checkpoint
  OUT/train_log.json  args, per-step loss, seconds, accuracies, peak memory

Prints `step N | loss L | lr R | T s` every --log-every steps, then per split the accuracy of
greedy generation (what the runtime does) and of the argmax over the labels' token sequences.

Under torchrun every process reads the whole data in the same order; each takes its share of
every global batch (--batch-size is the global batch), and the loss is normalised by the global
number of answer tokens, so the gradients (and the loss curve) are those of one process running
the same global batch, up to floating-point summation order.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_checkpoint import load_qwen3, save_qwen3, CheckpointError  # noqa: E402
from lora import apply_lora, save_adapter, merge_lora_, parse_targets, AdapterError  # noqa: E402
from train import load_data, label_answers, augment, make_batch, evaluate  # noqa: E402


def get_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--base", required=True, help="Hugging Face Qwen3 folder (config.json + safetensors)")
    p.add_argument("--data", required=True, help="prepared data folder (train.jsonl, meta.json)")
    p.add_argument("--out", required=True, help="output folder (adapter/, merged/, train_log.json)")
    # what to train
    p.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    p.add_argument("--lora-rank", type=int, default=8)
    p.add_argument("--lora-alpha", type=float, default=32)
    p.add_argument("--lora-dropout", type=float, default=0.1)
    p.add_argument("--lora-targets", default="q_proj,v_proj",
                   help="comma list of q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj, or 'all'")
    # optimisation
    p.add_argument("--epochs", type=float, default=3, help="passes over train.jsonl (ignored if --steps)")
    p.add_argument("--steps", type=int, default=0, help="optimizer steps (overrides --epochs)")
    p.add_argument("--batch-size", type=int, default=8, help="global batch (split over torchrun processes)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default 2e-4 LoRA, 2e-5 full)")
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=10, help="linear warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--token-drop", type=float, default=0.0,
                   help="chance to delete each token of the user's message (augmentation)")
    # run
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (GPU); weights stay fp32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads per process (0: torch's default)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop training after this wall time (0: no limit)")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--eval-batch-size", type=int, default=32)
    p.add_argument("--eval-splits", default="valid,test", help="splits to score at the end ('' for none)")
    p.add_argument("--no-merge", dest="merge", action="store_false", help="write the adapter only")
    p.add_argument("--deterministic", action="store_true",
                   help="torch.use_deterministic_algorithms (bit-identical reruns on CPU)")
    return p.parse_args(argv)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lr_at(step, total, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, total - args.warmup)
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def setup_distributed(device):
    """(rank, world size); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    return dist.get_rank(), world


def answer_loss_sum(model, seqs, device, autocast):
    """(sum of the answer tokens' cross-entropy, token count) for one process's share."""
    ids, mask, at, targets = make_batch(seqs)
    ids, mask, targets = ids.to(device), mask.to(device), targets.to(device)
    at = (at[0].to(device), at[1].to(device))
    with autocast:
        logits, _ = model(ids, attention_mask=mask, logits_at=at)
    return F.cross_entropy(logits.float(), targets, reduction="sum"), len(targets)


def finetune(args):
    t_start = time.time()
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    rank, world = setup_distributed(device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.deterministic:
        torch.use_deterministic_algorithms(True)
    is_main = rank == 0
    say = print if is_main else (lambda *a, **k: None)
    if args.lr is None:
        args.lr = 2e-5 if args.full else 2e-4
    if args.batch_size < world:
        sys.exit(f"finetune.py: --batch-size {args.batch_size} is smaller than the {world} processes")

    meta, splits = load_data(args.data)
    train_rows = splits["train"]
    answers = label_answers(meta, train_rows)
    timings = {}

    t = time.time()
    try:
        model = load_qwen3(args.base)
    except CheckpointError as e:
        sys.exit(f"finetune.py: {e}")
    timings["load_base_s"] = round(time.time() - t, 2)
    torch.manual_seed(args.seed)  # LoRA's A init: same on every process
    if args.full:
        for p in model.parameters():
            p.requires_grad_(True)
        mode = "full fine-tuning"
    else:
        try:
            targets = parse_targets(args.lora_targets)
            apply_lora(model, args.lora_rank, args.lora_alpha, args.lora_dropout, targets)
        except AdapterError as e:
            sys.exit(f"finetune.py: {e}")
        mode = (f"LoRA r={args.lora_rank} alpha={args.lora_alpha:g} dropout={args.lora_dropout:g} "
                f"on {','.join(targets)}")
    model.to(device).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in trainable)
    n_all = sum(p.numel() for p in model.parameters())
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    opt = torch.optim.AdamW(trainable, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.bf16)

    steps_per_epoch = math.ceil(len(train_rows) / args.batch_size)
    total = args.steps or max(1, round(args.epochs * steps_per_epoch))
    say(f"{len(train_rows)} train rows, {len(answers)} labels; {mode}; {n_train / 1e6:.3f} M of "
        f"{n_all / 1e6:.1f} M parameters trainable; {total} steps of global batch {args.batch_size} "
        f"on {world} process(es), {device}")

    shuffle_rng = random.Random(args.seed)
    order, log, t0 = [], [], time.time()
    for step in range(total):
        if len(order) < args.batch_size:
            perm = list(range(len(train_rows)))
            shuffle_rng.shuffle(perm)
            order += perm
        batch, order = order[:args.batch_size], order[args.batch_size:]
        # Each row's augmentation depends on (seed, step, row) only, so it is the same whichever
        # process handles the row.
        seqs = [augment(train_rows[i], np.random.default_rng([args.seed, step, i]), args.token_drop)
                for i in batch]
        global_tokens = sum(len(ids) - a for ids, a in seqs)
        mine = seqs[rank::world]
        lr = lr_at(step, total, args)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss_sum, _ = answer_loss_sum(net, mine, device, autocast)
        # DDP averages gradients over processes: scale by world so the result is sum / global count.
        (loss_sum * (world / global_tokens)).backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(trainable, args.grad_clip)
        opt.step()
        logged = loss_sum.detach().float()
        if world > 1:
            dist.all_reduce(logged)
        loss = logged.item() / global_tokens
        elapsed = time.time() - t0
        log.append({"step": step + 1, "loss": loss, "lr": lr, "elapsed": round(elapsed, 3)})
        if (step + 1) % args.log_every == 0 or step + 1 == total:
            say(f"step {step + 1:5d} | loss {loss:.4f} | lr {lr:.2e} | {elapsed:6.1f} s", flush=True)
        if args.max_minutes and elapsed > args.max_minutes * 60:
            say(f"stopping at step {step + 1}: --max-minutes {args.max_minutes} reached")
            break
    timings["train_s"] = round(time.time() - t0, 2)
    timings["seconds_per_step"] = round(timings["train_s"] / max(1, len(log)), 3)

    result = {"args": vars(args), "mode": mode, "world_size": world, "trainable_parameters": n_train,
              "parameters": n_all, "steps": log, "labels": answers}
    if is_main:
        model.eval()
        accuracy = {}
        for name in [s for s in args.eval_splits.split(",") if s]:
            if name in splits:
                with torch.no_grad(), autocast:
                    accuracy[name] = evaluate(model, splits[name], answers, args.eval_batch_size)
                a = accuracy[name]
                say(f"{name:5s} accuracy: generate {a['generate']:.3f} | label argmax "
                    f"{a['label_argmax']:.3f} | n {a['n']}")
        result["accuracy"] = accuracy
        os.makedirs(args.out, exist_ok=True)
        model.cpu()
        if not args.full:
            t = time.time()
            save_adapter(model, os.path.join(args.out, "adapter"), base=os.path.abspath(args.base))
            timings["save_adapter_s"] = round(time.time() - t, 2)
            say(f"adapter: {os.path.join(args.out, 'adapter')}/{{adapter_config.json, adapter_model.safetensors}}")
        if args.merge:
            t = time.time()
            merge_lora_(model)
            timings["merge_s"] = round(time.time() - t, 2)
            t = time.time()
            merged = os.path.join(args.out, "merged")
            save_qwen3(model, merged, dtype=torch.float32)
            timings["save_merged_s"] = round(time.time() - t, 2)
            probe = splits.get("test") or splits.get("valid") or train_rows
            result["sample_prompts"] = [r["input_ids"][:r["answer_start"]] for r in probe[:16]]
            with open(os.path.join(merged, "train_log.json"), "w", encoding="utf-8") as f:
                json.dump({k: result[k] for k in ("args", "labels", "sample_prompts", "accuracy")},
                          f, ensure_ascii=False)
                f.write("\n")
            say(f"merged: {merged}/{{config.json, model.safetensors}} (fp32, LoRA folded in)")
        timings["wall_s"] = round(time.time() - t_start, 2)
        timings["peak_rss_mb"] = round(peak_rss_mb(), 1)
        result["timings"] = timings
        with open(os.path.join(args.out, "train_log.json"), "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False)
            f.write("\n")
        say(f"trained {len(log)} steps in {timings['train_s']:.1f} s; peak RSS {timings['peak_rss_mb']:.0f} MB")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return model, result


if __name__ == "__main__":
    finetune(get_args())
