import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCatalog } from '../../scripts/lib/data-files';
import { DEMO_DATA } from '../../scripts/lib/paths';
import type { Catalog } from '../../src/catalog/types';
import { checkLabels, parseDataset, resolveToolCalls } from '../../src/dataset/dataset';
import type { Classification } from '../../src/engine/classification';
import type { ChatTurn } from '../../src/router/conversation';
import {
  clearCorrections,
  correctionFor,
  correctionRows,
  correctionsToJsonl,
  correctionsToShareGpt,
  listCorrections,
  recordCorrection,
  removeCorrection,
  reviveCorrections,
  withCorrection,
  withoutCorrection,
  type Correction,
} from '../../src/router/corrections';

// The corrections an operator records in the inspector, and their export as training rows. The
// exports are read back with the pipeline's own parser (src/dataset/dataset.ts), exactly as
// scripts/prepare-training-data.ts reads a --train file. The IndexedDB round trip runs in
// Chromium (test/e2e); Node has no IndexedDB, which shows here as storage being unavailable.

const catalog = readCatalog(join(DEMO_DATA, 'catalog.json'));
const labels = catalog.intents.map((intent) => intent.label);

function classified(intentId: string, label: string, confidence: number): Classification {
  const top = { intentId, label, probability: confidence, logProb: Math.log(confidence) };
  const second = {
    intentId: 'shipping',
    label: '物流查询',
    probability: 1 - confidence,
    logProb: Math.log(1 - confidence),
  };
  return {
    intentId,
    label,
    route: 'intent',
    reason: null,
    reasonCode: null,
    top,
    confidence,
    margin: confidence - second.probability,
    scores: [top, second],
    latencyMs: 40,
    computedTokens: 12,
    decodeSteps: 2,
  };
}

function turn(id: string, text: string, result?: Classification): ChatTurn {
  return { id, text, sentAt: 1_700_000_000_000, ...(result && { result }) };
}

/** A correction as the inspector records it: the turn's text, corrected to `intentId`. */
function corrected(id: string, text: string, intentId: string, at: number): Correction {
  const correction = correctionFor(
    turn(id, text, classified('order_status', '查询订单', 0.62)),
    intentId,
    catalog,
    'zh',
    at,
  );
  if (!correction) throw new Error(`the demo catalog has no intent ${intentId}`);
  return correction;
}

/** The pipeline's reading of an exported file: parsed, labels checked, tool calls resolved. */
function readAsTrainingData(text: string, file: string) {
  const examples = parseDataset(text, file);
  checkLabels(examples, labels);
  return resolveToolCalls(examples, catalog);
}

describe('correctionFor', () => {
  it('records the message, what was predicted and the corrected intent with its model label', () => {
    const correction = correctionFor(
      turn('t1', '我的快递到哪了', classified('order_status', '查询订单', 0.62)),
      'shipping',
      catalog,
      'zh',
      1_700_000_001_000,
    );
    expect(correction).toMatchObject({
      turnId: 't1',
      text: '我的快递到哪了',
      predicted: { intentId: 'order_status', label: '查询订单', confidence: 0.62 },
      corrected: { intentId: 'shipping', label: '物流查询' },
      at: 1_700_000_001_000,
      language: 'zh',
    });
    expect(correction?.id).toMatch(/^t1:/);
  });

  it('makes none for a turn without a classification or an intent the catalog lacks', () => {
    expect(correctionFor(turn('t1', '你好'), 'greeting', catalog, 'zh')).toBeNull();
    const result = classified('order_status', '查询订单', 0.5);
    expect(correctionFor(turn('t1', '你好', result), 'no_such_intent', catalog, 'zh')).toBeNull();
  });
});

describe('the list of corrections', () => {
  it('keeps one correction per turn: recording again replaces the earlier one', () => {
    const first = corrected('t1', '快递到哪了', 'refund', 1);
    const other = corrected('t2', '我要发票', 'invoice', 2);
    const again = corrected('t1', '快递到哪了', 'shipping', 3);
    const list = withCorrection(withCorrection(withCorrection([], first), other), again);
    expect(list.map((c) => [c.turnId, c.corrected.intentId])).toEqual([
      ['t2', 'invoice'],
      ['t1', 'shipping'],
    ]);
    expect(withoutCorrection(list, again.id)).toEqual([other]);
    expect(withoutCorrection(list, 'unknown')).toEqual(list);
  });
});

