/**
 * Node soak: N classifications of varied messages through one `IntentClassifier`, one at a time
 * (as the widget's worker runs them), checking that no result is lost or given to another message
 * and that memory stays flat.
 *
 *   npm run soak                       # 100 000 messages → bench/reliability/soak.json
 *   npm run soak -- --messages 20000   # shorter
 *
 * `npm run soak` runs `tsx --expose-gc`, so heap figures "after GC" are after a full collection;
 * without the flag they are taken without one and the JSON says so (`gcExposed: false`).
 *
 * How "lost or reordered" is checked: a fixed set of distinct messages (the demo test split and
 * the accepted bad-input cases) is first classified one by one; the soak then sends them in a
 * seeded shuffled repeating order, and every result must carry its own message's intent and
 * top probability (±1e-4). Results count = messages sent, in sending order.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IntentClassifier } from '../src/engine/classifier';
import { parseDataset, seededRandom } from '../src/dataset/dataset';
import { percentile } from '../src/evaluation/metrics';
import { configureRuntime } from '../src/engine/runtime';
import { formatTable } from '../src/cli/table';
import { BAD_INPUT_CASES } from './lib/bad-inputs';
import { DEMO_DATA, DEMO_MODEL_ID, PUBLIC_MODELS, REPO_ROOT } from './lib/paths';

export const SOAK_JSON = join(REPO_ROOT, 'bench', 'reliability', 'soak.json');

interface MemorySample {
  /** Messages classified when the sample was taken. */
  done: number;
  heapUsedMB: number;
  rssMB: number;
  /** Memory outside the JS heap that V8 knows of (ArrayBuffers of tensors, …). */
  externalMB: number;
}

/** What bench/reliability/soak.json holds (the reliability report reads it). */
export interface SoakReport {
  date: string;
  command: string;
  node: string;
  model: { id: string; dtype: string; device: string; calibrated: boolean };
  messages: number;
  distinctMessages: number;
  results: number;
  /** Messages without a result (messages − results). */
  lost: number;
  /** Results whose intent or probability is not their own message's (lost order). */
  mismatched: number;
  /** Whether a full GC ran before the before/after samples (`--expose-gc`). */
  gcExposed: boolean;
  memory: { before: MemorySample; samples: MemorySample[]; after: MemorySample };
  latencyMs: { p50: number; p95: number; p99: number; mean: number; max: number };
  wallSeconds: number;
}

const MB = 1024 * 1024;

function sample(done: number, collect: boolean): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return {
    done,
    heapUsedMB: usage.heapUsed / MB,
    rssMB: usage.rss / MB,
    externalMB: usage.external / MB,
  };
}

