/**
 * The demo model's tool-call and tool-reply data, generated from templates with a seeded random
 * generator (scripts/generate-tool-data.ts writes it to data/demo/). Order ids are mostly random
 * 13-digit numbers, so the model learns to copy the id from the message instead of memorising a
 * few; held-out rows use ids and addresses never seen in training.
 *
 * The rules in `argumentsInMessage` say which arguments a message gives (an order id, a refund
 * reason, an invoice type, a plan); they annotate the hand-written rows of data/demo and are
 * checked against every generated row, so both kinds of rows follow one convention: an argument
 * the message does not give is left out, never guessed.
 */
import { normalizeMessage, seededRandom } from '../../src/dataset/dataset';
import type { Catalog } from '../../src/catalog/catalog';
import type { ToolArguments, ToolCall } from '../../src/catalog/tool-spec';
import { templateReply } from '../../src/tools/demo/replies';
import { ORDER_STATUSES } from '../../src/tools/demo/types';

/** A row of data/demo/*.jsonl: a message, its intent label and, for a tool intent, the call. */
export interface ToolCallRow {
  text: string;
  label: string;
  tool_call?: ToolCall;
}

/** A row of data/demo/tool-replies.*.jsonl: a finished tool call and the reply to write. */
export interface ToolReplyRow {
  text: string;
  label: string;
  tool_call: ToolCall;
  result: unknown;
  reply: string;
}

/**
 * The order ids of the demo shop's seeded store (src/tools/demo/orders.ts) and of the issue's
 * examples: training rows show each a few times, held-out rows never.
 */
export const SEEDED_ORDER_IDS = [
  '2024113012345',
  '2024112054321',
  '2024112098765',
  '2024112256789',
  '2024111533333',
  '2024112400001',
  '2024110800002',
  '2024111066666',
] as const;

// -----------------------------------------------------------------------------
// which arguments a message gives

const ORDER_ID = /(?<![0-9A-Za-z])(\d{13})(?!\d)/;

