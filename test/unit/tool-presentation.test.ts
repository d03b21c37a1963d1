import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DATA } from '../../scripts/lib/paths';
import { validateCatalog } from '../../src/catalog/catalog';
import { templateToolDefinition } from '../../src/catalog/chat-template';
import type { ToolArguments, ToolSpec } from '../../src/catalog/types';
import { ToolError } from '../../src/shared/errors';
import { DEMO_ORDERS, DEMO_PLANS } from '../../src/tools/demo/orders';
import { MemoryShopStore } from '../../src/tools/demo/store';
import { createDemoTools } from '../../src/tools/demo/tools';
import { ORDER_STATUSES } from '../../src/tools/demo/types';
import {
  argumentRows,
  choiceLabel,
  confirmSentence,
  resultRows,
  toolTitle,
} from '../../src/ui/tool-presentation';

const catalog = validateCatalog(
  JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')),
  'data/demo/catalog.json',
);
const tools = catalog.tools ?? [];

function tool(name: string): ToolSpec {
  const spec = tools.find((candidate) => candidate.name === name);
  if (!spec) throw new Error(`no demo tool ${name}`);
  return spec;
}

/** The same tool as a catalog without a presentation declares it. */
function bare(name: string): ToolSpec {
  const spec = { ...tool(name) };
  delete spec.presentation;
  return spec;
}

const ORDER = '2024113012345';
/** Han characters and CJK punctuation (，。：、fullwidth forms): none may reach the English UI. */
const CJK = /[\u2e80-\u303f\u3400-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]/u;

describe('toolTitle', () => {
  it("is the presentation's title, else the description", () => {
    expect(toolTitle(tool('request_refund'), 'zh')).toBe('退款申请');
    expect(toolTitle(tool('request_refund'), 'en')).toBe('Refund request');
    expect(toolTitle(bare('request_refund'), 'en')).toBe(
      'Open a refund or return request for an order.',
    );
  });
});

describe('argumentRows', () => {
  it('labels arguments and gives enum values in the customer’s words, in parameter order', () => {
    const args = { reason: '尺码不合适', order_id: ORDER };
    expect(argumentRows(tool('request_refund'), args, 'zh')).toEqual([
      { key: 'order_id', label: '订单号', value: ORDER },
      { key: 'reason', label: '退款原因', value: '尺码不合适' },
    ]);
    expect(argumentRows(tool('request_refund'), args, 'en')).toEqual([
      { key: 'order_id', label: 'Order number', value: ORDER },
      { key: 'reason', label: 'Reason', value: 'Wrong size' },
    ]);
    expect(argumentRows(tool('cancel_service'), { plan: '自动续费' }, 'en')).toEqual([
      { key: 'plan', label: 'Plan', value: 'Auto-renewal' },
    ]);
  });

  it('falls back to keys and raw values, writes booleans as words, leaves out empty values', () => {
    const args: ToolArguments = { reason: '尺码不合适', order_id: ORDER, urgent: true, note: '' };
    expect(argumentRows(bare('request_refund'), args, 'en')).toEqual([
      { key: 'order_id', label: 'order_id', value: ORDER },
      { key: 'reason', label: 'reason', value: '尺码不合适' },
      { key: 'urgent', label: 'urgent', value: 'Yes' },
    ]);
    expect(argumentRows(bare('request_refund'), { urgent: false }, 'zh')).toEqual([
      { key: 'urgent', label: 'urgent', value: '否' },
    ]);
  });
});

