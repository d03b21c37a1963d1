"""
PyTorch reference logits for the cross-runtime parity test (PyTorch vs onnxruntime in Node and
the browser):

    /usr/bin/python3 training/reference_logits.py --checkpoint training/build/demo-ckpt \
        [--adapter OUT/adapter] [--dequantize int8|q4|q4f16] --ids fixture.json --out /tmp/ref

fixture.json: {"input_ids": [[...], ...], "attention_mask": [[...], ...], "step_ids": [[id], ...]}
(a batch, left-padded when rows differ in length). Writes
- PREFIX.json  {"prefill_shape": [B, T, V], "step_shape": [B, 1, V], "prefill_position_ids",
                "step_position_ids", "dequantize"}
- PREFIX.f32   raw little-endian float32: every prefill logit, then the step's logits.
The prefill is a plain forward (num_logits_to_keep 0: all T positions). The step feeds step_ids
with the prefill's present key/values and the attention mask extended by a column of ones.
position_ids follow transformers.js: cumsum(attention_mask) - 1, padding positions set to 1,
the step taking the last column. --dequantize int8 first applies export.py's int8
quantize -> dequantize to the weights, which is exactly what onnx/model_int8.onnx computes (q4,
q4f16: the 4-bit weights of model_q4.onnx / model_q4f16.onnx, activations in float32).
--adapter applies a PEFT LoRA adapter to the checkpoint without merging it (the base model plus
the adapter, as PyTorch trains it), to check a merged export against it.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import default_position_ids  # noqa: E402
from hf_checkpoint import load_qwen3  # noqa: E402
from export import Q4_BLOCK, dequantize_for  # noqa: E402
from lora import load_adapter  # noqa: E402


@torch.no_grad()
def reference(model, input_ids, attention_mask, step_ids):
    ids = torch.tensor(input_ids, dtype=torch.long)
    mask = torch.tensor(attention_mask, dtype=torch.long)
    step = torch.tensor(step_ids, dtype=torch.long)
    pos = default_position_ids(mask)
    prefill, past = model(ids, attention_mask=mask, position_ids=pos)
    mask2 = torch.cat([mask, torch.ones_like(step)], dim=1)
    pos2 = default_position_ids(mask2)[:, -step.shape[1]:]
    step_logits, _ = model(step, attention_mask=mask2, position_ids=pos2, past_key_values=past)
    return prefill, step_logits, pos, pos2


def main():
    p = argparse.ArgumentParser(description="PyTorch reference logits for ONNX parity tests.")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dequantize", choices=["int8", "q4", "q4f16"],
                   help="use the weights of export.py's quantized graph")
    p.add_argument("--block-size", type=int, default=Q4_BLOCK, help="q4 block size the export used")
    p.add_argument("--adapter", help="PEFT LoRA adapter folder applied, unmerged, to the checkpoint")
    p.add_argument("--ids", required=True, help="JSON with input_ids, attention_mask, step_ids")
    p.add_argument("--out", required=True, help="output prefix: PREFIX.json and PREFIX.f32")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    model = load_qwen3(args.checkpoint)
    if args.adapter:
        if args.dequantize:
            sys.exit("reference_logits.py: --adapter and --dequantize do not combine (quantize the merged model)")
        load_adapter(model, args.adapter)
        model.eval()
    if args.dequantize:
        dequantize_for(model, args.dequantize, args.block_size)
    with open(args.ids, encoding="utf-8") as f:
        fx = json.load(f)
    mask = fx.get("attention_mask") or [[1] * len(r) for r in fx["input_ids"]]
    prefill, step, pos, pos2 = reference(model, fx["input_ids"], mask, fx["step_ids"])

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out + ".f32", "wb") as f:
        f.write(np.concatenate([prefill.numpy().ravel(), step.numpy().ravel()]).astype("<f4").tobytes())
    with open(args.out + ".json", "w", encoding="utf-8") as f:
        json.dump({"prefill_shape": list(prefill.shape), "step_shape": list(step.shape),
                   "prefill_position_ids": pos.tolist(), "step_position_ids": pos2.tolist(),
                   "dequantize": args.dequantize}, f)
        f.write("\n")
    print(f"wrote {args.out}.json and {args.out}.f32 (prefill {list(prefill.shape)}, step {list(step.shape)})")


if __name__ == "__main__":
    main()
