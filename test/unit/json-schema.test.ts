import { describe, expect, it } from 'vitest';
import { characterCount, checkArguments } from '../../src/catalog/json-schema';
import { toolSpecProblems } from '../../src/catalog/tool-declarations';
import type { ObjectSchema, ToolSpec } from '../../src/catalog/types';
import { demoTool, demoTools } from '../support/demo-tools';

const schema: ObjectSchema = {
  type: 'object',
  properties: {
    order_id: { type: 'string', pattern: '^[0-9]{13}$' },
    reason: { type: 'string', enum: ['质量问题', '其他'] },
    note: { type: 'string', minLength: 2, maxLength: 5 },
    quantity: { type: 'integer', minimum: 1, maximum: 9 },
    price: { type: 'number', minimum: 0 },
    express: { type: 'boolean' },
  },
  required: ['order_id', 'quantity'],
  additionalProperties: false,
};

describe('checkArguments', () => {
  it('accepts valid arguments', () => {
    const value = { order_id: '2024113012345', quantity: 2, price: 9.5, express: false };
    expect(checkArguments(schema, value)).toEqual({ arguments: value, missing: [], problems: [] });
  });

  it('names every problem kind and keeps only the valid subset', () => {
    const check = checkArguments(schema, {
      order_id: '12345',
      reason: '不喜欢',
      note: '一',
      quantity: 2.5,
      price: -1,
      express: 'yes',
      colour: 'red',
    });
    expect(check.arguments).toEqual({});
    expect(check.missing).toEqual(['order_id', 'quantity']);
    expect(check.problems).toEqual([
      { key: 'order_id', reason: 'does not match the pattern ^[0-9]{13}$' },
      { key: 'reason', reason: 'must be one of "质量问题", "其他"' },
      { key: 'note', reason: 'must be at least 2 characters long' },
      { key: 'quantity', reason: 'must be an integer' },
      { key: 'price', reason: 'must be at least 0' },
      { key: 'express', reason: 'must be true or false' },
      { key: 'colour', reason: 'is not a parameter of this tool' },
    ]);
  });

  it('checks the remaining bounds and types', () => {
    const check = checkArguments(schema, {
      order_id: 2024113012345,
      note: '一二三四五六',
      quantity: 10,
      price: Number.NaN,
    });
    expect(check.problems).toEqual([
      { key: 'order_id', reason: 'must be a string' },
      { key: 'note', reason: 'must be at most 5 characters long' },
      { key: 'quantity', reason: 'must be at most 9' },
      { key: 'price', reason: 'must be a number' },
    ]);
    expect(check.missing).toEqual(['order_id', 'quantity']);
  });

  it('counts characters as code points', () => {
    expect(characterCount('𠮷野家')).toBe(3);
    expect(checkArguments(schema, { note: '𠮷𠮷𠮷𠮷𠮷' }).problems).toEqual([]);
  });

  it('rejects arguments that are not an object', () => {
    for (const value of [null, 'order', [1], 3]) {
      expect(checkArguments(schema, value)).toEqual({
        arguments: {},
        missing: ['order_id', 'quantity'],
        problems: [{ key: '', reason: 'the arguments must be a JSON object' }],
      });
    }
  });

  it('keeps unknown primitive keys when additionalProperties is not false', () => {
    const open: ObjectSchema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(checkArguments(open, { a: 'x', b: 1, c: { nested: true } })).toEqual({
      arguments: { a: 'x', b: 1 },
      missing: [],
      problems: [{ key: 'c', reason: 'must be a string, number or boolean' }],
    });
  });

  it('reports the closest incomplete anyOf alternative', () => {
    const cancel = demoTool('cancel_service').parameters;
    expect(checkArguments(cancel, { plan: '月度会员' }).missing).toEqual([]);
    expect(checkArguments(cancel, { order_id: '2024113012345' }).missing).toEqual([]);
    // Neither alternative complete: both miss one key, the first one wins.
    expect(checkArguments(cancel, {}).missing).toEqual(['plan']);
    // A wrong value counts as absent.
    expect(checkArguments(cancel, { plan: '季度会员' }).missing).toEqual(['plan']);
    const twoKeys: ObjectSchema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' }, c: { type: 'string' } },
      required: ['c'],
      anyOf: [{ required: ['a', 'b'] }, { required: ['c', 'b'] }, { required: ['a'] }],
    };
    // "c" is required anyway, so the second alternative needs nothing more.
    expect(checkArguments(twoKeys, { b: 'x' }).missing).toEqual(['c']);
    expect(checkArguments(twoKeys, { c: 'x' }).missing).toEqual(['b']);
    expect(checkArguments(twoKeys, {}).missing).toEqual(['c', 'b']);
  });
});

