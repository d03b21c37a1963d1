import { describe, expect, it } from 'vitest';
import type { Classification, IntentScore } from '../../src/engine/classification';
import {
  calibrationReport,
  computeMetrics,
  confusionMatrix,
  macroF1,
  percentile,
  perIntentMetrics,
  summariseLatency,
  type Prediction,
} from '../../src/evaluation/metrics';

const intents = [
  { id: 'order', label: '查询订单' },
  { id: 'refund', label: '退款退货' },
  { id: 'other', label: '其他' },
];
const card = { intents, fallbackIntent: 'other' };

function score(intentId: string, probability: number): IntentScore {
  const label = intents.find((intent) => intent.id === intentId)?.label ?? intentId;
  return { intentId, label, probability, logProb: Math.log(probability) };
}

function prediction(
  expected: string,
  routed: string,
  route: Classification['route'],
  top: IntentScore,
  latencyMs: number,
): Prediction {
  return {
    expected,
    classification: { intentId: routed, route, top, confidence: top.probability, latencyMs },
  };
}

// Six rows worked out by hand below: two per intent, every route represented.
const rows: Prediction[] = [
  prediction('order', 'order', 'intent', score('order', 0.9), 10),
  prediction('order', 'refund', 'intent', score('refund', 0.6), 20),
  prediction('refund', 'refund', 'intent', score('refund', 0.8), 30),
  prediction('other', 'other', 'out_of_scope', score('order', 0.4), 40),
  prediction('refund', 'other', 'out_of_scope', score('refund', 0.3), 50),
  prediction('other', 'refund', 'escalate', score('refund', 0.55), 60),
];

describe('computeMetrics', () => {
  const metrics = computeMetrics(rows, card);

  it('counts the routed intent against the label (rows: expected, columns: routed)', () => {
    expect(metrics.confusion).toEqual({
      intentIds: ['order', 'refund', 'other'],
      labels: ['查询订单', '退款退货', '其他'],
      matrix: [
        [1, 1, 0],
        [0, 1, 1],
        [0, 1, 1],
      ],
    });
    expect(metrics.total).toBe(6);
    expect(metrics.correct).toBe(3);
    expect(metrics.accuracy).toBe(0.5);
    // Top intents: order ✓, refund ✗, refund ✓, order ✗, refund ✓, refund ✗.
    expect(metrics.topAccuracy).toBe(0.5);
  });

  it('gives per-intent precision, recall, F1 and their macro mean', () => {
    const byId = Object.fromEntries(metrics.perIntent.map((m) => [m.intentId, m]));
    expect(byId.order).toEqual({
      intentId: 'order',
      label: '查询订单',
      support: 2,
      predicted: 1,
      truePositives: 1,
      precision: 1,
      recall: 0.5,
      f1: 2 / 3,
    });
    expect(byId.refund).toMatchObject({ support: 2, predicted: 3, precision: 1 / 3, f1: 0.4 });
    expect(byId.other).toMatchObject({ support: 2, predicted: 2, precision: 0.5, recall: 0.5 });
    expect(metrics.macroF1).toBeCloseTo((2 / 3 + 0.4 + 0.5) / 3, 12);
  });

  it('scores out-of-scope detection on the out_of_scope route, and counts routes', () => {
    expect(metrics.outOfScope).toEqual({
      support: 2,
      predicted: 2,
      truePositives: 1,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
    });
    expect(metrics.routes).toEqual({ intent: 3, out_of_scope: 2, escalate: 1 });
    expect(metrics.accepted).toEqual({ count: 3, correct: 2, precision: 2 / 3 });
  });

  it('measures calibration of the top intent and latency percentiles', () => {
    // |acc − conf| per row, each alone in its bin: .1 + .6 + .2 + .4 + .7 + .55, over 6.
    expect(metrics.calibration.ece).toBeCloseTo(2.55 / 6, 12);
    expect(metrics.calibration.bins.map((bin) => bin.count)).toEqual([
      0, 0, 0, 1, 1, 1, 1, 0, 1, 1,
    ]);
    expect(metrics.latencyMs).toEqual({ p50: 30, p95: 60, mean: 35, max: 60 });
  });
});

describe('metric building blocks', () => {
  it('leaves an intent with neither rows nor predictions out of macro-F1', () => {
    const confusion = confusionMatrix(
      [
        { expected: 'order', predicted: 'order' },
        { expected: 'order', predicted: 'refund' },
      ],
      intents,
    );
    const perIntent = perIntentMetrics(confusion);
    expect(perIntent.map((m) => [m.precision, m.recall, m.f1])).toEqual([
      [1, 0.5, 2 / 3],
      [0, null, 0],
      [null, null, null],
    ]);
    expect(macroF1(perIntent)).toBeCloseTo(1 / 3, 12);
  });

  it('rejects ids that are not intents', () => {
    expect(() => confusionMatrix([{ expected: 'order', predicted: 'nope' }], intents)).toThrow(
      /unknown intent id "nope"/,
    );
  });

  it('bins confidences with 1.0 in the last bin and computes ECE', () => {
    const report = calibrationReport([1, 0.95, 0.05, 0.5], [true, false, false, true], 10);
    expect(report.bins[9]).toEqual({
      lower: 0.9,
      upper: 1,
      count: 2,
      confidence: 0.975,
      accuracy: 0.5,
    });
    expect(report.bins[0]).toMatchObject({ count: 1, confidence: 0.05, accuracy: 0 });
    expect(report.bins[5]).toMatchObject({ count: 1, confidence: 0.5, accuracy: 1 });
    expect(report.bins[3]).toMatchObject({ count: 0, confidence: null, accuracy: null });
    expect(report.ece).toBeCloseTo((2 * 0.475 + 0.05 + 0.5) / 4, 12);
    expect(calibrationReport([], [], 5).ece).toBeNaN();
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
    expect(summariseLatency([30, 10, 20])).toEqual({ p50: 20, p95: 30, mean: 20, max: 30 });
  });
});