function distinctMessages(): string[] {
  const file = join(DEMO_DATA, 'test.jsonl');
  const texts = parseDataset(readFileSync(file, 'utf8'), file).map((example) => example.text);
  // The accepted bad inputs too (the 100 000-character ones included: truncation under load).
  const odd = BAD_INPUT_CASES.filter((c) => c.expect !== 'input-error').map((c) => c.text);
  return [...new Set([...texts, ...odd])];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '100000' },
      'sample-every': { type: 'string', default: '10000' },
      seed: { type: 'string', default: '7' },
      out: { type: 'string', default: SOAK_JSON },
    },
  });
  const total = Number(values.messages);
  const every = Number(values['sample-every']);
  if (!Number.isInteger(total) || total < 1)
    throw new Error('--messages must be a positive integer');
  if (!Number.isInteger(every) || every < 1) throw new Error('--sample-every must be positive');
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!gcExposed) console.warn('no --expose-gc: memory is sampled without a full GC first');

  configureRuntime({ modelRoot: PUBLIC_MODELS });
  const classifier = await IntentClassifier.load({ modelId: DEMO_MODEL_ID, device: 'cpu' });
  const distinct = distinctMessages();
  // Single-shot reference for each distinct message (also the warm-up).
  const reference: { intentId: string; confidence: number }[] = [];
  for (const text of distinct) {
    const result = await classifier.classify(text);
    reference.push({ intentId: result.intentId, confidence: result.confidence });
  }
  const random = seededRandom(Number(values.seed));
  const order: number[] = [];
  while (order.length < total) {
    const round = distinct.map((_, index) => index);
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j] ?? 0, round[i] ?? 0];
    }
    order.push(...round.slice(0, total - order.length));
  }

  const before = sample(0, true);
  const samples: MemorySample[] = [];
  const latencies: number[] = [];
  let results = 0;
  let mismatched = 0;
  const started = performance.now();
  for (const [sent, index] of order.entries()) {
    const text = distinct[index] ?? '';
    const t0 = performance.now();
    const result = await classifier.classify(text);
    latencies.push(performance.now() - t0);
    results += 1;
    const expected = reference[index];
    if (
      result.intentId !== expected?.intentId ||
      Math.abs(result.confidence - expected.confidence) > 1e-4
    ) {
      mismatched += 1;
    }
    if ((sent + 1) % every === 0) {
      const point = sample(sent + 1, false);
      samples.push(point);
      const rate = (sent + 1) / ((performance.now() - started) / 1000);
      console.log(
        `${sent + 1}/${total} · heap ${point.heapUsedMB.toFixed(1)} MB · RSS ${point.rssMB.toFixed(0)} MB · ${rate.toFixed(0)} msg/s · mismatched ${mismatched}`,
      );
    }
  }
  const wallSeconds = (performance.now() - started) / 1000;
  // Sampled with the model still loaded, so it compares with `before`.
  const after = sample(total, true);
  await classifier.dispose();
  latencies.sort((a, b) => a - b);
  const report: SoakReport = {
    date: new Date().toISOString(),
    command: `npm run soak -- --messages ${total}`,
    node: process.version,
    model: {
      id: DEMO_MODEL_ID,
      dtype: classifier.info.dtype,
      device: 'cpu',
      calibrated: classifier.info.calibrated,
    },
    messages: total,
    distinctMessages: distinct.length,
    results,
    lost: total - results,
    mismatched,
    gcExposed,
    memory: { before, samples, after },
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
      p99: percentile(latencies, 0.99),
      mean: latencies.reduce((sum, value) => sum + value, 0) / latencies.length,
      max: latencies.at(-1) ?? Number.NaN,
    },
    wallSeconds,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatSoakTable(report));
  console.log(`wrote ${values.out}`);
  if (report.lost > 0 || report.mismatched > 0) process.exitCode = 1;
}

/** The soak's figures as a plain-text table (also used by the reliability report). */
export function formatSoakTable(report: SoakReport): string {
  const memory = (point: MemorySample) => [
    point.heapUsedMB.toFixed(1),
    point.rssMB.toFixed(0),
    point.externalMB.toFixed(1),
  ];
  const gc = report.gcExposed ? ' (after GC)' : '';
  return [
    formatTable(
      ['when', 'messages', 'heap MB', 'RSS MB', 'external MB'],
      [
        [`before${gc}`, '0', ...memory(report.memory.before)],
        ...report.memory.samples.map((point) => ['during', String(point.done), ...memory(point)]),
        [`after${gc}`, String(report.messages), ...memory(report.memory.after)],
      ],
      { right: ['messages', 'heap MB', 'RSS MB', 'external MB'] },
    ),
    '',
    `messages ${report.messages} (${report.distinctMessages} distinct) · results ${report.results} · lost ${report.lost} · mismatched ${report.mismatched}`,
    `latency p50 ${report.latencyMs.p50.toFixed(2)} ms · p95 ${report.latencyMs.p95.toFixed(2)} ms · p99 ${report.latencyMs.p99.toFixed(2)} ms · max ${report.latencyMs.max.toFixed(1)} ms · ${report.wallSeconds.toFixed(0)} s`,
  ].join('\n');
}

// Run only as a script, not when the reliability report imports `formatSoakTable`.
if (process.argv[1]?.endsWith('soak.ts')) await main();
