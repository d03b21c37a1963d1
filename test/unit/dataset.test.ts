import { describe, expect, it } from 'vitest';
import { checkLabels, parseDataset } from '../../src/core/dataset';
import { DataValidationError } from '../../src/core/errors';

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