describe('toolSpecProblems', () => {
  it('accepts every demo tool', () => {
    expect(demoTools).toHaveLength(6);
    demoTools.forEach((spec, index) => {
      expect(toolSpecProblems(spec, `tools[${index}]`)).toEqual([]);
    });
  });

  // Without `extract`: the cases below replace the parameters it names.
  const base: ToolSpec = { ...demoTool('request_refund') };
  delete base.extract;
  // Without `ask`, whose keys would no longer be properties once the parameters are replaced.
  const withParameters = (parameters: unknown): unknown => ({
    ...base,
    ask: undefined,
    parameters,
  });
  const withProperty = (property: unknown): unknown =>
    withParameters({ type: 'object', properties: { x: property } });

  it.each([
    ['a non-object', 'refund', ['t must be an object']],
    [
      'bad top-level fields',
      {
        ...base,
        name: 'Refund',
        description: { zh: '', en: 'x' },
        changesData: undefined,
        requiresConfirmation: 'yes',
        timeoutMs: 0,
        retries: 2,
      },
      [
        't has unsupported keyword "retries"; a tool supports: name, description, parameters, changesData, requiresConfirmation, timeoutMs, ask, extract, presentation',
        't.name must match /^[a-z][a-z0-9_]*$/',
        't.description.zh must be a non-empty string',
        't.changesData must be true or false (true when a call creates, updates or deletes data)',
        't.requiresConfirmation must be true or false',
        't.timeoutMs must be a positive number of milliseconds',
      ],
    ],
    [
      'a tool that changes data but does not ask first',
      { ...base, changesData: true, requiresConfirmation: false },
      [
        't: tool "request_refund" changes data but does not require confirmation; set "requiresConfirmation": true (a tool that changes data always asks the user first), or "changesData": false if it only reads',
      ],
    ],
    [
      'a read-only tool may ask first or not',
      { ...base, changesData: false, requiresConfirmation: true },
      [],
    ],
    [
      'an infinite timeout',
      { ...base, timeoutMs: Infinity },
      ['t.timeoutMs must be a positive number of milliseconds'],
    ],
    [
      'a timeout past what setTimeout can hold (it would fire at once)',
      { ...base, timeoutMs: 3e9 },
      ['t.timeoutMs must be at most 2147483647 ms (about 24.8 days): a longer timer fires at once'],
    ],
    ['the longest timeout setTimeout holds', { ...base, timeoutMs: 2_147_483_647 }, []],
    [
      'parameters that are not an object schema',
      withParameters({ type: 'array', properties: [], oneOf: [] }),
      [
        't.parameters.type must be "object"',
        't.parameters has unsupported keyword "oneOf"; the parameters object supports: type, properties, required, anyOf, additionalProperties',
        't.parameters.properties must be an object of parameter schemas',
      ],
    ],
    [
      'a nested object',
      withProperty({ type: 'object', properties: {} }),
      [
        't.parameters.properties.x: nested objects and arrays are not supported; a parameter must be of type "string", "number", "integer" or "boolean"',
      ],
    ],
    [
      'an array',
      withProperty({ type: 'array', items: { type: 'string' } }),
      [
        't.parameters.properties.x: nested objects and arrays are not supported; a parameter must be of type "string", "number", "integer" or "boolean"',
      ],
    ],
    [
      'a union type',
      withProperty({ type: ['string', 'null'] }),
      [
        't.parameters.properties.x.type: a parameter must be of type "string", "number", "integer" or "boolean"',
      ],
    ],
    [
      'a $ref',
      withProperty({ $ref: '#/defs/x' }),
      [
        't.parameters.properties.x.type: a parameter must be of type "string", "number", "integer" or "boolean"',
      ],
    ],
    [
      'unsupported keywords',
      withProperty({ type: 'string', format: 'date', default: 'x' }),
      [
        't.parameters.properties.x has unsupported keyword "format"; a string parameter supports: type, description, enum, pattern, minLength, maxLength',
        't.parameters.properties.x has unsupported keyword "default"; a string parameter supports: type, description, enum, pattern, minLength, maxLength',
      ],
    ],
    [
      'a bad pattern',
      withProperty({ type: 'string', pattern: '(?=x)y' }),
      [
        't.parameters.properties.x.pattern: invalid pattern "(?=x)y" at 0: lookarounds and named groups are not supported; use ( … ) or (?: … )',
      ],
    ],
    [
      'a pattern that cannot fit the lengths',
      withProperty({ type: 'string', pattern: '[0-9]{3}', maxLength: 2 }),
      ['t.parameters.properties.x.pattern matches no string within the length limits'],
    ],
    [
      'bad lengths',
      withProperty({ type: 'string', minLength: 5, maxLength: 2 }),
      ['t.parameters.properties.x.minLength must not be greater than maxLength'],
    ],
    [
      'a fractional length',
      withProperty({ type: 'string', maxLength: 2.5 }),
      ['t.parameters.properties.x.maxLength must be a non-negative integer'],
    ],
    [
      'enum values that break the schema',
      withProperty({ type: 'string', enum: ['ab', 'abc', 3, 'ab'], maxLength: 2 }),
      [
        't.parameters.properties.x.enum[1] must be at most 2 characters long',
        't.parameters.properties.x.enum[2] must be a string',
        't.parameters.properties.x.enum[3] is listed twice',
      ],
    ],
    [
      'an empty enum',
      withProperty({ type: 'string', enum: [] }),
      ['t.parameters.properties.x.enum must be a non-empty array'],
    ],
    [
      'bad number bounds',
      withProperty({ type: 'integer', minimum: 1.2, maximum: 1.8, enum: [1.5] }),
      [
        't.parameters.properties.x: no integer lies between minimum and maximum',
        't.parameters.properties.x.enum[0] must be an integer',
      ],
    ],
    [
      'a non-finite bound',
      withProperty({ type: 'number', minimum: '0' }),
      ['t.parameters.properties.x.minimum must be a finite number'],
    ],
    [
      'keywords of another type',
      withProperty({ type: 'boolean', enum: [true] }),
      [
        't.parameters.properties.x has unsupported keyword "enum"; a boolean parameter supports: type, description',
      ],
    ],
    [
      'bad key lists and names',
      withParameters({
        type: 'object',
        properties: { 'order-id': { type: 'string' } },
        required: ['order_id', 'order-id', 'order-id'],
        anyOf: [{ required: [] }, { not: { required: ['x'] } }],
        additionalProperties: true,
      }),
      [
        't.parameters.properties.order-id: parameter names must match /^[A-Za-z_][A-Za-z0-9_]*$/',
        't.parameters.required[0] "order_id" is not one of the properties',
        't.parameters.required[2] "order-id" is listed twice',
        't.parameters.anyOf[0].required must be a non-empty array of parameter names',
        't.parameters.anyOf[1]: only "anyOf": [{"required": [names…]}, …] is supported',
        't.parameters.additionalProperties may only be false',
      ],
    ],
    [
      'questions for unknown parameters',
      { ...base, ask: { order_id: { zh: '订单号？', en: 'Order?' }, colour: { zh: '颜色？' } } },
      [
        't.ask.colour: "colour" is not one of the properties',
        't.ask.colour.en must be a non-empty string',
      ],
    ],
  ])('names the problem: %s', (_case, spec, expected) => {
    expect(toolSpecProblems(spec, 't')).toEqual(expected);
  });
});
