import { describe, expect, it } from 'vitest';
import { routeScores, type Calibration, type IntentScore } from '../../src/engine/classification';
import {
  applyCalibration,
  calibrationDataProblem,
  fitCalibration,
  fitProblem,
  fitTemperature,
  MIN_CALIBRATION_ROWS,
  negativeLogLikelihood,
  rescore,
  type CalibrationSample,
} from '../../src/evaluation/calibration-fit';

const intents = [
  { id: 'order', label: '查询订单' },
  { id: 'refund', label: '退款退货' },
  { id: 'other', label: '其他' },
];
const fallback = { id: 'other', label: '其他' };
const card = { intents, fallbackIntent: 'other' };

/** Scores whose top intent has probability `top` and the two others share the rest equally. */
function scores(topId: string, top: number): IntentScore[] {
  return intents
    .map((intent) => {
      const probability = intent.id === topId ? top : (1 - top) / 2;
      return { ...intent, intentId: intent.id, probability, logProb: Math.log(probability) };
    })
    .map(({ intentId, label, probability, logProb }) => ({ intentId, label, probability, logProb }))
    .sort((a, b) => b.probability - a.probability);
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Rows from a model that is overconfident by `trueTemperature`: labels are drawn from
 * softmax(logit / trueTemperature) while the model reports softmax(logit).
 */
function overconfidentSamples(
  count: number,
  trueTemperature: number,
  seed: number,
): CalibrationSample[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const logits = intents.map(() => 6 * next());
    const truth = logits.map((logit) => Math.exp(logit / trueTemperature));
    const total = truth.reduce((a, b) => a + b, 0);
    let draw = next() * total;
    const expectedIndex = truth.findIndex((weight) => (draw -= weight) < 0);
    const logNormaliser = Math.log(logits.reduce((sum, logit) => sum + Math.exp(logit), 0));
    const reported = intents.map((intent, i) => ({
      intentId: intent.id,
      label: intent.label,
      probability: 0,
      logProb: (logits[i] ?? 0) - logNormaliser,
    }));
    return {
      expected: intents[expectedIndex < 0 ? intents.length - 1 : expectedIndex]?.id ?? 'other',
      scores: rescore(reported, 1),
    };
  });
}

describe('temperature', () => {
  it('computes the mean negative log-likelihood at a temperature', () => {
    const sample = { expected: 'order', scores: scores('order', 0.5) };
    expect(negativeLogLikelihood([sample], 1)).toBeCloseTo(-Math.log(0.5), 12);
    // At T = 2 the probabilities become √.5 : √.25 : √.25, normalised.
    const sqrt = [Math.sqrt(0.5), Math.sqrt(0.25), Math.sqrt(0.25)];
    const expected = -Math.log((sqrt[0] ?? 0) / sqrt.reduce((a, b) => a + b, 0));
    expect(negativeLogLikelihood([sample], 2)).toBeCloseTo(expected, 12);
  });

  it('recovers the temperature of an overconfident model', () => {
    const samples = overconfidentSamples(4000, 2.5, 7);
    const temperature = fitTemperature(samples);
    expect(temperature).toBeGreaterThan(2.2);
    expect(temperature).toBeLessThan(2.8);
    // It is the minimum: both neighbours fit worse.
    const nll = negativeLogLikelihood(samples, temperature);
    expect(negativeLogLikelihood(samples, temperature * 1.1)).toBeGreaterThan(nll);
    expect(negativeLogLikelihood(samples, temperature / 1.1)).toBeGreaterThan(nll);
  });

  it('lowers the calibration error it reports', () => {
    const { calibration, report } = fitCalibration(overconfidentSamples(2000, 2.5, 11), card, {
      dataFile: 'valid.jsonl',
    });
    expect(report.ece.before).toBeGreaterThan(0.1);
    expect(report.ece.after).toBeLessThan(report.ece.before / 2);
    expect(report.nll.after).toBeLessThan(report.nll.before);
    expect(calibration.format).toBe(1);
    expect(calibration.temperature).toBe(report.temperature);
    expect(calibration.fitted).toMatchObject({ data: 'valid.jsonl', ece: report.ece, rows: 2000 });
  });
});

