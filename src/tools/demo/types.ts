/**
 * What the six demo tools return (docs: /work/notes/issue5-spec.md, "Demo tool results"). The
 * demo tools, the template replies, the widget's tool cards and the generated training data of the
 * demo model's reply step all use these shapes. Every value is plain JSON: dates are `YYYY-MM-DD`,
 * money is yuan as a number with at most two decimals.
 */
import { isRecord } from '../../shared/validation';

/** The states a demo order can be in. */
export const ORDER_STATUSES = ['待付款', '待发货', '已发货', '已签收', '已取消', '退款中'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** `lookup_order`: an order's state, items and amount. */
export interface LookupOrderResult {
  order_id: string;
  status: OrderStatus;
  /** Items as one line, e.g. `无线耳机 ×1，手机壳 ×2`. */
  items: string;
  amount: number;
  placed_at: string;
}

/**
 * `track_shipment`: where an order's parcel is. For an order not shipped yet the status is
 * `待发货` and `location` and `eta` are empty strings (so are `courier` and `tracking_number`
 * when no courier has been chosen).
 */
export interface TrackShipmentResult {
  order_id: string;
  /** e.g. 顺丰速运, 中通快递. */
  courier: string;
  /** e.g. SF1234567890. */
  tracking_number: string;
  /** e.g. 待发货, 运输中, 派送中, 已签收. */
  status: string;
  location: string;
  /** Estimated delivery date, or `""`. */
  eta: string;
}

/** `change_address`: the order's new delivery address and the one it replaced. */
export interface ChangeAddressResult {
  order_id: string;
  address: string;
  previous_address: string;
}

/** `request_refund`: the refund request that was opened. */
export interface RequestRefundResult {
  order_id: string;
  /** e.g. RF20241124001. */
  refund_id: string;
  amount: number;
  /** One of the tool's `reason` values (质量问题, 尺码不合适, 不想要了, 发错货, 其他). */
  reason: string;
  /** 已受理 for a new request. */
  status: string;
}

/** The kinds of invoice `request_invoice` issues. */
export const INVOICE_TYPES = ['电子普通发票', '增值税专用发票'] as const;
export type InvoiceType = (typeof INVOICE_TYPES)[number];

/** `request_invoice`: the invoice request that was opened. */
export interface RequestInvoiceResult {
  order_id: string;
  /** e.g. INV20241124001. */
  invoice_id: string;
  invoice_type: InvoiceType;
  /** 开具中 for a new request. */
  status: string;
}

/** `cancel_service`: what was cancelled and from when. */
export interface CancelServiceResult {
  /** The plan's name (月度会员, 年度会员, 自动续费) or `订单 2024113012345`. */
  cancelled: string;
  /** A date (`YYYY-MM-DD`) or `立即`. */
  effective: string;
}

/** Each demo tool's result type, by tool name. */
export interface DemoToolResults {
  lookup_order: LookupOrderResult;
  track_shipment: TrackShipmentResult;
  change_address: ChangeAddressResult;
  request_refund: RequestRefundResult;
  request_invoice: RequestInvoiceResult;
  cancel_service: CancelServiceResult;
}

export type DemoToolName = keyof DemoToolResults;

/** The demo tools' names, in catalog order. */
export const DEMO_TOOL_NAMES: readonly DemoToolName[] = [
  'lookup_order',
  'track_shipment',
  'change_address',
  'request_refund',
  'request_invoice',
  'cancel_service',
];

type FieldKind = 'string' | 'money' | 'date' | 'date-or-empty';

const RESULT_FIELDS: { [Name in DemoToolName]: Record<keyof DemoToolResults[Name], FieldKind> } = {
  lookup_order: {
    order_id: 'string',
    status: 'string',
    items: 'string',
    amount: 'money',
    placed_at: 'date',
  },
  track_shipment: {
    order_id: 'string',
    courier: 'string',
    tracking_number: 'string',
    status: 'string',
    location: 'string',
    eta: 'date-or-empty',
  },
  change_address: { order_id: 'string', address: 'string', previous_address: 'string' },
  request_refund: {
    order_id: 'string',
    refund_id: 'string',
    amount: 'money',
    reason: 'string',
    status: 'string',
  },
  request_invoice: {
    order_id: 'string',
    invoice_id: 'string',
    invoice_type: 'string',
    status: 'string',
  },
  cancel_service: { cancelled: 'string', effective: 'string' },
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `name` is one of the six demo tools. */
export function isDemoToolName(name: string): name is DemoToolName {
  return Object.prototype.hasOwnProperty.call(RESULT_FIELDS, name);
}

/**
 * Why `value` is not a result of the demo tool `name` (`null` when it is): the fields its type
 * lists, with the right JSON types, money with at most two decimals, dates as `YYYY-MM-DD`, and
 * the enumerated values (order status, invoice type). Extra fields are allowed.
 *
 * @example
 * demoResultProblem('cancel_service', { cancelled: '月度会员' }) // '"effective" must be a string'
 */
export function demoResultProblem(name: DemoToolName, value: unknown): string | null {
  if (!isRecord(value)) return 'the result must be a JSON object';
  const record = value;
  const fields: Record<string, FieldKind> = RESULT_FIELDS[name];
  for (const [field, kind] of Object.entries(fields)) {
    const item = record[field];
    if (kind === 'money') {
      if (typeof item !== 'number' || !Number.isFinite(item) || item < 0) {
        return `"${field}" must be a non-negative number`;
      }
      if (Math.abs(Math.round(item * 100) - item * 100) > 1e-6) {
        return `"${field}" must have at most two decimals`;
      }
      continue;
    }
    if (typeof item !== 'string') return `"${field}" must be a string`;
    if (kind === 'date' && !DATE.test(item)) return `"${field}" must be a date (YYYY-MM-DD)`;
    if (kind === 'date-or-empty' && item !== '' && !DATE.test(item)) {
      return `"${field}" must be a date (YYYY-MM-DD) or ""`;
    }
  }
  if (
    name === 'lookup_order' &&
    !(ORDER_STATUSES as readonly string[]).includes(record.status as string)
  ) {
    return `"status" must be one of ${ORDER_STATUSES.join(', ')}`;
  }
  if (
    name === 'request_invoice' &&
    !(INVOICE_TYPES as readonly string[]).includes(record.invoice_type as string)
  ) {
    return `"invoice_type" must be one of ${INVOICE_TYPES.join(', ')}`;
  }
  return null;
}
