import type { Classification } from './classifier';

export interface EvaluationExample {
  text: string;
  label: string;
}

export interface Evaluation {
  total: number;
  correct: number;
  accuracy: number;
  /** Share of answers that were catalog labels (the rest fell back). */
  validRate: number;
  perLabel: Record<string, { total: number; correct: number; accuracy: number }>;
  latencyMs: { p50: number; p95: number; mean: number };
  mistakes: { text: string; expected: string; predicted: string }[];
}

export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** Runs `classify` over labelled examples one at a time and scores the answers. */
export async function evaluate(
  classify: (text: string) => Promise<Classification>,
  examples: readonly EvaluationExample[],
  onProgress?: (done: number, total: number) => void,
): Promise<Evaluation> {
  const perLabel: Evaluation['perLabel'] = {};
  const mistakes: Evaluation['mistakes'] = [];
  const latencies: number[] = [];
  let correct = 0;
  let valid = 0;
  for (const [index, example] of examples.entries()) {
    const result = await classify(example.text);
    latencies.push(result.latencyMs);
    const bucket = (perLabel[example.label] ??= { total: 0, correct: 0, accuracy: 0 });
    bucket.total++;
    if (result.valid) valid++;
    if (result.label === example.label) {
      correct++;
      bucket.correct++;
    } else {
      mistakes.push({ text: example.text, expected: example.label, predicted: result.label });
    }
    onProgress?.(index + 1, examples.length);
  }
  for (const bucket of Object.values(perLabel)) bucket.accuracy = bucket.correct / bucket.total;
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length);
  return {
    total: examples.length,
    correct,
    accuracy: correct / Math.max(1, examples.length),
    validRate: valid / Math.max(1, examples.length),
    perLabel,
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), mean },
    mistakes,
  };
}
