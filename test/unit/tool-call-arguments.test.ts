import { describe, expect, it } from 'vitest';
import type { ToolArguments, ToolCall } from '../../src/catalog/types';
import { toolCallMetrics } from '../../src/evaluation/metrics';
import {
  argumentMetrics,
  argumentMistakes,
  scoreRowArguments,
  type ArgumentPrediction,
  type ToolSchemas,
} from '../../src/evaluation/tool-arguments';

const ORDER = '2024113012345';
const order = { type: 'string', pattern: '^[0-9]{13}$' } as const;
const TOOLS: ToolSchemas = [
  {
    name: 'change_address',
    parameters: {
      type: 'object',
      properties: { order_id: order, address: { type: 'string', minLength: 6 } },
      required: ['order_id', 'address'],
    },
  },
  {
    name: 'request_refund',
    parameters: {
      type: 'object',
      properties: {
        order_id: order,
        reason: { type: 'string', enum: ['质量问题', '尺码不合适', '发错货', '其他'] },
      },
      required: ['order_id'],
    },
  },
];
const TOOL_OF: Record<string, string> = {
  update_info: 'change_address',
  refund: 'request_refund',
};

type Row = ArgumentPrediction & { text: string };

/** A row labelled `intent` with `labelled` arguments; routed to `routed`, decoding `decoded`. */
function row(
  intent: string,
  labelled: ToolArguments,
  decoded: ToolArguments | undefined,
  routed = intent,
): Row & { expectedToolCall: ToolCall } {
  const tool = TOOL_OF[intent] ?? intent;
  const routedTool = TOOL_OF[routed];
  return {
    text: `${intent} ${JSON.stringify(labelled)}`,
    expected: intent,
    expectedToolCall: { name: tool, arguments: labelled },
    classification: {
      intentId: routed,
      route: routed === 'other' ? 'out_of_scope' : 'intent',
      ...(decoded && routedTool && { toolCall: { name: routedTool, arguments: decoded } }),
    },
  };
}

describe('scoreRowArguments', () => {
  it('tells a stated value decoded differently (wrong) from one decoded as stated (exact)', () => {
    // 我要退货，订单2024113012345，质量问题 → reason 尺码不合适 (issue 15)
    const scored = scoreRowArguments(
      row(
        'refund',
        { order_id: ORDER, reason: '质量问题' },
        { order_id: ORDER, reason: '尺码不合适' },
      ),
      ['order_id', 'reason'],
    );
    expect(scored).toEqual({
      kind: 'scored',
      tool: 'request_refund',
      arguments: [
        { argument: 'order_id', outcome: 'exact', expected: ORDER, decoded: ORDER },
        { argument: 'reason', outcome: 'wrong', expected: '质量问题', decoded: '尺码不合适' },
      ],
    });
  });

  it('calls an enum value the message never stated invented, and one rightly left out absent', () => {
    const invented = scoreRowArguments(
      row('refund', { order_id: ORDER }, { order_id: ORDER, reason: '其他' }),
      ['order_id', 'reason'],
    );
    expect(invented).toMatchObject({
      kind: 'scored',
      arguments: [
        { argument: 'order_id', outcome: 'exact' },
        { argument: 'reason', outcome: 'invented', decoded: '其他' },
      ],
    });
    expect(invented.kind === 'scored' && invented.arguments[1]).not.toHaveProperty('expected');
    const leftOut = scoreRowArguments(row('refund', { order_id: ORDER }, { order_id: ORDER }), [
      'order_id',
      'reason',
    ]);
    expect(leftOut).toMatchObject({
      arguments: [
        { argument: 'order_id', outcome: 'exact' },
        { argument: 'reason', outcome: 'absent' },
      ],
    });
  });

  it('calls a stated address that was not decoded missing (asked for instead)', () => {
    // 收货地址写错了 能改成北京市朝阳区建国路88号吗 → no address at all (issue 15)
    const scored = scoreRowArguments(
      row(
        'update_info',
        { order_id: ORDER, address: '北京市朝阳区建国路88号' },
        { order_id: ORDER },
      ),
      ['order_id', 'address'],
    );
    expect(scored).toMatchObject({
      kind: 'scored',
      tool: 'change_address',
      arguments: [
        { argument: 'order_id', outcome: 'exact' },
        { argument: 'address', outcome: 'missing', expected: '北京市朝阳区建国路88号' },
      ],
    });
  });

  it('does not score the arguments of a misrouted row', () => {
    expect(
      scoreRowArguments(row('update_info', { order_id: ORDER }, { order_id: ORDER }, 'refund'), [
        'order_id',
        'address',
      ]),
    ).toEqual({ kind: 'wrong-intent', tool: 'change_address', proposedCall: true });
    // Routed out of scope: no call at all.
    expect(
      scoreRowArguments(row('refund', { order_id: ORDER }, undefined, 'other'), ['order_id']),
    ).toEqual({ kind: 'wrong-intent', tool: 'request_refund', proposedCall: false });
    // The right intent, escalated for low confidence: no call is proposed, nothing to score.
    const escalated = row('refund', { order_id: ORDER }, undefined);
    escalated.classification.route = 'escalate';
    expect(scoreRowArguments(escalated, ['order_id'])).toEqual({
      kind: 'wrong-intent',
      tool: 'request_refund',
      proposedCall: false,
    });
  });

  it('counts a right intent with no call as every stated value missing', () => {
    expect(
      scoreRowArguments(row('refund', { order_id: ORDER }, undefined), ['order_id', 'reason']),
    ).toMatchObject({
      kind: 'scored',
      arguments: [
        { argument: 'order_id', outcome: 'missing' },
        { argument: 'reason', outcome: 'absent' },
      ],
    });
  });
});

