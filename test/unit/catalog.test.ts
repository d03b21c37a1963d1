import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { intentsByLabel, validateCatalog } from '../../src/catalog/catalog';
import { DataValidationError } from '../../src/shared/errors';
import { DEMO_DATA } from '../../scripts/lib/paths';

const text = { zh: '文', en: 'text' };
const intent = (id: string, label: string) => ({ id, label, name: text, description: text });
const valid = {
  version: 1,
  id: 'shop',
  name: text,
  fallbackIntent: 'other',
  intents: [intent('refund', '退款退货'), intent('other', '其他')],
};

describe('validateCatalog', () => {
  it('accepts a well-formed catalog and indexes it by label', () => {
    const catalog = validateCatalog(valid);
    expect(intentsByLabel(catalog).get('退款退货')?.id).toBe('refund');
  });

  it('lists every problem at once', () => {
    const broken = {
      ...valid,
      fallbackIntent: 'missing',
      intents: [intent('refund', '退款退货'), intent('refund', ' 其他'), { id: 'Bad' }],
    };
    let issues: string[] = [];
    try {
      validateCatalog(broken, 'cat.json');
    } catch (error) {
      if (!(error instanceof DataValidationError)) throw error;
      expect(error.code).toBe('catalog-invalid');
      issues = error.issues.map((i) => i.reason);
    }
    expect(issues).toEqual([
      'intents[1].id "refund" is used twice',
      'intents[1].label must be a non-empty string without surrounding spaces',
      'intents[2].id must match /^[a-z][a-z0-9_]*$/',
      'intents[2].label must be a non-empty string without surrounding spaces',
      'intents[2].name must be an object with "zh" and "en" strings',
      'intents[2].description must be an object with "zh" and "en" strings',
      '"fallbackIntent" must be the id of one of the intents',
    ]);
  });
});

/** The reasons `validateCatalog` gives for `value`, or [] when it accepts it. */
function reasons(value: unknown): string[] {
  try {
    validateCatalog(value, 'cat.json');
    return [];
  } catch (error) {
    if (!(error instanceof DataValidationError)) throw error;
    return error.issues.map((issue) => issue.reason);
  }
}

describe('validateCatalog: tools and escalation', () => {
  const demo = JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')) as {
    tools: Record<string, unknown>[];
    intents: Record<string, unknown>[];
  };
  const lookup = demo.tools[0] as Record<string, unknown>;

  it('accepts the demo catalog with its six tools', () => {
    const catalog = validateCatalog(demo, 'data/demo/catalog.json');
    expect(catalog.tools?.map((tool) => tool.name)).toEqual([
      'lookup_order',
      'track_shipment',
      'change_address',
      'request_refund',
      'request_invoice',
      'cancel_service',
    ]);
    expect(catalog.intents.filter((intent) => intent.escalate).map((i) => i.id)).toEqual([
      'human_agent',
    ]);
    // Tool intents route by their binding; these four name where their messages go instead.
    expect(Object.keys(catalog.routes ?? {})).toEqual([
      'payment',
      'account',
      'complaint',
      'greeting',
    ]);
    // Lookups only read; the others create or change records, so each asks the user first.
    expect(
      catalog.tools?.map((tool) => [tool.name, tool.changesData, tool.requiresConfirmation]),
    ).toEqual([
      ['lookup_order', false, false],
      ['track_shipment', false, false],
      ['change_address', true, true],
      ['request_refund', true, true],
      ['request_invoice', true, true],
      ['cancel_service', true, true],
    ]);
  });

  it('refuses a tool that changes data without confirmation, naming the tool and the fix', () => {
    const unasked = { ...lookup, name: 'wipe_orders', changesData: true };
    expect(reasons({ ...valid, tools: [lookup, unasked] })).toEqual([
      'tools[1]: tool "wipe_orders" changes data but does not require confirmation; set "requiresConfirmation": true (a tool that changes data always asks the user first), or "changesData": false if it only reads',
    ]);
    expect(reasons({ ...valid, tools: [{ ...lookup, changesData: undefined }] })).toEqual([
      'tools[0].changesData must be true or false (true when a call creates, updates or deletes data)',
    ]);
  });

  it('names each problem of tools and bindings', () => {
    const broken = {
      ...valid,
      intents: [
        { ...intent('order', '查询订单'), tool: 'lookup_orders' },
        { ...intent('agent', '转人工'), escalate: 'yes' },
        { ...intent('both', '两者'), tool: 'lookup_order', escalate: true },
        intent('other', '其他'),
      ],
      tools: [
        lookup,
        { ...lookup, timeoutMs: -1 },
        {
          ...lookup,
          name: 'bad-name',
          parameters: { type: 'object', properties: { items: { type: 'array' } } },
        },
        {
          ...lookup,
          name: 'nested',
          parameters: { ...(lookup.parameters as object), $ref: '#/x' },
        },
      ],
    };
    expect(reasons(broken)).toEqual([
      'tools[1].timeoutMs must be a positive number of milliseconds',
      'tools[1].name "lookup_order" is used twice',
      'tools[2].name must match /^[a-z][a-z0-9_]*$/',
      'tools[2].parameters.properties.items: nested objects and arrays are not supported; a parameter must be of type "string", "number", "integer" or "boolean"',
      'tools[2].ask.order_id: "order_id" is not one of the properties',
      'tools[2].extract: "order_id" must name a string parameter without "enum" (values copied from the message)',
      'tools[3].parameters has unsupported keyword "$ref"; the parameters object supports: type, properties, required, anyOf, additionalProperties',
      'tools[2].presentation.fields.order_id: "order_id" is not a parameter of tool "bad-name"',
      'tools[2].presentation.fields has no name for parameter "items" of tool "bad-name" (customers would see the key)',
      'intents[0].tool must be the name of one of the "tools"',
      'intents[1].escalate must be true or false',
      'intents[2] cannot both call a tool and escalate',
    ]);
  });

  it('requires tools to be an array', () => {
    expect(reasons({ ...valid, tools: { lookup_order: lookup } })).toEqual([
      '"tools" must be an array of tool declarations',
    ]);
  });
});

