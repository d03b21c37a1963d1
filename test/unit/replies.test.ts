import { describe, expect, it } from 'vitest';
import { ToolError } from '../../src/shared/errors';
import { formatYuan, templateReply } from '../../src/tools/demo/replies';
import { DEMO_ORDERS } from '../../src/tools/demo/orders';
import { demoResultProblem } from '../../src/tools/demo/types';

const ORDER = '2024113012345';

function toolErrorOf(run: () => unknown): { code: string; tool: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ToolError)
      return { code: error.code, tool: error.tool, message: error.message };
    throw error;
  }
  throw new Error('expected a ToolError');
}

describe('templateReply', () => {
  it('answers an English customer in English for every order and parcel of the demo shop', () => {
    const cjk = /[\u3400-\u9fff]/u;
    for (const order of DEMO_ORDERS) {
      const { order_id, status, items, amount, placed_at, shipment } = order;
      const lookup = { order_id, status, items, amount, placed_at };
      expect(templateReply('lookup_order', lookup, 'en'), order_id).not.toMatch(cjk);
      if (!shipment) continue;
      const parcel = { order_id, ...shipment };
      expect(templateReply('track_shipment', parcel, 'en'), order_id).not.toMatch(cjk);
    }
  });

  it('writes the lookup_order reply of the spec, in zh and en', () => {
    const result = {
      order_id: ORDER,
      status: '已发货',
      items: '无线耳机 ×1，手机壳 ×2',
      amount: 299,
      placed_at: '2024-11-20',
    };
    expect(templateReply('lookup_order', result, 'zh')).toBe(
      '订单 2024113012345 当前状态：已发货。商品：无线耳机 ×1，手机壳 ×2，金额 ¥299.00，下单日期 2024-11-20。',
    );
    expect(templateReply('lookup_order', result, 'en')).toBe(
      'Order 2024113012345 is shipped. Items: wireless earbuds ×1, phone case ×2, amount ¥299.00, placed on 2024-11-20.',
    );
  });

  it('describes a parcel on its way, and an order not shipped yet without empty fields', () => {
    const moving = {
      order_id: ORDER,
      courier: '顺丰速运',
      tracking_number: 'SF1234567890',
      status: '运输中',
      location: '上海转运中心',
      eta: '2024-11-26',
    };
    expect(templateReply('track_shipment', moving, 'zh')).toBe(
      '订单 2024113012345 由顺丰速运配送，运单号 SF1234567890，当前状态：运输中，位置：上海转运中心，预计 2024-11-26 送达。',
    );
    expect(templateReply('track_shipment', moving, 'en')).toBe(
      'Order 2024113012345 ships with SF Express, tracking number SF1234567890, status: in transit, location: 上海转运中心, expected by 2024-11-26.',
    );
    const delivered = { ...moving, status: '已签收', eta: '' };
    expect(templateReply('track_shipment', delivered, 'zh')).toBe(
      '订单 2024113012345 由顺丰速运配送，运单号 SF1234567890，当前状态：已签收，位置：上海转运中心。',
    );
    const waiting = {
      order_id: ORDER,
      courier: '',
      tracking_number: '',
      status: '待发货',
      location: '',
      eta: '',
    };
    expect(templateReply('track_shipment', waiting, 'zh')).toBe(
      '订单 2024113012345 尚未发货，暂无物流信息。',
    );
    expect(templateReply('track_shipment', waiting, 'en')).toBe(
      'Order 2024113012345 has not shipped yet; there is no tracking information.',
    );
  });

  it('confirms an address change, a refund and an invoice request', () => {
    const address = {
      order_id: ORDER,
      address: '上海市浦东新区世纪大道100号',
      previous_address: '北京市朝阳区建国路88号',
    };
    expect(templateReply('change_address', address, 'zh')).toBe(
      '订单 2024113012345 的收货地址已改为：上海市浦东新区世纪大道100号（原地址：北京市朝阳区建国路88号）。',
    );
    expect(templateReply('change_address', address, 'en')).toBe(
      'The delivery address of order 2024113012345 is now 上海市浦东新区世纪大道100号 (was 北京市朝阳区建国路88号).',
    );
    const refund = {
      order_id: ORDER,
      refund_id: 'RF20241124001',
      amount: 59.9,
      reason: '尺码不合适',
      status: '已受理',
    };
    expect(templateReply('request_refund', refund, 'zh')).toBe(
      '已为订单 2024113012345 提交退款申请，退款单号 RF20241124001，金额 ¥59.90，原因：尺码不合适，当前状态：已受理。',
    );
    expect(templateReply('request_refund', refund, 'en')).toBe(
      'Refund request RF20241124001 opened for order 2024113012345: ¥59.90, reason: wrong size, status: accepted.',
    );
    const invoice = {
      order_id: ORDER,
      invoice_id: 'INV20241124001',
      invoice_type: '增值税专用发票',
      status: '开具中',
    };
    expect(templateReply('request_invoice', invoice, 'zh')).toBe(
      '已为订单 2024113012345 申请增值税专用发票，申请号 INV20241124001，当前状态：开具中。',
    );
    expect(templateReply('request_invoice', invoice, 'en')).toBe(
      'Invoice request INV20241124001 opened for order 2024113012345 (VAT special invoice), status: being issued.',
    );
  });

  it('confirms a cancelled plan or order, immediately or from a date', () => {
    expect(
      templateReply('cancel_service', { cancelled: '月度会员', effective: '立即' }, 'zh'),
    ).toBe('已取消月度会员，立即生效。');
    expect(
      templateReply('cancel_service', { cancelled: '月度会员', effective: '立即' }, 'en'),
    ).toBe('Cancelled the monthly membership, effective immediately.');
    const order = { cancelled: `订单 ${ORDER}`, effective: '2024-12-19' };
    expect(templateReply('cancel_service', order, 'zh')).toBe(
      '已取消订单 2024113012345，2024-12-19 起生效。',
    );
    expect(templateReply('cancel_service', order, 'en')).toBe(
      'Cancelled order 2024113012345, effective from 2024-12-19.',
    );
  });

  it('refuses unknown tools and results of the wrong shape with typed errors', () => {
    expect(toolErrorOf(() => templateReply('send_email', {}, 'zh'))).toMatchObject({
      code: 'tool-unknown',
      tool: 'send_email',
    });
    expect(toolErrorOf(() => templateReply('lookup_order', null, 'zh'))).toEqual({
      code: 'tool-bad-result',
      tool: 'lookup_order',
      message: 'lookup_order returned a bad result: the result must be a JSON object',
    });
    const noDate = { cancelled: '月度会员' };
    expect(toolErrorOf(() => templateReply('cancel_service', noDate, 'en')).message).toBe(
      'cancel_service returned a bad result: "effective" must be a string',
    );
  });
});

