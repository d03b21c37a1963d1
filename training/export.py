"""
Exports a checkpoint (config.json + model.safetensors) to the ONNX layout transformers.js loads
for model_type "qwen3":

    /usr/bin/python3 training/export.py --checkpoint training/build/demo-ckpt \
        --out public/models/fenliu-demo --dtypes fp32,int8

Writes OUT/config.json, OUT/generation_config.json, OUT/onnx/model.onnx (fp32) and
OUT/onnx/model_int8.onnx (int8 weights, per-output-channel float scales). Prints each file's
size and the int8 quantization error: max |logit difference| against fp32 PyTorch over every
position of a few prompts, and how often both pick the same label.

The graph is written op by op with onnx.helper rather than traced by torch.onnx, so its layout
is exactly what transformers.js needs (see /work/shared/guide/MODEL-NOTES.md):
- inputs input_ids, attention_mask, position_ids, past_key_values.{i}.key/.value
  [batch_size, <kv heads>, past_sequence_length, <head_dim>], and num_logits_to_keep (int64
  scalar, Hugging Face semantics: 0 = every position, k = the last k);
- outputs logits, present.{i}.key/.value; opset 14;
- causal + padding mask from Shape/Range ops with a finite fill (-1e9), GQA by broadcasting,
  tied lm_head as Transpose(embedding) (one copy in the file);
- int8: Gather on int8 rows + Cast + Mul for the lookup, Cast + Mul for matmul weights. Only
  standard ops, so it loads in onnxruntime-web's WASM build (GatherBlockQuantized does not).
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import load_checkpoint, rope_inv_freq, generate, MASK_FILL, IM_END_ID, ENDOFTEXT_ID  # noqa: E402

OPSET = 14
ONNX_FILES = {"fp32": "model.onnx", "int8": "model_int8.onnx"}  # transformers.js dtype -> file name


# -----------------------------------------------------------------------------
# int8 quantization (reference_logits.py --dequantize int8 applies exactly this)

def quantize_int8(w):
    """Symmetric per-row int8: w [rows, cols] float -> (q int8 [rows, cols], scale float32 [rows]).
    A row of the embedding is a token, a row of a Linear weight [out, in] an output channel."""
    w = w.detach().float()
    scale = w.abs().amax(dim=1) / 127.0
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # all-zero row: any scale works
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q, scale):
    # NOTE: the ONNX graph computes Cast(q) * scale in float32, the same single rounding.
    return q.float() * scale[:, None]


def quantized_names(model):
    """Parameters stored as int8: every matrix (embedding/tied lm_head and the linear layers)."""
    return [n for n, p in model.named_parameters() if p.dim() == 2]


@torch.no_grad()
def dequantize_model_(model):
    """Replaces each int8-exported weight by its quantize -> dequantize round trip, in place."""
    params = dict(model.named_parameters())
    for name in quantized_names(model):
        params[name].copy_(dequantize_int8(*quantize_int8(params[name])))
    return model


# -----------------------------------------------------------------------------
# ONNX graph, op by op

class Graph:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, values, dtype=np.int64):
        self.count += 1
        return self.init(f"const_{self.count}", np.array(values, dtype=dtype))

    def op(self, op_type, inputs, outputs=None, **attrs):
        self.count += 1
        outputs = outputs or [f"{op_type}_{self.count}"]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=f"{op_type}_n{self.count}", **attrs))
        return outputs[0] if len(outputs) == 1 else outputs


def build_graph(model, dtype):
    cfg = model.config
    H, nh, kv, d = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    rep, L, V = nh // kv, cfg.num_hidden_layers, cfg.vocab_size
    sd = {k: v.detach().float() for k, v in model.state_dict().items()}
    g = Graph()
    int8 = dtype == "int8"

    def matrix(name):
        """A Linear weight [out, in] as the [in, out] right operand of MatMul."""
        w = sd[name]
        if not int8:
            return g.init(name, w.t().numpy())
        q, s = quantize_int8(w)
        qt = g.init(name + ".int8", q.t().contiguous().numpy())           # [in, out]
        st = g.init(name + ".scale", s.numpy())                          # [out], broadcasts over rows
        return g.op("Mul", [g.op("Cast", [qt], to=TensorProto.FLOAT), st])

    def linear(x, name):
        return g.op("MatMul", [x, matrix(name)])

    def rmsnorm(x, name):
        w = g.init(name, sd[name].numpy())
        ms = g.op("ReduceMean", [g.op("Mul", [x, x])], axes=[-1], keepdims=1)
        y = g.op("Div", [x, g.op("Sqrt", [g.op("Add", [ms, g.const(cfg.rms_norm_eps, np.float32)])])])
        return g.op("Mul", [y, w])

    def unsqueeze(x, axes):
        return g.op("Unsqueeze", [x, g.const(axes)])

    # --- embedding (and the tied lm_head weight) -------------------------------------------
    emb_name = "model.embed_tokens.weight"
    if int8:
        q, s = quantize_int8(sd[emb_name])
        eq = g.init(emb_name + ".int8", q.numpy())                            # [V, H]
        es = g.init(emb_name + ".scale", s[:, None].numpy())                  # [V, 1]
        rows = g.op("Cast", [g.op("Gather", [eq, "input_ids"], axis=0)], to=TensorProto.FLOAT)
        x = g.op("Mul", [rows, g.op("Gather", [es, "input_ids"], axis=0)])
        emb_full = g.op("Mul", [g.op("Cast", [eq], to=TensorProto.FLOAT), es])
    else:
        emb_full = g.init(emb_name, sd[emb_name].numpy())
        x = g.op("Gather", [emb_full, "input_ids"], axis=0)

    # --- RoPE tables from position_ids: [B, 1, T, d] -----------------------------------------
    inv_freq = g.init("rope.inv_freq", rope_inv_freq(cfg).numpy())
    pos = unsqueeze(g.op("Cast", ["position_ids"], to=TensorProto.FLOAT), [2])
    freqs = g.op("Mul", [pos, inv_freq])
    angles = g.op("Concat", [freqs, freqs], axis=-1)
    cos = unsqueeze(g.op("Cos", [angles]), [1])
    sin = unsqueeze(g.op("Sin", [angles]), [1])
    half_a, half_b, end = g.const([0]), g.const([d // 2]), g.const([d])
    last = g.const([3])

    def rope(t):
        x1 = g.op("Slice", [t, half_a, half_b, last])
        x2 = g.op("Slice", [t, half_b, end, last])
        rot = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
        return g.op("Add", [g.op("Mul", [t, cos]), g.op("Mul", [rot, sin])])

    # --- mask [B, 1, 1, T, S]: key s visible to query t iff s <= past + t and mask[s] > 0 ---------
    # Tensor ops only: T and S come from Shape at run time, never from Python ints.
    T = g.op("Gather", [g.op("Shape", ["input_ids"]), g.const(1)], axis=0)
    S = g.op("Gather", [g.op("Shape", ["attention_mask"]), g.const(1)], axis=0)
    one = g.const(1)
    q_idx = g.op("Range", [g.op("Sub", [S, T]), S, one])                  # [T]
    k_idx = g.op("Range", [g.const(0), S, one])                           # [S]
    causal = g.op("Less", [unsqueeze(k_idx, [0]), unsqueeze(g.op("Add", [q_idx, one]), [1])])  # [T, S]
    padding = unsqueeze(g.op("Greater", ["attention_mask", g.const(0)]), [1])                 # [B, 1, S]
    allowed = unsqueeze(g.op("And", [causal, padding]), [1, 2])
    fill = g.const(MASK_FILL, np.float32)
    inv_sqrt_d = g.const(1.0 / np.sqrt(d), np.float32)

    for i in range(L):
        p = f"model.layers.{i}."
        h = rmsnorm(x, p + "input_layernorm.weight")
        q = rmsnorm(g.op("Reshape", [linear(h, p + "self_attn.q_proj.weight"), g.const([0, 0, nh, d])]),
                    p + "self_attn.q_norm.weight")
        k = rmsnorm(g.op("Reshape", [linear(h, p + "self_attn.k_proj.weight"), g.const([0, 0, kv, d])]),
                    p + "self_attn.k_norm.weight")
        v = g.op("Reshape", [linear(h, p + "self_attn.v_proj.weight"), g.const([0, 0, kv, d])])
        q = rope(g.op("Transpose", [q], perm=[0, 2, 1, 3]))
        k = rope(g.op("Transpose", [k], perm=[0, 2, 1, 3]))
        v = g.op("Transpose", [v], perm=[0, 2, 1, 3])
        k = g.op("Concat", [f"past_key_values.{i}.key", k], [f"present.{i}.key"], axis=2)
        v = g.op("Concat", [f"past_key_values.{i}.value", v], [f"present.{i}.value"], axis=2)
        # GQA by broadcasting: q [B, kv, rep, T, d] against k [B, kv, 1, S, d].
        q5 = g.op("Reshape", [q, g.const([0, kv, rep, -1, d])])
        kT = g.op("Transpose", [unsqueeze(k, [2])], perm=[0, 1, 2, 4, 3])
        scores = g.op("Mul", [g.op("MatMul", [q5, kT]), inv_sqrt_d])
        probs = g.op("Softmax", [g.op("Where", [allowed, scores, fill])], axis=-1)
        o = g.op("MatMul", [probs, unsqueeze(v, [2])])                     # [B, kv, rep, T, d]
        o = g.op("Transpose", [g.op("Reshape", [o, g.const([0, nh, -1, d])])], perm=[0, 2, 1, 3])
        o = g.op("Reshape", [o, g.const([0, 0, nh * d])])
        x = g.op("Add", [x, linear(o, p + "self_attn.o_proj.weight")])
        h = rmsnorm(x, p + "post_attention_layernorm.weight")
        gate = linear(h, p + "mlp.gate_proj.weight")
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), linear(h, p + "mlp.up_proj.weight")])
        x = g.op("Add", [x, linear(act, p + "mlp.down_proj.weight")])

    # --- last num_logits_to_keep positions (0: all, as x[:, -0:] in Python) -> norm -> lm_head --
    start = unsqueeze(g.op("Neg", ["num_logits_to_keep"]), [0])
    x = g.op("Slice", [x, start, g.const([np.iinfo(np.int64).max]), g.const([1])])
    x = rmsnorm(x, "model.norm.weight")
    if cfg.tie_word_embeddings:
        head = g.op("Transpose", [emb_full], perm=[1, 0])                  # [H, V], not a second copy
    else:
        head = matrix("lm_head.weight")
    g.op("MatMul", [x, head], ["logits"])

    cache = ["batch_size", kv, "past_sequence_length", d]
    present = ["batch_size", kv, "total_sequence_length", d]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "logits_length", V])]
    for i in range(L):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", TensorProto.FLOAT, cache))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", TensorProto.FLOAT, present))
    inputs.append(helper.make_tensor_value_info("num_logits_to_keep", TensorProto.INT64, []))
    graph = helper.make_graph(g.nodes, "fenliu_qwen3", inputs, outputs, initializer=g.inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="fenliu training/export.py")
    onnx_model.ir_version = 8  # onnx 1.12's; onnxruntime 1.30 reads it
    onnx.checker.check_model(onnx_model)
    return onnx_model


# -----------------------------------------------------------------------------
# quantization error, measured in PyTorch (the int8 graph computes exactly dequantize_model_'s weights)

def probe_prompts(ckpt_dir):
    """Prompts and label answers saved by train.py; a fixed fallback prompt otherwise."""
    path = os.path.join(ckpt_dir, "train_log.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            log = json.load(f)
        if log.get("sample_prompts"):
            return log["sample_prompts"][:8], log.get("labels") or {}
    # "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    return [[151644, 872, 198, 108386, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]], {}


@torch.no_grad()
def quantization_report(model, qmodel, prompts, answers):
    from train import label_scores
    worst = 0.0
    for p in prompts:
        ids = torch.tensor([p])
        a, _ = model(ids)
        b, _ = qmodel(ids)
        worst = max(worst, (a - b).abs().max().item())
    line = f"max |logit - fp32 logit| {worst:.2e} over {len(prompts)} prompts"
    if answers:
        same = (label_scores(model, prompts, answers).argmax(-1) == label_scores(qmodel, prompts, answers).argmax(-1))
        line += f"; label argmax agrees {int(same.sum())}/{len(prompts)}"
        n = max(len(a) for a in answers.values())
        g_same = sum(x == y for x, y in zip(generate(model, prompts, n), generate(qmodel, prompts, n)))
        line += f"; greedy answer agrees {g_same}/{len(prompts)}"
    return line


def export(ckpt_dir, out_dir, dtypes):
    model = load_checkpoint(ckpt_dir)
    cfg = model.config
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    cfg.save(os.path.join(out_dir, "config.json"))
    with open(os.path.join(out_dir, "generation_config.json"), "w", encoding="utf-8") as f:
        json.dump({"bos_token_id": ENDOFTEXT_ID, "eos_token_id": [IM_END_ID, ENDOFTEXT_ID],
                   "pad_token_id": ENDOFTEXT_ID, "do_sample": False}, f, indent=2)
        f.write("\n")
    prompts, answers = probe_prompts(ckpt_dir)
    for dtype in dtypes:
        if dtype not in ONNX_FILES:
            sys.exit(f"export.py: unknown dtype {dtype!r} (have {', '.join(ONNX_FILES)})")
        path = os.path.join(out_dir, "onnx", ONNX_FILES[dtype])
        onnx.save(build_graph(model, dtype), path)
        size = os.path.getsize(path)
        if dtype == "int8":
            qmodel = dequantize_model_(load_checkpoint(ckpt_dir))
            err = quantization_report(model, qmodel, prompts, answers)
        else:
            err = "same weights as PyTorch (graph parity: reference_logits.py vs onnxruntime)"
        print(f"{dtype:5s} {path}: {size / 2**20:.2f} MiB ({size} bytes); {err}")


def main():
    p = argparse.ArgumentParser(description="Export a fenliu checkpoint to transformers.js ONNX.")
    p.add_argument("--checkpoint", required=True, help="folder with config.json + model.safetensors")
    p.add_argument("--out", required=True, help="model folder to write (config.json, onnx/...)")
    p.add_argument("--dtypes", default="fp32,int8", help="comma list of: " + ", ".join(ONNX_FILES))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    export(args.checkpoint, args.out, [d.strip() for d in args.dtypes.split(",") if d.strip()])


if __name__ == "__main__":
    main()
