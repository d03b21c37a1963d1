import { ToolError } from '../../shared/errors';
import type { ToolArguments } from '../../catalog/types';
import type { ToolImplementation } from '../registry';
import {
  DEMO_TODAY,
  type DemoInvoice,
  type DemoOrder,
  type DemoRefund,
  type PlanName,
} from './orders';
import type { SequenceKind, ShopStore } from './store';
import {
  INVOICE_TYPES,
  type CancelServiceResult,
  type ChangeAddressResult,
  type InvoiceType,
  type LookupOrderResult,
  type OrderStatus,
  type RequestInvoiceResult,
  type RequestRefundResult,
  type TrackShipmentResult,
} from './types';

/** Options of the demo tools. */
export interface DemoToolOptions {
  /** The shop's date, `YYYY-MM-DD`, used in refund/invoice numbers; defaults to `DEMO_TODAY`. */
  today?: () => string;
}

const DEFAULT_INVOICE_TYPE: InvoiceType = '电子普通发票';
const DEFAULT_REFUND_REASON = '其他';
const PLAN_NAMES: readonly PlanName[] = ['月度会员', '年度会员', '自动续费'];

/**
 * Reads a string argument. The executor has already checked the arguments against the tool's
 * schema; this guards direct callers (tests, hosts) from silently using a wrong type.
 */
function stringArgument(tool: string, args: ToolArguments, key: string): string {
  const value = args[key];
  if (typeof value !== 'string') {
    throw new ToolError('tool-invalid-arguments', tool, `${tool}: "${key}" must be a string.`);
  }
  return value;
}

function optionalStringArgument(tool: string, args: ToolArguments, key: string): string | null {
  return args[key] === undefined ? null : stringArgument(tool, args, key);
}

function isInvoiceType(value: string): value is InvoiceType {
  return (INVOICE_TYPES as readonly string[]).includes(value);
}

/** A business rule said no: the message is shown to the customer as it is. */
function refuse(tool: string, message: string): never {
  throw new ToolError('tool-failed', tool, message);
}

async function findOrder(store: ShopStore, tool: string, orderId: string): Promise<DemoOrder> {
  const order = await store.getOrder(orderId);
  return order ?? refuse(tool, `没有找到订单 ${orderId}。`);
}

/** `RF20241124001`: prefix, the shop's date without dashes, a three-digit counter. */
async function documentNumber(
  store: ShopStore,
  kind: SequenceKind,
  prefix: string,
  today: string,
): Promise<string> {
  const sequence = await store.nextSequence(kind);
  return `${prefix}${today.replaceAll('-', '')}${String(sequence).padStart(3, '0')}`;
}

const ADDRESS_LOCKED: Partial<Record<OrderStatus, string>> = {
  已签收: '已签收，不能再修改收货地址。',
  已取消: '已取消，不能修改收货地址。',
  退款中: '正在退款，不能修改收货地址。',
};

const REFUND_REFUSED: Partial<Record<OrderStatus, string>> = {
  待付款: '还没有付款，无需退款；不想要的话可以直接取消订单。',
  已取消: '已取消，无法申请退款。',
  退款中: '正在退款，请耐心等待处理。',
};

const INVOICE_REFUSED: Partial<Record<OrderStatus, string>> = {
  待付款: '还没有付款，付款后才能开具发票。',
  已取消: '已取消，不能开具发票。',
  退款中: '正在退款，暂时不能开具发票。',
};

/**
 * The six tools of the demo catalog (data/demo/catalog.json), acting on `store`. Results have
 * exactly the keys, in the order, that the reply templates and the demo model's training data
 * use; business refusals are `ToolError('tool-failed')` with a message for the customer.
 *
 * @example
 * const registry = new ToolRegistry(catalog.tools ?? [], createDemoTools(demoShopStore()));
 */
