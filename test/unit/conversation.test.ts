import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Classification } from '../../src/engine/classification';
import {
  appendToArchive,
  capTurns,
  isSettled,
  MAX_SAVED_TURNS,
  mergeTurns,
  reviveTurns,
  savedForm,
  stampChanges,
  turnVersion,
  type ChatTurn,
} from '../../src/router/conversation';
import { formatBytes, formatPercent, parseLanguage, parseTheme } from '../../src/ui/i18n';

const score = { intentId: 'refund', label: '退款退货', probability: 0.9, logProb: -0.1 };
const result: Classification = {
  intentId: 'refund',
  label: '退款退货',
  route: 'intent',
  reason: null,
  reasonCode: null,
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
      { id: 'c', text: '排队的消息', sentAt: 3, queued: true, updatedAt: 4 },
    ];
    const saved = turns.map(savedForm);
    expect(saved.map((turn) => [turn.id, turn.interrupted ?? false, turn.queued ?? false])).toEqual(
      [
        ['a', false, false],
        ['b', true, false],
        ['c', true, false],
      ],
    );
    expect(saved[0]).toBe(turns[0]);
    expect(reviveTurns(JSON.parse(JSON.stringify(saved)))).toEqual(saved);
  });
});

describe('capTurns', () => {
  const answered = (i: number) => ({ id: `a${i}`, text: `m${i}`, sentAt: i, result });
  const unanswered = (i: number) => ({ id: `u${i}`, text: `m${i}`, sentAt: i, interrupted: true });

  it('keeps the newest MAX_SAVED_TURNS and archives the older answered turns, in order', () => {
    const many = Array.from({ length: MAX_SAVED_TURNS + 5 }, (_, i) => answered(i));
    const { kept, archived } = capTurns(many);
    expect(kept).toEqual(many.slice(5));
    expect(archived).toEqual(many.slice(0, 5));
  });

  it('never drops an unanswered turn: 300 sent while the model loaded are all kept', () => {
    const burst = Array.from({ length: 300 }, (_, i) => unanswered(i));
    expect(capTurns(burst)).toEqual({ kept: burst, archived: [] });
  });

  it('keeps older unanswered turns in place and archives only the answered ones among them', () => {
    const turns = [
      answered(0),
      unanswered(1),
      answered(2),
      ...Array.from({ length: MAX_SAVED_TURNS }, (_, i) => answered(10 + i)),
    ];
    const { kept, archived } = capTurns(turns);
    expect(archived.map((turn) => turn.id)).toEqual(['a0', 'a2']);
    expect(kept).toHaveLength(MAX_SAVED_TURNS + 1);
    expect(kept[0]?.id).toBe('u1');
    expect(kept[1]?.id).toBe('a10');
  });
});