describe('reviveCorrections', () => {
  const good = corrected('t1', '快递到哪了', 'shipping', 10);

  it('reads back what was stored', () => {
    expect(reviveCorrections(JSON.parse(JSON.stringify([good])))).toEqual([good]);
  });

  it('reads nothing from what is not a list', () => {
    for (const value of [undefined, null, 'x', 3, { 0: good }]) {
      expect(reviveCorrections(value)).toEqual([]);
    }
  });

  it('drops damaged corrections and keeps the rest', () => {
    const broken: unknown[] = [
      null,
      'text',
      { ...good, id: 7 },
      { ...good, turnId: '' },
      { ...good, text: '   ' },
      { ...good, at: Number.NaN },
      { ...good, predicted: null },
      { ...good, predicted: { ...good.predicted, confidence: 1.5 } },
      { ...good, predicted: { ...good.predicted, confidence: '0.6' } },
      { ...good, corrected: { intentId: 'shipping' } },
      { ...good, corrected: { intentId: 'shipping', label: ' ' } },
    ];
    const other = corrected('t2', '开发票', 'invoice', 5);
    expect(reviveCorrections([...broken, other])).toEqual([other]);
  });

  it('keeps the later of two corrections of one turn, in time order, with a language', () => {
    const later = { ...corrected('t1', '快递到哪了', 'refund', 20), language: 'fr' };
    const other = corrected('t2', '开发票', 'invoice', 15);
    const revived = reviveCorrections([later, good, other]);
    expect(revived.map((c) => [c.turnId, c.corrected.intentId, c.language])).toEqual([
      ['t2', 'invoice', 'zh'],
      ['t1', 'refund', 'zh'],
    ]);
  });
});

describe('the export as training rows', () => {
  const corrections = [
    corrected('t1', '我的快递 到哪了？', 'shipping', 1),
    corrected('t2', '账号登不上去了', 'account', 2),
    corrected('t3', 'He said "cancel" —\n取消我的会员 🙂', 'cancel_service', 3),
  ];
  const expected = [
    { text: '我的快递 到哪了？', label: '物流查询' },
    { text: '账号登不上去了', label: '账户登录' },
    { text: 'He said "cancel" —\n取消我的会员 🙂', label: '取消服务' },
  ];

  it('writes {"text","label"} JSON Lines the pipeline reads, with the corrected labels', () => {
    const jsonl = correctionsToJsonl(corrections, catalog);
    expect(jsonl.split('\n')).toHaveLength(4);
    expect(jsonl.endsWith('\n')).toBe(true);
    const examples = readAsTrainingData(jsonl, 'corrections.jsonl');
    expect(examples.map(({ text, label }) => ({ text, label }))).toEqual(expected);
    // A tool intent's row gets its tool, with no arguments (the message's are not recorded).
    expect(examples[0]?.toolCall).toEqual({ name: 'track_shipment', arguments: {} });
    expect(examples[1]?.toolCall).toBeUndefined();
  });

  it('writes the same rows as ShareGPT conversations the pipeline reads', () => {
    const sharegpt = correctionsToShareGpt(corrections, catalog);
    const parsed = JSON.parse(sharegpt) as { conversations: { from: string; value: string }[] }[];
    expect(parsed[0]?.conversations).toEqual([
      { from: 'human', value: '我的快递 到哪了？' },
      { from: 'gpt', value: '物流查询' },
    ]);
    const examples = readAsTrainingData(sharegpt, 'corrections.json');
    expect(examples.map(({ text, label }) => ({ text, label }))).toEqual(expected);
    // One conversation per line: the pipeline's file:line names each row.
    expect(examples.map((example) => example.line)).toEqual([2, 3, 4]);
  });

  it('follows the catalog: renamed labels, and intents it no longer has left out', () => {
    const renamed: Catalog = {
      ...catalog,
      intents: catalog.intents
        .filter((intent) => intent.id !== 'account')
        .map((intent) => (intent.id === 'shipping' ? { ...intent, label: '查物流' } : intent)),
    };
    expect(correctionRows(corrections, renamed)).toEqual([
      { text: '我的快递 到哪了？', label: '查物流' },
      expected[2],
    ]);
    expect(correctionRows(corrections)).toEqual(expected);
    expect(correctionsToJsonl(corrections)).toBe(correctionsToJsonl(corrections, catalog));
  });

  it('writes nothing for no corrections', () => {
    expect(correctionsToJsonl([])).toBe('');
    expect(correctionsToShareGpt([], catalog)).toBe('[]\n');
  });

  it('turns a correction that went through storage into a valid row', () => {
    const recorded = corrected('t9', '发票开错了抬头', 'invoice', 9);
    const stored = reviveCorrections(JSON.parse(JSON.stringify([recorded])));
    const jsonl = readAsTrainingData(correctionsToJsonl(stored, catalog), 'a.jsonl');
    const sharegpt = readAsTrainingData(correctionsToShareGpt(stored, catalog), 'a.json');
    for (const examples of [jsonl, sharegpt]) {
      expect(examples.map(({ text, label }) => ({ text, label }))).toEqual([
        { text: '发票开错了抬头', label: '开具发票' },
      ]);
    }
  });
});

describe('the store without IndexedDB (Node, blocked storage)', () => {
  it('lists nothing and reports refused writes instead of throwing', async () => {
    const correction = corrected('t1', '快递到哪了', 'shipping', 1);
    await expect(listCorrections('shop')).resolves.toEqual([]);
    const recorded = await recordCorrection('shop', correction);
    expect(recorded.stored).toBeNull();
    expect(recorded.error).toBeInstanceOf(Error);
    const removed = await removeCorrection('shop', correction.id);
    expect(removed.error).toBeInstanceOf(Error);
    await expect(clearCorrections('shop')).resolves.toBeInstanceOf(Error);
  });
});
