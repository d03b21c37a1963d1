/**
 * Fits a `Calibration` (temperature and per-intent thresholds) to a labelled validation split from
 * the raw label log-probabilities the classifier reports, so `fenliu calibrate` never runs the
 * model twice. Pure functions over plain data.
 *
 * The rule, in order:
 * 1. **Temperature** T minimises the negative log-likelihood of the labelled intents under
 *    softmax(logProb / T), found by golden-section search over log T in
 *    [`minTemperature`, `maxTemperature`] (the NLL is convex in 1/T, hence unimodal in log T).
 * 2. Every validation row is rescored at T. Rows whose top intent is the fallback route out of
 *    scope whatever the thresholds, so only the others inform them: each is a point
 *    (top intent, its probability, whether it is right, whether the row is out of scope).
 * 3. **Out-of-scope threshold** (a top probability below it routes to the fallback):
 *    - when the split has out-of-scope rows (labelled with the fallback intent), the threshold
 *      that maximises the number of rows routed correctly: out-of-scope rows below it plus rows
 *      at or above it whose top intent is right (ties: the lowest threshold);
 *    - otherwise, the highest threshold that still keeps `inScopeKeep` (99 %) of the correctly
 *      classified rows (the maximum-softmax-probability detector at 99 % in-scope recall).
 * 4. **Escalation threshold** (at or above the out-of-scope one): the lowest threshold at which
 *    the rows still accepted (top probability ≥ it) reach `targetPrecision`; if none does, the
 *    one with the highest accepted precision, and `targetReached: false` is recorded.
 * 5. **Per intent**: steps 3–4 on the rows whose top intent it is (n of them), then shrunk toward
 *    the global value: (n · own + `priorRows` · global) / (n + `priorRows`), so an intent with
 *    few rows stays near the global threshold. Intents without rows use `defaultThresholds`.
 *
 * Some splits cannot support a fit, and a fit on them would be harmful rather than rough (one
 * right row sends the temperature to its lower bound and every threshold to 1.0: every turn
 * escalated). `calibrationDataProblem` refuses them before the model runs (too few in-scope rows
 * or intents, see `MIN_CALIBRATION_ROWS`) and `fitProblem` refuses a fit that lands on a boundary.
 */
import {
  normalise,
  routeScores,
  type Calibration,
  type IntentScore,
  type IntentThresholds,
  type RouteDecision,
} from '../engine/classification';
import { calibrationReport, DEFAULT_BINS, type IntentRef } from './metrics';

/** One validation row: its labelled intent and the classifier's scores (any temperature). */
export interface CalibrationSample {
  expected: string;
  scores: readonly IntentScore[];
}

export interface FitOptions {
  /** Precision the accepted (not escalated) turns should reach; default 0.95. */
  targetPrecision?: number;
  /** Without out-of-scope rows: share of correct rows kept above the out-of-scope threshold; default 0.99. */
  inScopeKeep?: number;
  /** Weight, in rows, of the global threshold when shrinking an intent's own; default 20. */
  priorRows?: number;
  /** Bounds of the temperature search; default `TEMPERATURE_BOUNDS`. */
  minTemperature?: number;
  maxTemperature?: number;
  /** Reliability bins for the ECE figures; default 10. */
  bins?: number;
  /** Recorded in `fitted.data`. */
  dataFile?: string;
}

/** What the fit found beside the calibration itself (also stored in `calibration.fitted`). */
export interface FitReport {
  rows: number;
  outOfScopeRows: number;
  temperature: number;
  nll: { before: number; after: number };
  ece: { before: number; after: number };
  outOfScopeRule: 'max-routed-correct' | 'in-scope-keep';
  targetPrecision: number;
  targetReached: boolean;
  priorRows: number;
  perIntent: Record<string, { rows: number; own: IntentThresholds; shrunk: IntentThresholds }>;
}

/** The default bounds of the temperature search: 20× sharper to 20× flatter. */
export const TEMPERATURE_BOUNDS = { min: 0.05, max: 20 } as const;

/**
 * The least a validation split must hold for `fenliu calibrate` to fit on it.
 *
 * NOTE: 20 in-scope rows (labelled with an intent other than the fallback) because the escalation
 * threshold is chosen by the precision of the accepted rows against a target of 0.95 by default:
 * with n rows that precision moves in steps of 1/n, and below 20 rows one wrong answer moves it by
 * more than the 5 % between the target and 1.0, so the threshold can only land on an extreme (0,
 * or 1.0: every turn escalated). It is also the default prior weight (`--prior-rows 20`), so the
 * global thresholds every intent is shrunk toward rest on at least as many rows as the prior
 * claims. Two intents because one intent's rows say nothing about confusing intents: the
 * temperature would be fitted to a split with a single answer, and the default thresholds that
 * every other intent inherits would be that one intent's.
 */