describe('confirmSentence', () => {
  it('states exactly what will change, in the customer’s language', () => {
    const address = { order_id: ORDER, address: 'Room 801, 100 Century Avenue, Shanghai' };
    expect(confirmSentence(tool('change_address'), address, 'en')).toBe(
      `Change the delivery address of order ${ORDER} to: Room 801, 100 Century Avenue, Shanghai.`,
    );
    expect(
      confirmSentence(
        tool('change_address'),
        { order_id: ORDER, address: '上海市浦东新区世纪大道 100 号 8 楼' },
        'zh',
      ),
    ).toBe(`将订单 ${ORDER} 的收货地址改为：上海市浦东新区世纪大道 100 号 8 楼。`);
    const refund = { order_id: ORDER, reason: '尺码不合适' };
    expect(confirmSentence(tool('request_refund'), refund, 'zh')).toBe(
      `为订单 ${ORDER} 申请退款，原因：尺码不合适。`,
    );
    expect(confirmSentence(tool('request_refund'), refund, 'en')).toBe(
      `Request a refund for order ${ORDER}. Reason: Wrong size.`,
    );
  });

  it('takes the first sentence whose placeholders all have arguments', () => {
    expect(confirmSentence(tool('request_refund'), { order_id: ORDER }, 'zh')).toBe(
      `为订单 ${ORDER} 申请退款。`,
    );
    expect(confirmSentence(tool('request_invoice'), { order_id: ORDER }, 'en')).toBe(
      `Issue a standard e-invoice for order ${ORDER}.`,
    );
    expect(
      confirmSentence(
        tool('request_invoice'),
        { order_id: ORDER, invoice_type: '增值税专用发票' },
        'en',
      ),
    ).toBe(`Issue an invoice for order ${ORDER}. Type: VAT special invoice.`);
    expect(confirmSentence(tool('cancel_service'), { plan: '月度会员' }, 'zh')).toBe(
      '取消月度会员。',
    );
    expect(confirmSentence(tool('cancel_service'), { plan: '月度会员' }, 'en')).toBe(
      'Cancel your plan: Monthly membership.',
    );
    expect(confirmSentence(tool('cancel_service'), { order_id: ORDER }, 'en')).toBe(
      `Cancel order ${ORDER}.`,
    );
  });

  it('without a sentence, lists every argument after the title', () => {
    expect(confirmSentence(tool('lookup_order'), { order_id: ORDER }, 'zh')).toBe(
      `订单详情：订单号：${ORDER}。`,
    );
    expect(confirmSentence(tool('lookup_order'), { order_id: ORDER }, 'en')).toBe(
      `Order details: Order number: ${ORDER}.`,
    );
    const refund = { order_id: ORDER, reason: '其他' };
    expect(confirmSentence(bare('request_refund'), refund, 'zh')).toBe(
      `为订单提交退款退货申请：order_id：${ORDER}；reason：其他。`,
    );
    expect(confirmSentence(bare('request_refund'), {}, 'en')).toBe(
      'Open a refund or return request for an order.',
    );
  });
});

