import { describe, expect, it } from 'vitest';
import type { Catalog, ToolSpec } from '../../src/catalog/types';
import {
  checkLabels,
  datasetReport,
  parseDataset,
  parseDatasetRows,
  parseToolReplies,
  resolveToolCalls,
  seededRandom,
  stratifiedSplit,
  toolCallIssues,
  type ToolBindings,
} from '../../src/dataset/dataset';
import { DataValidationError } from '../../src/shared/errors';

const NAME = { zh: '名称', en: 'name' };

function issuesOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof DataValidationError) {
      return error.issues.map((i) => `${i.file}:${i.line}: ${i.reason}`);
    }
    throw error;
  }
  throw new Error('expected a DataValidationError');
}

describe('parseDataset', () => {
  it('reads {"text","label"} JSON Lines with line numbers, ignoring blank lines', () => {
    const source =
      '{"text":"取消我的订阅","label":"取消服务"}\n\n{"text":"hi","label":"问候闲聊"}\n';
    expect(parseDataset(source, 'a.jsonl')).toEqual([
      { text: '取消我的订阅', label: '取消服务', file: 'a.jsonl', line: 1 },
      { text: 'hi', label: '问候闲聊', file: 'a.jsonl', line: 3 },
    ]);
  });

  it("reads the seed's ShareGPT array and locates each conversation's line", () => {
    const source = `[
  {"conversations": [{"from": "user", "value": "取消我的订阅"}, {"from": "assistant", "value": "取消服务"}]},
  {
    "conversations": [
      {"from": "system", "value": "你是客服"},
      {"from": "human", "value": "订单到哪了 [1,2]"},
      {"from": "gpt", "value": " 查询订单 "}
    ]
  }
]`;
    expect(parseDataset(source, 'seed.json')).toEqual([
      { text: '取消我的订阅', label: '取消服务', file: 'seed.json', line: 2 },
      { text: '订单到哪了 [1,2]', label: '查询订单', file: 'seed.json', line: 3 },
    ]);
  });

  it('reads ShareGPT conversations written one per line', () => {
    const line =
      '{"conversations":[{"from":"user","value":"退款"},{"from":"assistant","value":"退款退货"}]}';
    expect(parseDataset(`${line}\n`, 'c.jsonl')).toEqual([
      { text: '退款', label: '退款退货', file: 'c.jsonl', line: 1 },
    ]);
  });

  it('reports every malformed row with file:line instead of skipping it', () => {
    const source = [
      '{"text":"ok","label":"问候闲聊"}',
      '{"text":"broken",',
      '{"text":"","label":"问候闲聊"}',
      '{"text":"no label"}',
      '["not", "an object"]',
      '{"conversations":[{"from":"user","value":"只有用户"}]}',
    ].join('\n');
    expect(issuesOf(() => parseDataset(source, 'bad.jsonl'))).toEqual([
      expect.stringMatching(/^bad\.jsonl:2: not valid JSON/),
      'bad.jsonl:3: "text" is empty',
      'bad.jsonl:4: "label" must be a non-empty string',
      'bad.jsonl:5: expected a JSON object',
      'bad.jsonl:6: no assistant turn after the user turn',
    ]);
  });

  it('locates a syntax error inside a JSON array and still checks the other rows', () => {
    const source = '[\n  {"conversations": []},\n  {"conversations": [}\n]';
    expect(issuesOf(() => parseDataset(source, 'x.json'))).toEqual([
      'x.json:2: no user turn ("from": "user" or "human")',
      expect.stringMatching(/^x\.json:3: not valid JSON/),
    ]);
  });

  it('rejects an empty file', () => {
    expect(issuesOf(() => parseDataset('\n\n', 'empty.jsonl'))).toEqual([
      'empty.jsonl:1: the file holds no examples',
    ]);
  });
});

describe('checkLabels', () => {
  it('names each row whose label is not in the catalog', () => {
    const examples = parseDataset(
      '{"text":"a","label":"取消服务"}\n{"text":"b","label":"取消订阅"}\n',
      'd.jsonl',
    );
    expect(
      issuesOf(() => {
        checkLabels(examples, ['取消服务']);
      }),
    ).toEqual(['d.jsonl:2: label "取消订阅" is not in the catalog']);
  });
});

