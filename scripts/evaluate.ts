/**
 * Scores a model folder on a labelled file, in Node (onnxruntime-node), and prints a table.
 *
 *   npx tsx scripts/evaluate.ts --model fenliu-demo --data data/demo/test.jsonl [--dtype int8] \
 *     [--root public/models] [--json out.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataType } from '@huggingface/transformers';
import { IntentClassifier } from '../src/core/classifier';
import { parseDataset } from '../src/core/dataset';
import { evaluate } from '../src/core/evaluate';
import { configureRuntime } from '../src/core/runtime';
import { DEMO_MODEL_ID, PUBLIC_MODELS } from './lib/paths';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEMO_MODEL_ID },
    root: { type: 'string', default: PUBLIC_MODELS },
    data: { type: 'string' },
    dtype: { type: 'string' },
    json: { type: 'string' },
  },
});
if (!values.data) {
  console.error(
    'usage: evaluate --data FILE [--model ID] [--root DIR] [--dtype int8] [--json OUT]',
  );
  process.exit(2);
}

configureRuntime({ modelRoot: resolve(values.root) });
const examples = parseDataset(readFileSync(values.data, 'utf8'), values.data);
const classifier = await IntentClassifier.load({
  modelId: values.model,
  device: 'cpu',
  dtype: values.dtype as DataType | undefined,
});
await classifier.classify('你好'); // warm-up: the first run pays for session initialisation
const result = await evaluate((text) => classifier.classify(text), examples);
await classifier.dispose();

const rows = Object.entries(result.perLabel).map(([label, { total, correct, accuracy }]) => ({
  label,
  total,
  correct,
  accuracy: `${(100 * accuracy).toFixed(1)}%`,
}));
console.table(rows);
console.log(
  `model ${values.model} (${classifier.info.dtype}, Node cpu): accuracy ${(100 * result.accuracy).toFixed(1)}% ` +
    `(${result.correct}/${result.total}), valid labels ${(100 * result.validRate).toFixed(1)}%, ` +
    `latency p50 ${result.latencyMs.p50.toFixed(1)} ms p95 ${result.latencyMs.p95.toFixed(1)} ms`,
);
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
