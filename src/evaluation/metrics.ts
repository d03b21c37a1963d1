/**
 * Scores classifications against labelled rows: accuracy, per-intent precision/recall/F1,
 * macro-F1, the confusion matrix, out-of-scope detection, expected calibration error with its
 * reliability bins, and latency percentiles. Pure functions over plain data: the CLI's `eval`,
 * `calibrate` and the tests share them.
 */
import type { Classification } from '../engine/classification';
import type { ToolCall } from '../catalog/types';
import { argumentMetrics, type ArgumentMetrics, type ToolSchemas } from './tool-arguments';

/** What the metrics read from one classification. */
export type ScoredClassification = Pick<
  Classification,
  'intentId' | 'route' | 'top' | 'confidence' | 'latencyMs'
>;

/** One labelled row and what the classifier answered for it. */
export interface Prediction {
  /** Intent id the row is labelled with. */
  expected: string;
  classification: ScoredClassification;
}

/** An intent as the model card lists it. */
export interface IntentRef {
  id: string;
  label: string;
}

/**
 * Precision, recall and F1 of one kind of answer. A ratio whose denominator is zero is `null`
 * (not 0): an answer nobody predicted has no precision, one without rows has no recall.
 */
export interface DetectionMetrics {
  /** Rows labelled positive. */
  support: number;
  /** Rows predicted positive. */
  predicted: number;
  truePositives: number;
  precision: number | null;
  recall: number | null;
  /** 2·TP / (support + predicted); `null` only when both are 0. */
  f1: number | null;
}

/** One intent's metrics: a row is positive when labelled with it, a prediction when routed to it. */
export interface IntentMetrics extends DetectionMetrics {
  intentId: string;
  label: string;
}

/** Out-of-scope detection: a row is positive when labelled with the fallback intent, a prediction when routed `out_of_scope`. */
export type OutOfScopeMetrics = DetectionMetrics;

/** Confusion counts: `matrix[expected][predicted]`, both indexed like `intentIds`. */
export interface ConfusionMatrix {
  intentIds: string[];
  labels: string[];
  matrix: number[][];
}

/** One equal-width confidence bin of a reliability diagram. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean top-intent probability in the bin, `null` when empty. */
  confidence: number | null;
  /** Share of the bin's rows whose top intent was right, `null` when empty. */
  accuracy: number | null;
}

export interface CalibrationReport {
  /** Expected calibration error: Σ (bin size / N) · |accuracy − confidence| over the bins. */
  ece: number;
  bins: ReliabilityBin[];
}

export interface LatencySummary {
  p50: number;
  p95: number;
  mean: number;
  max: number;
}

export interface Metrics {
  total: number;
  /** Rows whose routed intent (what the host acts on) is the labelled one. */
  correct: number;
  accuracy: number;
  /** Share of rows whose model top intent, before thresholds, is the labelled one. */
  topAccuracy: number;
  /** Mean F1 over the intents that have rows or predictions (see `IntentMetrics.f1`). */
  macroF1: number;
  perIntent: IntentMetrics[];
  confusion: ConfusionMatrix;
  outOfScope: OutOfScopeMetrics;
  routes: Record<Classification['route'], number>;
  /** Turns routed `intent` (neither out of scope nor escalated) and how many of them were right. */
  accepted: { count: number; correct: number; precision: number | null };
  calibration: CalibrationReport;
  latencyMs: LatencySummary;
}

/** Reliability-diagram bins used unless a caller asks otherwise. */
export const DEFAULT_BINS = 10;

/**
 * Nearest-rank percentile of an ascending array (`fraction` in 0–1); NaN for an empty array.
 *
 * @example
 * percentile([1, 2, 3, 4], 0.5); // 2
 */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** p50, p95, mean and max of latencies in milliseconds (NaN for none). */