describe('LLaMA-Factory ShareGPT', () => {
  it('reads function_call / observation turns, a tools field and a system field', () => {
    const tools = JSON.stringify([{ name: 'query_order', description: '查订单', parameters: {} }]);
    const row = {
      conversations: [
        { from: 'human', value: '我的订单到哪了' },
        { from: 'function_call', value: '{"name": "query_order", "arguments": {}}' },
        { from: 'observation', value: '{"status": "shipped"}' },
        { from: 'gpt', value: '查询订单' },
      ],
      system: '你是客服',
      tools,
    };
    expect(parseDataset(`${JSON.stringify(row)}\n`, 'lf.jsonl')).toEqual([
      {
        text: '我的订单到哪了',
        label: '查询订单',
        toolCall: { name: 'query_order', arguments: {} },
        file: 'lf.jsonl',
        line: 1,
      },
    ]);
  });

  it('takes the tool call from the function_call turn, arguments as an object or JSON string', () => {
    const conversation = (call: object) => ({
      conversations: [
        { from: 'human', value: '帮我查一下订单 2024113012345' },
        { from: 'function_call', value: JSON.stringify(call) },
        { from: 'observation', value: '{"status": "已发货"}' },
        { from: 'gpt', value: '查询订单' },
      ],
    });
    const source = [
      conversation({ name: 'lookup_order', arguments: { order_id: '2024113012345' } }),
      conversation({ name: 'lookup_order', arguments: '{"order_id": "2024113012345"}' }),
      conversation({ name: 'lookup_order', arguments: { order_id: ['2024113012345'] } }),
    ]
      .map((row) => JSON.stringify(row))
      .join('\n');
    const { examples, issues } = parseDatasetRows(source, 'f.jsonl');
    const call = { name: 'lookup_order', arguments: { order_id: '2024113012345' } };
    expect(examples.map((example) => example.toolCall)).toEqual([call, call]);
    expect(issues).toEqual([
      {
        file: 'f.jsonl',
        line: 3,
        reason:
          'a function_call turn has bad arguments (argument "order_id" must be a string, number or boolean)',
      },
    ]);
  });

  it('names the problem of each bad tool row', () => {
    const turns = (extra: object[]) => [{ from: 'human', value: '你好' }, ...extra];
    const source = [
      { conversations: turns([{ from: 'function_call', value: 'not json' }]) },
      {
        conversations: turns([
          { from: 'function_call', value: '{"name":"x"}' },
          { from: 'observation', value: 'ok' },
        ]),
      },
      { conversations: turns([{ from: 'tool', value: 'x' }]) },
      { conversations: turns([{ from: 'gpt', value: '问候闲聊' }]), tools: '[{"name": 1}]' },
      { conversations: turns([{ from: 'gpt', value: '问候闲聊' }]), tools: '{oops' },
    ]
      .map((row) => JSON.stringify(row))
      .join('\n');
    expect(issuesOf(() => parseDataset(source, 't.jsonl'))).toEqual([
      't.jsonl:1: a function_call turn must hold JSON with a string "name"',
      't.jsonl:2: no assistant turn after the user turn (function_call/observation turns are not an answer)',
      't.jsonl:3: unknown role "tool" (expected human/user, gpt/assistant, system, function_call or observation)',
      't.jsonl:4: "tools" must describe each tool with a string "name"',
      't.jsonl:5: "tools" is a string but not JSON',
    ]);
  });
});

