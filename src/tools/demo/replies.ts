import { ToolError } from '../../shared/errors';
import {
  demoResultProblem,
  isDemoToolName,
  type DemoToolName,
  type DemoToolResults,
} from './types';

/**
 * One fixed reply per demo tool, written from its result: what the widget shows when model-written
 * replies are off, and (in Chinese) the target the demo model learns for its reply step
 * (scripts/generate-tool-data.ts), so a model-written reply reads like the template.
 */

export type ReplyLanguage = 'zh' | 'en';

/**
 * The reply to the user after the demo tool `name` returned `result`.
 *
 * @throws ToolError `tool-unknown` for a name that is not a demo tool, `tool-bad-result` for a
 *   result that does not have the tool's shape (see src/tools/demo/types.ts).
 * @example
 * templateReply('cancel_service', { cancelled: '月度会员', effective: '立即' }, 'zh')
 * // '已取消月度会员，立即生效。'
 */
export function templateReply(name: string, result: unknown, language: ReplyLanguage): string {
  if (!isDemoToolName(name)) {
    throw new ToolError('tool-unknown', name, `"${name}" is not one of the demo tools`);
  }
  const problem = demoResultProblem(name, result);
  if (problem !== null) {
    throw new ToolError('tool-bad-result', name, `${name} returned a bad result: ${problem}`);
  }
  return replyOf(name, result as DemoToolResults[typeof name], language);
}

function replyOf<Name extends DemoToolName>(
  name: Name,
  result: DemoToolResults[Name],
  language: ReplyLanguage,
): string {
  const write: (result: DemoToolResults[Name]) => string = TEMPLATES[name][language];
  return write(result);
}

/** Money in yuan as the templates show it: `¥299.00`. */
export function formatYuan(amount: number): string {
  return `¥${amount.toFixed(2)}`;
}

/** English for the Chinese values the demo tools return; anything else is shown as it is. */
const ENGLISH: Record<string, string> = {
  待付款: 'awaiting payment',
  待发货: 'awaiting shipment',
  已发货: 'shipped',
  已签收: 'delivered',
  已取消: 'cancelled',
  退款中: 'refund in progress',
  已揽收: 'picked up',
  运输中: 'in transit',
  派送中: 'out for delivery',
  已受理: 'accepted',
  开具中: 'being issued',
  已开具: 'issued',
  质量问题: 'quality problem',
  尺码不合适: 'wrong size',
  不想要了: 'no longer wanted',
  发错货: 'wrong item sent',
  其他: 'other',
  电子普通发票: 'standard e-invoice',
  增值税专用发票: 'VAT special invoice',
  月度会员: 'the monthly membership',
  年度会员: 'the annual membership',
  自动续费: 'auto-renewal',
  立即: 'immediately',
  无线耳机: 'wireless earbuds',
  蓝牙音箱: 'Bluetooth speaker',
  手机壳: 'phone case',
  数据线: 'charging cable',
  机械键盘: 'mechanical keyboard',
  保温杯: 'insulated bottle',
  运动鞋: 'sneakers',
  连衣裙: 'dress',
  顺丰速运: 'SF Express',
  京东快递: 'JD Logistics',
  中通快递: 'ZTO Express',
  圆通速递: 'YTO Express',
  上海浦东转运中心: 'the Shanghai Pudong sorting centre',
  杭州西湖营业部: 'the Hangzhou Xihu delivery station',
  深圳市南山区: 'Nanshan District, Shenzhen',
  武汉市洪山区: 'Hongshan District, Wuhan',
};

/** A list of items as the demo store writes it (`手机壳 ×2，数据线 ×1`), in English. */
function englishItems(items: string): string {
  return items
    .split('，')
    .map((item) => {
      const [name = '', count] = item.split(' ×');
      return count === undefined ? english(name) : `${english(name)} ×${count}`;
    })
    .join(', ');
}

function english(value: string): string {
  const order = /^订单 ?(\d+)$/.exec(value);
  if (order) return `order ${order[1]}`;
  return ENGLISH[value] ?? value;
}

/** An order not shipped yet has no parcel to describe. */
function notShipped(result: DemoToolResults['track_shipment']): boolean {
  return result.status === '待发货' || result.tracking_number === '';
}

type Templates = {
  [Name in DemoToolName]: Record<ReplyLanguage, (result: DemoToolResults[Name]) => string>;
};

const TEMPLATES: Templates = {
  lookup_order: {
    zh: (r) =>
      `订单 ${r.order_id} 当前状态：${r.status}。商品：${r.items}，金额 ${formatYuan(r.amount)}，下单日期 ${r.placed_at}。`,
    en: (r) =>
      `Order ${r.order_id} is ${english(r.status)}. Items: ${englishItems(r.items)}, amount ${formatYuan(r.amount)}, placed on ${r.placed_at}.`,
  },
  track_shipment: {
    zh: (r) => {
      if (notShipped(r)) return `订单 ${r.order_id} 尚未发货，暂无物流信息。`;
      const where = r.location === '' ? '' : `，位置：${r.location}`;
      const eta = r.eta === '' ? '' : `，预计 ${r.eta} 送达`;
      return `订单 ${r.order_id} 由${r.courier}配送，运单号 ${r.tracking_number}，当前状态：${r.status}${where}${eta}。`;
    },
    en: (r) => {
      if (notShipped(r))
        return `Order ${r.order_id} has not shipped yet; there is no tracking information.`;
      const where = r.location === '' ? '' : `, location: ${english(r.location)}`;
      const eta = r.eta === '' ? '' : `, expected by ${r.eta}`;
      return `Order ${r.order_id} ships with ${english(r.courier)}, tracking number ${r.tracking_number}, status: ${english(r.status)}${where}${eta}.`;
    },
  },
  change_address: {
    zh: (r) =>
      `订单 ${r.order_id} 的收货地址已改为：${r.address}（原地址：${r.previous_address}）。`,
    en: (r) =>
      `The delivery address of order ${r.order_id} is now ${r.address} (was ${r.previous_address}).`,
  },
  request_refund: {
    zh: (r) =>
      `已为订单 ${r.order_id} 提交退款申请，退款单号 ${r.refund_id}，金额 ${formatYuan(r.amount)}，原因：${r.reason}，当前状态：${r.status}。`,
    en: (r) =>
      `Refund request ${r.refund_id} opened for order ${r.order_id}: ${formatYuan(r.amount)}, reason: ${english(r.reason)}, status: ${english(r.status)}.`,
  },
  request_invoice: {
    zh: (r) =>
      `已为订单 ${r.order_id} 申请${r.invoice_type}，申请号 ${r.invoice_id}，当前状态：${r.status}。`,
    en: (r) =>
      `Invoice request ${r.invoice_id} opened for order ${r.order_id} (${english(r.invoice_type)}), status: ${english(r.status)}.`,
  },
  cancel_service: {
    zh: (r) =>
      `已取消${r.cancelled}，${r.effective === '立即' ? '立即生效' : `${r.effective} 起生效`}。`,
    en: (r) =>
      `Cancelled ${english(r.cancelled)}, effective ${r.effective === '立即' ? 'immediately' : `from ${r.effective}`}.`,
  },
};
