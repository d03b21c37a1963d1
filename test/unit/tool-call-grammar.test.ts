import { describe, expect, it } from 'vitest';
import { ToolCallGrammar, type ToolCallState } from '../../src/decoding/tool-call-grammar';
import { renderToolCall, TOOL_CALL_OPEN } from '../../src/catalog/chat-template';
import { MAX_STRING_LENGTH } from '../../src/catalog/pattern';
import type { ToolArguments, ToolSpec, ValueSchema } from '../../src/catalog/types';
import { demoTool, demoTools } from '../support/demo-tools';

const demoGrammar = (name: string): ToolCallGrammar => new ToolCallGrammar(demoTool(name));

/** A tool with one parameter `x` of the given schema. */
function oneParameter(schema: ValueSchema): ToolCallGrammar {
  return new ToolCallGrammar({
    name: 'probe',
    description: { zh: '探针', en: 'probe' },
    parameters: { type: 'object', properties: { x: schema }, additionalProperties: false },
    changesData: false,
    requiresConfirmation: false,
    timeoutMs: 1000,
  });
}

/** The text after `<tool_call>` up to (not including) `</tool_call>`, as training renders it. */
function callText(name: string, args: ToolArguments): string {
  return renderToolCall({ name, arguments: args }).slice(
    TOOL_CALL_OPEN.length,
    -'</tool_call>'.length,
  );
}

function finish(grammar: ToolCallGrammar, state: ToolCallState | null): ToolCallState | null {
  return grammar.advanceSpecial(grammar.advanceSpecial(state, '</tool_call>'), '<|im_end|>');
}

describe('ToolCallGrammar: accepts what training renders', () => {
  it.each([
    ['lookup_order', { order_id: '2024113012345' }],
    ['lookup_order', {}],
    ['change_address', { order_id: '2024113012345', address: '上海市浦东新区世纪大道 100 号' }],
    ['change_address', { address: '北京市朝阳区建国路 88 号' }],
    ['request_refund', { order_id: '2024113012345', reason: '尺码不合适' }],
    ['request_invoice', { order_id: '2024113012345', invoice_type: '增值税专用发票' }],
    ['cancel_service', { plan: '年度会员' }],
    ['cancel_service', { plan: '自动续费', order_id: '2024113012345' }],
  ] as const)('%s %j', (name, args) => {
    const grammar = demoGrammar(name);
    const text = callText(name, args);
    const state = grammar.advance(grammar.start(), text);
    expect(state).not.toBeNull();
    expect(grammar.argumentsOf(state as ToolCallState)).toEqual(args);
    expect(grammar.expectedSpecial(state as ToolCallState)).toBe('</tool_call>');
    // Every proper prefix is accepted too, and is not yet awaiting the special tokens.
    for (let end = 0; end < text.length; end++) {
      const prefix = grammar.advance(grammar.start(), text.slice(0, end));
      expect(prefix).not.toBeNull();
      expect(grammar.expectedSpecial(prefix as ToolCallState)).toBeUndefined();
    }
    const complete = finish(grammar, state);
    expect(complete && grammar.isComplete(complete)).toBe(true);
  });

  it('takes the special tokens in order only after the JSON', () => {
    const grammar = demoGrammar('lookup_order');
    const done = grammar.advance(grammar.start(), callText('lookup_order', {}));
    expect(grammar.advanceSpecial(done, '<|im_end|>')).toBeNull();
    expect(grammar.advanceSpecial(grammar.start(), '</tool_call>')).toBeNull();
    const partial = grammar.advance(grammar.start(), '\n{"name": "lookup_order", "arguments": {}}');
    expect(grammar.advanceSpecial(partial, '</tool_call>')).toBeNull();
    expect(grammar.advance(done, 'x')).toBeNull();
  });
});

