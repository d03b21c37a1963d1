import { describe, expect, it } from 'vitest';
import { charNgrams } from '../../bench/accuracy/char-ngrams';
import {
  answerTextFor,
  catalogForLabels,
  intentIdFor,
  labelsOf,
  NO_MATCH_INTENT,
} from '../../bench/accuracy/datasets';
import { renderTable, replaceTable, TABLE_BEGIN, TABLE_END } from '../../bench/accuracy/report';
import {
  pickThreshold,
  routedIntent,
  scoreAnswers,
  scoringIntents,
  type Answer,
} from '../../bench/accuracy/score';
import { DataValidationError } from '../../src/shared/errors';

const answer = (intentId: string | null, confidence = 0.9): Answer => ({
  intentId,
  confidence,
  latencyMs: 1,
});

describe('dataset labels → catalog', () => {
  it('turns every published label style into an intent id and a spaced answer', () => {
    expect(intentIdFor('card_arrival')).toBe('card_arrival');
    expect(intentIdFor('Refund_not_showing_up')).toBe('refund_not_showing_up');
    expect(intentIdFor('reverted_card_payment?')).toBe('reverted_card_payment');
    expect(intentIdFor('PlayMusic')).toBe('play_music');
    expect(intentIdFor('cookbook.QUERY')).toBe('cookbook_query');
    expect(intentIdFor('lottery.NUMBER_QUERY')).toBe('lottery_number_query');
    expect(intentIdFor('24h')).toBe('intent_24h');
    expect(answerTextFor('cookbook.QUERY')).toBe('cookbook query');
    expect(answerTextFor('PlayFMStory')).toBe('play fmstory');
  });

  it('keeps the first-appearance order of labels', () => {
    const rows = [
      { text: 'a', label: 'b' },
      { text: 'b', label: 'a' },
      { text: 'c', label: 'b' },
    ];
    expect(labelsOf(rows)).toEqual(['b', 'a']);
  });

  it("uses the dataset's out-of-scope label as the fallback", () => {
    const catalog = catalogForLabels('clinc150', ['balance', 'oos', 'card_declined'], 'oos');
    expect(catalog.fallbackIntent).toBe('oos');
    expect(catalog.intents.map((intent) => intent.label)).toEqual([
      'balance',
      'oos',
      'card declined',
    ]);
  });

  it('adds an untrained no_match fallback when the dataset has no out-of-scope label', () => {
    const catalog = catalogForLabels('smp', ['cookbook.QUERY', 'app.LAUNCH']);
    expect(catalog.fallbackIntent).toBe(NO_MATCH_INTENT);
    expect(catalog.intents.map((intent) => [intent.id, intent.label])).toEqual([
      ['cookbook_query', 'cookbook query'],
      ['app_launch', 'app launch'],
      ['no_match', 'no match'],
    ]);
    expect(catalog.intents[0]?.description.en).toBe('dataset label cookbook.QUERY');
  });

  it('refuses labels that collapse to one intent, and an out-of-scope label without rows', () => {
    expect(() => catalogForLabels('x', ['a.b', 'a_b'])).toThrow(DataValidationError);
    expect(() => catalogForLabels('x', ['a', 'b'], 'oos')).toThrow(/oos.*no training rows/);
  });
});

describe('charNgrams', () => {
  it('gives character unigrams then bigrams, never across spaces or punctuation', () => {
    expect(charNgrams('查 订单!')).toEqual(['查', '订', '单', '订单']);
    expect(charNgrams('查订单')).toEqual(['查', '订', '单', '查订', '订单']);
    expect(charNgrams('Hi，你好')).toEqual(['h', 'i', '你', '好', 'hi', '你好']);
    expect(charNgrams('  ')).toEqual([]);
  });
});