export function summariseLatency(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean =
    sorted.length === 0
      ? Number.NaN
      : sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    mean,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * Counts `expected → predicted` pairs over `intents` (rows: expected, columns: predicted).
 * Throws on an id that is not one of the intents: a caller maps dataset labels first.
 */
export function confusionMatrix(
  pairs: readonly { expected: string; predicted: string }[],
  intents: readonly IntentRef[],
): ConfusionMatrix {
  const index = new Map(intents.map((intent, i) => [intent.id, i]));
  const matrix = intents.map(() => intents.map(() => 0));
  for (const { expected, predicted } of pairs) {
    const row = index.get(expected);
    const column = index.get(predicted);
    if (row === undefined || column === undefined) {
      throw new Error(
        `confusionMatrix: unknown intent id "${row === undefined ? expected : predicted}"`,
      );
    }
    const cells = matrix[row];
    if (cells) cells[column] = (cells[column] ?? 0) + 1;
  }
  return { intentIds: intents.map((i) => i.id), labels: intents.map((i) => i.label), matrix };
}

/** Precision, recall and F1 of each intent, read off a confusion matrix. */
export function perIntentMetrics(confusion: ConfusionMatrix): IntentMetrics[] {
  const { matrix } = confusion;
  return confusion.intentIds.map((intentId, k) => {
    const support = sum(matrix[k] ?? []);
    const predicted = sum(matrix.map((row) => row[k] ?? 0));
    const truePositives = matrix[k]?.[k] ?? 0;
    return {
      intentId,
      label: confusion.labels[k] ?? intentId,
      support,
      predicted,
      truePositives,
      ...binaryScores(truePositives, support, predicted),
    };
  });
}

/**
 * Mean F1 over intents with a defined F1 (rows or predictions present), as scikit-learn does when
 * it is not given a label list: an intent absent from a file neither helps nor hurts; one predicted
 * but absent counts as F1 0.
 */
export function macroF1(perIntent: readonly IntentMetrics[]): number {
  const scores = perIntent.flatMap((intent) => (intent.f1 === null ? [] : [intent.f1]));
  return scores.length === 0 ? Number.NaN : sum(scores) / scores.length;
}

/**
 * Expected calibration error over `bins` equal-width bins of the top-intent probability, and the
 * bins themselves (for the reliability diagram). `correct[i]` says whether row i's top intent
 * was right. A probability of exactly 1 falls in the last bin.
 *
 * @example
 * calibrationReport([0.9, 0.9], [true, false], 10).ece; // 0.4
 */
export function calibrationReport(
  confidences: readonly number[],
  correct: readonly boolean[],
  bins = DEFAULT_BINS,
): CalibrationReport {
  if (confidences.length !== correct.length) {
    throw new Error('calibrationReport: confidences and correct differ in length');
  }
  const counts = new Array<number>(bins).fill(0);
  const confidenceSums = new Array<number>(bins).fill(0);
  const correctCounts = new Array<number>(bins).fill(0);
  confidences.forEach((confidence, i) => {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(confidence * bins)));
    counts[bin] = (counts[bin] ?? 0) + 1;
    confidenceSums[bin] = (confidenceSums[bin] ?? 0) + confidence;
    if (correct[i]) correctCounts[bin] = (correctCounts[bin] ?? 0) + 1;
  });
  const total = confidences.length;
  let ece = 0;
  const report = counts.map((count, bin): ReliabilityBin => {
    const lower = bin / bins;
    const upper = (bin + 1) / bins;
    if (count === 0) return { lower, upper, count, confidence: null, accuracy: null };
    const confidence = (confidenceSums[bin] ?? 0) / count;
    const accuracy = (correctCounts[bin] ?? 0) / count;
    ece += (count / total) * Math.abs(accuracy - confidence);
    return { lower, upper, count, confidence, accuracy };
  });
  return { ece: total === 0 ? Number.NaN : ece, bins: report };
}

/**
 * Every metric `fenliu eval` reports. The routed intent (`classification.intentId`: the fallback
 * when out of scope, the top intent when escalated) is the prediction for accuracy, F1 and the
 * confusion matrix; calibration looks at the model's top intent and its probability.
 */
export function computeMetrics(
  predictions: readonly Prediction[],
  card: { intents: readonly IntentRef[]; fallbackIntent: string },
  bins = DEFAULT_BINS,
): Metrics {
  const confusion = confusionMatrix(
    predictions.map((p) => ({ expected: p.expected, predicted: p.classification.intentId })),
    card.intents,
  );
  const perIntent = perIntentMetrics(confusion);
  const correct = predictions.filter((p) => p.classification.intentId === p.expected).length;
  const topCorrect = predictions.map((p) => p.classification.top.intentId === p.expected);
  const routes = { intent: 0, out_of_scope: 0, escalate: 0 };
  for (const p of predictions) routes[p.classification.route]++;

  const isOutOfScope = (p: Prediction) => p.expected === card.fallbackIntent;
  const routedOut = (p: Prediction) => p.classification.route === 'out_of_scope';
  const oosTruePositives = predictions.filter((p) => isOutOfScope(p) && routedOut(p)).length;
  const oosSupport = predictions.filter(isOutOfScope).length;
  const oosPredicted = predictions.filter(routedOut).length;

  const accepted = predictions.filter((p) => p.classification.route === 'intent');
  const acceptedCorrect = accepted.filter((p) => p.classification.intentId === p.expected).length;
  const total = predictions.length;
  return {
    total,
    correct,
    accuracy: ratio(correct, total) ?? Number.NaN,
    topAccuracy: ratio(topCorrect.filter(Boolean).length, total) ?? Number.NaN,
    macroF1: macroF1(perIntent),
    perIntent,
    confusion,
    outOfScope: {
      support: oosSupport,
      predicted: oosPredicted,
      truePositives: oosTruePositives,
      ...binaryScores(oosTruePositives, oosSupport, oosPredicted),
    },
    routes,
    accepted: {
      count: accepted.length,
      correct: acceptedCorrect,
      precision: ratio(acceptedCorrect, accepted.length),
    },
    calibration: calibrationReport(
      predictions.map((p) => p.classification.confidence),
      topCorrect,
      bins,
    ),
    latencyMs: summariseLatency(predictions.map((p) => p.classification.latencyMs)),
  };
}

