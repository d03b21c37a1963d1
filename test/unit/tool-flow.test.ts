import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/paths';
import { validateCatalog } from '../../src/catalog/catalog';
import type { Classification, ProposedToolCall } from '../../src/engine/classification';
import type { ToolSpec } from '../../src/catalog/types';
import { reviveTurns, type ChatTurn } from '../../src/router/conversation';
import {
  escalationHistory,
  turnEscalationReason,
  fillChoice,
  fillFromFollowUp,
  missingQuestion,
  nextStatus,
  startToolCall,
  turnAwaitingInput,
} from '../../src/router/tool-flow';

const catalog = validateCatalog(
  JSON.parse(readFileSync(join(REPO_ROOT, 'data/demo/catalog.json'), 'utf8')),
);
function spec(name: string): ToolSpec {
  const found = catalog.tools?.find((tool) => tool.name === name);
  if (!found) throw new Error(`no tool ${name} in the demo catalog`);
  return found;
}

function proposed(name: string, args: ProposedToolCall['arguments'], missing: string[]) {
  return { name, arguments: args, missing, problems: [], text: '', decodeSteps: 0, latencyMs: 0 };
}

const score = { intentId: 'shipping', label: '物流查询', probability: 0.9, logProb: -0.1 };
function classification(change: Partial<Classification>): Classification {
  return {
    intentId: 'shipping',
    label: '物流查询',
    route: 'intent',
    reason: null,
    reasonCode: null,
    top: score,
    confidence: 0.9,
    margin: 0.8,
    scores: [score],
    latencyMs: 5,
    computedTokens: 8,
    decodeSteps: 0,
    ...change,
  };
}

describe('a proposed tool call', () => {
  it('asks for missing arguments, then asks for confirmation of changes, and runs look-ups at once', () => {
    expect(
      startToolCall(proposed('track_shipment', {}, ['order_id']), spec('track_shipment')),
    ).toEqual({
      name: 'track_shipment',
      arguments: {},
      missing: ['order_id'],
      status: 'needs-input',
    });
    const lookup = proposed('lookup_order', { order_id: '2024113012345' }, []);
    expect(startToolCall(lookup, spec('lookup_order')).status).toBe('running');
    expect(nextStatus(spec('request_refund'), [])).toBe('needs-confirmation');
    // A tool the host did not declare is never run unasked.
    expect(nextStatus(undefined, [])).toBe('needs-confirmation');
    // Nor one that changes data, whatever its confirmation flag says.
    const altered = { ...spec('request_refund'), requiresConfirmation: false };
    expect(nextStatus(altered, [])).toBe('needs-confirmation');
  });

  it('phrases the question from the catalog, in the UI language', () => {
    const fallback = (key: string) => `? ${key}`;
    expect(missingQuestion(spec('change_address'), ['address'], 'zh', fallback)).toBe(
      '请告诉我新的收货地址。',
    );
    expect(missingQuestion(spec('lookup_order'), ['order_id'], 'en', fallback)).toBe(
      'Please give the order number (13 digits).',
    );
    expect(missingQuestion(undefined, ['x'], 'en', fallback)).toBe('? x');
  });
});