describe('ToolCallGrammar: rejects what breaks the schema or the spelling', () => {
  const grammar = demoGrammar('change_address');
  const header = grammar.header;
  it.each([
    ['another tool name', '\n{"name": "lookup_order"'],
    ['a missing newline', '{"name"'],
    ['compact separators', `${header}"order_id":"2024113012345"`],
    ['an unknown key', `${header}"colour"`],
    ['keys out of order', `${header}"address": "上海市浦东新区世纪大道", "order_id"`],
    ['a key twice', `${header}"order_id": "2024113012345", "order_id"`],
    ['a trailing comma', `${header}"order_id": "2024113012345",}`],
    ['a comma after the last key', `${header}"address": "上海市浦东新区世纪大道",`],
    ['a letter in a digits-only id', `${header}"order_id": "2024a`],
    ['a 14-digit id', `${header}"order_id": "20241130123456`],
    ['a short id closed early', `${header}"order_id": "2024"`],
    ['a number for a string', `${header}"order_id": 2024113012345`],
    ['a short address', `${header}"address": "上海"`],
    ['an address over 60 characters', `${header}"address": "${'路'.repeat(61)}`],
    ['a raw newline in a string', `${header}"address": "上海\n`],
    ['a non-canonical escape', `${header}"address": "\\u4e2d`],
    ['an uppercase escape', `${header}"address": "\\u000A`],
    ['an escape with a short form', `${header}"address": "\\u000a`],
    ['text after the arguments', `${header}}} `],
  ])('%s', (_case, text) => {
    expect(grammar.advance(grammar.start(), text)).toBeNull();
  });

  it('keeps enum values exact', () => {
    const refund = demoGrammar('request_refund');
    const start = refund.advance(refund.start(), `${refund.header}"reason": "`);
    expect(refund.advance(start, '尺码')).not.toBeNull();
    expect(refund.advance(start, '尺码大了')).toBeNull();
    expect(refund.advance(start, '尺码不合适"')).not.toBeNull();
    expect(refund.advance(start, '尺码不合"')).toBeNull();
  });

  it('writes escapes the way JSON.stringify does', () => {
    const free = oneParameter({ type: 'string' });
    for (const value of ['say "hi"', 'a\\b', 'line\nbreak\ttab', '\u0001\u001f', '中文/English']) {
      const text = callText('probe', { x: value });
      const state = free.advance(free.start(), text);
      expect(state && free.argumentsOf(state)).toEqual({ x: value });
    }
    expect(free.advance(free.start(), `${free.header}"x": "\\/`)).toBeNull();
    expect(free.advance(free.start(), `${free.header}"x": "\\u0041`)).toBeNull();
  });

  it('escapes only characters the value can take', () => {
    const digits = oneParameter({ type: 'string', pattern: '[0-9]+' });
    expect(digits.advance(digits.start(), `${digits.header}"x": "1\\`)).toBeNull();
    const newline = oneParameter({ type: 'string', pattern: 'a\\nb' });
    const state = newline.advance(newline.start(), `${newline.header}"x": "a\\nb"`);
    expect(state && newline.argumentsOf(state)).toEqual({ x: 'a\nb' });
  });

  it('decodes under a huge maxLength without building a table that long (issue 18)', () => {
    // NOTE: built in code, so no catalog check stopped the 1e9; values still end at the cap.
    const open = oneParameter({ type: 'string', pattern: '[^<>]+', maxLength: 1e9 });
    const longest = open.advance(
      open.start(),
      `${open.header}"x": "${'a'.repeat(MAX_STRING_LENGTH)}`,
    );
    expect(open.advance(longest, 'a')).toBeNull();
    const closed = open.advance(longest, '"');
    expect(closed && open.argumentsOf(closed)).toEqual({ x: 'a'.repeat(MAX_STRING_LENGTH) });
  });

  it('stops free text at maxLength', () => {
    const note = oneParameter({ type: 'string', maxLength: 3 });
    const three = note.advance(note.start(), `${note.header}"x": "一二三`);
    expect(note.advance(three, '四')).toBeNull();
    expect(note.advance(three, '"')).not.toBeNull();
  });
});

