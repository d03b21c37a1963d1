/**
 * What the pipeline tests share: a model folder built from the demo data (TypeScript token ids →
 * training/train.py → training/export.py → model card and tokenizer), PyTorch's reference logits
 * from training/reference_logits.py, and the comparison of an ONNX variant in transformers.js
 * against them (a left-padded prefill, then one incremental step with past key/values).
 */
import { expect } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AutoModelForCausalLM,
  Tensor,
  type DataType,
  type PreTrainedModel,
} from '@huggingface/transformers';
import { encodePrompt } from '../../src/engine/prompt';
import { DEMO_DATA, PYTHON, QWEN3_TOKENIZER_DIR, TOKENIZER_FILES } from '../../scripts/lib/paths';
import { loadQwen3Tokenizer } from '../../scripts/lib/tokenizer';
import { run } from '../support/run';

const TSX = 'node_modules/.bin/tsx';
/** NOTE: hugetlb malloc avoids ~0.3 s of page faults per large tensor (MODEL-NOTES). */
const HUGETLB = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };

/** Token ids of the demo catalog's train and test messages, as `npm run train:demo` prepares them. */
export function prepareDemoData(out: string): void {
  run(TSX, [
    'scripts/prepare-training-data.ts',
    ...['--catalog', join(DEMO_DATA, 'catalog.json'), '--out', out],
    ...['--train', join(DEMO_DATA, 'train.jsonl'), '--test', join(DEMO_DATA, 'test.jsonl')],
  ]);
}

/** Runs training/train.py with `args`; returns what it printed. */
export function train(args: string[]): string {
  return run(PYTHON, ['training/train.py', ...args], HUGETLB);
}

/**
 * Exports `checkpoint` to `modelDir` (export.py with `dtypes` and `exportArgs`), writes its
 * model card and copies the tokenizer in, so the runtime loads it. Returns export.py's output.
 */
export function exportModel(
  data: string,
  checkpoint: string,
  modelDir: string,
  dtypes: readonly string[],
  exportArgs: string[] = [],
): string {
  const printed = run(PYTHON, [
    'training/export.py',
    ...['--checkpoint', checkpoint, '--out', modelDir, '--dtypes', dtypes.join(',')],
    ...exportArgs,
  ]);
  run(TSX, [
    'scripts/write-model-card.ts',
    ...['--data', data, '--checkpoint', checkpoint, '--model', modelDir],
    ...['--dtypes', dtypes.join(',')],
  ]);
  for (const file of TOKENIZER_FILES) {
    copyFileSync(join(QWEN3_TOKENIZER_DIR, file), join(modelDir, file));
  }
  return printed;
}

/** A batch for reference_logits.py: rows of ids (left-padded), their mask, one step's ids. */
export interface Fixture {
  input_ids: number[][];
  attention_mask: number[][];
  step_ids: number[][];
}

/** Two prompts of different lengths, the short one left-padded, and one label token each. */
export async function parityFixture(): Promise<Fixture> {
  const tokenizer = await loadQwen3Tokenizer();
  const long = encodePrompt(tokenizer, '我想把收货地址改成北京市朝阳区', null);
  const short = encodePrompt(tokenizer, '退款', null);
  const pad = long.length - short.length;
  return {
    input_ids: [long, [...Array<number>(pad).fill(151643), ...short]],
    attention_mask: [long.map(() => 1), [...Array<number>(pad).fill(0), ...short.map(() => 1)]],
    step_ids: [[51154], [113794]],
  };
}

export type Reference = ReturnType<typeof referenceLogits>;

/**
 * PyTorch's logits from reference_logits.py (`args`: --checkpoint and its options) for the
 * prefill and the cached step, read back from WORK/NAME.{json,f32}.
 */
export function referenceLogits(work: string, ids: Fixture, args: string[], name: string) {
  const idsFile = join(work, `${name}-ids.json`);
  const prefix = join(work, name);
  writeFileSync(idsFile, JSON.stringify(ids));
  run(PYTHON, ['training/reference_logits.py', ...['--ids', idsFile, '--out', prefix, ...args]]);
  const shapes = JSON.parse(readFileSync(`${prefix}.json`, 'utf8')) as {
    prefill_shape: [number, number, number];
    step_shape: [number, number, number];
  };
  const bytes = readFileSync(`${prefix}.f32`);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const prefillSize = shapes.prefill_shape.reduce((a, b) => a * b, 1);
  return { prefill: all.subarray(0, prefillSize), step: all.subarray(prefillSize), shapes };
}

const int64 = (rows: number[][]) =>
  new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [
    rows.length,
    rows[0]?.length ?? 0,
  ]);

/** Largest |a-b| over the positions where `mask` is 1 (padding positions are not meaningful). */
export function maxDiffOnMask(
  a: Float32Array,
  b: Float32Array,
  mask: number[][],
  vocab: number,
): number {
  let worst = 0;
  mask.flat().forEach((keep, position) => {
    if (!keep) return;
    for (let v = 0; v < vocab; v++) {
      const i = position * vocab + v;
      worst = Math.max(worst, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
    }
  });
  return worst;
}

/**
 * Max |Δ| between the `dtype` ONNX model `modelId` in transformers.js and a PyTorch reference,
 * for the prefill and the KV step (whose logits must have the reference's shapes).
 */
export async function onnxVsReference(
  modelId: string,
  dtype: DataType,
  ids: Fixture,
  reference: Reference,
): Promise<{ prefillDiff: number; stepDiff: number }> {
  const model: PreTrainedModel = await AutoModelForCausalLM.from_pretrained(modelId, {
    device: 'cpu',
    dtype,
  });
  try {
    const prefill = (await model.forward({
      input_ids: int64(ids.input_ids),
      attention_mask: int64(ids.attention_mask),
    })) as Record<string, Tensor>;
    expect(prefill.logits?.dims).toEqual(reference.shapes.prefill_shape);
    const vocab = reference.shapes.prefill_shape[2];
    const prefillDiff = maxDiffOnMask(
      prefill.logits?.data as Float32Array,
      reference.prefill,
      ids.attention_mask,
      vocab,
    );
    const past: Record<string, Tensor> = {};
    for (const [name, tensor] of Object.entries(prefill)) {
      if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = tensor;
    }
    const step = (await model.forward({
      input_ids: int64(ids.step_ids),
      attention_mask: int64(ids.attention_mask.map((row) => [...row, 1])),
      past_key_values: past,
    })) as Record<string, Tensor>;
    expect(step.logits?.dims).toEqual(reference.shapes.step_shape);
    const stepDiff = maxDiffOnMask(
      step.logits?.data as Float32Array,
      reference.step,
      ids.step_ids.map(() => [1]),
      vocab,
    );
    return { prefillDiff, stepDiff };
  } finally {
    await model.dispose();
  }
}
