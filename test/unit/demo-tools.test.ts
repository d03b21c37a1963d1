import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { validateCatalog } from '../../src/catalog/catalog';
import { ToolError } from '../../src/shared/errors';
import type { ToolArguments } from '../../src/catalog/types';
import { DEMO_ORDERS, DEMO_PLANS } from '../../src/tools/demo/orders';
import { templateReply } from '../../src/tools/demo/replies';
import { MemoryShopStore, type ShopStore } from '../../src/tools/demo/store';
import { createDemoTools } from '../../src/tools/demo/tools';
import { demoResultProblem, isDemoToolName, ORDER_STATUSES } from '../../src/tools/demo/types';
import { runToolCall } from '../../src/tools/executor';
import { ToolRegistry } from '../../src/tools/registry';

/**
 * The business rules of the demo shop, on the in-memory store (Node has no IndexedDB); the
 * IndexedDB store behind the same interface is covered by the demo's e2e test in Chromium.
 */

const catalog = validateCatalog(
  JSON.parse(readFileSync('data/demo/catalog.json', 'utf8')),
  'data/demo/catalog.json',
);

const SHIPPED = '2024113012345';
const SHIPPED_JD = '2024112098765';
const AWAITING_SHIPMENT = '2024112256789';
const DELIVERED = '2024111533333';
const UNPAID = '2024112400001';
const CANCELLED = '2024110800002';
const REFUNDING = '2024111066666';
const UNKNOWN = '2099010100000';

let store: ShopStore;
let registry: ToolRegistry;

beforeEach(() => {
  store = new MemoryShopStore();
  registry = new ToolRegistry(catalog.tools ?? [], createDemoTools(store));
});

/** Runs a demo tool the way the widget does: validated, confirmed. */
async function call(name: string, args: ToolArguments): Promise<unknown> {
  const run = await runToolCall(registry, { name, arguments: args }, { confirmed: true });
  return run.result;
}

async function refusal(name: string, args: ToolArguments): Promise<string> {
  const error: unknown = await call(name, args).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ToolError);
  expect(error).toMatchObject({ code: 'tool-failed', tool: name });
  return (error as ToolError).message;
}

describe('demo seed', () => {
  it('covers every order status, with 13-digit ids, and the three plans', () => {
    expect(new Set(DEMO_ORDERS.map((order) => order.status))).toEqual(new Set(ORDER_STATUSES));
    for (const order of DEMO_ORDERS) expect(order.order_id).toMatch(/^[0-9]{13}$/);
    expect(new Set(DEMO_ORDERS.map((order) => order.order_id)).size).toBe(DEMO_ORDERS.length);
    expect(DEMO_PLANS.map((plan) => [plan.name, plan.active])).toEqual([
      ['月度会员', true],
      ['年度会员', false],
      ['自动续费', true],
    ]);
  });
});

describe('lookup_order', () => {
  it('returns the stored order', async () => {
    expect(await call('lookup_order', { order_id: SHIPPED })).toEqual({
      order_id: SHIPPED,
      status: '已发货',
      items: '无线耳机 ×1',
      amount: 299,
      placed_at: '2024-11-20',
    });
    expect(await call('lookup_order', { order_id: AWAITING_SHIPMENT })).toEqual({
      order_id: AWAITING_SHIPMENT,
      status: '待发货',
      items: '手机壳 ×2，数据线 ×1',
      amount: 87.5,
      placed_at: '2024-11-22',
    });
  });

  it('reads as the spec’s example reply for the seeded shipped order', async () => {
    const result = await call('lookup_order', { order_id: SHIPPED });
    expect(templateReply('lookup_order', result, 'zh')).toBe(
      '订单 2024113012345 当前状态：已发货。商品：无线耳机 ×1，金额 ¥299.00，下单日期 2024-11-20。',
    );
  });

  it('says plainly when there is no such order', async () => {
    expect(await refusal('lookup_order', { order_id: UNKNOWN })).toBe(`没有找到订单 ${UNKNOWN}。`);
  });
});

describe('track_shipment', () => {
  it('returns the courier, tracking number, location and eta of a shipped order', async () => {
    expect(await call('track_shipment', { order_id: SHIPPED })).toEqual({
      order_id: SHIPPED,
      courier: '顺丰速运',
      tracking_number: 'SF1234567890',
      status: '运输中',
      location: '上海浦东转运中心',
      eta: '2024-11-26',
    });
    expect(await call('track_shipment', { order_id: SHIPPED_JD })).toMatchObject({
      courier: '京东快递',
      status: '派送中',
    });
  });

  it('returns 待发货 with empty fields for an order not shipped yet', async () => {
    expect(await call('track_shipment', { order_id: AWAITING_SHIPMENT })).toEqual({
      order_id: AWAITING_SHIPMENT,
      courier: '',
      tracking_number: '',
      status: '待发货',
      location: '',
      eta: '',
    });
  });

  it('refuses unpaid, cancelled and unknown orders', async () => {
    expect(await refusal('track_shipment', { order_id: UNPAID })).toBe(
      `订单 ${UNPAID} 还没有付款，付款后才会发货。`,
    );
    expect(await refusal('track_shipment', { order_id: CANCELLED })).toBe(
      `订单 ${CANCELLED} 已取消，没有物流信息。`,
    );
    expect(await refusal('track_shipment', { order_id: UNKNOWN })).toBe(
      `没有找到订单 ${UNKNOWN}。`,
    );
  });
});

