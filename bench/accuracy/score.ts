/**
 * Scores every system's answers the same way, with fenliu's own metrics (src/evaluation/metrics.ts):
 * dataset labels become catalog intent ids (`intentIdFor`), and a system that declines (nlp.js
 * `None`, or a confidence under a threshold) answers the catalog's fallback intent.
 */
import type { Catalog } from '../../src/catalog/types';
import {
  computeMetrics,
  percentile,
  type IntentRef,
  type Prediction as MetricsRow,
} from '../../src/evaluation/metrics';
import { answerTextFor, intentIdFor, type Example } from './datasets';

/** One system's answer to one message. */
export interface Answer {
  /** Catalog intent id, or null when the system declined to pick one. */
  intentId: string | null;
  /** The system's score for that answer, in [0, 1]. */
  confidence: number;
  /** Wall time of the call that produced it, in milliseconds. */
  latencyMs: number;
}

export interface Scores {
  /** Share of in-scope test rows answered with their own intent. */
  accuracy: number;
  /** Mean F1 over intents with rows or predictions, in-scope and out-of-scope rows together. */
  macroF1: number;
  /** Share of out-of-scope test rows answered with the fallback; null without such rows. */
  oosRecall: number | null;
  /** Share of in-scope rows answered with the fallback (declined). */
  declined: number;
  latencyMs: { p50: number; p95: number };
}

/**
 * The intents scoring needs: the catalog's, plus any test label the training split never had
 * (SMP2019 has three): no system can answer those, but their rows still count.
 */
export function scoringIntents(catalog: Catalog, testLabels: Iterable<string>): IntentRef[] {
  const intents: IntentRef[] = catalog.intents.map(({ id, label }) => ({ id, label }));
  const known = new Set(intents.map((intent) => intent.id));
  for (const label of testLabels) {
    const id = intentIdFor(label);
    if (!known.has(id)) {
      known.add(id);
      intents.push({ id, label: answerTextFor(label) });
    }
  }
  return intents;
}

/** The intent a system acts on: its answer, or the fallback if it declined or is under `threshold`. */
export function routedIntent(answer: Answer, fallbackIntent: string, threshold = 0): string {
  if (answer.intentId === null || answer.confidence < threshold) return fallbackIntent;
  return answer.intentId;
}

function metricsRows(
  examples: readonly Example[],
  answers: readonly Answer[],
  fallbackIntent: string,
  threshold: number,
): MetricsRow[] {
  if (examples.length !== answers.length) throw new Error('one answer per example is needed');
  return examples.map((example, index) => {
    const answer = answers[index] as Answer;
    const intentId = routedIntent(answer, fallbackIntent, threshold);
    const top = { intentId, label: intentId, probability: answer.confidence, logProb: 0 };
    return {
      expected: intentIdFor(example.label),
      classification: {
        intentId,
        route: intentId === fallbackIntent ? 'out_of_scope' : 'intent',
        top,
        confidence: answer.confidence,
        latencyMs: answer.latencyMs,
      },
    };
  });
}

/**
 * Scores answers to the in-scope test rows and (CLINC150) the out-of-scope ones, routing answers
 * under `threshold` to the fallback.
 */
export function scoreAnswers(
  intents: readonly IntentRef[],
  fallbackIntent: string,
  inScope: { examples: readonly Example[]; answers: readonly Answer[] },
  outOfScope: { examples: readonly Example[]; answers: readonly Answer[] },
  threshold = 0,
): Scores {
  const card = { intents, fallbackIntent };
  const inRows = metricsRows(inScope.examples, inScope.answers, fallbackIntent, threshold);
  const oosRows = metricsRows(outOfScope.examples, outOfScope.answers, fallbackIntent, threshold);
  const inMetrics = computeMetrics(inRows, card);
  const allMetrics = computeMetrics([...inRows, ...oosRows], card);
  const latencies = [...inScope.answers, ...outOfScope.answers]
    .map((answer) => answer.latencyMs)
    .sort((a, b) => a - b);
  return {
    accuracy: inMetrics.accuracy,
    macroF1: allMetrics.macroF1,
    oosRecall: oosRows.length > 0 ? computeMetrics(oosRows, card).accuracy : null,
    declined: inMetrics.routes.out_of_scope / Math.max(1, inRows.length),
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
  };
}

/**
 * The confidence threshold that routes the most validation rows correctly (out-of-scope rows
 * under it, others at or above it with the right intent): the rule `fenliu calibrate` uses for
 * its global out-of-scope threshold (src/evaluation/calibration-fit.ts), applied to every system alike.
 * Ties go to the lowest threshold.
 *
 * @example
 * pickThreshold([{ expected: 'oos', answer: { intentId: 'a', confidence: 0.3, latencyMs: 0 } }], 'oos'); // just above 0.3
 */
export function pickThreshold(
  rows: readonly { expected: string; answer: Answer }[],
  fallbackIntent: string,
): number {
  const candidates = [0, ...new Set(rows.map((row) => nextAbove(row.answer.confidence)))].sort(
    (a, b) => a - b,
  );
  let best = 0;
  let bestCorrect = -1;
  for (const threshold of candidates) {
    const correct = rows.filter(
      (row) => routedIntent(row.answer, fallbackIntent, threshold) === row.expected,
    ).length;
    if (correct > bestCorrect) {
      best = threshold;
      bestCorrect = correct;
    }
  }
  return best;
}

/** The smallest double above `value`: a threshold there sends `value` itself to the fallback. */
function nextAbove(value: number): number {
  const buffer = new Float64Array([value]);
  const bits = new BigInt64Array(buffer.buffer);
  bits[0] = (bits[0] ?? 0n) + (value >= 0 ? 1n : -1n);
  return buffer[0] ?? value;
}