describe('ToolCallGrammar: numbers and booleans', () => {
  /** Whether `text` is accepted as the whole value of x (then `}`). */
  const accepts = (grammar: ToolCallGrammar, text: string): boolean =>
    grammar.advance(grammar.start(), `${grammar.header}"x": ${text}}}\n`) !== null;
  const prefixAccepted = (grammar: ToolCallGrammar, text: string): boolean =>
    grammar.advance(grammar.start(), `${grammar.header}"x": ${text}`) !== null;

  it('reads integers within bounds', () => {
    const month = oneParameter({ type: 'integer', minimum: 1, maximum: 12 });
    expect(['1', '9', '10', '12'].filter((text) => accepts(month, text))).toEqual([
      '1',
      '9',
      '10',
      '12',
    ]);
    expect(['0', '13', '1.5', '-1', '012', '1e1', ''].some((text) => accepts(month, text))).toBe(
      false,
    );
    expect(prefixAccepted(month, '13')).toBe(false); // rejected at the "3" already
    expect(prefixAccepted(month, '0')).toBe(false);
    const state = month.advance(month.start(), `${month.header}"x": 12}}\n`);
    expect(state && month.argumentsOf(state)).toEqual({ x: 12 });
  });

  it('reads numbers with fractions and negative bounds', () => {
    const temperature = oneParameter({ type: 'number', minimum: -5, maximum: 100.5 });
    expect(
      ['-5', '-4.99', '0', '-0', '0.5', '100.5', '100', '37.25'].every((t) =>
        accepts(temperature, t),
      ),
    ).toBe(true);
    expect(
      ['-6', '100.6', '101', '-5.01', '1.', '.5', '00'].some((t) => accepts(temperature, t)),
    ).toBe(false);
    expect(prefixAccepted(temperature, '-6')).toBe(false);
    expect(prefixAccepted(temperature, '100.6')).toBe(false);
  });

  it('never accepts a number prefix that cannot be completed (exhaustive over short strings)', () => {
    const schemas: ValueSchema[] = [
      { type: 'integer', minimum: 1, maximum: 12 },
      { type: 'integer', minimum: -20, maximum: -3 },
      { type: 'number', minimum: 0.25, maximum: 0.75 },
      { type: 'number', minimum: -5, maximum: 100.5 },
      { type: 'integer', minimum: 250 },
      { type: 'number', enum: [1.5, 20, -3] },
    ];
    const alphabet = ['-', '0', '1', '2', '3', '5', '7', '.'];
    let strings = [''];
    const all: string[] = [];
    for (let length = 1; length <= 5; length++) {
      strings = strings.flatMap((prefix) => alphabet.map((char) => prefix + char));
      all.push(...strings);
    }
    const extensions = [''];
    let layer = [''];
    for (let extra = 1; extra <= 3; extra++) {
      layer = layer.flatMap((prefix) => alphabet.map((char) => prefix + char));
      extensions.push(...layer);
    }
    for (const schema of schemas) {
      const grammar = oneParameter(schema);
      const valueStart = grammar.advance(grammar.start(), `${grammar.header}"x": `);
      const accepts = (text: string) => grammar.advance(valueStart, `${text}}}\n`) !== null;
      const prefixAccepted = (text: string) => grammar.advance(valueStart, text) !== null;
      const inRange = (text: string): boolean => {
        if (!/^-?(0|[1-9]\d*)(\.\d+)?$/.test(text)) return false;
        const value = Number(text);
        if (schema.type === 'boolean' || schema.type === 'string') return false;
        // One spelling, JSON.stringify's: integers without a fraction, enum values as written.
        if (schema.type === 'integer' && text.includes('.')) return false;
        if (schema.enum) return schema.enum.map((item) => JSON.stringify(item)).includes(text);
        return value >= (schema.minimum ?? -Infinity) && value <= (schema.maximum ?? Infinity);
      };
      const wrong: string[] = [];
      const deadEnds: string[] = [];
      for (const text of all) {
        // Sound: a finished value is always in range; complete: every in-range value is taken.
        if (accepts(text) !== inRange(text)) wrong.push(text);
        // No dead ends: an accepted prefix extends to a value within three more characters.
        if (prefixAccepted(text) && !extensions.some((tail) => inRange(text + tail))) {
          deadEnds.push(text);
        }
      }
      expect({ schema, wrong, deadEnds }).toEqual({ schema, wrong: [], deadEnds: [] });
    }
  });

  it('reads booleans', () => {
    const flag = oneParameter({ type: 'boolean' });
    expect(accepts(flag, 'true')).toBe(true);
    expect(accepts(flag, 'false')).toBe(true);
    expect(accepts(flag, 'tru')).toBe(false);
    expect(accepts(flag, '"true"')).toBe(false);
    const state = flag.advance(flag.start(), `${flag.header}"x": false`);
    expect(state && flag.argumentsOf(state)).toEqual({ x: false });
  });
});