describe('tool calls in JSON Lines rows', () => {
  const catalog: Pick<Catalog, 'intents' | 'tools'> = {
    intents: [
      {
        id: 'order_status',
        label: '查询订单',
        name: NAME,
        description: NAME,
        tool: 'lookup_order',
      },
      { id: 'payment', label: '支付问题', name: NAME, description: NAME },
    ],
    tools: [
      {
        name: 'lookup_order',
        description: NAME,
        parameters: {
          type: 'object',
          properties: { order_id: { type: 'string', pattern: '^[0-9]{13}$' } },
          required: ['order_id'],
          additionalProperties: false,
        },
        changesData: false,
        requiresConfirmation: false,
        timeoutMs: 5000,
      },
    ],
  };

  it('reads "tool_call" and gives a tool intent\'s rows without one a call with no arguments', () => {
    const source = [
      '{"text": "帮我查一下订单 2024113012345", "label": "查询订单", "tool_call": {"name": "lookup_order", "arguments": {"order_id": "2024113012345"}}}',
      '{"text": "我的订单到哪了", "label": "查询订单"}',
      '{"text": "付款失败", "label": "支付问题"}',
    ].join('\n');
    const examples = resolveToolCalls(parseDataset(source, 'c.jsonl'), catalog);
    expect(examples.map((example) => example.toolCall)).toEqual([
      { name: 'lookup_order', arguments: { order_id: '2024113012345' } },
      { name: 'lookup_order', arguments: {} },
      undefined,
    ]);
  });

  it('names each row whose call is malformed, of the wrong tool, or has bad arguments', () => {
    const row = (label: string, call: unknown) =>
      JSON.stringify({ text: '订单 2024113012345', label, tool_call: call });
    const source = [
      row('查询订单', 'lookup_order'),
      row('查询订单', { arguments: {} }),
      row('查询订单', { name: 'lookup_order', arguments: { order_id: { id: 1 } } }),
    ].join('\n');
    expect(issuesOf(() => parseDataset(source, 'm.jsonl'))).toEqual([
      'm.jsonl:1: "tool_call" must be an object {"name", "arguments"}',
      'm.jsonl:2: "tool_call" needs a non-empty string "name"',
      'm.jsonl:3: "tool_call" argument "order_id" must be a string, number or boolean',
    ]);
    const calls = [
      row('查询订单', { name: 'track_shipment', arguments: {} }),
      row('查询订单', { name: 'lookup_order', arguments: { order_id: '123' } }),
      row('查询订单', { name: 'lookup_order', arguments: { id: '2024113012345' } }),
      row('支付问题', { name: 'lookup_order', arguments: {} }),
      row('查询订单', { name: 'lookup_order', arguments: '{"order_id": "2024113012345"}' }),
    ].join('\n');
    expect(issuesOf(() => resolveToolCalls(parseDataset(calls, 'v.jsonl'), catalog))).toEqual([
      'v.jsonl:1: tool call "track_shipment" names no declared tool (declared: lookup_order)',
      'v.jsonl:2: lookup_order arguments: "order_id" does not match the pattern ^[0-9]{13}$',
      'v.jsonl:3: lookup_order arguments: "id" is not a parameter of this tool',
      'v.jsonl:4: intent "支付问题" calls no tool, but the row has a tool call',
    ]);
  });

  it('lists the rows whose call the catalog or model card rejects, labels or ids, giving no calls', () => {
    const shipping: Pick<ToolSpec, 'name' | 'parameters'> = {
      name: 'track_shipment',
      parameters: {
        type: 'object',
        properties: { tracking_no: { type: 'string', minLength: 8 } },
        additionalProperties: false,
      },
    };
    // A model card's shape: intents with ids and tools, the tools' schemas.
    const card: ToolBindings = {
      intents: [...catalog.intents, { id: 'shipping', label: '物流查询', tool: 'track_shipment' }],
      tools: [...(catalog.tools ?? []), shipping],
    };
    const row = (label: string, call?: unknown) =>
      JSON.stringify({ text: '订单 2024113012345', label, tool_call: call });
    const source = [
      row('查询订单', { name: 'lookup_order', arguments: { order_id: '2024113012345' } }),
      row('查询订单', { name: 'drop_tables', arguments: {} }),
      row('order_status', { name: 'lookup_order', arguments: { order_id: '42' } }),
      row('shipping', { name: 'track_shipment', arguments: { tracking_no: 'SF1' } }),
      row('物流查询', { name: 'lookup_order', arguments: {} }),
      row('payment', { name: 'track_shipment', arguments: {} }),
      row('查询订单'),
      row('shipping', { name: 'track_shipment', arguments: {} }),
      row('订机票', { name: 'book_flight', arguments: {} }),
    ].join('\n');
    const examples = parseDataset(source, 'e.jsonl');
    expect(toolCallIssues(examples, card).map((i) => `${i.file}:${i.line}: ${i.reason}`)).toEqual([
      'e.jsonl:2: tool call "drop_tables" names no declared tool (declared: lookup_order, track_shipment)',
      'e.jsonl:3: lookup_order arguments: "order_id" does not match the pattern ^[0-9]{13}$',
      'e.jsonl:4: track_shipment arguments: "tracking_no" must be at least 8 characters long',
      'e.jsonl:5: tool call "lookup_order" is not "track_shipment", the tool of intent "物流查询"',
      'e.jsonl:6: intent "payment" calls no tool, but the row has a tool call',
    ]);
    // Rows without a call get none: a row without one is not a tool-call row.
    expect(examples[6]?.toolCall).toBeUndefined();
  });

  it('reads reply-step rows and names the incomplete ones', () => {
    const complete = {
      text: '帮我查一下订单 2024113012345',
      label: '查询订单',
      tool_call: { name: 'lookup_order', arguments: { order_id: '2024113012345' } },
      result: { status: '已发货' },
      reply: '订单 2024113012345 当前状态：已发货。',
    };
    const noResult = { ...complete, result: undefined };
    const source = [
      complete,
      noResult,
      { ...complete, reply: ' ' },
      { ...complete, tool_call: undefined },
    ]
      .map((row) => JSON.stringify(row))
      .join('\n');
    expect(issuesOf(() => parseToolReplies(source, 'r.jsonl'))).toEqual([
      'r.jsonl:2: "result" is missing',
      'r.jsonl:3: "reply" must be a non-empty string',
      'r.jsonl:4: "tool_call" is missing',
    ]);
    expect(parseToolReplies(JSON.stringify(complete), 'r.jsonl')).toEqual([
      {
        text: complete.text,
        label: '查询订单',
        toolCall: complete.tool_call,
        result: { status: '已发货' },
        reply: complete.reply,
        file: 'r.jsonl',
        line: 1,
      },
    ]);
  });
});