describe('argumentMetrics', () => {
  const rows: Row[] = [
    // refund: 2 exact order ids, 1 wrong reason, 1 invented reason, 1 exact reason
    row(
      'refund',
      { order_id: ORDER, reason: '质量问题' },
      { order_id: ORDER, reason: '尺码不合适' },
    ),
    row('refund', { order_id: ORDER }, { order_id: ORDER, reason: '其他' }),
    row(
      'refund',
      { order_id: ORDER, reason: '发错货' },
      { order_id: '2024113012346', reason: '发错货' },
    ),
    // change_address: a missing address, an address rightly asked for, a misrouted row
    row('update_info', { order_id: ORDER, address: '北京市朝阳区建国路88号' }, { order_id: ORDER }),
    row('update_info', { order_id: ORDER }, { order_id: ORDER }),
    row('update_info', { order_id: ORDER, address: '广州市天河区体育西路1号' }, {}, 'refund'),
    // Not a tool-call row: ignored.
    {
      text: '你好',
      expected: 'greeting',
      classification: { intentId: 'greeting', route: 'intent' },
    },
  ];

  it('counts exact, wrong, invented and missing values per tool, per argument and overall', () => {
    const metrics = argumentMetrics(rows, TOOLS);
    const counts = (
      scored: number,
      [exact, wrong, invented, missing]: number[],
      rate: number | null,
    ) => ({
      scored,
      stated: (exact ?? 0) + (wrong ?? 0) + (missing ?? 0),
      exact,
      wrong,
      invented,
      missing,
      exactMatchRate: rate,
    });
    expect(metrics.perTool).toEqual({
      change_address: {
        rows: 3,
        wrongIntent: 1,
        arguments: {
          order_id: counts(2, [2, 0, 0, 0], 1),
          address: counts(2, [0, 0, 0, 1], 0),
        },
      },
      request_refund: {
        rows: 3,
        wrongIntent: 0,
        arguments: {
          order_id: counts(3, [2, 1, 0, 0], 2 / 3),
          reason: counts(3, [1, 1, 1, 0], 1 / 2),
        },
      },
    });
    // Tools in the schemas' order, arguments in schema order.
    expect(Object.keys(metrics.perTool)).toEqual(['change_address', 'request_refund']);
    expect(Object.keys(metrics.perTool.change_address?.arguments ?? {})).toEqual([
      'order_id',
      'address',
    ]);
    // exact 5 of 8 stated (5 + 2 wrong + 1 missing); the misrouted row is not among them.
    expect(metrics.overall).toEqual(counts(10, [5, 2, 1, 1], 5 / 8));
    // Routed to 退款退货, it proposed a refund: a call of another tool.
    expect(metrics.wrongIntent).toEqual({ rows: 1, proposedCall: 1 });
  });

  it('lists each wrong and invented value with its row', () => {
    const mistakes = argumentMistakes(rows, TOOLS);
    expect(
      mistakes.map(({ row: { text }, ...mistake }) => ({ text: text.split(' ')[0], ...mistake })),
    ).toEqual([
      {
        text: 'refund',
        tool: 'request_refund',
        argument: 'reason',
        kind: 'wrong',
        expected: '质量问题',
        decoded: '尺码不合适',
      },
      {
        text: 'refund',
        tool: 'request_refund',
        argument: 'reason',
        kind: 'invented',
        expected: null,
        decoded: '其他',
      },
      {
        text: 'refund',
        tool: 'request_refund',
        argument: 'order_id',
        kind: 'wrong',
        expected: ORDER,
        decoded: '2024113012346',
      },
    ]);
    expect(mistakes[0]?.row).toBe(rows[0]);
  });

  it('without schemas, scores the keys of the labelled and decoded calls', () => {
    const metrics = argumentMetrics(rows.slice(0, 2));
    expect(Object.keys(metrics.perTool.request_refund?.arguments ?? {})).toEqual([
      'order_id',
      'reason',
    ]);
    expect(metrics.overall).toMatchObject({ scored: 4, exact: 2, wrong: 1, invented: 1 });
  });

  it('gives a parameter its line even when every row of its tool was misrouted', () => {
    const metrics = argumentMetrics(rows.slice(5, 6), TOOLS);
    expect(metrics.perTool.change_address).toMatchObject({
      rows: 1,
      wrongIntent: 1,
      arguments: { order_id: { scored: 0, stated: 0 }, address: { scored: 0 } },
    });
    expect(metrics.overall.exactMatchRate).toBeNull();
  });

  it('is part of toolCallMetrics, beside the row-level exact-match', () => {
    // As the engine proposes them: with what decoding cost.
    const proposed = rows.map(({ expected, expectedToolCall, classification }) => {
      const call = classification.toolCall;
      return {
        expected,
        ...(expectedToolCall && { expectedToolCall }),
        classification: {
          intentId: classification.intentId,
          route: classification.route,
          ...(call && {
            toolCall: {
              ...call,
              missing: [],
              problems: [],
              text: '',
              decodeSteps: 1,
              latencyMs: 1,
            },
          }),
        },
      };
    });
    const tools = toolCallMetrics(proposed, TOOLS);
    expect(tools.exactMatch).toBe(1); // the address left rightly to be asked for
    expect(tools.arguments).toEqual(argumentMetrics(rows, TOOLS));
  });
});
