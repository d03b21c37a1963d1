"""
Hugging Face Qwen3 checkpoint folders, read and written with our own safetensors code
(tensor_file.py). The one checkpoint reader and writer: train.py saves with save_qwen3 whatever
it trained (from scratch, LoRA merged or full); export.py and reference_logits.py load with
load_qwen3:

    config.json                        model_type "qwen3"
    model.safetensors                  one file, or
    model.safetensors.index.json       {"weight_map": {tensor name: shard file}} + the shards
    (bf16, fp16 or fp32; a tied lm_head may be present or omitted)

    from hf_checkpoint import load_qwen3, save_qwen3, write_random_qwen3
    model = load_qwen3("Qwen3-0.6B")                  # fp32 Qwen3ForCausalLM, eval mode
    save_qwen3(model, "out")                          # config.json, generation_config.json, weights

Loading reads one tensor at a time into an uninitialised model, so peak memory is the model in
the target dtype plus the largest tensor. Every problem is a CheckpointError whose message says
which file and what to do: a missing file, a config that is not Qwen3, a missing, unexpected or
wrongly shaped tensor.
"""
import json
import os
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Qwen3Config, Qwen3ForCausalLM, ENDOFTEXT_ID, IM_END_ID  # noqa: E402
from tensor_file import SafetensorsFile, SafetensorsError, element_size, write_file  # noqa: E402

CONFIG = "config.json"
SINGLE = "model.safetensors"
INDEX = "model.safetensors.index.json"
TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

# Qwen3-0.6B's config.json as published (Qwen/Qwen3-0.6B), for the real-size proof.
QWEN3_0_6B = {
    "architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
    "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
    "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
    "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None,
    "tie_word_embeddings": True, "torch_dtype": "bfloat16", "transformers_version": "4.51.0",
    "use_cache": True, "use_sliding_window": False, "vocab_size": 151936,
}


class CheckpointError(Exception):
    """A checkpoint folder we cannot load; the message names the file and the fix."""


def read_config(folder):
    """Qwen3Config from FOLDER/config.json, after checking it describes a Qwen3 we can run."""
    path = os.path.join(folder, CONFIG)
    if not os.path.isdir(folder):
        raise CheckpointError(f"{folder}: no such folder (expected a Hugging Face checkpoint folder)")
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: missing. A Hugging Face checkpoint folder holds config.json "
                              "beside model.safetensors (download the whole folder, not just the weights)")
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except ValueError as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None
    model_type = d.get("model_type")
    if model_type != "qwen3":
        arch = ", ".join(d.get("architectures") or []) or "none listed"
        raise CheckpointError(f"{path}: model_type is {model_type!r} (architectures: {arch}); only Qwen3 "
                              "(model_type \"qwen3\", e.g. Qwen/Qwen3-0.6B) is supported")
    missing = [k for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                           "num_key_value_heads", "vocab_size") if not isinstance(d.get(k), int)]
    if missing:
        raise CheckpointError(f"{path}: missing integer field(s) {', '.join(missing)}")
    if d.get("rope_scaling"):
        raise CheckpointError(f"{path}: rope_scaling {d['rope_scaling']!r} is not supported (only plain RoPE)")
    if d.get("use_sliding_window"):
        raise CheckpointError(f"{path}: use_sliding_window true is not supported")
    if d.get("hidden_act", "silu") != "silu":
        raise CheckpointError(f"{path}: hidden_act {d['hidden_act']!r} is not supported (Qwen3 uses silu)")
    d = dict(d)
    # Hugging Face's defaults where the file leaves a field out (ours differ for the demo model).
    d.setdefault("head_dim", d["hidden_size"] // d["num_attention_heads"])
    d.setdefault("tie_word_embeddings", False)
    if d["num_attention_heads"] % d["num_key_value_heads"]:
        raise CheckpointError(f"{path}: num_attention_heads {d['num_attention_heads']} is not a multiple "
                              f"of num_key_value_heads {d['num_key_value_heads']}")
    if isinstance(d.get("eos_token_id"), list):
        d["eos_token_id"] = d["eos_token_id"][0]
    return Qwen3Config.from_dict(d)


def weight_files(folder):
    """{tensor name: SafetensorsFile} from model.safetensors or the sharded index."""
    index_path = os.path.join(folder, INDEX)
    single = os.path.join(folder, SINGLE)
    if os.path.exists(index_path):
        try:
            with open(index_path, encoding="utf-8") as f:
                weight_map = json.load(f)["weight_map"]
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"{index_path}: not a safetensors index with a \"weight_map\" ({e})") from None
        files = {}
        for shard in sorted(set(weight_map.values())):
            path = os.path.join(folder, shard)
            if not os.path.exists(path):
                raise CheckpointError(f"{path}: missing (listed in {INDEX}); the download is incomplete")
            files[shard] = _open(path)
        out = {}
        for name, shard in weight_map.items():
            if name not in files[shard].header:
                raise CheckpointError(f"{INDEX} puts {name} in {shard}, which does not hold it")
            out[name] = files[shard]
        return out
    if os.path.exists(single):
        st = _open(single)
        return {name: st for name in st.keys()}
    present = ", ".join(sorted(os.listdir(folder))) or "nothing"
    hint = " (.bin/.pt weights are not read: convert them to safetensors)" if any(
        n.endswith((".bin", ".pt", ".pth")) for n in os.listdir(folder)) else ""
    raise CheckpointError(f"{folder}: no {SINGLE} or {INDEX}; the folder holds {present}{hint}")