describe('ToolCallGrammar: bytes that end inside a character', () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);

  it('accepts a free-text character byte by byte', () => {
    const grammar = demoGrammar('change_address');
    let state = grammar.advance(grammar.start(), `${grammar.header}"address": "`);
    for (const byte of utf8('上海市浦东新区')) {
      state = grammar.advanceBytes(state, [byte]);
      expect(state).not.toBeNull();
    }
    state = grammar.advance(state, '"}}\n');
    expect(state && grammar.argumentsOf(state)).toEqual({ address: '上海市浦东新区' });
  });

  it('rejects a lead byte where only ASCII digits fit', () => {
    const grammar = demoGrammar('lookup_order');
    const state = grammar.advance(grammar.start(), `${grammar.header}"order_id": "20`);
    expect(grammar.advanceBytes(state, [0xe4])).toBeNull();
    expect(grammar.advanceBytes(state, utf8('2'))).not.toBeNull();
  });

  it('accepts a partial character only if some enum value continues with it', () => {
    const grammar = demoGrammar('request_refund');
    const state = grammar.advance(grammar.start(), `${grammar.header}"reason": "`);
    // E5 can become U+5000–U+5FFF, which holds 尺 (U+5C3A); E5 A4 only U+5900–U+593F.
    expect(grammar.advanceBytes(state, [0xe5])).not.toBeNull();
    expect(grammar.advanceBytes(state, [0xe5, 0xa4])).toBeNull();
    expect(grammar.advanceBytes(state, utf8('尺').subarray(0, 2))).not.toBeNull();
    const text = grammar.advanceBytes(state, utf8('尺码不合适"'));
    expect(text && grammar.argumentsOf(text)).toEqual({ reason: '尺码不合适' });
  });

  it('checks Unicode-property patterns against the possible characters', () => {
    const han = oneParameter({ type: 'string', pattern: '\\p{Script=Han}{2,4}' });
    const state = han.advance(han.start(), `${han.header}"x": "`);
    expect(han.advanceBytes(state, utf8('张').subarray(0, 1))).not.toBeNull();
    expect(han.advanceBytes(state, utf8('а').subarray(0, 1))).toBeNull(); // Cyrillic а
  });

  it('rejects bytes that are not UTF-8', () => {
    const grammar = demoGrammar('change_address');
    const state = grammar.advance(grammar.start(), `${grammar.header}"address": "`);
    for (const bytes of [[0xff], [0x80], [0xc0, 0xaf], [0xe0, 0x80], [0xed, 0xa0], [0xe4, 0x41]]) {
      expect(grammar.advanceBytes(state, bytes)).toBeNull();
    }
    // Characters (not bytes) cannot continue a pending partial character.
    expect(grammar.advance(grammar.advanceBytes(state, [0xe4]), 'a')).toBeNull();
  });
});

