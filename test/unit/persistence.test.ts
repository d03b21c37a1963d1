import { describe, expect, it } from 'vitest';
import type { Classification } from '../../src/engine/classification';
import { MAX_SAVED_TURNS, type ChatTurn } from '../../src/router/conversation';
import {
  planSave,
  type LocalConversation,
  type StoredConversation,
} from '../../src/router/persistence';

// The decisions of a save (src/router/persistence.ts, `planSave`) as pure functions; the
// IndexedDB transaction and the BroadcastChannel around them run in Chromium
// (test/e2e/persistence.test.ts).

const score = { intentId: 'greeting', label: '问候闲聊', probability: 0.9, logProb: -0.1 };
const result: Classification = {
  intentId: 'greeting',
  label: '问候闲聊',
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

const zh = { language: 'zh', theme: '' } as const;

function local(turns: readonly ChatTurn[], change: Partial<LocalConversation> = {}) {
  return {
    turns,
    settings: zh,
    settingsChanged: false,
    clearedAt: 0,
    archived: new Map<string, number>(),
    ...change,
  };
}

const sent = (id: string, at: number): ChatTurn => ({
  id,
  text: id,
  sentAt: at,
  queued: true,
  updatedAt: at,
});
const answered = (turn: ChatTurn, at: number): ChatTurn => {
  const done: ChatTurn = { ...turn, result, updatedAt: at };
  delete done.queued;
  return done;
};

describe('planSave', () => {
  it('two tabs saving in turn keep every message of both, once, answered', () => {
    // Each tab holds its own turns and copies of the other's from its last read.
    let stored: StoredConversation | null = null;
    const save = (turns: ChatTurn[]) => {
      stored = planSave(stored, local(turns)).next;
      return stored.turns;
    };
    const a1 = sent('a1', 1);
    const b1 = sent('b1', 2);
    const a2 = sent('a2', 3);
    save([a1]);
    const seenByB = save([b1]).filter(({ id }) => id !== 'b1');
    save([a1, a2]);
    // B answers its message holding A's first message as it read it (interrupted): A's newer
    // versions are not undone.
    save([...seenByB, answered(b1, 6)]);
    save([answered(a1, 4), answered(a2, 5)]);
    const final = save([...seenByB, answered(b1, 6)]);
    expect(final.map(({ id }) => id)).toEqual(['a1', 'b1', 'a2']);
    expect(final.every((turn) => turn.result !== undefined && !turn.interrupted)).toBe(true);
  });

  it('keeps all 300 messages sent while the model loaded, as interrupted', () => {
    const burst = Array.from({ length: 300 }, (_, i) => sent(`m${String(i).padStart(3, '0')}`, i));
    const plan = planSave(null, local(burst));
    expect(plan.next.turns).toHaveLength(300);
    expect(plan.next.turns.every((turn) => turn.interrupted === true && !turn.queued)).toBe(true);
    expect(plan.archived).toEqual([]);
  });

  it('moves answered turns beyond the cap to the archive, and does not save them again', () => {
    const turns = Array.from({ length: MAX_SAVED_TURNS + 50 }, (_, i) =>
      answered(sent(`m${String(i).padStart(3, '0')}`, i), i),
    );
    const first = planSave(null, local(turns));
    expect(first.next.turns).toEqual(turns.slice(50));
    expect(first.archived).toEqual(turns.slice(0, 50));
    // The session still shows them; told they are archived, it does not bring them back.
    const archived = new Map(first.archived.map((turn) => [turn.id, turn.updatedAt ?? 0]));
    const again = planSave(first.next, local(turns, { archived }));
    expect(again.next.turns).toEqual(turns.slice(50));
    expect(again.archived).toEqual([]);
    // Unless one changed since (sent again): then it is saved, as the newest turn.
    const resent = sent('m000', 900);
    const changed = planSave(first.next, local([resent, ...turns.slice(1)], { archived }));
    expect(changed.next.turns.at(-1)).toEqual({ ...resent, interrupted: true, queued: undefined });
    expect(changed.next.turns).toHaveLength(MAX_SAVED_TURNS);
    expect(changed.archived.map(({ id }) => id)).toEqual(['m050']);
  });

  it('a clear forgets the turns that did not change since, here and from other tabs', () => {
    const stored: StoredConversation = {
      turns: [answered(sent('old', 1), 2), answered(sent('later', 3), 20)],
      settings: zh,
      clearedAt: 0,
    };
    const plan = planSave(stored, local([], { clearedAt: 10 }));
    expect(plan.next.turns.map(({ id }) => id)).toEqual(['later']);
    expect(plan.next.clearedAt).toBe(10);
    expect(plan.clears).toBe(true);
    // Another tab still holding the cleared turn does not bring it back.
    const other = planSave(plan.next, local([answered(sent('old', 1), 2), sent('new', 30)]));
    expect(other.next.turns.map(({ id }) => id)).toEqual(['later', 'new']);
    expect(other.clears).toBe(false);
  });

  it('writes the settings only when they were changed here (or none are stored)', () => {
    const english = { language: 'en', theme: 'dark' } as const;
    expect(planSave(null, local([])).next.settings).toEqual(zh);
    const stored: StoredConversation = { turns: [], settings: english, clearedAt: 0 };
    expect(planSave(stored, local([])).next.settings).toEqual(english);
    expect(planSave(stored, local([], { settingsChanged: true })).next.settings).toEqual(zh);
  });
});