describe('thresholds', () => {
  // 20 confident right rows per in-scope intent, 6 out-of-scope rows the model took for 查询订单
  // at low confidence, and 4 refund rows it took for 查询订单 at middling confidence.
  // Accepting even one confused row leaves 40/41 < 99 % precision, so all four must escalate.
  const confident = (id: string) =>
    Array.from({ length: 20 }, (_, i) => ({ expected: id, scores: scores(id, 0.85 + i * 0.005) }));
  const outOfScope = Array.from({ length: 6 }, (_, i) => ({
    expected: 'other',
    scores: scores('order', 0.4 + i * 0.02),
  }));
  const confused = Array.from({ length: 4 }, (_, i) => ({
    expected: 'refund',
    scores: scores('order', 0.6 + i * 0.03),
  }));
  const samples = [...confident('order'), ...confident('refund'), ...outOfScope, ...confused];
  const { calibration, report } = fitCalibration(samples, card, { targetPrecision: 0.99 });
  const route = (sample: CalibrationSample) =>
    applyCalibration(sample.scores, fallback, calibration).decision;

  it('send the out-of-scope rows to the fallback, with the reason', () => {
    expect(report.outOfScopeRule).toBe('max-routed-correct');
    for (const sample of outOfScope) {
      const decision = route(sample);
      expect(decision).toMatchObject({ route: 'out_of_scope', intentId: 'other', label: '其他' });
      expect(decision.reason).toMatch(
        /^confidence 0\.\d\d for 查询订单 is below its out-of-scope threshold 0\.\d\d$/,
      );
    }
  });

  it('escalate the confused rows until the accepted ones reach 99% precision', () => {
    for (const sample of confused) {
      const decision = route(sample);
      expect(decision).toMatchObject({ route: 'escalate', intentId: 'order', label: '查询订单' });
      expect(decision.reason).toMatch(/is below its escalation threshold/);
    }
    const accepted = [...confident('order'), ...confident('refund')].map(route);
    expect(
      accepted.every((decision) => decision.route === 'intent' && decision.reason === null),
    ).toBe(true);
    expect(report.targetReached).toBe(true);
  });

  it('shrink an intent with few rows toward the global threshold', () => {
    const global = calibration.defaultThresholds.outOfScope;
    expect(global).toBeGreaterThan(0);
    // No out-of-scope row landed on 退款退货: its own threshold is 0, shrunk with 20 rows against
    // a prior of 20 rows to half the global one.
    expect(report.perIntent.refund?.own.outOfScope).toBe(0);
    expect(calibration.thresholds.refund?.outOfScope).toBeCloseTo(global / 2, 12);
    expect(calibration.thresholds.order?.outOfScope).toBeCloseTo(global, 12);
    expect(calibration.thresholds.other).toBeUndefined();
    for (const limits of Object.values(calibration.thresholds)) {
      expect(limits.escalate).toBeGreaterThanOrEqual(limits.outOfScope);
    }
  });

  it('without out-of-scope rows, keep 99% of the right answers in scope', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({
      expected: 'order',
      scores: scores('order', 0.5 + i * 0.004),
    }));
    const fit = fitCalibration(rows, card, { minTemperature: 1, maxTemperature: 1 });
    expect(fit.report.outOfScopeRule).toBe('in-scope-keep');
    // One of 100 may fall below: the threshold is the second-lowest confidence.
    expect(fit.calibration.defaultThresholds.outOfScope).toBeCloseTo(0.504, 12);
    expect(
      rows
        .map((row) => applyCalibration(row.scores, fallback, fit.calibration).decision.route)
        .filter((r) => r === 'out_of_scope'),
    ).toHaveLength(1);
  });
});