describe('resultRows', () => {
  const order = {
    order_id: '2024112256789',
    status: '待发货',
    items: '手机壳 ×2，数据线 ×1',
    amount: 87.5,
    placed_at: '2024-11-22',
  };

  it('shows the fields the presentation lists, labelled and formatted', () => {
    expect(resultRows(tool('lookup_order'), order, 'zh')).toEqual([
      { key: 'order_id', label: '订单号', value: '2024112256789' },
      { key: 'status', label: '状态', value: '待发货' },
      { key: 'items', label: '商品', value: '手机壳 ×2，数据线 ×1' },
      { key: 'amount', label: '金额', value: '¥87.50' },
      { key: 'placed_at', label: '下单日期', value: '2024年11月22日' },
    ]);
    expect(resultRows(tool('lookup_order'), order, 'en')).toEqual([
      { key: 'order_id', label: 'Order number', value: '2024112256789' },
      { key: 'status', label: 'Status', value: 'Awaiting shipment' },
      { key: 'items', label: 'Items', value: 'Phone case ×2, Charging cable ×1' },
      { key: 'amount', label: 'Amount', value: '¥87.50' },
      { key: 'placed_at', label: 'Ordered on', value: 'Nov 22, 2024' },
    ]);
  });

  it('leaves out empty fields and copies ids through value templates', () => {
    const notShipped = {
      order_id: '2024112256789',
      courier: '',
      tracking_number: '',
      status: '待发货',
      location: '',
      eta: '',
    };
    expect(resultRows(tool('track_shipment'), notShipped, 'en')).toEqual([
      { key: 'order_id', label: 'Order number', value: '2024112256789' },
      { key: 'status', label: 'Status', value: 'Awaiting shipment' },
    ]);
    const cancelled = { cancelled: '订单 2024112256789', effective: '立即' };
    expect(resultRows(tool('cancel_service'), cancelled, 'en')).toEqual([
      { key: 'cancelled', label: 'Cancelled', value: 'Order 2024112256789' },
      { key: 'effective', label: 'Takes effect', value: 'Immediately' },
    ]);
    expect(resultRows(tool('cancel_service'), cancelled, 'zh')).toEqual([
      { key: 'cancelled', label: '已取消', value: '订单 2024112256789' },
      { key: 'effective', label: '生效时间', value: '立即' },
    ]);
    const membership = { cancelled: '月度会员', effective: '2024-12-19' };
    expect(resultRows(tool('cancel_service'), membership, 'en')).toEqual([
      { key: 'cancelled', label: 'Cancelled', value: 'Monthly membership' },
      { key: 'effective', label: 'Takes effect', value: 'Dec 19, 2024' },
    ]);
  });

  it('without a list, shows every scalar field by its key (parameter names by their label)', () => {
    const withNested = { ...order, lines: [{ sku: 'A1' }], extra: { note: 'x' } };
    expect(resultRows(bare('lookup_order'), withNested, 'en')).toEqual([
      { key: 'order_id', label: 'order_id', value: '2024112256789' },
      { key: 'status', label: 'status', value: '待发货' },
      { key: 'items', label: 'items', value: '手机壳 ×2，数据线 ×1' },
      { key: 'amount', label: 'amount', value: '87.5' },
      { key: 'placed_at', label: 'placed_at', value: '2024-11-22' },
    ]);
    const unlisted = structuredClone(tool('lookup_order'));
    delete unlisted.presentation?.result;
    expect(resultRows(unlisted, order, 'en').slice(0, 2)).toEqual([
      { key: 'order_id', label: 'Order number', value: '2024112256789' },
      { key: 'status', label: 'status', value: 'Awaiting shipment' },
    ]);
    expect(resultRows(tool('lookup_order'), 'done', 'en')).toEqual([]);
    expect(resultRows(tool('lookup_order'), null, 'en')).toEqual([]);
  });

  it('writes lists and objects a listed field holds as one line of text', () => {
    const spec: ToolSpec = {
      ...tool('lookup_order'),
      presentation: {
        title: { zh: '订单', en: 'Order' },
        fields: { order_id: { zh: '订单号', en: 'Order number' } },
        values: { 无线耳机: { zh: '无线耳机', en: 'Wireless earbuds' } },
        result: [
          { key: 'items', label: { zh: '商品', en: 'Items' } },
          { key: 'amounts', label: { zh: '金额', en: 'Amounts' }, format: 'yuan' },
          { key: 'buyer', label: { zh: '买家', en: 'Buyer' } },
          { key: 'none', label: { zh: '无', en: 'None' } },
        ],
      },
    };
    const result = {
      items: [{ name: '无线耳机', quantity: 1 }, '手机壳'],
      amounts: [299, 12.5],
      buyer: { name: 'Li', vip: true, address: { city: 'x' } },
      none: [],
    };
    expect(resultRows(spec, result, 'en')).toEqual([
      { key: 'items', label: 'Items', value: 'Wireless earbuds · 1, 手机壳' },
      { key: 'amounts', label: 'Amounts', value: '¥299.00, ¥12.50' },
      { key: 'buyer', label: 'Buyer', value: 'Li · Yes' },
    ]);
    expect(resultRows(spec, result, 'zh')[1]).toEqual({
      key: 'amounts',
      label: '金额',
      value: '¥299.00，¥12.50',
    });
  });
});

describe('choiceLabel', () => {
  it('gives an enum value in the customer’s words, else the value', () => {
    expect(choiceLabel(tool('request_refund'), 'reason', '尺码不合适', 'en')).toBe('Wrong size');
    expect(choiceLabel(tool('request_refund'), 'reason', '尺码不合适', 'zh')).toBe('尺码不合适');
    expect(choiceLabel(tool('request_invoice'), 'invoice_type', '增值税专用发票', 'en')).toBe(
      'VAT special invoice',
    );
    expect(choiceLabel(bare('request_refund'), 'reason', '尺码不合适', 'en')).toBe('尺码不合适');
  });
});

