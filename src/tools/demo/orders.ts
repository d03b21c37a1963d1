/**
 * The demo shop's starting data: a handful of orders covering every order status and the
 * customer's plans. The offline demo seeds its IndexedDB store from here once; tests seed their
 * in-memory store from here too, so both act on the same shop.
 */

import type { InvoiceType, OrderStatus } from './types';

/** Plans the customer can hold (the `plan` enum of `cancel_service`). */
export type PlanName = '月度会员' | '年度会员' | '自动续费';

/** Where a shipped parcel is, as the courier reports it. */
export interface DemoShipment {
  courier: string;
  tracking_number: string;
  /** The courier's own status text, e.g. 运输中, 派送中, 已签收. */
  status: string;
  location: string;
  /** Expected (or, once signed for, actual) delivery date, `YYYY-MM-DD`. */
  eta: string;
}

/** A refund opened for an order. */
export interface DemoRefund {
  refund_id: string;
  amount: number;
  reason: string;
  status: string;
}

/** An invoice requested for an order. */
export interface DemoInvoice {
  invoice_id: string;
  invoice_type: InvoiceType;
  status: string;
}

/** One order as the shop stores it. */
export interface DemoOrder {
  /** 13 digits, the `order_id` pattern of the catalog's tools. */
  order_id: string;
  /** The demo tools move orders between these states. */
  status: OrderStatus;
  /** What was bought, as shown to the customer: `无线耳机 ×1，手机壳 ×2`. */
  items: string;
  /** Yuan, at most 2 decimals. */
  amount: number;
  /** `YYYY-MM-DD`. */
  placed_at: string;
  address: string;
  shipment?: DemoShipment;
  refund?: DemoRefund;
  invoice?: DemoInvoice;
}

/** One of the customer's plans (memberships, auto-renewal). */
export interface DemoPlan {
  name: PlanName;
  active: boolean;
  /**
   * The last day already paid for, `YYYY-MM-DD`: a cancelled membership runs until then. Absent
   * for a plan that stops at once when cancelled (auto-renewal).
   */
  paid_until?: string;
}

/**
 * The demo shop's "today". NOTE: a fixed date, not the device clock, so refund and invoice
 * numbers (`RF20241124001`), the seeded dates and the demo model's training replies all agree,
 * and tests never depend on when they run.
 */
export const DEMO_TODAY = '2024-11-24';

/**
 * Bumped whenever the seed below changes, so a browser that stored an older seed reseeds
 * instead of mixing old records with new code.
 */
export const DEMO_SEED_VERSION = 1;

/** The seeded orders; every status appears at least once. */
export const DEMO_ORDERS: readonly DemoOrder[] = [
  {
    order_id: '2024113012345',
    status: '已发货',
    items: '无线耳机 ×1',
    amount: 299,
    placed_at: '2024-11-20',
    address: '上海市浦东新区世纪大道 100 号 8 楼',
    shipment: {
      courier: '顺丰速运',
      tracking_number: 'SF1234567890',
      status: '运输中',
      location: '上海浦东转运中心',
      eta: '2024-11-26',
    },
  },
  {
    order_id: '2024112098765',
    status: '已发货',
    items: '蓝牙音箱 ×1',
    amount: 199,
    placed_at: '2024-11-21',
    address: '浙江省杭州市西湖区文三路 90 号',
    shipment: {
      courier: '京东快递',
      tracking_number: 'JD0012345678901',
      status: '派送中',
      location: '杭州西湖营业部',
      eta: '2024-11-24',
    },
  },
  {
    order_id: '2024112256789',
    status: '待发货',
    items: '手机壳 ×2，数据线 ×1',
    amount: 87.5,
    placed_at: '2024-11-22',
    address: '北京市海淀区中关村大街 27 号',
  },
  {
    order_id: '2024111533333',
    status: '已签收',
    items: '机械键盘 ×1',
    amount: 459,
    placed_at: '2024-11-15',
    address: '广东省深圳市南山区科技园南区 6 栋',
    shipment: {
      courier: '中通快递',
      tracking_number: 'ZT7890123456',
      status: '已签收',
      location: '深圳市南山区',
      eta: '2024-11-18',
    },
  },
  {
    order_id: '2024112400001',
    status: '待付款',
    items: '保温杯 ×1',
    amount: 129,
    placed_at: '2024-11-24',
    address: '江苏省南京市鼓楼区中山路 18 号',
  },
  {
    order_id: '2024110800002',
    status: '已取消',
    items: '运动鞋 ×1',
    amount: 599,
    placed_at: '2024-11-08',
    address: '四川省成都市武侯区天府大道 1 号',
  },
  {
    order_id: '2024111066666',
    status: '退款中',
    items: '连衣裙 ×1',
    amount: 239.9,
    placed_at: '2024-11-10',
    address: '湖北省武汉市洪山区珞喻路 129 号',
    shipment: {
      courier: '圆通速递',
      tracking_number: 'YT5566778899',
      status: '已签收',
      location: '武汉市洪山区',
      eta: '2024-11-13',
    },
    refund: { refund_id: 'RF20241114001', amount: 239.9, reason: '尺码不合适', status: '已受理' },
  },
];

/** The customer's plans: a monthly membership and auto-renewal on, no yearly membership. */
export const DEMO_PLANS: readonly DemoPlan[] = [
  { name: '月度会员', active: true, paid_until: '2024-12-19' },
  { name: '年度会员', active: false },
  { name: '自动续费', active: true },
];