def _open(path):
    try:
        return SafetensorsFile(path)
    except (SafetensorsError, OSError) as e:
        raise CheckpointError(str(e)) from None


def load_qwen3(folder, dtype=torch.float32):
    """Qwen3ForCausalLM (eval mode) with every weight from FOLDER, converted to `dtype`."""
    cfg = read_config(folder)
    files = weight_files(folder)
    model = Qwen3ForCausalLM(cfg, init=False)
    if dtype != torch.float32:
        model.to(dtype)
    params = dict(model.named_parameters())
    expected = set(params)
    if cfg.tie_word_embeddings:
        files.pop("lm_head.weight", None)  # some exports write the tied head anyway: same tensor
    missing = sorted(expected - set(files))
    unexpected = sorted(set(files) - expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensor(s): {', '.join(missing[:5])}"
                         + (" ..." if len(missing) > 5 else ""))
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} tensor(s): {', '.join(unexpected[:5])}"
                         + (" ..." if len(unexpected) > 5 else ""))
        raise CheckpointError(f"{folder}: weights do not match config.json "
                              f"({cfg.num_hidden_layers} layers, tie_word_embeddings "
                              f"{cfg.tie_word_embeddings}): {'; '.join(parts)}")
    with torch.no_grad():
        for name, p in params.items():
            st = files[name]
            shape = st.shape(name)
            if list(p.shape) != shape:
                raise CheckpointError(f"{os.path.basename(st.path)}: {name} has shape {shape}, but "
                                      f"config.json implies {list(p.shape)} (wrong config.json for these weights?)")
            if not st.dtype(name).is_floating_point:
                raise CheckpointError(f"{os.path.basename(st.path)}: {name} is {st.dtype(name)}, "
                                      "expected bf16, fp16 or fp32 (quantized checkpoints are not read)")
            p.copy_(st.get(name))  # converts bf16/fp16 -> dtype in place, one tensor at a time
    return model.eval()


def random_tensor(name, shape, dtype, seed, std):
    """Deterministic from (seed, name) alone, so shards and order do not change the weights."""
    if name.endswith("norm.weight"):
        return torch.ones(shape, dtype=dtype)
    # NOTE: torch's CPU generator keeps only 32 bits of the seed, so both go through one hash.
    g = torch.Generator().manual_seed(zlib.crc32(f"{seed}:{name}".encode()))
    return (torch.randn(shape, generator=g) * std).to(dtype)


def qwen3_shapes(cfg):
    """[(name, shape)] of a Qwen3ForCausalLM's weights (Hugging Face names), without building it."""
    H, I, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    nh, kv, d, V = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.vocab_size
    out = [("model.embed_tokens.weight", (V, H)), ("model.norm.weight", (H,))]
    for i in range(L):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", (H,)), (p + "post_attention_layernorm.weight", (H,)),
                (p + "self_attn.q_proj.weight", (nh * d, H)), (p + "self_attn.k_proj.weight", (kv * d, H)),
                (p + "self_attn.v_proj.weight", (kv * d, H)), (p + "self_attn.o_proj.weight", (H, nh * d)),
                (p + "self_attn.q_norm.weight", (d,)), (p + "self_attn.k_norm.weight", (d,)),
                (p + "mlp.gate_proj.weight", (I, H)), (p + "mlp.up_proj.weight", (I, H)),
                (p + "mlp.down_proj.weight", (H, I))]
    if not cfg.tie_word_embeddings:
        out.append(("lm_head.weight", (V, H)))
    return out