describe('scoring', () => {
  it('routes declined and low-confidence answers to the fallback', () => {
    expect(routedIntent(answer('a', 0.4), 'oos')).toBe('a');
    expect(routedIntent(answer('a', 0.4), 'oos', 0.5)).toBe('oos');
    expect(routedIntent(answer(null), 'oos')).toBe('oos');
  });

  it('scores in-scope accuracy, out-of-scope recall, macro-F1 and latency', () => {
    const catalog = catalogForLabels('d', ['a', 'b', 'oos'], 'oos');
    const intents = scoringIntents(catalog, ['a', 'b', 'only_in_test']);
    expect(intents.map((intent) => intent.id)).toEqual(['a', 'b', 'oos', 'only_in_test']);
    const inScope = {
      examples: [
        { text: '1', label: 'a' },
        { text: '2', label: 'a' },
        { text: '3', label: 'b' },
        { text: '4', label: 'only_in_test' },
      ],
      answers: [answer('a'), answer('b'), answer('b'), answer(null)],
    };
    const outOfScope = {
      examples: [
        { text: '5', label: 'oos' },
        { text: '6', label: 'oos' },
      ],
      answers: [answer('oos'), answer('a', 0.3)],
    };
    const scores = scoreAnswers(intents, 'oos', inScope, outOfScope);
    expect(scores.accuracy).toBe(0.5);
    expect(scores.oosRecall).toBe(0.5);
    expect(scores.declined).toBe(0.25);
    // F1: a 2·1/(2+2) = 0.5, b 2·1/(1+2) = 2/3, oos 2·1/(2+2) = 0.5, only_in_test 0
    expect(scores.macroF1).toBeCloseTo((0.5 + 2 / 3 + 0.5 + 0) / 4, 12);
    expect(scores.latencyMs.p50).toBe(1);

    const tuned = scoreAnswers(intents, 'oos', inScope, outOfScope, 0.5);
    expect(tuned.oosRecall).toBe(1);
    expect(tuned.accuracy).toBe(0.5);
  });

  it('picks the threshold that routes the most validation rows correctly, lowest on ties', () => {
    const rows = [
      { expected: 'a', answer: answer('a', 0.9) },
      { expected: 'a', answer: answer('a', 0.6) },
      { expected: 'oos', answer: answer('a', 0.5) },
      { expected: 'oos', answer: answer('b', 0.2) },
      { expected: 'b', answer: answer('b', 0.1) },
    ];
    const threshold = pickThreshold(rows, 'oos');
    // Anything in (0.5, 0.6] gets 4 rows right; the lowest such candidate sits just above 0.5.
    expect(threshold).toBeGreaterThan(0.5);
    expect(threshold).toBeLessThan(0.5 + 1e-12);
    expect(pickThreshold([{ expected: 'a', answer: answer('a', 0.2) }], 'oos')).toBe(0);
  });
});

describe('report', () => {
  const scores = (accuracy: number) => ({
    accuracy,
    macroF1: 0.5,
    oosRecall: null,
    declined: 0,
    latencyMs: { p50: 2.5, p95: 9 },
  });

  it('renders one row per system with the best accuracy in bold', () => {
    const table = renderTable([
      {
        dataset: 'd',
        system: 'fenliu',
        scores: scores(0.9),
        trainSeconds: 300,
        modelBytes: 10.4e6,
      },
      {
        dataset: 'd',
        system: 'natural',
        scores: scores(0.8),
        trainSeconds: 5.4,
        modelBytes: 9.4e5,
      },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe(
      '| d | fenliu | **90.0 %** | 50.0 % | — | — | 300 s | 2.50 ms | 10.4 MB |',
    );
    expect(lines[3]).toBe('| d | natural | 80.0 % | 50.0 % | — | — | 5.4 s | 2.50 ms | 940 kB |');
  });

  it('replaces only the marked table and appends one when the markers are missing', () => {
    const document = `# T\n\nbefore\n\n${TABLE_BEGIN}\n\nold\n\n${TABLE_END}\n\nafter\n`;
    expect(replaceTable(document, 'new')).toBe(
      `# T\n\nbefore\n\n${TABLE_BEGIN}\n\nnew\n\n${TABLE_END}\n\nafter\n`,
    );
    expect(replaceTable('# T\n', 'new')).toBe(`# T\n\n${TABLE_BEGIN}\n\nnew\n\n${TABLE_END}\n`);
  });
});