describe('the presentation stays out of the model’s prompt', () => {
  it('is not part of the tool definition the chat template writes', () => {
    for (const spec of tools) {
      expect(spec.presentation).toBeDefined();
      expect(templateToolDefinition(spec)).toEqual(templateToolDefinition(bare(spec.name)));
      expect(JSON.stringify(templateToolDefinition(spec))).not.toContain('presentation');
    }
  });
});

/** Every result the demo tools can give on the seeded shop, each call on a fresh store. */
async function everyDemoResult(): Promise<{ name: string; result: unknown }[]> {
  const calls: { name: string; args: ToolArguments }[] = [];
  for (const { order_id } of DEMO_ORDERS) {
    calls.push(
      { name: 'lookup_order', args: { order_id } },
      { name: 'track_shipment', args: { order_id } },
      { name: 'change_address', args: { order_id, address: 'Room 5, 1 Main Street' } },
      { name: 'request_refund', args: { order_id } },
      { name: 'request_invoice', args: { order_id } },
      { name: 'cancel_service', args: { order_id } },
    );
    for (const reason of enumOf('request_refund', 'reason')) {
      calls.push({ name: 'request_refund', args: { order_id, reason } });
    }
    for (const type of enumOf('request_invoice', 'invoice_type')) {
      calls.push({ name: 'request_invoice', args: { order_id, invoice_type: type } });
    }
  }
  for (const plan of DEMO_PLANS) calls.push({ name: 'cancel_service', args: { plan: plan.name } });
  const results: { name: string; result: unknown }[] = [];
  for (const { name, args } of calls) {
    const run = createDemoTools(new MemoryShopStore())[name];
    if (!run) throw new Error(`no demo tool ${name}`);
    try {
      results.push({ name, result: await run(args, { signal: new AbortController().signal }) });
    } catch (error) {
      // A business refusal is shown as an error, not as a result card.
      if (!(error instanceof ToolError) || error.code !== 'tool-failed') throw error;
    }
  }
  return results;
}

function enumOf(name: string, key: string): string[] {
  const schema = tool(name).parameters.properties[key];
  return schema?.type === 'string' ? (schema.enum ?? []) : [];
}

describe('the English UI shows no Chinese for the demo tools', () => {
  it('in titles, labels, enum choices, arguments and confirmations', () => {
    for (const spec of tools) {
      expect(toolTitle(spec, 'en')).not.toMatch(CJK);
      for (const [key, schema] of Object.entries(spec.parameters.properties)) {
        const choices = schema.type === 'string' ? (schema.enum ?? []) : [];
        for (const value of choices) {
          const args = { order_id: ORDER, [key]: value };
          expect(choiceLabel(spec, key, value, 'en')).not.toMatch(CJK);
          for (const row of argumentRows(spec, args, 'en')) {
            expect(`${row.label} ${row.value}`).not.toMatch(CJK);
          }
          expect(confirmSentence(spec, { [key]: value }, 'en')).not.toMatch(CJK);
          expect(confirmSentence(spec, args, 'en')).not.toMatch(CJK);
        }
      }
    }
  });

  it('in every result the demo tools give, except addresses the customer gave', async () => {
    const results = await everyDemoResult();
    // Every tool answered at least once on the seeded shop.
    expect(new Set(results.map(({ name }) => name))).toEqual(new Set(tools.map((t) => t.name)));
    for (const status of ORDER_STATUSES) {
      results.push({
        name: 'lookup_order',
        result: { ...DEMO_ORDERS[0], status },
      });
    }
    for (const { name, result } of results) {
      const rows = resultRows(tool(name), result, 'en');
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.label).not.toMatch(CJK);
        if (row.key === 'address' || row.key === 'previous_address') continue;
        expect({ name, key: row.key, value: row.value }).toEqual({
          name,
          key: row.key,
          value: expect.not.stringMatching(CJK) as unknown,
        });
      }
    }
  });
});
