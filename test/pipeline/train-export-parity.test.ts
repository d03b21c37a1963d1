/**
 * The training pipeline end to end on small models: TypeScript token ids → training/train.py from
 * scratch → ONNX export → transformers.js in Node; then that same model, standing in for
 * Qwen3-0.6B, as the base of a LoRA fine-tuning (train.py --init-from) → PEFT adapter + merged
 * checkpoint → every ONNX variant. Training is most of this file's time, so the model from
 * scratch is trained once and serves both. Checks:
 * - from scratch: the loss falls; fp32 and int8 ONNX = PyTorch within 1e-4 (left-padded prefill
 *   and one KV step); the runtime's accuracy (IntentClassifier, fp32) is the one train.py reports;
 *   int8 through IntentClassifier beats chance by a wide margin;
 * - LoRA: PyTorch with the adapter applied (unmerged) vs the merged fp32 ONNX: max |Δ logit| ≤ 1e-4;
 *   the q4 graph computes exactly what PyTorch computes with its weights dequantized (4-bit
 *   decoder, 8-bit head fed an 8-bit-rounded input) (same bound); the 8-bit variants give the
 *   fp32 model's label on ≥ 99 % of the demo test messages (the label the engine routes on: the
 *   argmax of its constrained distribution); the 4-bit ones on ≥ 97 %, and each message where
 *   they differ is one fp32 itself nearly tied (see NEAR_TIE_NATS).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataType } from '@huggingface/transformers';
import { IntentClassifier } from '../../src/engine/classifier';
import type { Classification } from '../../src/engine/classification';
import { parseDataset } from '../../src/dataset/dataset';
import { evaluate } from '../../src/evaluation/evaluate';
import { configureRuntime } from '../../src/engine/runtime';
import { DEMO_DATA } from '../../scripts/lib/paths';
import {
  exportModel,
  maxDiffOnMask,
  onnxVsReference,
  parityFixture,
  prepareDemoData,
  referenceLogits,
  train,
} from './parity';

/**
 * The model from scratch: 600 steps (the LoRA checks below were sized on a model this trained)
 * with the demo recipe's sampled softmax, ~3x faster per step than the full 151936-way one here.
 * No --max-minutes cap: a loaded machine must not cut the run short and fail the step count.
 */
const BASE_STEPS = 600;
const SCRATCH_ID = 'pipeline-model';
const LORA_ID = 'lora-model';
const LORA_DTYPES = ['fp32', 'int8', 'q8', 'q4', 'q4f16'] as const;
const TEST_FILE = join(DEMO_DATA, 'test.jsonl');
let work: string;
let data: string;
let base: string;
let trainLog: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fenliu-pipeline-'));
  data = join(work, 'data');
  base = join(work, 'base');
  prepareDemoData(data);
  trainLog = train([
    ...['--data', data, '--out', base, '--steps', String(BASE_STEPS), '--seed', '2'],
    ...['--sampled-softmax', '8192', '--max-minutes', '0', '--eval-splits', 'test'],
  ]);
  configureRuntime({ modelRoot: join(work, 'models') });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const testExamples = () => parseDataset(readFileSync(TEST_FILE, 'utf8'), TEST_FILE);