export function createDemoTools(
  store: ShopStore,
  options: DemoToolOptions = {},
): Record<string, ToolImplementation> {
  const today = options.today ?? (() => DEMO_TODAY);

  const lookupOrder: ToolImplementation = async (args) => {
    const order = await findOrder(
      store,
      'lookup_order',
      stringArgument('lookup_order', args, 'order_id'),
    );
    const result: LookupOrderResult = {
      order_id: order.order_id,
      status: order.status,
      items: order.items,
      amount: order.amount,
      placed_at: order.placed_at,
    };
    return result;
  };

  const trackShipment: ToolImplementation = async (args) => {
    const tool = 'track_shipment';
    const order = await findOrder(store, tool, stringArgument(tool, args, 'order_id'));
    const { shipment } = order;
    if (shipment !== undefined) {
      const result: TrackShipmentResult = {
        order_id: order.order_id,
        courier: shipment.courier,
        tracking_number: shipment.tracking_number,
        status: shipment.status,
        location: shipment.location,
        eta: shipment.eta,
      };
      return result;
    }
    switch (order.status) {
      case '待发货': {
        const result: TrackShipmentResult = {
          order_id: order.order_id,
          courier: '',
          tracking_number: '',
          status: '待发货',
          location: '',
          eta: '',
        };
        return result;
      }
      case '待付款':
        return refuse(tool, `订单 ${order.order_id} 还没有付款，付款后才会发货。`);
      case '已取消':
        return refuse(tool, `订单 ${order.order_id} 已取消，没有物流信息。`);
      default:
        return refuse(tool, `订单 ${order.order_id} 没有发货，没有物流信息。`);
    }
  };

  const changeAddress: ToolImplementation = async (args) => {
    const tool = 'change_address';
    const order = await findOrder(store, tool, stringArgument(tool, args, 'order_id'));
    const address = stringArgument(tool, args, 'address').trim();
    const locked = ADDRESS_LOCKED[order.status];
    if (locked !== undefined) refuse(tool, `订单 ${order.order_id} ${locked}`);
    const previous = order.address;
    await store.putOrder({ ...order, address });
    const result: ChangeAddressResult = {
      order_id: order.order_id,
      address,
      previous_address: previous,
    };
    return result;
  };

  const requestRefund: ToolImplementation = async (args) => {
    const tool = 'request_refund';
    const order = await findOrder(store, tool, stringArgument(tool, args, 'order_id'));
    const reason = optionalStringArgument(tool, args, 'reason') ?? DEFAULT_REFUND_REASON;
    if (order.refund !== undefined) {
      refuse(
        tool,
        `订单 ${order.order_id} 已有退款申请 ${order.refund.refund_id}（${order.refund.status}），请耐心等待处理。`,
      );
    }
    const refused = REFUND_REFUSED[order.status];
    if (refused !== undefined) refuse(tool, `订单 ${order.order_id} ${refused}`);
    const refund: DemoRefund = {
      refund_id: await documentNumber(store, 'refund', 'RF', today()),
      amount: order.amount,
      reason,
      status: '已受理',
    };
    await store.putOrder({ ...order, status: '退款中', refund });
    const result: RequestRefundResult = { order_id: order.order_id, ...refund };
    return result;
  };

  const requestInvoice: ToolImplementation = async (args) => {
    const tool = 'request_invoice';
    const order = await findOrder(store, tool, stringArgument(tool, args, 'order_id'));
    const invoiceType = optionalStringArgument(tool, args, 'invoice_type') ?? DEFAULT_INVOICE_TYPE;
    if (!isInvoiceType(invoiceType)) {
      throw new ToolError(
        'tool-invalid-arguments',
        tool,
        `${tool}: "invoice_type" must be one of ${INVOICE_TYPES.join(', ')}.`,
      );
    }
    if (order.invoice !== undefined) {
      refuse(
        tool,
        `订单 ${order.order_id} 已经申请过发票（${order.invoice.invoice_id}），每个订单只能开一张。`,
      );
    }
    const refused = INVOICE_REFUSED[order.status];
    if (refused !== undefined) refuse(tool, `订单 ${order.order_id} ${refused}`);
    const invoice: DemoInvoice = {
      invoice_id: await documentNumber(store, 'invoice', 'INV', today()),
      invoice_type: invoiceType,
      status: '开具中',
    };
    await store.putOrder({ ...order, invoice });
    const result: RequestInvoiceResult = { order_id: order.order_id, ...invoice };
    return result;
  };

  const cancelService: ToolImplementation = async (args) => {
    const tool = 'cancel_service';
    const planName = optionalStringArgument(tool, args, 'plan');
    const orderId = optionalStringArgument(tool, args, 'order_id');
    if (planName !== null && orderId !== null) {
      refuse(tool, '一次只能取消一项：请告诉我是取消会员服务，还是取消订单。');
    }
    if (orderId !== null) {
      const order = await findOrder(store, tool, orderId);
      if (order.status !== '待付款' && order.status !== '待发货') {
        const why =
          order.status === '已取消'
            ? '已经取消了'
            : order.status === '退款中'
              ? '正在退款，无需再取消'
              : `${order.status}，不能取消；收到商品后可以申请退款退货`;
        refuse(tool, `订单 ${order.order_id} ${why}。`);
      }
      await store.putOrder({ ...order, status: '已取消' });
      const result: CancelServiceResult = {
        cancelled: `订单 ${order.order_id}`,
        effective: '立即',
      };
      return result;
    }
    if (planName === null) return refuse(tool, '请告诉我要取消的会员服务或订单号。');
    const plan = PLAN_NAMES.includes(planName as PlanName)
      ? await store.getPlan(planName as PlanName)
      : undefined;
    if (plan === undefined) return refuse(tool, `没有找到服务「${planName}」。`);
    if (!plan.active) refuse(tool, `您没有开通${plan.name}，无需取消。`);
    await store.putPlan({ ...plan, active: false });
    // NOTE: a paid membership runs to the end of the paid period; auto-renewal stops at once.
    const result: CancelServiceResult = {
      cancelled: plan.name,
      effective: plan.paid_until ?? '立即',
    };
    return result;
  };

  return {
    lookup_order: lookupOrder,
    track_shipment: trackShipment,
    change_address: changeAddress,
    request_refund: requestRefund,
    request_invoice: requestInvoice,
    cancel_service: cancelService,
  };
}