/** First matching rule wins; each maps the words a customer uses to one enum value. */
const REASON_RULES: [string, RegExp][] = [
  ['发错货', /发错|错发|发成了|型号不对|颜色不对|wrong item/i],
  ['质量问题', /质量|坏|破损|瑕疵|划痕|开线|漏水|defective|broken|damaged|quality/i],
  [
    '尺码不合适',
    /尺码|尺寸|码数|大了|小了|偏大|偏小|太大|太小|不合身|大一码|小一码|大码|小码|换个码|fit|size/i,
  ],
  ['不想要了', /不想要|不要了|不需要了|买多了|changed my mind|no longer (?:want|need)|don't want/i],
  ['其他', /其他原因/],
];

const INVOICE_RULES: [string, RegExp][] = [
  ['增值税专用发票', /专票|专用发票|增值税专用|special invoice|vat invoice/i],
  ['电子普通发票', /电子发票|电子普票|普票|普通发票|电子票|e-invoice|electronic invoice/i],
];

const PLAN_RULES: [string, RegExp][] = [
  ['自动续费', /自动续费|自动扣费|自动续订|自动续期|自动扣款|auto-?renew/i],
  ['年度会员', /年度会员|年会员|年卡|年费|annual|yearly/i],
  ['月度会员', /月度会员|月会员|月卡|包月|monthly/i],
];

function firstRule(rules: [string, RegExp][], text: string): string | undefined {
  return rules.find(([, pattern]) => pattern.test(text))?.[0];
}

/**
 * The arguments of the demo tool `tool` that `text` states outright: a 13-digit order id, and
 * the refund reason, invoice type or plan when the message names one. Addresses are not
 * recognised by rule (generated rows carry them; hand-written rows are annotated one by one).
 */
export function argumentsInMessage(tool: string, text: string): ToolArguments {
  const args: ToolArguments = {};
  const plan = tool === 'cancel_service' ? firstRule(PLAN_RULES, text) : undefined;
  if (plan) args.plan = plan;
  const id = ORDER_ID.exec(text)?.[1];
  if (id) args.order_id = id;
  if (tool === 'request_refund') {
    const reason = firstRule(REASON_RULES, text);
    if (reason) args.reason = reason;
  }
  if (tool === 'request_invoice') {
    const type = firstRule(INVOICE_RULES, text);
    if (type) args.invoice_type = type;
  }
  return args;
}

/** Addresses in hand-written rows, which no rule finds: message → new delivery address. */
const HAND_ANNOTATED_ADDRESSES: Record<string, string> = {
  订单2024113012345的地址改成上海市浦东新区张江路88号: '上海市浦东新区张江路88号',
};

/** Arguments in the catalog's parameter order (the order the model writes them in). */
export function orderedArguments(
  catalog: Catalog,
  tool: string,
  args: ToolArguments,
): ToolArguments {
  const spec = catalog.tools?.find((candidate) => candidate.name === tool);
  if (!spec) throw new Error(`tool ${tool} is not in the catalog`);
  const ordered: ToolArguments = {};
  for (const key of Object.keys(spec.parameters.properties)) {
    const value = args[key];
    if (value !== undefined) ordered[key] = value;
  }
  const stray = Object.keys(args).filter((key) => !(key in spec.parameters.properties));
  if (stray.length > 0) throw new Error(`${tool} has no parameter ${stray.join(', ')}`);
  return ordered;
}

/**
 * A hand-written row with its tool call: rows of a tool intent whose message gives arguments get
 * `tool_call`; the others stay `{text, label}` (their call has no arguments).
 */
export function annotateRow(catalog: Catalog, row: { text: string; label: string }): ToolCallRow {
  const tool = catalog.intents.find((intent) => intent.label === row.label)?.tool;
  const plain = { text: row.text, label: row.label };
  if (!tool) return plain;
  const args = argumentsInMessage(tool, row.text);
  const address = HAND_ANNOTATED_ADDRESSES[row.text];
  if (address && tool === 'change_address') args.address = address;
  if (Object.keys(args).length === 0) return plain;
  return { ...plain, tool_call: { name: tool, arguments: orderedArguments(catalog, tool, args) } };
}

// -----------------------------------------------------------------------------
// random values

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function digits(random: Random, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(Math.floor(random() * 10));
  return out;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

function randomDate(random: Random, years: readonly number[] = [2024, 2025]): string {
  return `${pick(random, years)}-${pad2(1 + Math.floor(random() * 12))}-${pad2(1 + Math.floor(random() * 28))}`;
}

/** Mostly date-like ids (2024113012345: year, month, day, five digits), some fully random. */
function randomOrderId(random: Random): string {
  if (random() < 0.3) return String(1 + Math.floor(random() * 9)) + digits(random, 12);
  return randomDate(random, [2023, 2024, 2025]).replaceAll('-', '') + digits(random, 5);
}

const CITIES: { city: string; province?: string; districts: string[] }[] = [
  { city: '北京市', districts: ['朝阳区', '海淀区', '东城区', '西城区', '丰台区', '通州区'] },
  { city: '上海市', districts: ['浦东新区', '徐汇区', '静安区', '黄浦区', '闵行区', '杨浦区'] },
  { city: '天津市', districts: ['和平区', '南开区', '河西区'] },
  { city: '重庆市', districts: ['渝中区', '江北区', '南岸区'] },
  { city: '广州市', province: '广东省', districts: ['天河区', '越秀区', '海珠区', '番禺区'] },
  { city: '深圳市', province: '广东省', districts: ['南山区', '福田区', '宝安区', '龙岗区'] },
  { city: '杭州市', province: '浙江省', districts: ['西湖区', '余杭区', '拱墅区', '滨江区'] },
  { city: '成都市', province: '四川省', districts: ['武侯区', '锦江区', '青羊区', '成华区'] },
  { city: '南京市', province: '江苏省', districts: ['鼓楼区', '玄武区', '江宁区', '建邺区'] },
  { city: '苏州市', province: '江苏省', districts: ['姑苏区', '吴中区', '相城区'] },
  { city: '武汉市', province: '湖北省', districts: ['洪山区', '江汉区', '武昌区'] },
  { city: '西安市', province: '陕西省', districts: ['雁塔区', '碑林区', '未央区'] },
  { city: '长沙市', province: '湖南省', districts: ['岳麓区', '天心区', '芙蓉区'] },
  { city: '郑州市', province: '河南省', districts: ['金水区', '二七区', '中原区'] },
  { city: '厦门市', province: '福建省', districts: ['思明区', '湖里区', '集美区'] },
  { city: '青岛市', province: '山东省', districts: ['市南区', '崂山区', '黄岛区'] },
];
const ROADS = [
  '人民路',
  '中山路',
  '解放路',
  '建设路',
  '世纪大道',
  '南京西路',
  '科技园路',
  '文化路',
  '长江路',
  '黄河路',
  '幸福路',
  '学院路',
  '东风路',
  '和平路',
  '新华路',
  '滨江大道',
  '复兴路',
  '花园路',
  '青年路',
  '银杏路',
  '天府大道',
  '延安东路',
  '淮海中路',
  '张江路',
];
const ESTATES = [
  '阳光小区',
  '幸福家园',
  '金色家园',
  '锦绣花园',
  '东方花园',
  '翠苑',
  '和平里',
  '绿城',
];

/** A full delivery address: city, district, road and number, often a building and room. */
function randomAddress(random: Random): string {
  const place = pick(random, CITIES);
  const province = place.province && random() < 0.3 ? place.province : '';
  const base = `${province}${place.city}${pick(random, place.districts)}${pick(random, ROADS)}${1 + Math.floor(random() * 300)}号`;
  const extra = random();
  if (extra < 0.3) return base;
  if (extra < 0.6) {
    return `${base}${1 + Math.floor(random() * 20)}栋${1 + Math.floor(random() * 30)}0${1 + Math.floor(random() * 6)}室`;
  }
  if (extra < 0.85) {
    return `${base}${pick(random, ESTATES)}${1 + Math.floor(random() * 12)}号楼${1 + Math.floor(random() * 4)}单元`;
  }
  return `${base}${pick(random, ESTATES)}`;
}

const PRODUCTS: [string, number][] = [
  ['无线耳机', 299],
  ['手机壳', 39],
  ['充电宝', 129],
  ['数据线', 19.9],
  ['蓝牙音箱', 199],
  ['运动鞋', 459],
  ['连衣裙', 269],
  ['保温杯', 89],
  ['机械键盘', 349],
  ['羽绒服', 899],
  ['牛仔裤', 199],
  ['护肤套装', 368],
  ['台灯', 129.5],
  ['电饭煲', 459],
  ['双肩包', 159],
  ['智能手表', 1299],
  ['面膜', 79.9],
  ['咖啡豆', 68],
];

function randomItems(random: Random): { items: string; amount: number } {
  const count = 1 + Math.floor(random() * 3);
  const chosen = new Map<string, [number, number]>();
  while (chosen.size < count) {
    const [name, price] = pick(random, PRODUCTS);
    chosen.set(name, [price, 1 + Math.floor(random() * 3)]);
  }
  const items = [...chosen].map(([name, [, quantity]]) => `${name} ×${quantity}`).join('，');
  const cents = [...chosen.values()].reduce(
    (sum, [price, quantity]) => sum + Math.round(price * 100) * quantity,
    0,
  );
  return { items, amount: cents / 100 };
}

function randomAmount(random: Random): number {
  return random() < 0.5 ? randomItems(random).amount : Math.round(random() * 50000) / 100 + 10;
}

const COURIERS: [string, string][] = [
  ['顺丰速运', 'SF'],
  ['中通快递', 'ZT'],
  ['圆通速递', 'YT'],
  ['韵达快递', 'YD'],
  ['京东物流', 'JD'],
  ['邮政EMS', 'EM'],
];

// -----------------------------------------------------------------------------
// message templates

/**
 * Slots: {id} an order id, {addr} an address, {reason} {type} {plan} a phrase naming an enum
 * value (the value itself or a synonym), {phone} an 11-digit phone number and {tracking} a
 * courier's tracking number (neither is an order id). Every fourth template of a list is held
 * out for the test and valid rows, so the held-out figure also covers unseen phrasings.
 */
interface IntentTemplates {
  label: string;
  tool?: string;
  templates: string[];
}

const REASON_PHRASES: [string, string][] = [
  ['质量问题', '质量有问题'],
  ['质量问题', '东西坏了'],
  ['质量问题', '收到就是坏的'],
  ['质量问题', '有破损'],
  ['质量问题', '质量太差'],
  ['质量问题', '有划痕'],
  ['尺码不合适', '尺码不合适'],
  ['尺码不合适', '尺码不对'],
  ['尺码不合适', '太小了'],
  ['尺码不合适', '太大了'],
  ['尺码不合适', '穿着不合身'],
  ['不想要了', '不想要了'],
  ['不想要了', '不需要了'],
  ['不想要了', '买多了'],
  ['发错货', '发错货了'],
  ['发错货', '颜色发错了'],
  ['发错货', '型号不对'],
  ['其他', '其他原因'],
];
const REASON_PHRASES_EN: [string, string][] = [
  ['质量问题', 'it arrived broken'],
  ['质量问题', 'it is defective'],
  ['尺码不合适', 'it does not fit'],
  ['尺码不合适', 'wrong size'],
  ['不想要了', 'I changed my mind'],
  ['发错货', 'you sent the wrong item'],
];
const INVOICE_PHRASES: [string, string][] = [
  ['增值税专用发票', '增值税专用发票'],
  ['增值税专用发票', '专票'],
  ['增值税专用发票', '专用发票'],
  ['电子普通发票', '电子普通发票'],
  ['电子普通发票', '电子发票'],
  ['电子普通发票', '普通发票'],
  ['电子普通发票', '普票'],
];
const INVOICE_PHRASES_EN: [string, string][] = [
  ['增值税专用发票', 'a VAT special invoice'],
  ['电子普通发票', 'an e-invoice'],
];
const PLAN_PHRASES: [string, string][] = [
  ['月度会员', '月度会员'],
  ['月度会员', '月会员'],
  ['月度会员', '包月会员'],
  ['年度会员', '年度会员'],
  ['年度会员', '年会员'],
  ['年度会员', '年卡会员'],
  ['自动续费', '自动续费'],
  ['自动续费', '自动扣费'],
  ['自动续费', '自动续订'],
];
const PLAN_PHRASES_EN: [string, string][] = [
  ['月度会员', 'monthly membership'],
  ['年度会员', 'annual membership'],
  ['自动续费', 'auto-renewal'],
];

const TOOL_TEMPLATES: IntentTemplates[] = [
  {
    label: '查询订单',
    tool: 'lookup_order',
    templates: [
      '帮我查一下订单 {id}',
      '查询订单{id}',
      '订单号 {id} 现在什么状态',
      '{id} 这个订单发货了吗',
      '我的订单 {id} 怎么还没发货',
      '请问订单{id}的处理进度',
      '订单{id}下单成功了吗',
      '看看 {id} 这单到哪一步了',
      '订单号：{id}，帮我查下状态',
      '麻烦查下单号{id}',
      '我想知道订单 {id} 的情况',
      '{id} 订单状态',
      '订单 {id} 一直显示处理中是怎么回事',
      '你好，订单{id}还在处理吗',
      '帮忙看看订单{id}有没有问题',
      '订单 {id} 什么时候发货',
      '查一下{id}',
      '我下的订单 {id} 现在是什么情况',
      '订单{id}怎么找不到了',
      '请帮我确认订单 {id} 的状态，谢谢',
      'check order {id}',
      "what's the status of order {id}",
      'has order {id} shipped yet',
      'order {id} status please',
      'can you look up my order {id}',
    ],
  },
  {
    label: '物流查询',
    tool: 'track_shipment',
    templates: [
      '订单 {id} 的快递到哪了',
      '查一下 {id} 的物流',
      '{id} 物流信息',
      '订单{id}什么时候能送到',
      '我的包裹到哪里了，订单号{id}',
      '订单号{id}用的哪家快递',
      '订单{id}的运单号是多少',
      '帮我看看订单 {id} 的配送进度',
      '{id} 这单快递怎么还没到',
      '订单 {id} 的包裹在路上几天了',
      '查物流 {id}',
      '订单{id}预计几号送达',
      '订单 {id} 显示已发货，现在到哪了',
      '请查询订单{id}的快递信息',
      '{id} 派送到哪了',
      '订单{id}的快递一直没更新',
      'track order {id}',
      'where is the parcel for order {id}',
      'when will order {id} arrive',
      'which courier is delivering order {id}',
    ],
  },
  {
    label: '修改信息',
    tool: 'change_address',
    templates: [
      '把订单 {id} 的地址改成{addr}',
      '订单{id}收货地址改为{addr}',
      '修改订单 {id} 的收货地址：{addr}',
      '{id} 这单地址填错了，改成{addr}',
      '麻烦把{id}的配送地址换成{addr}',
      '订单号{id}，新地址是{addr}',
      '请把订单{id}改寄到{addr}',
      '我搬家了，订单 {id} 送到{addr}',
      '订单{id}的地址写错了，正确的是{addr}',
      '帮我把订单 {id} 的收货地址更新为{addr}',
      '收货地址改成{addr}',
      '帮我把地址改为{addr}',
      '新的收货地址是{addr}，麻烦改一下',
      '地址写错了，应该是{addr}',
      '改地址：{addr}',
      '请把收货地址改到{addr}',
      '订单 {id} 要改收货地址',
      '我想修改订单{id}的地址',
      '{id} 地址填错了',
      '订单{id}的收货地址需要改一下',
      '订单号 {id} 能改地址吗',
      'change the address of order {id} to {addr}',
      'please send order {id} to {addr} instead',
      'new delivery address: {addr}',
      'I need to change the delivery address of order {id}',
    ],
  },
  {
    label: '退款退货',
    tool: 'request_refund',
    templates: [
      '订单 {id} 要退货，{reason}',
      '{id} {reason}，申请退款',
      '我要退货，订单号{id}，原因是{reason}',
      '订单{id}的东西{reason}，我要退',
      '申请退款，订单{id}，{reason}',
      '订单号 {id}，{reason}，能退吗',
      '我要退货，{reason}',
      '{reason}，想退货',
      '{reason}，申请退款',
      '收到的东西{reason}，给我退了吧',
      '退货原因：{reason}',
      '{reason}，怎么退',
      '订单 {id} 申请退款',
      '{id} 我要退货',
      '订单{id}想退掉',
      '帮我把订单 {id} 退了',
      '订单号{id}申请退货退款',
      'I want to return order {id}, {reason_en}',
      'refund order {id} please',
      'I want a refund, {reason_en}',
      'return order {id}',
    ],
  },
  {
    label: '开具发票',
    tool: 'request_invoice',
    templates: [
      '订单 {id} 开{type}',
      '{id} 需要{type}',
      '订单{id}帮我开一张{type}',
      '给订单{id}开{type}，谢谢',
      '订单号{id}，麻烦开{type}',
      '我要给订单 {id} 申请{type}',
      '我要开{type}',
      '能开{type}吗',
      '需要{type}',
      '帮我开张{type}',
      '申请{type}',
      '订单 {id} 开发票',
      '给{id}这单开个发票',
      '订单号{id}需要发票',
      '申请开票，订单{id}',
      '订单{id}的发票怎么开',
      'I need {type_en} for order {id}',
      'invoice for order {id} please',
      'can I get {type_en}',
      'please issue an invoice for order {id}',
    ],
  },
  {
    label: '取消服务',
    tool: 'cancel_service',
    templates: [
      '取消{plan}',
      '我不想续{plan}了，帮我取消',
      '把{plan}关掉',
      '{plan}不要了，取消吧',
      '帮我取消{plan}',
      '怎么取消{plan}',
      '我要退订{plan}',
      '请帮我关闭{plan}',
      '订单 {id} 还没发货，帮我取消',
      '取消订单{id}',
      '{id} 这单不要了，取消掉',
      '我要撤销订单 {id}',
      '订单号{id}麻烦取消一下',
      '订单{id}拍错了，取消',
      'cancel my {plan_en}',
      'please stop my {plan_en}',
      'cancel order {id}',
      'I want to cancel order {id} before it ships',
    ],
  },
];

/** Tool intents with a number that is not an order id: the call has no order_id. */
const NOT_AN_ORDER_ID: IntentTemplates[] = [
  {
    label: '查询订单',
    tool: 'lookup_order',
    templates: [
      '手机号{phone}名下的订单查一下',
      '我的手机号是{phone}，帮我查订单',
      '用{phone}下的单现在什么状态',
    ],
  },
  {
    label: '物流查询',
    tool: 'track_shipment',
    templates: ['运单号{tracking}到哪了', '快递单号 {tracking} 一直没更新', '查一下快递{tracking}'],
  },
  {
    label: '修改信息',
    tool: 'change_address',
    templates: ['收件人电话改成{phone}', '联系电话换成{phone}', '手机号填错了，新的是{phone}'],
  },
];

/** Other intents with an order id in the message: the id alone does not make a tool intent. */
const OTHER_INTENTS_WITH_ID: IntentTemplates[] = [
  {
    label: '支付问题',
    templates: [
      '订单 {id} 付款失败了',
      '{id} 扣了两次钱',
      '订单{id}付不了款',
      '订单 {id} 支付的时候提示错误',
      '订单{id}优惠券用不了',
      '订单号{id}钱扣了但是显示未付款',
      '订单 {id} 能分期付款吗',
      'payment for order {id} failed',
    ],
  },
  {
    label: '投诉建议',
    templates: [
      '订单 {id} 的快递员态度太差了，我要投诉',
      '{id} 这单客服回复太慢，投诉',
      '订单{id}的商品和描述差太多，很不满意',
      '投诉一下订单{id}的配送员',
      '订单号{id}，你们的服务太差了',
      '订单 {id} 处理了一周都没结果，我要投诉',
      'I want to complain about order {id}',
    ],
  },
  {
    label: '转人工',
    templates: [
      '订单 {id} 的问题我要找人工',
      '{id} 转人工客服',
      '订单{id}，请让真人客服处理',
      '订单号{id}的事说不清，转人工',
      '关于订单 {id}，我要和人工客服说',
      'human agent please, order {id}',
    ],
  },
  {
    label: '账户登录',
    templates: [
      '查订单{id}时提示重新登录，但是登录不上',
      '下了订单 {id} 之后账号就被冻结了',
      '订单{id}是用另一个账号下的，怎么切换账号',
    ],
  },
  {
    label: '其他',
    templates: [
      '帮我算一下 {number} 除以 7',
      '{number} 是质数吗',
      '把 {number} 写成中文大写',
      '{number} 这个数字有什么含义',
      '13 位数字 {number} 读作什么',
    ],
  },
];

// -----------------------------------------------------------------------------
// generation

export interface GeneratedToolData {
  callsTrain: ToolCallRow[];
  callsValid: ToolCallRow[];
  callsTest: ToolCallRow[];
  repliesTrain: ToolReplyRow[];
  repliesTest: ToolReplyRow[];
}

export interface GenerateOptions {
  seed: number;
  /** Messages of the hand-written splits: generated messages never repeat them. */
  existingTexts: Iterable<string>;
  /** Rows per tool intent: training, valid, test. */
  perTool?: { train: number; valid: number; test: number };
  /** Reply rows per tool: training and test. */
  repliesPerTool?: { train: number; test: number };
}

type Split = 'train' | 'valid' | 'test';

/** Everything generated from one seed. Deterministic: same seed and inputs, same rows. */
export function generateToolData(catalog: Catalog, options: GenerateOptions): GeneratedToolData {
  const random = seededRandom(options.seed);
  const perTool = options.perTool ?? { train: 100, valid: 6, test: 20 };
  const repliesPerTool = options.repliesPerTool ?? { train: 80, test: 10 };
  const usedTexts = new Set([...options.existingTexts].map(uniqueKey));
  const trainIds = new Set<string>(SEEDED_ORDER_IDS);
  const heldOutIds = new Set<string>();
  const usedAddresses = { train: new Set<string>(), heldOut: new Set<string>() };

  const freshId = (split: Split): string => {
    for (;;) {
      const id = randomOrderId(random);
      if (trainIds.has(id) || heldOutIds.has(id)) continue;
      (split === 'train' ? trainIds : heldOutIds).add(id);
      return id;
    }
  };
  const freshAddress = (split: Split): string => {
    for (;;) {
      const address = randomAddress(random);
      if (usedAddresses.train.has(address) || usedAddresses.heldOut.has(address)) continue;
      (split === 'train' ? usedAddresses.train : usedAddresses.heldOut).add(address);
      return address;
    }
  };

  /** One message from `template` with fresh slot values, and the arguments it gives. */
  const fill = (template: string, split: Split, seededId?: string) => {
    const args: ToolArguments = {};
    const text = template.replace(/\{(\w+)\}/g, (_, slot: string) => {
      switch (slot) {
        case 'id':
          return (args.order_id = seededId ?? freshId(split));
        case 'addr':
          return (args.address = freshAddress(split));
        case 'reason':
        case 'reason_en': {
          const [value, phrase] = pick(
            random,
            slot === 'reason' ? REASON_PHRASES : REASON_PHRASES_EN,
          );
          args.reason = value;
          return phrase;
        }
        case 'type':
        case 'type_en': {
          const [value, phrase] = pick(
            random,
            slot === 'type' ? INVOICE_PHRASES : INVOICE_PHRASES_EN,
          );
          args.invoice_type = value;
          return phrase;
        }
        case 'plan':
        case 'plan_en': {
          const [value, phrase] = pick(random, slot === 'plan' ? PLAN_PHRASES : PLAN_PHRASES_EN);
          args.plan = value;
          return phrase;
        }
        case 'phone':
          return `1${pick(random, ['3', '5', '8', '9'])}${digits(random, 9)}`;
        case 'tracking': {
          const [, prefix] = pick(random, COURIERS);
          return prefix + digits(random, 10 + Math.floor(random() * 3));
        }
        case 'number':
          return freshId(split);
        default:
          throw new Error(`unknown slot {${slot}} in "${template}"`);
      }
    });
    // Some Chinese messages put no space around the id; the tokens of the digits are the same.
    const spaced =
      /[\u4e00-\u9fff]/.test(template) && random() < 0.3
        ? text.replace(/ (\d{13}) ?/g, '$1')
        : text;
    return { text: spaced, args };
  };

  const rowsOf = (
    group: IntentTemplates,
    split: Split,
    count: number,
    seededIds: string[] = [],
  ) => {
    const templates = templatesFor(group, split);
    const rows: ToolCallRow[] = [];
    let attempts = 0;
    while (rows.length < count) {
      if (++attempts > count * 50)
        throw new Error(`cannot make ${count} distinct rows for ${group.label}`);
      const template = pick(random, templates);
      const seededId = template.includes('{id}') ? seededIds[0] : undefined;
      const { text, args } = fill(template, split, seededId);
      if (usedTexts.has(uniqueKey(text))) continue;
      usedTexts.add(uniqueKey(text));
      if (seededId) seededIds.shift();
      rows.push(toRow(catalog, group, text, args));
    }
    return rows;
  };

  const calls: Record<Split, ToolCallRow[]> = { train: [], valid: [], test: [] };
  for (const split of ['train', 'valid', 'test'] as const) {
    const count = perTool[split];
    for (const group of TOOL_TEMPLATES) {
      // The demo's stored orders appear in training (twice per tool), never held out.
      const seeded = split === 'train' ? SEEDED_ORDER_IDS.flatMap((id) => [id, id]) : [];
      const negatives = NOT_AN_ORDER_ID.find((other) => other.tool === group.tool);
      const negativeCount = negatives ? Math.round(count * 0.1) : 0;
      calls[split].push(...rowsOf(group, split, count - negativeCount, seeded));
      if (negatives) calls[split].push(...rowsOf(negatives, split, negativeCount));
    }
    for (const group of OTHER_INTENTS_WITH_ID) {
      const count = split === 'train' ? group.templates.length * 3 : split === 'test' ? 4 : 1;
      calls[split].push(...rowsOf(group, split, count));
    }
  }

  const replies: Record<'train' | 'test', ToolReplyRow[]> = { train: [], test: [] };
  for (const split of ['train', 'test'] as const) {
    for (const group of TOOL_TEMPLATES) {
      let made = 0;
      while (made < repliesPerTool[split]) {
        const { text, args } = fill(pick(random, templatesFor(group, split)), split);
        if (usedTexts.has(uniqueKey(text))) continue;
        usedTexts.add(uniqueKey(text));
        replies[split].push(
          replyRow(catalog, group, text, args, split, { random, freshId, freshAddress }),
        );
        made++;
      }
    }
  }

  return {
    callsTrain: calls.train,
    callsValid: calls.valid,
    callsTest: calls.test,
    repliesTrain: replies.train,
    repliesTest: replies.test,
  };
}

/** Training rows use three templates in four; held-out rows use them all. */
function templatesFor(group: IntentTemplates, split: Split): string[] {
  return split === 'train'
    ? group.templates.filter((_, index) => index % 4 !== 3)
    : group.templates;
}

/** Identity of a message for uniqueness (as test/unit/demo-data.test.ts compares them). */
function uniqueKey(text: string): string {
  return normalizeMessage(text).replace(/[\s\p{P}\p{S}]/gu, '');
}

function toRow(
  catalog: Catalog,
  group: IntentTemplates,
  text: string,
  args: ToolArguments,
): ToolCallRow {
  if (!group.tool) return { text, label: group.label };
  // The rules that annotate hand-written rows must find the same arguments in generated ones.
  const { address, ...slotArgs } = args;
  const byRule = argumentsInMessage(group.tool, text);
  if (
    JSON.stringify(orderedArguments(catalog, group.tool, byRule)) !==
    JSON.stringify(orderedArguments(catalog, group.tool, slotArgs))
  ) {
    throw new Error(
      `template rule mismatch for "${text}": slots ${JSON.stringify(slotArgs)}, rules ${JSON.stringify(byRule)}`,
    );
  }
  const all = address === undefined ? slotArgs : { ...slotArgs, address };
  return {
    text,
    label: group.label,
    tool_call: { name: group.tool, arguments: orderedArguments(catalog, group.tool, all) },
  };
}

interface Fresh {
  random: Random;
  freshId: (split: Split) => string;
  freshAddress: (split: Split) => string;
}

/**
 * A reply row: the call as it ran (arguments the message left out were asked for, so required
 * ones are filled in), a result of the tool's shape, and the Chinese template reply.
 */
function replyRow(
  catalog: Catalog,
  group: IntentTemplates,
  text: string,
  given: ToolArguments,
  split: Split,
  { random, freshId, freshAddress }: Fresh,
): ToolReplyRow {
  const tool = group.tool as string;
  const args: ToolArguments = { ...given };
  if (tool !== 'cancel_service' && args.order_id === undefined) args.order_id = freshId(split);
  if (tool === 'change_address' && args.address === undefined) args.address = freshAddress(split);
  if (tool === 'cancel_service' && args.plan === undefined && args.order_id === undefined) {
    args.plan = pick(random, ['月度会员', '年度会员', '自动续费']);
  }
  const orderId = String(args.order_id ?? '');
  const dateCode = () => randomDate(random).replaceAll('-', '');
  let result: unknown;
  switch (tool) {
    case 'lookup_order': {
      const { items, amount } = randomItems(random);
      result = {
        order_id: orderId,
        status: pick(random, ORDER_STATUSES),
        items,
        amount,
        placed_at: randomDate(random),
      };
      break;
    }
    case 'track_shipment': {
      const status = pick(random, ['已揽收', '运输中', '运输中', '派送中', '已签收', '待发货']);
      if (status === '待发货') {
        result = {
          order_id: orderId,
          courier: '',
          tracking_number: '',
          status,
          location: '',
          eta: '',
        };
      } else {
        const [courier, prefix] = pick(random, COURIERS);
        const place = pick(random, CITIES);
        const location =
          random() < 0.5
            ? `${place.city}转运中心`
            : `${place.city}${pick(random, place.districts)}营业点`;
        result = {
          order_id: orderId,
          courier,
          tracking_number: prefix + digits(random, 10 + Math.floor(random() * 3)),
          status,
          location,
          eta: status === '已签收' ? '' : randomDate(random),
        };
      }
      break;
    }
    case 'change_address':
      result = {
        order_id: orderId,
        address: args.address,
        previous_address: randomAddress(random),
      };
      break;
    case 'request_refund':
      result = {
        order_id: orderId,
        refund_id: `RF${dateCode()}${digits(random, 3)}`,
        amount: randomAmount(random),
        reason: args.reason ?? '其他',
        status: '已受理',
      };
      break;
    case 'request_invoice':
      result = {
        order_id: orderId,
        invoice_id: `INV${dateCode()}${digits(random, 3)}`,
        invoice_type: args.invoice_type ?? '电子普通发票',
        status: '开具中',
      };
      break;
    case 'cancel_service':
      result =
        args.plan !== undefined
          ? { cancelled: args.plan, effective: random() < 0.5 ? '立即' : randomDate(random) }
          : { cancelled: `订单 ${orderId}`, effective: '立即' };
      break;
    default:
      throw new Error(`no result generator for ${tool}`);
  }
  return {
    text,
    label: group.label,
    tool_call: { name: tool, arguments: orderedArguments(catalog, tool, args) },
    result,
    reply: templateReply(tool, result, 'zh'),
  };
}
