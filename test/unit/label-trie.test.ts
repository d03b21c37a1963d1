import { describe, expect, it } from 'vitest';
import {
  normalise,
  routeScores,
  type Calibration,
  type IntentScore,
} from '../../src/engine/classification';
import { LabelTrie, type TrieNode } from '../../src/engine/label-trie';

const END = 9;

/** Logits per branch-point path (joined by ','), full vocabulary of 10 tokens. */
function logitsTable(table: Record<string, Record<number, number>>) {
  return (node: TrieNode): number[] => {
    const entries = table[node.path.join(',')];
    if (!entries) throw new Error(`no logits for path [${node.path.join(',')}]`);
    return Array.from({ length: 10 }, (_, token) => entries[token] ?? -5);
  };
}

describe('LabelTrie', () => {
  it('needs one model step when every label starts with a different token', () => {
    const trie = new LabelTrie([
      [1, END],
      [2, 3, END],
      [4, 5, 6, END],
    ]);
    expect(trie.branchPoints.map((node) => node.path)).toEqual([[]]);
    const logProbs = trie.labelLogProbs(logitsTable({ '': { 1: 2, 2: 1, 4: 0, 7: 10 } }));
    // Token 7 is outside the trie: its large logit must not take any probability.
    const expected = normalise([2, 1, 0]);
    logProbs.forEach((logProb, index) => {
      expect(Math.exp(logProb)).toBeCloseTo(expected[index] ?? 0, 10);
    });
  });

  it('asks at every branch point when labels share prefixes, and the distribution sums to 1', () => {
    // 查询订单 / 查询物流 / 查询 (single shared token then end) / 退款
    const answers = [
      [1, 2, END],
      [1, 3, END],
      [1, END],
      [4, END],
    ];
    const trie = new LabelTrie(answers);
    expect(trie.branchPoints.map((node) => node.path)).toEqual([[], [1]]);
    const logits = logitsTable({
      '': { 1: Math.log(0.8), 4: Math.log(0.2) },
      '1': { 2: Math.log(0.5), 3: Math.log(0.3), [END]: Math.log(0.2) },
    });
    const probabilities = trie.labelLogProbs(logits).map(Math.exp);
    expect(probabilities[0]).toBeCloseTo(0.8 * 0.5, 10);
    expect(probabilities[1]).toBeCloseTo(0.8 * 0.3, 10);
    expect(probabilities[2]).toBeCloseTo(0.8 * 0.2, 10);
    expect(probabilities[3]).toBeCloseTo(0.2, 10);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('skips forced tokens: a chain without choices costs no model step', () => {
    const trie = new LabelTrie([
      [1, 2, 3, 5, END],
      [1, 2, 3, 6, END],
    ]);
    expect(trie.branchPoints.map((node) => node.path)).toEqual([[1, 2, 3]]);
    const probabilities = trie
      .labelLogProbs(logitsTable({ '1,2,3': { 5: 0, 6: Math.log(3) } }))
      .map(Math.exp);
    expect(probabilities[0]).toBeCloseTo(0.25, 10);
    expect(probabilities[1]).toBeCloseTo(0.75, 10);
  });

  it('greedy decoding follows the best child at each branch point', () => {
    const trie = new LabelTrie([
      [1, 2, END],
      [1, 3, END],
      [4, END],
    ]);
    const logits = logitsTable({ '': { 1: 0.1, 4: 0 }, '1': { 2: 0, 3: 1 } });
    expect(trie.greedyLabel(logits)).toBe(1);
    // Greedy is not the most probable sequence when a branch splits its mass: label 2 (p ≈ 0.475)
    // beats both labels under token 1 (0.525 × 0.73 and 0.525 × 0.27). The engine reports the
    // sequence probabilities; with branch points at the root only, the two always agree.
    const probabilities = trie.labelLogProbs(logits).map(Math.exp);
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(2);
  });

  it('lists allowed next tokens and rejects answers that are duplicates or prefixes', () => {
    const trie = new LabelTrie([
      [1, 2, END],
      [1, 3, END],
    ]);
    expect(trie.allowedNext([])).toEqual([1]);
    expect(trie.allowedNext([1]).sort()).toEqual([2, 3]);
    expect(trie.allowedNext([1, 2])).toEqual([END]);
    expect(trie.allowedNext([7])).toEqual([]);
    expect(
      () =>
        new LabelTrie([
          [1, END],
          [1, END],
        ]),
    ).toThrow(/same tokens/);
    expect(() => new LabelTrie([[1], [1, 2]])).toThrow(/prefix/);
    expect(() => new LabelTrie([[1, 2], [1]])).toThrow(/prefix/);
    expect(() => new LabelTrie([])).toThrow(/at least one/);
  });
});

describe('routeScores', () => {
  const fallback = { id: 'other', label: '其他' };
  const score = (intentId: string, probability: number): IntentScore => ({
    intentId,
    label: intentId,
    probability,
    logProb: Math.log(probability),
  });
  const calibration: Calibration = {
    format: 1,
    temperature: 1,
    thresholds: { refund: { outOfScope: 0.5, escalate: 0.8 } },
    defaultThresholds: { outOfScope: 0.3, escalate: 0.6 },
  };

  it('routes confident intents to themselves and low confidence out of scope or to escalation', () => {
    expect(routeScores([score('refund', 0.9), score('other', 0.1)], fallback, calibration)).toEqual(
      {
        route: 'intent',
        intentId: 'refund',
        label: 'refund',
        reason: null,
        reasonCode: null,
      },
    );
    const escalated = routeScores(
      [score('refund', 0.7), score('other', 0.3)],
      fallback,
      calibration,
    );
    expect(escalated.route).toBe('escalate');
    expect(escalated.intentId).toBe('refund');
    expect(escalated.reason).toBe(
      'confidence 0.70 for refund is below its escalation threshold 0.80',
    );
    expect(escalated.reasonCode).toEqual({
      code: 'below-escalate',
      intentId: 'refund',
      confidence: 0.7,
      threshold: 0.8,
    });
    const outOfScope = routeScores(
      [score('refund', 0.4), score('shipping', 0.35)],
      fallback,
      calibration,
    );
    expect(outOfScope).toMatchObject({ route: 'out_of_scope', intentId: 'other', label: '其他' });
    expect(outOfScope.reason).toContain('below its out-of-scope threshold 0.50');
    // The numbers are about the top intent, though the route goes to the fallback.
    expect(outOfScope.reasonCode).toEqual({
      code: 'below-out-of-scope',
      intentId: 'refund',
      confidence: 0.4,
      threshold: 0.5,
    });
    // Intents without their own thresholds use the defaults.
    expect(routeScores([score('shipping', 0.4)], fallback, calibration).route).toBe('escalate');
    expect(routeScores([score('shipping', 0.2)], fallback, calibration).route).toBe('out_of_scope');
  });

  it('routes the fallback intent out of scope, and everything to its top intent without calibration', () => {
    expect(routeScores([score('other', 0.9)], fallback, null)).toMatchObject({
      route: 'out_of_scope',
      intentId: 'other',
      reasonCode: { code: 'fallback-intent', intentId: 'other' },
    });
    expect(routeScores([score('refund', 0.01)], fallback, null).route).toBe('intent');
  });

  it('always hands over an escalating intent, unless it is under its out-of-scope threshold', () => {
    const escalating = new Set(['human']);
    expect(routeScores([score('human', 0.95)], fallback, calibration, escalating)).toEqual({
      route: 'escalate',
      intentId: 'human',
      label: 'human',
      reason: 'human is always handed over',
      reasonCode: { code: 'always-handed-over', intentId: 'human' },
    });
    expect(
      routeScores([score('human', 0.2)], fallback, calibration, escalating).reasonCode,
    ).toMatchObject({ code: 'below-out-of-scope', intentId: 'human' });
  });

  it('normalises log-probabilities at a temperature', () => {
    expect(normalise([Math.log(0.5), Math.log(0.25)])).toEqual([2 / 3, 1 / 3]);
    const flat = normalise([Math.log(0.9), Math.log(0.1)], 1000);
    expect(flat[0]).toBeCloseTo(0.5, 2);
  });
});