describe('splits that cannot support a fit', () => {
  const ids = (counts: Record<string, number>) =>
    Object.entries(counts).flatMap(([id, count]) => Array.from({ length: count }, () => id));

  it('needs 20 in-scope rows over 2 intents, and says what to add', () => {
    expect(MIN_CALIBRATION_ROWS).toEqual({ inScope: 20, intents: 2 });
    expect(calibrationDataProblem(ids({ refund: 1 }), card)).toBe(
      '1 row (1 in scope over 1 intent, 0 out of scope) is too few to calibrate on. Fix: give at ' +
        "least 20 rows labelled with the model's intents, over at least 2 intents (1 in-scope row " +
        'so far, 1 intent so far), plus rows labelled "其他" for the out-of-scope threshold',
    );
    expect(calibrationDataProblem(ids({ other: 30 }), card)).toMatch(
      /^30 rows \(0 in scope over 0 intents, 30 out of scope\): only out-of-scope rows, /,
    );
    expect(calibrationDataProblem(ids({ order: 25, other: 5 }), card)).toMatch(
      /\(enough in-scope rows, 1 intent so far\)/,
    );
    expect(calibrationDataProblem(ids({ order: 10, refund: 9, other: 40 }), card)).toMatch(
      /^59 rows \(19 in scope over 2 intents, 40 out of scope\) are too few/,
    );
    expect(calibrationDataProblem(ids({ order: 10, refund: 10 }), card)).toBeNull();
  });

  it('refuses a temperature on its search bound: one right row sharpens without end', () => {
    const fit = fitCalibration([{ expected: 'order', scores: scores('order', 0.8) }], card);
    // What the CLI wrote before: the lowest temperature, every threshold at 1.0.
    expect(fit.report.temperature).toBeCloseTo(0.05, 6);
    expect(fit.calibration.defaultThresholds).toEqual({ outOfScope: 1, escalate: 1 });
    expect(fitProblem(fit, card)).toMatch(
      /^the temperature ran to the bound of its search \(0\.050, searched 0\.05–20\): on this row a sharper distribution always fits better .* Fix: calibrate on a larger validation split .*"其他"$/,
    );
    // Rows mostly answered wrong flatten it to the other bound.
    const wrong = Array.from({ length: 30 }, () => ({
      expected: 'refund',
      scores: scores('order', 0.9),
    }));
    expect(fitProblem(fitCalibration(wrong, card), card)).toMatch(
      /^the temperature ran to the bound of its search \(20\.000, .* a flatter distribution/,
    );
  });

  it('refuses thresholds at 1.0: every turn out of scope', () => {
    // The model sends its in-scope rows to the fallback and takes the out-of-scope ones for an
    // intent: only routing everything out of scope gets those right.
    const rows = [
      ...Array.from({ length: 20 }, () => ({ expected: 'order', scores: scores('other', 0.7) })),
      ...Array.from({ length: 5 }, (_, i) => ({
        expected: 'other',
        scores: scores('refund', 0.6 + i * 0.05),
      })),
    ];
    const fixed = { minTemperature: 1, maxTemperature: 1 };
    const fit = fitCalibration(rows, card, fixed);
    expect(fit.calibration.defaultThresholds.outOfScope).toBe(1);
    expect(fitProblem(fit, card, fixed)).toMatch(
      /^the default out-of-scope threshold landed on 1\.000: every turn of an intent without its own would be routed out of scope\. Fix: /,
    );
  });

  it('accepts a fit inside its bounds', () => {
    const fit = fitCalibration(overconfidentSamples(2000, 2.5, 11), card);
    expect(fitProblem(fit, card)).toBeNull();
    // A fixed temperature is the caller's choice, not a bound the data ran into.
    const rows = Array.from({ length: 100 }, (_, i) => ({
      expected: 'order',
      scores: scores('order', 0.5 + i * 0.004),
    }));
    const fixed = { minTemperature: 1, maxTemperature: 1 };
    expect(fitProblem(fitCalibration(rows, card, fixed), card, fixed)).toBeNull();
  });
});

describe('routeScores', () => {
  const calibration: Calibration = {
    format: 1,
    temperature: 1,
    thresholds: { order: { outOfScope: 0.5, escalate: 0.8 } },
    defaultThresholds: { outOfScope: 0.3, escalate: 0.6 },
  };

  it('routes low confidence out of scope, middling confidence to escalation, with reasons', () => {
    expect(routeScores(scores('order', 0.4), fallback, calibration)).toEqual({
      route: 'out_of_scope',
      intentId: 'other',
      label: '其他',
      reason: 'confidence 0.40 for 查询订单 is below its out-of-scope threshold 0.50',
      reasonCode: {
        code: 'below-out-of-scope',
        intentId: 'order',
        confidence: 0.4,
        threshold: 0.5,
      },
    });
    expect(routeScores(scores('order', 0.7), fallback, calibration)).toEqual({
      route: 'escalate',
      intentId: 'order',
      label: '查询订单',
      reason: 'confidence 0.70 for 查询订单 is below its escalation threshold 0.80',
      reasonCode: { code: 'below-escalate', intentId: 'order', confidence: 0.7, threshold: 0.8 },
    });
    expect(routeScores(scores('order', 0.9), fallback, calibration)).toEqual({
      route: 'intent',
      intentId: 'order',
      label: '查询订单',
      reason: null,
      reasonCode: null,
    });
  });

  it('uses the default thresholds for intents without their own, and none without calibration', () => {
    expect(routeScores(scores('refund', 0.4), fallback, calibration).route).toBe('escalate');
    expect(routeScores(scores('refund', 0.2), fallback, calibration).route).toBe('out_of_scope');
    expect(routeScores(scores('refund', 0.2), fallback, null).route).toBe('intent');
    expect(routeScores(scores('other', 0.9), fallback, null)).toMatchObject({
      route: 'out_of_scope',
      reason: 'the model chose 其他',
      reasonCode: { code: 'fallback-intent', intentId: 'other' },
    });
  });
});
