/**
 * Records fenliu.json's canaries (src/engine/canary.ts) for a model folder from its shipped ONNX
 * files, computed by the engine in Node (onnxruntime-node, CPU) exactly as a load checks them:
 * for folders without a PyTorch checkpoint, like the committed demo (training/export.py records
 * them from PyTorch at export).
 *
 *   npx tsx scripts/record-canaries.ts --model public/models/fenliu-demo \
 *     --data data/demo/test.jsonl [--count 6] [--dtypes int8,q4]
 *
 * The messages come from --data (a labelled JSONL/JSON dataset the model was not trained on): one
 * for each of --count labels spread over the card's, the one the first dtype's reference labels
 * correctly but is least sure of (ties: the shorter). Confident messages hardly move when weights
 * are corrupt (a probability of 0.999 barely changes); on the demo, six least-sure canaries
 * caught 4 flipped weight bytes in 8 of 8 trials, six shortest ones 0 of 8 (see canary.ts).
 * training/export.py picks them the same way.
 *
 * A reference is recorded for each dtype (default: every one the card ships), each with its
 * tolerance (`CANARY_TOLERANCE`). The card is rewritten with only its "canaries" field replaced or
 * added; then every dtype is loaded again with it and must come out verified.
 */
import { AutoTokenizer } from '@huggingface/transformers';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDataset } from '../src/dataset/dataset';
import { canaryTolerance, type ModelCanaries } from '../src/engine/canary';
import { IntentClassifier, prepareMessage } from '../src/engine/classifier';
import { onnxFileName } from '../src/engine/model-checks';
import { parseModelCard } from '../src/engine/model-folder';
import { encodePrompt } from '../src/engine/prompt';
import { configureRuntime } from '../src/engine/runtime';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    count: { type: 'string', default: '6' },
    dtypes: { type: 'string' },
  },
});
if (!values.model || !values.data) {
  console.error('usage: record-canaries --model DIR --data FILE [--count 6] [--dtypes a,b]');
  process.exit(2);
}
const modelDir = resolve(values.model);
const cardPath = join(modelDir, 'fenliu.json');
const cardText = readFileSync(cardPath, 'utf8');
const original = JSON.parse(cardText) as Record<string, unknown>;
const card = parseModelCard(cardText, basename(modelDir));
const dtypes = values.dtypes?.split(',') ?? card.dtypes;
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive integer');

const ortVersion = (
  createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }
).version;

// NOTE: the folder is loaded through a copy of symlinks with a card without canaries, so that
// recording again (after retraining) is not refused by the canaries being replaced.
const scratch = mkdtempSync(join(tmpdir(), 'fenliu-canaries-'));
const id = 'model';
const folder = join(scratch, id);
function linkFolder(canaries: ModelCanaries | undefined): void {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder);
  for (const name of readdirSync(modelDir)) {
    if (name !== 'fenliu.json') symlinkSync(join(modelDir, name), join(folder, name));
  }
  const written: Record<string, unknown> = { ...original, canaries };
  if (!canaries) delete written.canaries;
  writeFileSync(join(folder, 'fenliu.json'), JSON.stringify(written, null, 2));
}
configureRuntime({ modelRoot: scratch });

/** 6 significant digits: ≤ 5e-7 off for any probability, far below every tolerance. */
const round = (p: number): number => Number(p.toPrecision(6));

async function load(dtype: string): Promise<{ classifier: IntentClassifier; ms: number }> {
  const started = performance.now();
  const classifier = await IntentClassifier.load({
    modelId: id,
    device: 'cpu',
    dtype: dtype as 'int8',
    calibration: null,
  });
  return { classifier, ms: performance.now() - started };
}

/** Indices of `count` candidates: see the module comment for the rule. */
function chooseCanaries(
  candidates: { text: string; label: string; probabilities: number[] }[],
  labels: readonly string[],
): number[] {
  const spread = Array.from({ length: count }, (_, i) => Math.floor((i * labels.length) / count));
  const order = [...new Set([...spread, ...labels.keys()])];
  const chosen: number[] = [];
  for (const labelIndex of order) {
    if (chosen.length === count) break;
    const label = labels[labelIndex];
    const correct = candidates
      .map((candidate, index) => ({
        ...candidate,
        index,
        top: Math.max(...candidate.probabilities),
      }))
      .filter((c) => c.label === label && c.probabilities[labelIndex] === c.top)
      .sort((a, b) => a.top - b.top || a.text.length - b.text.length || a.index - b.index);
    if (correct[0]) chosen.push(correct[0].index);
  }
  return chosen;
}

try {
  linkFolder(undefined);
  const dataPath = resolve(values.data);
  const seen = new Set<string>();
  const candidates = parseDataset(readFileSync(dataPath, 'utf8'), dataPath)
    .map((example) => ({ ...example, text: prepareMessage(example.text).message }))
    .filter((example) => {
      const fresh = card.labels.includes(example.label) && !seen.has(example.text);
      seen.add(example.text);
      return fresh;
    });

  const [first, ...others] = dtypes;
  if (!first) throw new Error('no dtype to record');
  const reference = await load(first);
  const scored: number[][] = [];
  for (let start = 0; start < candidates.length; start += 32) {
    const texts = candidates.slice(start, start + 32).map((candidate) => candidate.text);
    scored.push(...(await reference.classifier.labelProbabilities(texts)));
  }
  await reference.classifier.dispose();
  const picked = chooseCanaries(
    candidates.map((candidate, index) => ({ ...candidate, probabilities: scored[index] ?? [] })),
    card.labels,
  ).map((index) => candidates[index]?.text ?? '');

  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const canaries: ModelCanaries = {
    labels: card.labels,
    messages: picked.map((text) => ({ text, ids: encodePrompt(tokenizer, text, card.system) })),
    references: {},
  };
  const unverifiedMs: Record<string, number> = {};
  for (const dtype of [first, ...others]) {
    const { classifier, ms } = await load(dtype);
    unverifiedMs[dtype] = ms;
    const probabilities = await classifier.labelProbabilities(picked);
    await classifier.dispose();
    canaries.references[dtype] = {
      computedBy:
        `onnxruntime-node ${ortVersion}, CPU, ${onnxFileName(dtype)}, the canaries as one ` +
        'batch; scripts/record-canaries.ts',
      tolerance: canaryTolerance(dtype),
      probabilities: probabilities.map((row) => row.map(round)),
    };
    const tops = probabilities.map((row) => {
      const top = Math.max(...row);
      return `${card.labels[row.indexOf(top)] ?? '?'} ${top.toFixed(3)}`;
    });
    console.log(`${dtype}: ${tops.join(' · ')}`);
  }
  picked.forEach((text, index) => {
    console.log(`canary ${index + 1}: ${text} (${canaries.messages[index]?.ids.length} ids)`);
  });

  // Every dtype must load verified with the new card before it is written.
  linkFolder(canaries);
  for (const dtype of dtypes) {
    const { classifier, ms } = await load(dtype);
    const { verified, verification } = classifier.info;
    await classifier.dispose();
    if (!verified) throw new Error(`${dtype} did not verify: ${verification}`);
    console.log(
      `${dtype}: ${verification}; load ${ms.toFixed(0)} ms (${unverifiedMs[dtype]?.toFixed(0)} ms without canaries)`,
    );
  }
  const text = JSON.stringify({ ...original, canaries }, null, 2) + '\n';
  parseModelCard(text, basename(modelDir)); // the runtime's own check: never write a card it refuses
  writeFileSync(cardPath, text);
  console.log(`wrote ${cardPath}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