describe('mergeTurns', () => {
  const turn = (id: string, sentAt: number, extra: Partial<ChatTurn> = {}): ChatTurn => ({
    id,
    text: id,
    sentAt,
    ...extra,
  });

  it('keeps every turn of either side once: stored in place, the rest by sending order', () => {
    const stored = [turn('a1', 1), turn('a2', 3), turn('a3', 5)];
    const local = [turn('a1', 1), turn('b1', 2), turn('b2', 4), turn('b3', 6)];
    expect(mergeTurns(stored, local).map(({ id }) => id)).toEqual([
      'a1',
      'b1',
      'a2',
      'b2',
      'a3',
      'b3',
    ]);
    // Sent in the same millisecond: by id.
    expect(mergeTurns([turn('y', 1)], [turn('x', 1), turn('z', 1)]).map(({ id }) => id)).toEqual([
      'x',
      'y',
      'z',
    ]);
  });

  it('of two versions of a turn keeps the newer, then the more settled, then the local one', () => {
    const queued = turn('t', 1, { queued: true, updatedAt: 1 });
    const interrupted = turn('t', 1, { interrupted: true, updatedAt: 1 });
    const answered = turn('t', 1, { result, updatedAt: 5 });
    const streamed = turn('t', 1, {
      result,
      reply: { source: 'agent', status: 'streaming', text: 'Hel' },
      updatedAt: 6,
    });
    const done = turn('t', 1, {
      result,
      reply: { source: 'agent', status: 'done', text: 'Hello' },
      updatedAt: 7,
    });
    // Newer wins, from either side: a tab holding an older copy cannot undo another's answer.
    expect(mergeTurns([done], [streamed])).toEqual([done]);
    expect(mergeTurns([answered], [done])).toEqual([done]);
    expect(mergeTurns([interrupted], [answered])).toEqual([answered]);
    // Equally new: the more settled; then the local version.
    expect(mergeTurns([interrupted], [queued])).toEqual([interrupted]);
    expect(mergeTurns([queued], [interrupted])).toEqual([interrupted]);
    const copy = { ...done };
    expect(mergeTurns([done], [copy])[0]).toBe(copy);
    // Saved by an older release (no updatedAt): sentAt stands in; a resend is newer.
    const legacy = turn('t', 1, { error: { code: 'classifier-crashed', message: 'x' } });
    const resent = turn('t', 9, { queued: true, updatedAt: 9 });
    expect(mergeTurns([legacy], [resent])).toEqual([resent]);
  });

  it('keeps a turn sent again where it was first sent', () => {
    const stored = [turn('a', 1, { interrupted: true }), turn('b', 2, { result })];
    const local = [turn('a', 3, { queued: true, updatedAt: 3 }), stored[1] as ChatTurn];
    expect(mergeTurns(stored, local).map(({ id, sentAt }) => [id, sentAt])).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('holds for any two versions of a conversation (property)', () => {
    // Each id has versions 1..3; each side holds some ids, at some version, in sending order.
    const side = fc
      .uniqueArray(
        fc.record({ id: fc.integer({ min: 0, max: 20 }), v: fc.integer({ min: 1, max: 3 }) }),
        {
          selector: ({ id }) => id,
          maxLength: 20,
        },
      )
      .map((picks) =>
        picks
          .sort((a, b) => a.id - b.id)
          .map(({ id, v }) =>
            turn(`t${String(id).padStart(2, '0')}`, id, { updatedAt: id * 10 + v }),
          ),
      );
    fc.assert(
      fc.property(side, side, (stored, local) => {
        const merged = mergeTurns(stored, local);
        const ids = merged.map(({ id }) => id);
        const union = new Set([...stored, ...local].map(({ id }) => id));
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(union);
        for (const result of merged) {
          const versions = [...stored, ...local]
            .filter(({ id }) => id === result.id)
            .map(turnVersion);
          expect(turnVersion(result)).toBe(Math.max(...versions));
        }
        // Both sides in sending order: so is the merge; merging again changes nothing.
        expect(ids).toEqual([...ids].sort());
        expect(mergeTurns(merged, local)).toEqual(merged);
        expect(mergeTurns(merged, stored)).toEqual(merged);
      }),
    );
  });
});

describe('stampChanges', () => {
  it('stamps changed and new turns, later than their last version; leaves the others', () => {
    const kept: ChatTurn = { id: 'k', text: 'k', sentAt: 1, updatedAt: 1 };
    const before: ChatTurn[] = [kept, { id: 'c', text: 'c', sentAt: 2, updatedAt: 50 }];
    const after: ChatTurn[] = [
      kept,
      { ...(before[1] as ChatTurn), queued: false },
      { id: 'n', text: 'n', sentAt: 40 },
    ];
    const stamped = stampChanges(before, after, 40);
    expect(stamped[0]).toBe(kept);
    expect(stamped.map(turnVersion)).toEqual([1, 51, 40]);
    expect(stampChanges(before, after, 60).map(turnVersion)).toEqual([1, 60, 60]);
  });
});

describe('appendToArchive', () => {
  const archived = (id: string, updatedAt: number): ChatTurn => ({
    id,
    text: id,
    sentAt: 1,
    result,
    updatedAt,
  });

  it('appends, never repeats a turn (the newer version stays), and forgets cleared turns', () => {
    const archive = [archived('a', 1), archived('b', 2)];
    expect(appendToArchive(archive, [archived('b', 5), archived('c', 3)], 0)).toEqual([
      archived('a', 1),
      archived('b', 5),
      archived('c', 3),
    ]);
    expect(appendToArchive(archive, [archived('a', 0)], 0)).toEqual(archive);
    expect(appendToArchive(archive, [archived('c', 9)], 2)).toEqual([
      archived('b', 2),
      archived('c', 9),
    ]);
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