describe('change_address', () => {
  it('changes the address of an order not yet delivered, and keeps the change', async () => {
    const address = '上海市徐汇区漕溪北路 88 号';
    expect(await call('change_address', { order_id: SHIPPED, address })).toEqual({
      order_id: SHIPPED,
      address,
      previous_address: '上海市浦东新区世纪大道 100 号 8 楼',
    });
    expect((await store.getOrder(SHIPPED))?.address).toBe(address);
    // A second change reports the first one as the previous address.
    expect(
      await call('change_address', { order_id: SHIPPED, address: '上海市静安区南京西路 1 号' }),
    ).toMatchObject({ previous_address: address });
  });

  it('refuses delivered, cancelled and refunding orders', async () => {
    const address = '上海市徐汇区漕溪北路 88 号';
    expect(await refusal('change_address', { order_id: DELIVERED, address })).toBe(
      `订单 ${DELIVERED} 已签收，不能再修改收货地址。`,
    );
    expect(await refusal('change_address', { order_id: CANCELLED, address })).toBe(
      `订单 ${CANCELLED} 已取消，不能修改收货地址。`,
    );
    expect(await refusal('change_address', { order_id: REFUNDING, address })).toBe(
      `订单 ${REFUNDING} 正在退款，不能修改收货地址。`,
    );
    expect((await store.getOrder(DELIVERED))?.address).toBe('广东省深圳市南山区科技园南区 6 栋');
  });
});

describe('request_refund', () => {
  it('opens a refund, numbers refunds in order and marks the order 退款中', async () => {
    expect(await call('request_refund', { order_id: DELIVERED, reason: '质量问题' })).toEqual({
      order_id: DELIVERED,
      refund_id: 'RF20241124001',
      amount: 459,
      reason: '质量问题',
      status: '已受理',
    });
    expect(await call('request_refund', { order_id: AWAITING_SHIPMENT })).toEqual({
      order_id: AWAITING_SHIPMENT,
      refund_id: 'RF20241124002',
      amount: 87.5,
      reason: '其他',
      status: '已受理',
    });
    expect(await call('lookup_order', { order_id: DELIVERED })).toMatchObject({ status: '退款中' });
    expect((await store.getOrder(DELIVERED))?.refund).toEqual({
      refund_id: 'RF20241124001',
      amount: 459,
      reason: '质量问题',
      status: '已受理',
    });
  });

  it('refuses unpaid, cancelled and already refunding orders', async () => {
    expect(await refusal('request_refund', { order_id: UNPAID })).toBe(
      `订单 ${UNPAID} 还没有付款，无需退款；不想要的话可以直接取消订单。`,
    );
    expect(await refusal('request_refund', { order_id: CANCELLED })).toBe(
      `订单 ${CANCELLED} 已取消，无法申请退款。`,
    );
    expect(await refusal('request_refund', { order_id: REFUNDING })).toBe(
      `订单 ${REFUNDING} 已有退款申请 RF20241114001（已受理），请耐心等待处理。`,
    );
    expect(await refusal('request_refund', { order_id: UNKNOWN })).toBe(
      `没有找到订单 ${UNKNOWN}。`,
    );
    // Refusals use up no refund number.
    expect(await call('request_refund', { order_id: SHIPPED })).toMatchObject({
      refund_id: 'RF20241124001',
    });
  });

  it('numbers by the shop date it is given', async () => {
    const tools = createDemoTools(store, { today: () => '2025-01-05' });
    expect(
      await tools.request_refund?.({ order_id: SHIPPED }, { signal: new AbortController().signal }),
    ).toMatchObject({ refund_id: 'RF20250105001' });
  });
});

describe('request_invoice', () => {
  it('requests an e-invoice by default, one per order', async () => {
    expect(await call('request_invoice', { order_id: DELIVERED })).toEqual({
      order_id: DELIVERED,
      invoice_id: 'INV20241124001',
      invoice_type: '电子普通发票',
      status: '开具中',
    });
    expect(
      await call('request_invoice', { order_id: SHIPPED, invoice_type: '增值税专用发票' }),
    ).toEqual({
      order_id: SHIPPED,
      invoice_id: 'INV20241124002',
      invoice_type: '增值税专用发票',
      status: '开具中',
    });
    expect(await refusal('request_invoice', { order_id: DELIVERED })).toBe(
      `订单 ${DELIVERED} 已经申请过发票（INV20241124001），每个订单只能开一张。`,
    );
    expect((await store.getOrder(SHIPPED))?.invoice).toEqual({
      invoice_id: 'INV20241124002',
      invoice_type: '增值税专用发票',
      status: '开具中',
    });
  });

  it('refuses unpaid, cancelled and refunding orders', async () => {
    expect(await refusal('request_invoice', { order_id: UNPAID })).toBe(
      `订单 ${UNPAID} 还没有付款，付款后才能开具发票。`,
    );
    expect(await refusal('request_invoice', { order_id: CANCELLED })).toBe(
      `订单 ${CANCELLED} 已取消，不能开具发票。`,
    );
    expect(await refusal('request_invoice', { order_id: REFUNDING })).toBe(
      `订单 ${REFUNDING} 正在退款，暂时不能开具发票。`,
    );
  });
});

