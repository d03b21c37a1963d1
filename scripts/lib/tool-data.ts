/**
 * The demo model's tool-call and tool-reply data, generated from templates with a seeded random
 * generator (scripts/generate-tool-data.ts writes it to data/demo/). Order ids are mostly random
 * 13-digit numbers, so the model learns to copy the id from the message instead of memorising a
 * few; held-out rows use ids and addresses never seen in training. The templates, the values
 * their slots take and the argument rules are data, in data/demo/generator/ (see its README);
 * this file is the logic.
 *
 * The rules in `argumentsInMessage` say which arguments a message gives (an order id, a refund
 * reason, an invoice type, a plan); they annotate the hand-written rows of data/demo and are
 * checked against every generated row, so both kinds of rows follow one convention: an argument
 * the message does not give is left out, never guessed.
 */
import { normalizeMessage, seededRandom } from '../../src/dataset/dataset';
import type { Catalog, ToolArguments, ToolCall } from '../../src/catalog/types';
import { templateReply } from '../../src/tools/demo/replies';
import { ORDER_STATUSES } from '../../src/tools/demo/types';
import { readToolDataTables, type ArgumentRule, type IntentTemplates } from './tool-data-tables';

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

const TABLES = readToolDataTables();

/**
 * The order ids of the demo shop's seeded store (src/tools/demo/orders.ts) and of the issue's
 * examples: training rows show each a few times, held-out rows never.
 */
export const SEEDED_ORDER_IDS: readonly string[] = TABLES.seededOrderIds;

// -----------------------------------------------------------------------------
// which arguments a message gives

const ORDER_ID = /(?<![0-9A-Za-z])(\d{13})(?!\d)/;

/** First matching rule wins; each maps the words a customer uses to one enum value. */
function firstRule(rules: readonly ArgumentRule[], text: string): string | undefined {
  return rules.find(([, pattern]) => pattern.test(text))?.[0];
}

/**
 * The arguments of the demo tool `tool` that `text` states outright: a 13-digit order id, and
 * the refund reason, invoice type or plan when the message names one. Addresses are not
 * recognised by rule (generated rows carry them; hand-written rows are annotated one by one).
 */
export function argumentsInMessage(tool: string, text: string): ToolArguments {
  const args: ToolArguments = {};
  const plan = tool === 'cancel_service' ? firstRule(TABLES.rules.plan, text) : undefined;
  if (plan) args.plan = plan;
  const id = ORDER_ID.exec(text)?.[1];
  if (id) args.order_id = id;
  if (tool === 'request_refund') {
    const reason = firstRule(TABLES.rules.reason, text);
    if (reason) args.reason = reason;
  }
  if (tool === 'request_invoice') {
    const type = firstRule(TABLES.rules.invoice_type, text);
    if (type) args.invoice_type = type;
  }
  return args;
}

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
  const address = TABLES.handAnnotatedAddresses.get(row.text);
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

/** A full delivery address: city, district, road and number, often a building and room. */
function randomAddress(random: Random): string {
  const place = pick(random, TABLES.cities);
  const province = place.province && random() < 0.3 ? place.province : '';
  const base = `${province}${place.city}${pick(random, place.districts)}${pick(random, TABLES.roads)}${1 + Math.floor(random() * 300)}号`;
  const extra = random();
  if (extra < 0.3) return base;
  if (extra < 0.6) {
    return `${base}${1 + Math.floor(random() * 20)}栋${1 + Math.floor(random() * 30)}0${1 + Math.floor(random() * 6)}室`;
  }
  if (extra < 0.85) {
    return `${base}${pick(random, TABLES.estates)}${1 + Math.floor(random() * 12)}号楼${1 + Math.floor(random() * 4)}单元`;
  }
  return `${base}${pick(random, TABLES.estates)}`;
}

function randomItems(random: Random): { items: string; amount: number } {
  const count = 1 + Math.floor(random() * 3);
  const chosen = new Map<string, [number, number]>();
  while (chosen.size < count) {
    const [name, price] = pick(random, TABLES.products);
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
        case 'phone':
          return `1${pick(random, ['3', '5', '8', '9'])}${digits(random, 9)}`;
        case 'tracking': {
          const [, prefix] = pick(random, TABLES.couriers);
          return prefix + digits(random, 10 + Math.floor(random() * 3));
        }
        case 'number':
          return freshId(split);
        default: {
          const phrases = TABLES.phrases.get(slot);
          if (!phrases) throw new Error(`unknown slot {${slot}} in "${template}"`);
          const [value, phrase] = pick(random, phrases.phrases);
          args[phrases.argument] = value;
          return phrase;
        }
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
    for (const group of TABLES.templates.toolIntents) {
      // The demo's stored orders appear in training (twice per tool), never held out.
      const seeded = split === 'train' ? SEEDED_ORDER_IDS.flatMap((id) => [id, id]) : [];
      const negatives = TABLES.templates.numbersThatAreNotOrderIds.find(
        (other) => other.tool === group.tool,
      );
      const negativeCount = negatives ? Math.round(count * 0.1) : 0;
      calls[split].push(...rowsOf(group, split, count - negativeCount, seeded));
      if (negatives) calls[split].push(...rowsOf(negatives, split, negativeCount));
    }
    for (const group of TABLES.templates.otherIntentsWithOrderId) {
      const count = split === 'train' ? group.templates.length * 3 : split === 'test' ? 4 : 1;
      calls[split].push(...rowsOf(group, split, count));
    }
  }

  const replies: Record<'train' | 'test', ToolReplyRow[]> = { train: [], test: [] };
  for (const split of ['train', 'test'] as const) {
    for (const group of TABLES.templates.toolIntents) {
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
        const [courier, prefix] = pick(random, TABLES.couriers);
        const place = pick(random, TABLES.cities);
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