def write_sharded(folder, specs, produce, max_shard_bytes=None, metadata=None):
    """Writes tensors in Hugging Face's layout: model.safetensors, or (when they exceed
    max_shard_bytes) model-0000i-of-0000n.safetensors + model.safetensors.index.json.
    specs [(name, dtype, shape)]; produce(name) -> tensor, called once per tensor."""
    os.makedirs(folder, exist_ok=True)
    specs = sorted(specs, key=lambda s: s[0])
    sizes = {n: int(torch.Size(shape).numel()) * element_size(dt) for n, dt, shape in specs}
    total = sum(sizes.values())
    shards, current, current_bytes = [], [], 0
    for spec in specs:
        if current and max_shard_bytes and current_bytes + sizes[spec[0]] > max_shard_bytes:
            shards.append(current)
            current, current_bytes = [], 0
        current.append(spec)
        current_bytes += sizes[spec[0]]
    shards.append(current)
    metadata = {"format": "pt", **(metadata or {})}
    if len(shards) == 1:
        write_file(os.path.join(folder, SINGLE), shards[0], produce, metadata)
        return [SINGLE]
    names, weight_map = [], {}
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_file(os.path.join(folder, name), shard, produce, metadata)
        names.append(name)
        weight_map.update({n: name for n, _, _ in shard})
    with open(os.path.join(folder, INDEX), "w", encoding="utf-8") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
        f.write("\n")
    return names


def write_generation_config(folder):
    with open(os.path.join(folder, "generation_config.json"), "w", encoding="utf-8") as f:
        json.dump({"bos_token_id": ENDOFTEXT_ID, "eos_token_id": [IM_END_ID, ENDOFTEXT_ID],
                   "pad_token_id": ENDOFTEXT_ID, "do_sample": False}, f, indent=2)
        f.write("\n")


def write_random_qwen3(folder, config=None, seed=0, dtype=torch.bfloat16, max_shard_bytes=None):
    """A checkpoint folder in Hugging Face's format with random weights (N(0, initializer_range),
    norms 1), streamed tensor by tensor: config.json (QWEN3_0_6B unless `config` is given),
    generation_config.json and the (sharded) safetensors."""
    d = dict(config or QWEN3_0_6B)
    d["torch_dtype"] = {v: k for k, v in TORCH_DTYPES.items()}[dtype]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, CONFIG), "w", encoding="utf-8") as f:
        json.dump(d, f, indent=2, sort_keys=True)
        f.write("\n")
    write_generation_config(folder)
    cfg = read_config(folder)
    shapes = dict(qwen3_shapes(cfg))
    return write_sharded(folder, [(n, dtype, s) for n, s in shapes.items()],
                         lambda n: random_tensor(n, shapes[n], dtype, seed, cfg.initializer_range),
                         max_shard_bytes)


def save_qwen3(model, folder, dtype=torch.float32, max_shard_bytes=None, metadata=None):
    """Writes MODEL as a Hugging Face folder (config.json, generation_config.json, weights in
    `dtype`), one tensor converted at a time; the tied head is stored once (as Hugging Face)."""
    os.makedirs(folder, exist_ok=True)
    cfg = model.config
    cfg.torch_dtype = {v: k for k, v in TORCH_DTYPES.items()}[dtype]
    cfg.save(os.path.join(folder, CONFIG))
    write_generation_config(folder)
    sd = model.state_dict()
    specs = [(n, dtype, tuple(t.shape)) for n, t in sd.items()]
    return write_sharded(folder, specs, lambda n: sd[n].detach().to(dtype).contiguous(),
                         max_shard_bytes, metadata)


def main(argv=None):
    import argparse
    import resource
    import time
    p = argparse.ArgumentParser(description="Check a Hugging Face Qwen3 folder, or write one with random weights.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="load FOLDER as our loader does and print what it holds")
    c.add_argument("folder")
    r = sub.add_parser("random", help="write Qwen3-0.6B's real configuration with seeded random weights")
    r.add_argument("--out", required=True)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--dtype", default="bfloat16", choices=sorted(TORCH_DTYPES))
    r.add_argument("--shard-mb", type=int, default=0, help="split into shards of at most this many MB (0: one file)")
    args = p.parse_args(argv)
    t0 = time.time()
    if args.command == "check":
        try:
            model = load_qwen3(args.folder)
        except CheckpointError as e:
            raise SystemExit(f"hf_checkpoint.py: {e}")
        cfg = model.config
        n = sum(p.numel() for p in model.parameters())
        print(f"{args.folder}: Qwen3, {n / 1e6:.1f} M parameters; hidden {cfg.hidden_size}, {cfg.num_hidden_layers} "
              f"layers, {cfg.num_attention_heads} heads / {cfg.num_key_value_heads} KV heads of {cfg.head_dim}, "
              f"intermediate {cfg.intermediate_size}, vocab {cfg.vocab_size}, tied embeddings "
              f"{cfg.tie_word_embeddings}; loaded in {time.time() - t0:.1f} s")
    else:
        files = write_random_qwen3(args.out, seed=args.seed, dtype=TORCH_DTYPES[args.dtype],
                                   max_shard_bytes=args.shard_mb * 2**20 or None)
        size = sum(os.path.getsize(os.path.join(args.out, f)) for f in files)
        print(f"wrote {args.out}: Qwen3-0.6B configuration, random weights (seed {args.seed}, {args.dtype}), "
              f"{len(files)} file(s), {size / 2**20:.0f} MiB in {time.time() - t0:.1f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