describe('validateCatalog: tool presentation', () => {
  const demo = JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')) as {
    tools: Record<string, unknown>[];
  };
  const refund = demo.tools.find((tool) => tool.name === 'request_refund') as Record<
    string,
    unknown
  >;
  const lookup = demo.tools[0] as Record<string, unknown>;
  const withPresentation = (presentation: unknown) => ({
    ...valid,
    tools: [{ ...refund, presentation }],
  });
  const zh = (text: string) => ({ zh: text, en: 'text' });

  it('gives every demo tool a title and a name for each parameter', () => {
    const catalog = validateCatalog(demo, 'data/demo/catalog.json');
    for (const tool of catalog.tools ?? []) {
      expect(tool.presentation?.title.en).toBeTruthy();
      expect(Object.keys(tool.presentation?.fields ?? {}).sort()).toEqual(
        Object.keys(tool.parameters.properties).sort(),
      );
    }
  });

  it('is optional', () => {
    const bare = { ...lookup };
    delete bare.presentation;
    expect(reasons({ ...valid, tools: [bare] })).toEqual([]);
  });

  it('names each problem, with the tool and the key', () => {
    const where = 'tools[0].presentation';
    expect(
      reasons(
        withPresentation({
          title: { zh: '退款申请' },
          fields: { order_id: zh('订单号'), reasn: zh('原因') },
          values: {
            '{id}': zh('x'),
            '订单 {id}': { zh: '订单 {id}', en: 'Order {number}' },
            其他: 'Other',
          },
          confirm: [
            { zh: '为订单 {order_id} 退款 {amount}', en: 'Refund {amount} for order {order_id}' },
            { zh: '为订单 {order_id} 退款', en: 'Refund order {order_id}, reason {reason}' },
            { zh: '为订单 {order id} 退款', en: 'Refund order' },
          ],
          result: [
            { key: 'amount', label: zh('金额'), format: 'money' },
            { key: 'amount', label: zh('金额'), hidden: true },
            { label: zh('状态') },
          ],
          icon: 'refund.svg',
        }),
      ),
    ).toEqual([
      `${where} has unsupported key "icon"; a presentation supports: title, fields, values, confirm, result`,
      `${where}.title.en must be a non-empty string`,
      `${where}.fields.reasn: "reasn" is not a parameter of tool "request_refund"`,
      `${where}.fields has no name for parameter "reason" of tool "request_refund" (customers would see the key)`,
      `${where}.values["{id}"]: a value must have text besides its placeholders`,
      `${where}.values["订单 {id}"].en uses {number}, which the value "订单 {id}" does not have`,
      `${where}.values["其他"] must be an object with "zh" and "en" strings`,
      `${where}.confirm[0].zh uses {amount}, which is not a parameter of tool "request_refund"`,
      `${where}.confirm[0].en uses {amount}, which is not a parameter of tool "request_refund"`,
      `${where}.confirm[1]: zh and en must use the same placeholders (zh: {order_id}; en: {order_id}, {reason})`,
      `${where}.confirm[2].zh has a "{" or "}" that is not part of a {name} placeholder`,
      `${where}.result[0].format must be one of yuan, date, list`,
      `${where}.result[1] has unsupported key "hidden"; a result field supports: key, label, format`,
      `${where}.result[1].key "amount" is listed twice`,
      `${where}.result[2].key must be the name of a field of tool "request_refund"'s result`,
    ]);
  });

  it('refuses a presentation, confirmation or result list of the wrong shape', () => {
    expect(reasons(withPresentation('退款申请'))).toEqual([
      'tools[0].presentation must be an object with "title" and "fields" (how customers see tool "request_refund")',
    ]);
    const base = { title: zh('退款申请'), fields: { order_id: zh('订单号'), reason: zh('原因') } };
    expect(
      reasons(withPresentation({ ...base, values: ['其他'], confirm: [], result: {} })),
    ).toEqual([
      'tools[0].presentation.values must be an object of {zh, en} texts by value',
      'tools[0].presentation.confirm must be a {zh, en} sentence or a non-empty list of them',
      'tools[0].presentation.result must be a list of {key, label, format?} result fields',
    ]);
    expect(
      reasons(withPresentation({ ...base, fields: undefined, confirm: { zh: '退款 {order_id}' } })),
    ).toEqual([
      "tools[0].presentation.fields must be an object of customers' names by parameter name",
      'tools[0].presentation.confirm.en must be a non-empty string',
    ]);
  });
});