describe('cancel_service', () => {
  it('cancels the monthly membership at the end of its paid period, once', async () => {
    expect(await call('cancel_service', { plan: '月度会员' })).toEqual({
      cancelled: '月度会员',
      effective: '2024-12-19',
    });
    expect((await store.getPlan('月度会员'))?.active).toBe(false);
    expect(await refusal('cancel_service', { plan: '月度会员' })).toBe(
      '您没有开通月度会员，无需取消。',
    );
  });

  it('turns auto-renewal off at once', async () => {
    expect(await call('cancel_service', { plan: '自动续费' })).toEqual({
      cancelled: '自动续费',
      effective: '立即',
    });
    expect((await store.getPlan('自动续费'))?.active).toBe(false);
  });

  it('refuses a plan that is not active', async () => {
    expect(await refusal('cancel_service', { plan: '年度会员' })).toBe(
      '您没有开通年度会员，无需取消。',
    );
  });

  it('cancels unpaid and not yet shipped orders at once', async () => {
    expect(await call('cancel_service', { order_id: UNPAID })).toEqual({
      cancelled: `订单 ${UNPAID}`,
      effective: '立即',
    });
    expect(await call('cancel_service', { order_id: AWAITING_SHIPMENT })).toEqual({
      cancelled: `订单 ${AWAITING_SHIPMENT}`,
      effective: '立即',
    });
    expect(await call('lookup_order', { order_id: UNPAID })).toMatchObject({ status: '已取消' });
    expect(await refusal('cancel_service', { order_id: UNPAID })).toBe(
      `订单 ${UNPAID} 已经取消了。`,
    );
  });

  it('refuses orders that shipped, arrived or are being refunded, and both at once', async () => {
    expect(await refusal('cancel_service', { order_id: SHIPPED })).toBe(
      `订单 ${SHIPPED} 已发货，不能取消；收到商品后可以申请退款退货。`,
    );
    expect(await refusal('cancel_service', { order_id: DELIVERED })).toBe(
      `订单 ${DELIVERED} 已签收，不能取消；收到商品后可以申请退款退货。`,
    );
    expect(await refusal('cancel_service', { order_id: REFUNDING })).toBe(
      `订单 ${REFUNDING} 正在退款，无需再取消。`,
    );
    expect(await refusal('cancel_service', { plan: '月度会员', order_id: UNPAID })).toBe(
      '一次只能取消一项：请告诉我是取消会员服务，还是取消订单。',
    );
    expect((await store.getPlan('月度会员'))?.active).toBe(true);
    expect((await store.getOrder(UNPAID))?.status).toBe('待付款');
  });
});

describe('the shop store', () => {
  it('hands out copies, so changing what was read changes nothing stored', async () => {
    const order = await store.getOrder(SHIPPED);
    if (order === undefined) throw new Error('seeded order missing');
    order.status = '已签收';
    expect((await store.getOrder(SHIPPED))?.status).toBe('已发货');
  });

  it('forgets every change on reset', async () => {
    await call('request_refund', { order_id: SHIPPED });
    await call('cancel_service', { plan: '自动续费' });
    await store.reset();
    expect((await store.getOrder(SHIPPED))?.status).toBe('已发货');
    expect((await store.getPlan('自动续费'))?.active).toBe(true);
    expect(await call('request_refund', { order_id: SHIPPED })).toMatchObject({
      refund_id: 'RF20241124001',
    });
  });
});

describe('results', () => {
  it('every successful result has the shape the reply templates read', async () => {
    const results: [string, unknown][] = [
      ['lookup_order', await call('lookup_order', { order_id: REFUNDING })],
      ['track_shipment', await call('track_shipment', { order_id: AWAITING_SHIPMENT })],
      [
        'change_address',
        await call('change_address', { order_id: UNPAID, address: '南京市玄武区 1 号' }),
      ],
      ['request_refund', await call('request_refund', { order_id: SHIPPED_JD })],
      ['request_invoice', await call('request_invoice', { order_id: DELIVERED })],
      ['cancel_service', await call('cancel_service', { plan: '月度会员' })],
    ];
    for (const [name, result] of results) {
      if (!isDemoToolName(name)) throw new Error(name);
      expect(demoResultProblem(name, result), name).toBeNull();
      expect(templateReply(name, result, 'zh'), name).toContain(
        name === 'cancel_service' ? '取消' : '',
      );
    }
  });
});
