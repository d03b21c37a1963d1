/**
 * The whole training path on a short run: TypeScript token ids → PyTorch training from scratch →
 * ONNX export (fp32, int8) → transformers.js in Node. Checks the exported logits against PyTorch
 * (full prompt with left padding, then one incremental step with past KV) and that the model
 * learnt far more than chance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { IntentClassifier } from '../../src/engine/classifier';
import { parseDataset } from '../../src/dataset/dataset';
import { evaluate } from '../../src/evaluation/evaluate';
import { encodePrompt } from '../../src/engine/prompt';
import { configureRuntime } from '../../src/engine/runtime';
import { DEMO_DATA, PYTHON, QWEN3_TOKENIZER_DIR, TOKENIZER_FILES } from '../../scripts/lib/paths';
import { loadQwen3Tokenizer } from '../../scripts/lib/tokenizer';
import { run } from '../support/run';

const MODEL_ID = 'pipeline-model';
let work: string;
let dataDir: string;
let checkpoint: string;
let modelRoot: string;
let trainLog: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fenliu-pipeline-'));
  dataDir = join(work, 'data');
  checkpoint = join(work, 'checkpoint');
  modelRoot = join(work, 'models');
  const modelDir = join(modelRoot, MODEL_ID);
  const tsx = 'node_modules/.bin/tsx';
  run(tsx, [
    'scripts/prepare-training-data.ts',
    ...['--catalog', join(DEMO_DATA, 'catalog.json'), '--out', dataDir],
    ...['--train', join(DEMO_DATA, 'train.jsonl'), '--test', join(DEMO_DATA, 'test.jsonl')],
  ]);
  trainLog = run(
    PYTHON,
    [
      'training/train.py',
      '--data',
      dataDir,
      '--out',
      checkpoint,
      '--steps',
      '200',
      '--seed',
      '1',
      '--eval-splits',
      'test',
    ],
    { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' },
  );
  run(PYTHON, [
    'training/export.py',
    ...['--checkpoint', checkpoint, '--out', modelDir, '--dtypes', 'fp32,int8'],
  ]);
  run(tsx, [
    'scripts/write-model-card.ts',
    ...[
      '--data',
      dataDir,
      '--checkpoint',
      checkpoint,
      '--model',
      modelDir,
      '--dtypes',
      'fp32,int8',
    ],
  ]);
  for (const file of TOKENIZER_FILES) {
    copyFileSync(join(QWEN3_TOKENIZER_DIR, file), join(modelDir, file));
  }
  configureRuntime({ modelRoot });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** PyTorch's logits for a left-padded batch and one incremental step, from reference_logits.py. */
function referenceLogits(
  ids: { input_ids: number[][]; attention_mask: number[][]; step_ids: number[][] },
  dequantize?: 'int8',
) {
  const idsFile = join(work, 'ids.json');
  const prefix = join(work, dequantize ? 'reference-int8' : 'reference-fp32');
  writeFileSync(idsFile, JSON.stringify(ids));
  const extra = dequantize ? ['--dequantize', dequantize] : [];
  run(PYTHON, [
    'training/reference_logits.py',
    '--checkpoint',
    checkpoint,
    '--ids',
    idsFile,
    '--out',
    prefix,
    ...extra,
  ]);
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
function maxDiffOnMask(a: Float32Array, b: Float32Array, mask: number[][], vocab: number): number {
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

describe('training pipeline (short run from scratch)', () => {
  it('trains and logs a falling loss', () => {
    expect(trainLog).toMatch(/step\s+200/);
    const log = JSON.parse(readFileSync(join(checkpoint, 'train_log.json'), 'utf8')) as {
      steps: { step: number; loss: number }[];
    };
    const losses = log.steps.map((step) => step.loss);
    expect(losses).toHaveLength(200);
    expect(losses.at(-1)).toBeLessThan((losses[0] ?? 0) / 4);
  });

  it.each([
    { dtype: 'fp32', dequantize: undefined },
    { dtype: 'int8', dequantize: 'int8' },
  ] as const)(
    '$dtype ONNX in transformers.js matches PyTorch within 1e-4 (prefill and KV step)',
    async ({ dtype, dequantize }) => {
      const tokenizer = await loadQwen3Tokenizer();
      const long = encodePrompt(tokenizer, '我想把收货地址改成北京市朝阳区', null);
      const short = encodePrompt(tokenizer, '退款', null);
      const pad = long.length - short.length;
      const input_ids = [long, [...Array<number>(pad).fill(151643), ...short]];
      const attention_mask = [
        long.map(() => 1),
        [...Array<number>(pad).fill(0), ...short.map(() => 1)],
      ];
      const step_ids = [[51154], [113794]];
      const reference = referenceLogits({ input_ids, attention_mask, step_ids }, dequantize);

      const model: PreTrainedModel = await AutoModelForCausalLM.from_pretrained(MODEL_ID, {
        device: 'cpu',
        dtype,
      });
      try {
        const prefill = (await model.forward({
          input_ids: int64(input_ids),
          attention_mask: int64(attention_mask),
        })) as Record<string, Tensor>;
        const logits = prefill.logits;
        expect(logits?.dims).toEqual(reference.shapes.prefill_shape);
        const vocab = reference.shapes.prefill_shape[2];
        const prefillDiff = maxDiffOnMask(
          logits?.data as Float32Array,
          reference.prefill,
          attention_mask,
          vocab,
        );

        const past: Record<string, Tensor> = {};
        for (const [name, tensor] of Object.entries(prefill)) {
          if (name.startsWith('present.'))
            past[name.replace('present.', 'past_key_values.')] = tensor;
        }
        const stepMask = attention_mask.map((row) => [...row, 1]);
        const step = (await model.forward({
          input_ids: int64(step_ids),
          attention_mask: int64(stepMask),
          past_key_values: past,
        })) as Record<string, Tensor>;
        expect(step.logits?.dims).toEqual(reference.shapes.step_shape);
        const stepDiff = maxDiffOnMask(
          step.logits?.data as Float32Array,
          reference.step,
          [[1], [1]],
          vocab,
        );
        console.log(
          `${dtype} parity: prefill max |Δ| ${prefillDiff.toExponential(2)}, KV step ${stepDiff.toExponential(2)}`,
        );
        expect(prefillDiff).toBeLessThanOrEqual(1e-4);
        expect(stepDiff).toBeLessThanOrEqual(1e-4);
      } finally {
        await model.dispose();
      }
    },
  );

  it('loads through IntentClassifier and beats chance (1/12) by a wide margin', async () => {
    const classifier = await IntentClassifier.load({
      modelId: MODEL_ID,
      device: 'cpu',
      dtype: 'int8',
    });
    try {
      const file = join(DEMO_DATA, 'test.jsonl');
      const { metrics } = await evaluate(
        classifier,
        parseDataset(readFileSync(file, 'utf8'), file),
      );
      console.log(`short-run model: test accuracy ${(100 * metrics.accuracy).toFixed(1)}%`);
      expect(metrics.accuracy).toBeGreaterThan(0.5);
    } finally {
      await classifier.dispose();
    }
  });
});