export const MIN_CALIBRATION_ROWS = { inScope: 20, intents: 2 } as const;

/**
 * Why labelled rows are too few to calibrate on (see `MIN_CALIBRATION_ROWS`), with what to add;
 * null when they are enough. `expected` is each row's labelled intent id; runs before the model,
 * so a split that cannot be fitted fails at once.
 *
 * @example
 * calibrationDataProblem(['refund'], card);
 * // '1 row (1 in scope over 1 intent, 0 out of scope) is too few to calibrate on. Fix: …'
 */
export function calibrationDataProblem(
  expected: readonly string[],
  card: { intents: readonly IntentRef[]; fallbackIntent: string },
): string | null {
  const fallback = card.fallbackIntent;
  const fallbackLabel = card.intents.find((intent) => intent.id === fallback)?.label ?? fallback;
  const inScope = expected.filter((id) => id !== fallback);
  const intents = new Set(inScope).size;
  const { inScope: minRows, intents: minIntents } = MIN_CALIBRATION_ROWS;
  if (inScope.length >= minRows && intents >= minIntents) return null;
  const outOfScope = expected.length - inScope.length;
  const counted =
    `${plural(expected.length, 'row')} (${inScope.length} in scope over ` +
    `${plural(intents, 'intent')}, ${outOfScope} out of scope)`;
  const why =
    inScope.length === 0
      ? `${counted}: only out-of-scope rows, which cannot tell the model's right answers from its wrong ones`
      : `${counted} ${expected.length === 1 ? 'is' : 'are'} too few to calibrate on`;
  return (
    `${why}. Fix: give at least ${minRows} rows labelled with the model's intents, over at least ` +
    `${minIntents} intents (${missing(inScope.length, minRows, 'in-scope row')}` +
    `${intents < minIntents ? `, ${missing(intents, minIntents, 'intent')}` : ''}), plus rows ` +
    `labelled "${fallbackLabel}" for the out-of-scope threshold`
  );
}

/**
 * Why a fit landed on a boundary and must not be saved, or null when it did not: the temperature
 * at a bound of its search (the split never stops favouring a sharper, or flatter, distribution:
 * it has no finite optimum), or a threshold at 1.0 (every turn of that intent, or of all intents,
 * routed out of scope or escalated). A search with equal bounds (a fixed temperature) is exempt.
 */