/** How well the model wrote tool calls, over rows whose labelled answer has one. */
export interface ToolCallMetrics {
  /** Rows with a labelled tool call. */
  rows: number;
  /** Rows whose proposed call has the labelled name and exactly the labelled arguments. */
  exactMatch: number;
  exactMatchRate: number | null;
  /** The same, over the rows whose intent was right (the arguments' own error rate). */
  intentCorrect: number;
  exactMatchGivenIntent: number | null;
  perTool: Record<string, { rows: number; exactMatch: number }>;
  /** Time spent decoding calls (added to a tool turn's latency), over rows that decoded one. */
  decodeLatencyMs: LatencySummary;
  /** Mean model calls per decoded call. */
  meanDecodeSteps: number;
  /**
   * Per argument: exact, wrong, invented and missing values, per tool and overall, with the rows
   * routed to another intent apart (see `argumentMetrics`).
   */
  arguments: ArgumentMetrics;
}

/** A row as `toolCallMetrics` reads it: the labelled call (if any) and what the engine proposed. */
export interface ToolCallPrediction {
  expected: string;
  expectedToolCall?: ToolCall;
  classification: Pick<Classification, 'intentId' | 'route' | 'toolCall'>;
}

/** True when both calls name the same tool with the same arguments (key order aside). */
export function sameToolCall(
  expected: ToolCall,
  proposed: Pick<ToolCall, 'name' | 'arguments'> | undefined,
): boolean {
  if (proposed?.name !== expected.name) return false;
  const keys = Object.keys(expected.arguments);
  return (
    keys.length === Object.keys(proposed.arguments).length &&
    keys.every((key) => proposed.arguments[key] === expected.arguments[key])
  );
}

/**
 * Argument exact-match of proposed tool calls, per tool, the cost of decoding them, and the
 * per-argument scoring over the parameters of `tools` (the model card's schemas).
 */
export function toolCallMetrics(
  rows: readonly ToolCallPrediction[],
  tools: ToolSchemas = [],
): ToolCallMetrics {
  const labelled = rows.filter((row) => row.expectedToolCall !== undefined);
  const perTool: ToolCallMetrics['perTool'] = {};
  let exactMatch = 0;
  let intentCorrect = 0;
  let exactGivenIntent = 0;
  for (const row of labelled) {
    const expected = row.expectedToolCall;
    if (!expected) continue;
    const tool = (perTool[expected.name] ??= { rows: 0, exactMatch: 0 });
    tool.rows++;
    const exact = sameToolCall(expected, row.classification.toolCall);
    const rightIntent = row.classification.intentId === row.expected;
    if (exact) {
      exactMatch++;
      tool.exactMatch++;
    }
    if (rightIntent) {
      intentCorrect++;
      if (exact) exactGivenIntent++;
    }
  }
  const decoded = rows.flatMap((row) =>
    row.classification.toolCall ? [row.classification.toolCall] : [],
  );
  return {
    rows: labelled.length,
    exactMatch,
    exactMatchRate: ratio(exactMatch, labelled.length),
    intentCorrect,
    exactMatchGivenIntent: ratio(exactGivenIntent, intentCorrect),
    perTool,
    decodeLatencyMs: summariseLatency(decoded.map((call) => call.latencyMs)),
    meanDecodeSteps:
      decoded.length === 0
        ? Number.NaN
        : sum(decoded.map((call) => call.decodeSteps)) / decoded.length,
    arguments: argumentMetrics(rows, tools),
  };
}

function binaryScores(
  truePositives: number,
  support: number,
  predicted: number,
): { precision: number | null; recall: number | null; f1: number | null } {
  return {
    precision: ratio(truePositives, predicted),
    recall: ratio(truePositives, support),
    f1: ratio(2 * truePositives, support + predicted),
  };
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