describe('demoResultProblem', () => {
  const order = {
    order_id: ORDER,
    status: '已发货',
    items: '无线耳机 ×1',
    amount: 299,
    placed_at: '2024-11-20',
  };

  it('accepts the spec shapes, extra fields included', () => {
    expect(demoResultProblem('lookup_order', order)).toBeNull();
    expect(demoResultProblem('lookup_order', { ...order, note: 'x' })).toBeNull();
  });

  it('names the first field that is wrong', () => {
    expect(demoResultProblem('lookup_order', { ...order, status: '在路上' })).toBe(
      '"status" must be one of 待付款, 待发货, 已发货, 已签收, 已取消, 退款中',
    );
    expect(demoResultProblem('lookup_order', { ...order, amount: 1.005 })).toBe(
      '"amount" must have at most two decimals',
    );
    expect(demoResultProblem('lookup_order', { ...order, amount: '299' })).toBe(
      '"amount" must be a non-negative number',
    );
    expect(demoResultProblem('lookup_order', { ...order, placed_at: '2024/11/20' })).toBe(
      '"placed_at" must be a date (YYYY-MM-DD)',
    );
    const invoice = {
      order_id: ORDER,
      invoice_id: 'INV1',
      invoice_type: '纸质发票',
      status: '开具中',
    };
    expect(demoResultProblem('request_invoice', invoice)).toBe(
      '"invoice_type" must be one of 电子普通发票, 增值税专用发票',
    );
  });

  it('formats yuan with two decimals', () => {
    expect([formatYuan(299), formatYuan(19.9), formatYuan(1299.5), formatYuan(0.1 + 0.2)]).toEqual([
      '¥299.00',
      '¥19.90',
      '¥1299.50',
      '¥0.30',
    ]);
  });
});
