import { describe, expect, it } from 'vitest';
import type { Classification } from '../../src/engine/classification';
import {
  isSettled,
  MAX_SAVED_TURNS,
  reviveTurns,
  turnsToSave,
} from '../../src/router/conversation';
import { formatBytes, formatPercent, parseLanguage, parseTheme } from '../../src/ui/i18n';

const score = { intentId: 'refund', label: '退款退货', probability: 0.9, logProb: -0.1 };
const result: Classification = {
  intentId: 'refund',
  label: '退款退货',
  route: 'intent',
  reason: null,
  top: score,
  confidence: 0.9,
  margin: 0.8,
  scores: [score],
  latencyMs: 12,
  computedTokens: 9,
  decodeSteps: 2,
};

describe('reviveTurns', () => {
  it('keeps turns of the current shape, unanswered ones as interrupted, and drops the rest', () => {
    const saved = [
      { id: 'a', text: '我要退货', sentAt: 1, result },
      { id: 'b', text: 'x', sentAt: 2, error: { code: 'internal', message: 'boom' } },
      { id: 'c', text: 'y', sentAt: 3, cancelled: true },
      { id: 'd', text: 'pending', sentAt: 4 },
      {
        id: 'e',
        text: 'old shape',
        sentAt: 5,
        result: { intentId: 'refund', label: 'x', valid: true },
      },
      'garbage',
      { id: 7, text: 'bad id', sentAt: 6, cancelled: true },
    ];
    const revived = reviveTurns(saved);
    expect(revived.map((turn) => turn.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(revived.map((turn) => turn.interrupted === true)).toEqual([false, false, false, true]);
    expect(revived[3]?.text).toBe('pending');
    expect(reviveTurns({ not: 'an array' })).toEqual([]);
  });

  it('counts a turn as settled once it has a result, an error or was stopped or interrupted', () => {
    expect(isSettled({ id: 'a', text: 't', sentAt: 0 })).toBe(false);
    expect(isSettled({ id: 'a', text: 't', sentAt: 0, queued: true })).toBe(false);
    expect(isSettled({ id: 'a', text: 't', sentAt: 0, result })).toBe(true);
    expect(isSettled({ id: 'a', text: 't', sentAt: 0, interrupted: true })).toBe(true);
  });

  it('saves unanswered turns as interrupted, so nothing typed is lost on a reload', () => {
    const turns = [
      { id: 'a', text: '我要退货', sentAt: 1, result },
      { id: 'b', text: '正在识别的消息', sentAt: 2 },
      { id: 'c', text: '排队的消息', sentAt: 3, queued: true },
    ];
    const saved = turnsToSave(turns);
    expect(saved.map((turn) => [turn.id, turn.interrupted ?? false, turn.queued ?? false])).toEqual(
      [
        ['a', false, false],
        ['b', true, false],
        ['c', true, false],
      ],
    );
    expect(reviveTurns(JSON.parse(JSON.stringify(saved)))).toEqual(saved);
  });

  it('keeps the newest MAX_SAVED_TURNS', () => {
    const many = Array.from({ length: MAX_SAVED_TURNS + 5 }, (_, i) => ({
      id: String(i),
      text: `m${i}`,
      sentAt: i,
      result,
    }));
    const saved = turnsToSave(many);
    expect(saved).toHaveLength(MAX_SAVED_TURNS);
    expect(saved[0]?.id).toBe('5');
  });
});

describe('i18n helpers', () => {
  it('parses languages and themes from attributes', () => {
    expect([parseLanguage('en-US'), parseLanguage('zh-CN'), parseLanguage(null)]).toEqual([
      'en',
      'zh',
      'zh',
    ]);
    expect([parseTheme('dark'), parseTheme('light'), parseTheme('neon')]).toEqual([
      'dark',
      'light',
      'auto',
    ]);
  });

  it('formats bytes and probabilities for people', () => {
    expect([formatBytes(812_000), formatBytes(10_454_080), formatBytes(2.5e9)]).toEqual([
      '812 kB',
      '10.5 MB',
      '2.50 GB',
    ]);
    expect([0.873, 0.9996, 1, 0.001, 0].map(formatPercent)).toEqual([
      '87%',
      '>99%',
      '100%',
      '<1%',
      '0%',
    ]);
  });
});