describe('training pipeline (short run from scratch)', () => {
  beforeAll(() => {
    exportModel(data, base, join(work, 'models', SCRATCH_ID), ['fp32', 'int8']);
  });

  it('trains and logs a falling loss', () => {
    expect(trainLog).toMatch(new RegExp(`step\\s+${BASE_STEPS}`));
    const log = JSON.parse(readFileSync(join(base, 'train_log.json'), 'utf8')) as {
      steps: { step: number; loss: number }[];
    };
    const losses = log.steps.map((step) => step.loss);
    expect(losses).toHaveLength(BASE_STEPS);
    expect(losses.at(-1)).toBeLessThan((losses[0] ?? 0) / 4);
  });

  it.each([
    { dtype: 'fp32', dequantize: [] },
    { dtype: 'int8', dequantize: ['--dequantize', 'int8'] },
  ] as const)(
    '$dtype ONNX in transformers.js matches PyTorch within 1e-4 (prefill and KV step)',
    async ({ dtype, dequantize }) => {
      const ids = await parityFixture();
      const reference = referenceLogits(
        work,
        ids,
        ['--checkpoint', base, ...dequantize],
        `reference-${dtype}`,
      );
      const { prefillDiff, stepDiff } = await onnxVsReference(SCRATCH_ID, dtype, ids, reference);
      console.log(
        `${dtype} parity: prefill max |Δ| ${prefillDiff.toExponential(2)}, KV step ${stepDiff.toExponential(2)}`,
      );
      expect(prefillDiff).toBeLessThanOrEqual(1e-4);
      expect(stepDiff).toBeLessThanOrEqual(1e-4);
    },
  );

  it("the runtime's fp32 accuracy is the accuracy train.py reports (label-trie argmax)", async () => {
    const log = JSON.parse(readFileSync(join(base, 'train_log.json'), 'utf8')) as {
      accuracy: { test: { accuracy: number; n: number } };
    };
    const python = log.accuracy.test;
    const classifier = await IntentClassifier.load({
      modelId: SCRATCH_ID,
      device: 'cpu',
      dtype: 'fp32',
      calibration: null,
    });
    try {
      const { metrics } = await evaluate(classifier, testExamples(), { toolCalls: false });
      console.log(
        `test accuracy: runtime (fp32) ${metrics.topAccuracy.toFixed(4)}, train.py ${python.accuracy.toFixed(4)} (n ${python.n})`,
      );
      expect(metrics.total).toBe(python.n);
      // The same model, one in PyTorch and one in onnxruntime: logits agree to ~1e-5, so at most a
      // message the model ties on could go the other way.
      expect(Math.abs(metrics.topAccuracy - python.accuracy)).toBeLessThanOrEqual(1 / python.n);
    } finally {
      await classifier.dispose();
    }
  });

  it('loads through IntentClassifier and beats chance (1/12) by a wide margin', async () => {
    const classifier = await IntentClassifier.load({
      modelId: SCRATCH_ID,
      device: 'cpu',
      dtype: 'int8',
    });
    try {
      const { metrics } = await evaluate(classifier, testExamples());
      console.log(`short-run model: test accuracy ${(100 * metrics.accuracy).toFixed(1)}%`);
      expect(metrics.accuracy).toBeGreaterThan(0.5);
    } finally {
      await classifier.dispose();
    }
  });
});

/**
 * A 4-bit variant of this 600-step model moves logits by up to ~1.1 (the exporter's printout), so
 * a label's log-probability can move by a few nats: it may flip a message fp32 decided by less
 * than that, never a clear one. (The exact count of such near-ties differs between CPUs: torch's
 * training is not bit-identical across machines, and CI saw 296/300 where this machine saw 298.)
 */
const NEAR_TIE_NATS = 4;

/** The engine's classification of each demo test message with the `dtype` LoRA model. */
async function engineClassifications(dtype: DataType, texts: string[]): Promise<Classification[]> {
  const classifier = await IntentClassifier.load({
    modelId: LORA_ID,
    device: 'cpu',
    dtype,
    calibration: null,
  });
  try {
    return await classifier.classifyBatch(texts);
  } finally {
    await classifier.dispose();
  }
}