describe('filling missing arguments from the next message', () => {
  const waiting = {
    name: 'track_shipment',
    arguments: {},
    missing: ['order_id'],
    status: 'needs-input' as const,
  };

  it('takes an order number out of a sentence', () => {
    expect(
      fillFromFollowUp(waiting, spec('track_shipment'), '订单号是 2024113012345，谢谢'),
    ).toEqual({ arguments: { order_id: '2024113012345' }, missing: [], filled: ['order_id'] });
  });

  it('fills a quick-reply choice as picked, only for the asked argument and a valid value', () => {
    const refund = {
      name: 'request_refund',
      arguments: { order_id: '2024113012345' },
      missing: ['reason'],
      status: 'needs-input' as const,
    };
    const choice = { key: 'reason', value: '尺码不合适' };
    expect(fillChoice(refund, spec('request_refund'), choice)).toEqual({
      arguments: { order_id: '2024113012345', reason: '尺码不合适' },
      missing: [],
      filled: ['reason'],
    });
    // Not the argument asked for, or a value the schema refuses: nothing is filled.
    expect(fillChoice(refund, spec('request_refund'), { key: 'order_id', value: '1' })).toBeNull();
    expect(fillChoice(refund, spec('request_refund'), { key: 'reason', value: '随便' })).toBeNull();
  });

  it('treats a message that answers nothing as a new message', () => {
    expect(fillFromFollowUp(waiting, spec('track_shipment'), '算了，我想投诉')).toBeNull();
  });

  it('fills an enum argument from its value and keeps what was already known', () => {
    const refund = {
      name: 'request_refund',
      arguments: { order_id: '2024113012345' },
      missing: ['reason'],
      status: 'needs-input' as const,
    };
    expect(fillFromFollowUp(refund, spec('request_refund'), '尺码不合适')).toEqual({
      arguments: { order_id: '2024113012345', reason: '尺码不合适' },
      missing: [],
      filled: ['reason'],
    });
  });

  it('counts nothing the schema refuses as an answer, so the question is not asked forever', () => {
    const address = {
      name: 'change_address',
      arguments: {},
      missing: ['order_id', 'address'],
      status: 'needs-input' as const,
    };
    const tooLong = `我想问一下${'很长的问题'.repeat(15)}`;
    expect(fillFromFollowUp(address, spec('change_address'), tooLong)).toBeNull();
    expect(fillFromFollowUp(address, spec('change_address'), '上海市浦东新区张江路88号')).toEqual({
      arguments: { address: '上海市浦东新区张江路88号' },
      missing: ['order_id'],
      filled: ['address'],
    });
  });

  it('lets only a message sent after the question answer it', () => {
    const asking: ChatTurn = {
      id: 'a',
      text: '改地址',
      sentAt: 1,
      tool: { ...waiting, askedAt: 100 },
    };
    expect(turnAwaitingInput([asking], 150)?.id).toBe('a');
    expect(turnAwaitingInput([asking], 50)).toBeUndefined();
  });

  it('finds the newest tool turn still waiting, and none once a later tool turn exists', () => {
    const asking: ChatTurn = { id: 'a', text: '快递到哪了', sentAt: 1, tool: waiting };
    const plain: ChatTurn = { id: 'b', text: '你好', sentAt: 2, result: classification({}) };
    expect(turnAwaitingInput([asking, plain])?.id).toBe('a');
    const done: ChatTurn = {
      id: 'c',
      text: '查订单',
      sentAt: 3,
      tool: { ...waiting, missing: [], status: 'done' },
    };
    expect(turnAwaitingInput([asking, done])).toBeUndefined();
  });
});

describe('escalation', () => {
  it('names why a turn is handed over', () => {
    expect(turnEscalationReason(classification({ route: 'out_of_scope' }), catalog)).toBe(
      'out_of_scope',
    );
    expect(turnEscalationReason(classification({ route: 'escalate' }), catalog)).toBe(
      'low_confidence',
    );
    expect(
      turnEscalationReason(classification({ route: 'escalate', intentId: 'human_agent' }), catalog),
    ).toBe('intent');
    expect(turnEscalationReason(classification({}), catalog)).toBeNull();
  });

  it('passes the conversation on as user and assistant messages', () => {
    const turns: ChatTurn[] = [
      {
        id: 'a',
        text: '查一下订单 2024113012345',
        sentAt: 1,
        tool: {
          name: 'lookup_order',
          arguments: { order_id: '2024113012345' },
          missing: [],
          status: 'done',
          reply: { text: '订单已发货。', source: 'template' },
        },
      },
      { id: 'b', text: '转人工', sentAt: 2 },
    ];
    expect(escalationHistory(turns)).toEqual([
      { role: 'user', content: '查一下订单 2024113012345' },
      { role: 'assistant', content: '订单已发货。' },
      { role: 'user', content: '转人工' },
    ]);
  });
});

describe('saved tool and escalation turns', () => {
  it('come back with their results; a call or hand-over cut off by a reload is marked interrupted, not re-run', () => {
    const saved = [
      {
        id: 'a',
        text: '订单 2024113012345 我要退款',
        sentAt: 1,
        result: classification({}),
        tool: {
          name: 'request_refund',
          arguments: { order_id: '2024113012345' },
          missing: [],
          status: 'running',
        },
      },
      {
        id: 'b',
        text: '2024113012345',
        sentAt: 2,
        answers: { turnId: 'x', keys: ['order_id'] },
        tool: {
          name: 'track_shipment',
          arguments: { order_id: '2024113012345' },
          missing: [],
          status: 'done',
          result: { tracking_number: 'SF1234567890' },
          durationMs: 3,
        },
      },
      {
        id: 'c',
        text: '天气',
        sentAt: 3,
        result: classification({ route: 'out_of_scope' }),
        escalation: { reason: 'out_of_scope', status: 'streaming', text: '您好' },
      },
      // Arguments that are not flat JSON values are not trusted back.
      {
        id: 'd',
        text: 'bad',
        sentAt: 4,
        result: classification({}),
        tool: { name: 'x', arguments: { nested: {} }, missing: [], status: 'done' },
      },
    ];
    const revived = reviveTurns(saved);
    expect(revived.map((turn) => turn.tool?.status ?? turn.escalation?.status)).toEqual([
      'interrupted',
      'done',
      'interrupted',
      undefined,
    ]);
    expect(revived[1]?.tool?.result).toEqual({ tracking_number: 'SF1234567890' });
    expect(revived[1]?.answers).toEqual({ turnId: 'x', keys: ['order_id'] });
    expect(revived[2]?.escalation?.text).toBe('您好');
  });
});