export function fitProblem(
  fit: { calibration: Calibration; report: FitReport },
  card: { intents: readonly IntentRef[]; fallbackIntent: string },
  options: Pick<FitOptions, 'minTemperature' | 'maxTemperature'> = {},
): string | null {
  const { calibration, report } = fit;
  const min = options.minTemperature ?? TEMPERATURE_BOUNDS.min;
  const max = options.maxTemperature ?? TEMPERATURE_BOUNDS.max;
  const labelOf = new Map(card.intents.map((intent) => [intent.id, intent.label]));
  const fix =
    'Fix: calibrate on a larger validation split (well over the minimum of ' +
    `${MIN_CALIBRATION_ROWS.inScope} in-scope rows over ${MIN_CALIBRATION_ROWS.intents} intents) ` +
    'that keeps the rows the model gets wrong and holds out-of-scope rows labelled ' +
    `"${labelOf.get(card.fallbackIntent) ?? card.fallbackIntent}"`;
  // NOTE: the search converges to within 1e-9 of a bound; 0.1 % in log space is well clear of it.
  const atBound = (bound: number) => Math.abs(Math.log(report.temperature / bound)) < 1e-3;
  if (min < max && (atBound(min) || atBound(max))) {
    const sharper = atBound(min);
    return (
      `the temperature ran to the bound of its search (${report.temperature.toFixed(3)}, ` +
      `searched ${min}–${max}): on ${report.rows === 1 ? 'this row' : `these ${report.rows} rows`} a ` +
      `${sharper ? 'sharper' : 'flatter'} distribution always fits better (the model's top ` +
      `answer is ${sharper ? 'right on (almost) every row' : 'wrong on most rows'}), so they ` +
      `support no temperature. ${fix}`
    );
  }
  const limits: [string | null, IntentThresholds][] = [
    [null, calibration.defaultThresholds],
    ...Object.entries(calibration.thresholds),
  ];
  for (const [intentId, { outOfScope, escalate }] of limits) {
    const route = outOfScope >= 1 ? 'out-of-scope' : escalate >= 1 ? 'escalation' : null;
    if (route === null) continue;
    const { threshold, turns } =
      intentId === null
        ? {
            threshold: `the default ${route} threshold`,
            turns: 'every turn of an intent without its own',
          }
        : {
            threshold: `the ${route} threshold of ${intentId}`,
            turns: `every turn answered "${labelOf.get(intentId) ?? intentId}"`,
          };
    return (
      `${threshold} landed on 1.000: ${turns} would be ` +
      `${route === 'out-of-scope' ? 'routed out of scope' : 'escalated'}. ${fix}`
    );
  }
  return null;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `3 in-scope rows so far`, or `enough in-scope rows` once `have` reaches `need`. */
function missing(have: number, need: number, noun: string): string {
  return have >= need ? `enough ${noun}s` : `${plural(have, noun)} so far`;
}

interface Point {
  intentId: string;
  confidence: number;
  correct: boolean;
  outOfScope: boolean;
}

/** Fits temperature and thresholds; see the module comment for the rule. */
export function fitCalibration(
  samples: readonly CalibrationSample[],
  card: { intents: readonly IntentRef[]; fallbackIntent: string },
  options: FitOptions = {},
): { calibration: Calibration; report: FitReport } {
  if (samples.length === 0) throw new Error('fitCalibration needs at least one row');
  const targetPrecision = options.targetPrecision ?? 0.95;
  const inScopeKeep = options.inScopeKeep ?? 0.99;
  const priorRows = options.priorRows ?? 20;
  const bins = options.bins ?? DEFAULT_BINS;
  const fallback = card.fallbackIntent;

  const temperature = fitTemperature(samples, options);
  const rescored = samples.map((sample) => ({
    expected: sample.expected,
    before: rescore(sample.scores, 1),
    after: rescore(sample.scores, temperature),
  }));
  const eceOf = (key: 'before' | 'after') =>
    calibrationReport(
      rescored.map((row) => firstScore(row[key]).probability),
      rescored.map((row) => firstScore(row[key]).intentId === row.expected),
      bins,
    ).ece;

  const points: Point[] = rescored
    .filter((row) => firstScore(row.after).intentId !== fallback)
    .map((row) => {
      const top = firstScore(row.after);
      return {
        intentId: top.intentId,
        confidence: top.probability,
        correct: top.intentId === row.expected,
        outOfScope: row.expected === fallback,
      };
    });
  const outOfScopeRows = samples.filter((sample) => sample.expected === fallback).length;
  const hasOutOfScope = outOfScopeRows > 0;

  const chooseOutOfScope = (subset: readonly Point[]) =>
    hasOutOfScope ? maxRoutedCorrectThreshold(subset) : inScopeKeepThreshold(subset, inScopeKeep);
  const globalOutOfScope = chooseOutOfScope(points) ?? 0;
  const globalEscalation = precisionThreshold(points, globalOutOfScope, targetPrecision);
  const defaultThresholds: IntentThresholds = {
    outOfScope: globalOutOfScope,
    escalate: globalEscalation.threshold,
  };

  const thresholds: Record<string, IntentThresholds> = {};
  const perIntent: FitReport['perIntent'] = {};
  for (const intent of card.intents) {
    if (intent.id === fallback) continue;
    const own = points.filter((point) => point.intentId === intent.id);
    if (own.length === 0) continue;
    const shrink = (value: number, global: number) =>
      (own.length * value + priorRows * global) / (own.length + priorRows);
    const ownOutOfScope = chooseOutOfScope(own) ?? globalOutOfScope;
    const outOfScope = shrink(ownOutOfScope, globalOutOfScope);
    const ownEscalation = precisionThreshold(own, outOfScope, targetPrecision).threshold;
    const escalate = Math.max(outOfScope, shrink(ownEscalation, globalEscalation.threshold));
    thresholds[intent.id] = { outOfScope, escalate };
    perIntent[intent.id] = {
      rows: own.length,
      own: { outOfScope: ownOutOfScope, escalate: ownEscalation },
      shrunk: { outOfScope, escalate },
    };
  }

  const report: FitReport = {
    rows: samples.length,
    outOfScopeRows,
    temperature,
    nll: {
      before: negativeLogLikelihood(samples, 1),
      after: negativeLogLikelihood(samples, temperature),
    },
    ece: { before: eceOf('before'), after: eceOf('after') },
    outOfScopeRule: hasOutOfScope ? 'max-routed-correct' : 'in-scope-keep',
    targetPrecision,
    targetReached: globalEscalation.reached,
    priorRows,
    perIntent,
  };
  const fitted: Record<string, unknown> = { ...report };
  if (options.dataFile !== undefined) fitted.data = options.dataFile;
  return {
    calibration: { format: 1, temperature, thresholds, defaultThresholds, fitted },
    report,
  };
}

/**
 * Mean negative log-likelihood of the labelled intents under softmax(logProb / T). A labelled
 * intent with probability 0 counts as 1e-12 so one impossible row cannot make the sum infinite.
 */
export function negativeLogLikelihood(
  samples: readonly CalibrationSample[],
  temperature: number,
): number {
  let total = 0;
  for (const sample of samples) {
    const index = sample.scores.findIndex((score) => score.intentId === sample.expected);
    if (index < 0) throw new Error(`no score for labelled intent "${sample.expected}"`);
    const probabilities = normalise(
      sample.scores.map((score) => score.logProb),
      temperature,
    );
    total -= Math.log(Math.max(probabilities[index] ?? 0, 1e-12));
  }
  return total / samples.length;
}

/** The temperature that minimises `negativeLogLikelihood`, within the option's bounds. */
export function fitTemperature(
  samples: readonly CalibrationSample[],
  options: Pick<FitOptions, 'minTemperature' | 'maxTemperature'> = {},
): number {
  let low = Math.log(options.minTemperature ?? TEMPERATURE_BOUNDS.min);
  let high = Math.log(options.maxTemperature ?? TEMPERATURE_BOUNDS.max);
  const loss = (logT: number) => negativeLogLikelihood(samples, Math.exp(logT));
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = high - ratio * (high - low);
  let b = low + ratio * (high - low);
  let lossA = loss(a);
  let lossB = loss(b);
  for (let step = 0; step < 60; step++) {
    if (lossA <= lossB) {
      high = b;
      b = a;
      lossB = lossA;
      a = high - ratio * (high - low);
      lossA = loss(a);
    } else {
      low = a;
      a = b;
      lossA = lossB;
      b = low + ratio * (high - low);
      lossB = loss(b);
    }
  }
  return Math.exp((low + high) / 2);
}

/**
 * Scores recomputed at `temperature` from their raw log-probabilities, most probable first.
 *
 * @example
 * rescore(classification.scores, calibration.temperature)[0].probability;
 */
export function rescore(scores: readonly IntentScore[], temperature: number): IntentScore[] {
  const probabilities = normalise(
    scores.map((score) => score.logProb),
    temperature,
  );
  return scores
    .map((score, i) => ({ ...score, probability: probabilities[i] ?? 0 }))
    .sort((a, b) => b.probability - a.probability);
}

/**
 * Routes scores under a calibration (temperature, then thresholds) without running the model,
 * e.g. to preview a freshly fitted calibration on its validation rows.
 */
export function applyCalibration(
  scores: readonly IntentScore[],
  fallback: IntentRef,
  calibration: Calibration | null,
): { scores: IntentScore[]; decision: RouteDecision } {
  const rescored = rescore(scores, calibration?.temperature ?? 1);
  return { scores: rescored, decision: routeScores(rescored, fallback, calibration) };
}

/** Candidate thresholds: 0, the midpoints between consecutive distinct confidences, and 1. */
function candidates(points: readonly Point[]): number[] {
  const values = [...new Set(points.map((point) => point.confidence))].sort((a, b) => a - b);
  const midpoints = values.slice(1).map((value, i) => ((values[i] ?? value) + value) / 2);
  return [0, ...midpoints, 1];
}

/** Rows routed correctly: out-of-scope rows below the threshold, right answers at or above it. */
function maxRoutedCorrectThreshold(points: readonly Point[]): number | null {
  if (points.length === 0) return null;
  let best = 0;
  let bestCorrect = -1;
  for (const threshold of candidates(points)) {
    const correct = points.filter((point) =>
      point.confidence < threshold ? point.outOfScope : point.correct,
    ).length;
    if (correct > bestCorrect) {
      best = threshold;
      bestCorrect = correct;
    }
  }
  return best;
}

/** The highest threshold that leaves at most (1 − keep) of the correct rows below it. */
function inScopeKeepThreshold(points: readonly Point[], keep: number): number | null {
  const correct = points
    .filter((point) => point.correct)
    .map((point) => point.confidence)
    .sort((a, b) => a - b);
  if (correct.length === 0) return null;
  const rejectable = Math.floor((1 - keep) * correct.length + 1e-9);
  return correct[rejectable] ?? null;
}

/** The lowest threshold ≥ `floor` whose accepted rows reach `target` precision. */
function precisionThreshold(
  points: readonly Point[],
  floor: number,
  target: number,
): { threshold: number; reached: boolean } {
  let best = { threshold: floor, precision: -1 };
  for (const threshold of [floor, ...candidates(points).filter((value) => value > floor)]) {
    const accepted = points.filter((point) => point.confidence >= threshold);
    if (accepted.length === 0) continue;
    const precision = accepted.filter((point) => point.correct).length / accepted.length;
    if (precision >= target) return { threshold, reached: true };
    if (precision > best.precision) best = { threshold, precision };
  }
  return { threshold: best.threshold, reached: false };
}

function firstScore(scores: readonly IntentScore[]): IntentScore {
  const top = scores[0];
  if (!top) throw new Error('a classification without scores');
  return top;
}