describe('LoRA fine-tuning → merge → export (small model)', () => {
  let fineTuned: string;
  let exportLog: string;

  beforeAll(() => {
    fineTuned = join(work, 'finetuned');
    train([
      ...['--init-from', base, '--data', data, '--out', fineTuned],
      ...['--steps', '30', '--lr', '2e-3', '--lora-targets', 'q_proj,v_proj,down_proj'],
      ...['--threads', '1', '--eval-splits', '', '--deterministic'],
    ]);
    // NOTE: 4-bit blocks of 16 (the smallest MatMulNBits takes): at this model's hidden size of 64,
    // blocks of 32 leave two scales per row, a coarser approximation than any real model gets.
    exportLog = exportModel(data, fineTuned, join(work, 'models', LORA_ID), LORA_DTYPES, [
      ...['--probe-prompts', '4', '--block-size', '16'],
    ]);
  });

  it('prints the quantization error of each variant', () => {
    console.log(exportLog.trim());
    for (const dtype of LORA_DTYPES.filter((name) => name !== 'fp32')) {
      expect(exportLog).toMatch(
        new RegExp(`^${dtype}\\s.*max \\|logit - fp32 logit\\| \\d\\.\\d\\de[-+]\\d\\d`, 'm'),
      );
    }
  });

  it('merged fp32 ONNX in transformers.js = PyTorch base + adapter within 1e-4', async () => {
    const ids = await parityFixture();
    const reference = referenceLogits(
      work,
      ids,
      [...['--checkpoint', base], ...['--adapter', join(fineTuned, 'adapter')]],
      'reference-adapter',
    );
    // The adapter must matter, or this parity would say nothing about the merge.
    const baseOnly = referenceLogits(work, ids, ['--checkpoint', base], 'reference-base');
    const vocab = reference.shapes.prefill_shape[2];
    const adapterEffect = maxDiffOnMask(
      reference.prefill,
      baseOnly.prefill,
      ids.attention_mask,
      vocab,
    );
    const { prefillDiff, stepDiff } = await onnxVsReference(LORA_ID, 'fp32', ids, reference);
    console.log(
      `fp32 merged vs PyTorch+adapter: prefill max |Δ| ${prefillDiff.toExponential(2)}, ` +
        `KV step ${stepDiff.toExponential(2)} (the adapter moves logits by up to ${adapterEffect.toFixed(3)})`,
    );
    expect(adapterEffect).toBeGreaterThan(1e-2);
    expect(prefillDiff).toBeLessThanOrEqual(1e-4);
    expect(stepDiff).toBeLessThanOrEqual(1e-4);
  });

  it('q4 ONNX computes exactly its quantized weights (PyTorch dequantized, within 1e-4)', async () => {
    const ids = await parityFixture();
    const reference = referenceLogits(
      work,
      ids,
      ['--checkpoint', fineTuned, '--dequantize', 'q4', '--block-size', '16'],
      'reference-q4',
    );
    const { prefillDiff, stepDiff } = await onnxVsReference(LORA_ID, 'q4', ids, reference);
    console.log(
      `q4 ONNX vs PyTorch q4 weights: prefill max |Δ| ${prefillDiff.toExponential(2)}, KV step ${stepDiff.toExponential(2)}`,
    );
    expect(prefillDiff).toBeLessThanOrEqual(1e-4);
    expect(stepDiff).toBeLessThanOrEqual(1e-4);
  });

  it('int8 and q8 give the fp32 label on >= 99% of the demo test messages, q4 and q4f16 on >= 97% and only where fp32 nearly tied', async () => {
    const texts = testExamples().map((example) => example.text);
    const reference = await engineClassifications('fp32', texts);
    // A model that answers one label would agree trivially.
    expect(new Set(reference.map((result) => result.top.label)).size).toBeGreaterThan(6);
    for (const dtype of LORA_DTYPES.filter((name) => name !== 'fp32')) {
      const predicted = await engineClassifications(dtype, texts);
      const differing = reference.flatMap((fp32, i) => {
        const quantized = predicted[i]?.top.label;
        if (quantized === fp32.top.label) return [];
        const quantizedLogProb = fp32.scores.find((score) => score.label === quantized)?.logProb;
        const gap = fp32.top.logProb - (quantizedLogProb ?? -Infinity);
        return [{ text: texts[i], fp32: fp32.top.label, quantized, gap }];
      });
      const same = texts.length - differing.length;
      console.log(
        `${dtype}: same label as fp32 on ${same}/${texts.length} (${((100 * same) / texts.length).toFixed(1)}%)` +
          differing
            .map(
              (d) =>
                `\n  ${d.text}: fp32 ${d.fp32}, ${dtype} ${d.quantized}, fp32 gap ${d.gap.toFixed(2)} nats`,
            )
            .join(''),
      );
      const fourBit = dtype === 'q4' || dtype === 'q4f16';
      expect(same / texts.length).toBeGreaterThanOrEqual(fourBit ? 0.97 : 0.99);
      for (const { gap } of differing) expect(gap).toBeLessThan(NEAR_TIE_NATS);
    }
  });
});