describe('parseDatasetRows', () => {
  it('returns the usable rows and lists the others with file:line', () => {
    const source = '{"text":"a","label":"x"}\n{"text":""}\n{"text":"b","label":"y"}\n';
    const { examples, issues } = parseDatasetRows(source, 'm.jsonl');
    expect(examples.map((e) => e.line)).toEqual([1, 3]);
    expect(issues).toEqual([{ file: 'm.jsonl', line: 2, reason: '"text" is empty' }]);
  });
});

describe('datasetReport', () => {
  it('counts labels and finds duplicates and conflicting labels (whitespace, case, width)', () => {
    const source = [
      '{"text":"退款","label":"退款退货"}',
      '{"text":" 退款 ","label":"退款退货"}',
      '{"text":"Hello","label":"问候闲聊"}',
      '{"text":"hello","label":"其他"}',
      '{"text":"ＨＥＬＬＯ","label":"问候闲聊"}',
      '{"text":"取消","label":"取消服务"}',
    ].join('\n');
    const report = datasetReport(parseDataset(source, 'r.jsonl'));
    expect(report.total).toBe(6);
    expect(report.perLabel).toEqual({ 退款退货: 2, 问候闲聊: 2, 其他: 1, 取消服务: 1 });
    expect(report.duplicates).toEqual([
      { text: '退款', label: '退款退货', at: ['r.jsonl:1', 'r.jsonl:2'] },
    ]);
    expect(report.conflicts).toEqual([
      { text: 'Hello', labels: { 问候闲聊: ['r.jsonl:3', 'r.jsonl:5'], 其他: ['r.jsonl:4'] } },
    ]);
  });
});

describe('seededRandom', () => {
  it('gives the same numbers in [0, 1) for a seed, others for another seed', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 5 }, () => random());
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
    expect(draw(5).every((value) => value >= 0 && value < 1)).toBe(true);
  });
});

describe('stratifiedSplit', () => {
  const rows = [
    ...Array.from({ length: 40 }, (_, i) => ({ text: `a${i}`, label: 'A' })),
    ...Array.from({ length: 10 }, (_, i) => ({ text: `b${i}`, label: 'B' })),
    { text: 'c0', label: 'C' },
  ];

  it("keeps each label's share, is deterministic per seed, and loses no row", () => {
    const { train, valid } = stratifiedSplit(rows, 0.2, 7);
    expect(valid.filter((r) => r.label === 'A')).toHaveLength(8);
    expect(valid.filter((r) => r.label === 'B')).toHaveLength(2);
    expect(valid.filter((r) => r.label === 'C')).toHaveLength(0); // a single row stays in train
    expect(train.length + valid.length).toBe(rows.length);
    expect(new Set([...train, ...valid]).size).toBe(rows.length);
    expect(stratifiedSplit(rows, 0.2, 7).valid).toEqual(valid);
    expect(stratifiedSplit(rows, 0.2, 8).valid).not.toEqual(valid);
  });

  it('keeps copies of a message on one side', () => {
    const copies = [...rows, { text: 'A0', label: 'A' }, { text: 'a0 ', label: 'A' }];
    for (let seed = 0; seed < 10; seed++) {
      const { valid } = stratifiedSplit(copies, 0.5, seed);
      const inValid = valid.filter((r) => r.text.trim().toLowerCase() === 'a0').length;
      expect([0, 3]).toContain(inValid);
    }
  });
});