describe('ToolCallGrammar: keys', () => {
  it('allows any subset in properties order, including none', () => {
    const cancel = demoGrammar('cancel_service');
    const header = cancel.header;
    expect(
      cancel.advance(cancel.start(), `${header}"order_id": "2024113012345", "plan"`),
    ).toBeNull();
    expect(
      cancel.advance(cancel.start(), `${header}"plan": "月度会员", "order_id"`),
    ).not.toBeNull();
    expect(cancel.advance(cancel.start(), `${header}}}\n`)).not.toBeNull();
  });

  it('leaves out a key no value could satisfy', () => {
    const impossible = oneParameter({ type: 'string', enum: ['toolong'], maxLength: 3 });
    expect(impossible.advance(impossible.start(), `${impossible.header}"`)).toBeNull();
    expect(impossible.advance(impossible.start(), `${impossible.header}}}\n`)).not.toBeNull();
  });
});

describe('ToolCallGrammar: arguments copied from the message (extract)', () => {
  const spec = (name: string): ToolSpec => {
    const found = demoTools.find((tool) => tool.name === name);
    if (!found) throw new Error(`no demo tool ${name}`);
    return found;
  };
  const prefix = (name: string, key: string) => `\n{"name": "${name}", "arguments": {"${key}": "`;

  it('the demo marks order numbers and addresses as copied', () => {
    expect(spec('lookup_order').extract).toEqual(['order_id']);
    expect(spec('change_address').extract).toEqual(['order_id', 'address']);
  });

  it('lets an order number be only the one the user typed', () => {
    const grammar = new ToolCallGrammar(spec('lookup_order'), '帮我查一下订单 2024113012345 谢谢');
    const start = grammar.advance(grammar.start(), prefix('lookup_order', 'order_id'));
    expect(grammar.advance(start, '2024113012345"}}\n')).not.toBeNull();
    // Thirteen digits, but not the user's: rejected at the first digit that differs.
    expect(grammar.advance(start, '2024113012346')).toBeNull();
    expect(grammar.advance(start, '20241130123')).not.toBeNull();
    // `1130…` is in the message, but no 13-digit number starts there.
    expect(grammar.advance(start, '1')).toBeNull();
    // Without the message the same text is only checked against the pattern.
    const unbound = new ToolCallGrammar(spec('lookup_order'));
    expect(
      unbound.advance(unbound.start(), `${prefix('lookup_order', 'order_id')}2024113012346"}}\n`),
    ).not.toBeNull();
  });

  it('lets an address be any span of the message, and nothing else', () => {
    const message = '把订单 2024113012345 的地址改成北京市海淀区中关村大街1号';
    const grammar = new ToolCallGrammar(spec('change_address'), message);
    const start = grammar.advance(grammar.start(), prefix('change_address', 'address'));
    expect(grammar.advance(start, '北京市海淀区中关村大街1号"}}\n')).not.toBeNull();
    expect(grammar.advance(start, '上')).toBeNull();
    // A span may end early (the model decides where), but not before minLength (6).
    expect(grammar.advance(start, '北京市海淀区"')).not.toBeNull();
    expect(grammar.advance(start, '北京市"')).toBeNull();
    // Part of a character (the first two UTF-8 bytes of 北 / 鱼) is judged by what it can
    // become: some character of the message starts like 北, none like 鱼.
    const bei = new TextEncoder().encode('北');
    const fish = new TextEncoder().encode('鱼');
    expect(grammar.advanceBytes(start, bei.subarray(0, 2))).not.toBeNull();
    expect(grammar.advanceBytes(start, fish.subarray(0, 2))).toBeNull();
  });

  it('leaves an enum argument chosen, not copied', () => {
    const grammar = new ToolCallGrammar(spec('request_refund'), '订单 2024113012345 我要退款');
    const text = `${prefix('request_refund', 'order_id')}2024113012345", "reason": "质量问题"}}\n`;
    expect(grammar.advance(grammar.start(), text)).not.toBeNull();
  });
});
