// The host script of examples/headless/index.html: the host's own chat UI (plain DOM, its own
// CSS, no framework) with fenliu's headless router behind it. The router classifies each message
// on this device and follows the catalog's route table (a template reply, a tool, an agent,
// people); this page only renders what the router's events say, always as text (textContent,
// never innerHTML: the texts hold what the customer typed and what tools and agents returned).
//
// URL switches: ?device=wasm|webgpu, ?lang=zh|en.
/* global setTimeout */
import { createRouter } from '/embed/router/fenliu-router.js';

const params = new URLSearchParams(location.search);
const language = params.get('lang') === 'en' ? 'en' : 'zh';
const zh = language === 'zh';

// --- The shop: a tiny in-page order book standing in for the shop's own API ---

const orders = new Map([
  [
    '2024113012345',
    {
      status: '已发货',
      items: '无线耳机 ×1',
      amount: 299,
      placed_at: '2024-11-20',
      address: '北京市朝阳区建国路1号',
    },
  ],
  [
    '2024120154321',
    {
      status: '待发货',
      items: '保温杯 ×2',
      amount: 158,
      placed_at: '2024-12-01',
      address: '上海市徐汇区漕溪北路8号',
    },
  ],
]);

function findOrder(order_id) {
  const order = orders.get(order_id);
  if (!order) throw new Error(zh ? `没有找到订单 ${order_id}。` : `No order ${order_id}.`);
  return order;
}

/** Every tool that ran, by name, in order (the e2e test checks that a change waits for a yes). */
const toolRuns = [];
globalThis.__toolRuns = toolRuns;

/**
 * The catalog declares the tools (parameters, whether they change data and need a yes, timeouts);
 * the host supplies the code. Arguments arrive already checked against the declared schema.
 */
const tools = {
  lookup_order: async ({ order_id }) => ({ order_id, ...findOrder(order_id) }),
  track_shipment: async ({ order_id }) => {
    const order = findOrder(order_id);
    if (order.status === '待发货') return { order_id, status: order.status, courier: null };
    return {
      order_id,
      courier: '顺丰速运',
      tracking_no: 'SF1402877765391',
      location: '北京顺义转运中心',
      eta: '2024-11-23',
    };
  },
  change_address: async ({ order_id, address }) => {
    const order = findOrder(order_id);
    const previous_address = order.address;
    order.address = address;
    return { order_id, address, previous_address };
  },
  request_refund: async ({ order_id, reason }) => {
    const order = findOrder(order_id);
    order.status = '退款中';
    return {
      order_id,
      reason: reason ?? '其他',
      refund_id: `R${order_id.slice(-6)}`,
      status: '已受理',
    };
  },
  request_invoice: async ({ order_id, invoice_type }) => {
    findOrder(order_id);
    return {
      order_id,
      invoice_type: invoice_type ?? '电子普通发票',
      invoice_no: `FP${order_id.slice(-8)}`,
      status: '已开具',
    };
  },
  cancel_service: async ({ plan, order_id }) => {
    if (order_id !== undefined) findOrder(order_id).status = '已取消';
    return { cancelled: plan ?? order_id, status: '已取消' };
  },
};
for (const [name, execute] of Object.entries(tools)) {
  tools[name] = (args, context) => {
    toolRuns.push(name);
    return execute(args, context);
  };
}

/** The customer's answer after a tool ran (the router's generic line is "<tool> 已完成。"). */
function toolReply(name, result) {
  switch (name) {
    case 'lookup_order':
      return zh
        ? `订单 ${result.order_id}：${result.status}（${result.items}，¥${result.amount}）。`
        : `Order ${result.order_id}: ${result.status} (${result.items}, ¥${result.amount}).`;
    case 'track_shipment':
      if (!result.courier) return zh ? '这个订单还没有发货。' : 'This order has not shipped yet.';
      return zh
        ? `${result.courier} ${result.tracking_no}，目前在${result.location}，预计 ${result.eta} 送达。`
        : `${result.courier} ${result.tracking_no}, now at ${result.location}, due ${result.eta}.`;
    case 'change_address':
      return zh
        ? `订单 ${result.order_id} 的收货地址已改为：${result.address}。`
        : `Order ${result.order_id} will now go to: ${result.address}.`;
    case 'request_refund':
      return zh
        ? `退款申请 ${result.refund_id} 已受理。`
        : `Refund ${result.refund_id} is accepted.`;
    case 'request_invoice':
      return zh
        ? `${result.invoice_type} ${result.invoice_no} 已开具。`
        : `Invoice ${result.invoice_no} (${result.invoice_type}) is issued.`;
    case 'cancel_service':
      return zh ? `已取消：${result.cancelled}。` : `Cancelled: ${result.cancelled}.`;
    default:
      return null;
  }
}

// --- The route handlers the catalog's `routes` name: billing, accounts, service_desk ---

/** Character pairs of a text: Chinese has no spaces, and shared pairs are what overlap means. */
function pairs(text) {
  const characters = Array.from(text.replace(/\s+/g, ''));
  return new Set(characters.slice(1).map((character, index) => characters[index] + character));
}

/** The knowledge line sharing the most character pairs with the message, or null. */
function bestLine(message, knowledge) {
  const asked = pairs(message);
  let best = null;
  for (const line of knowledge.split('\n')) {
    const shared = [...pairs(line)].filter((pair) => asked.has(pair)).length;
    if (shared > 0 && (!best || shared > best.shared)) best = { line, shared };
  }
  return best?.line ?? null;
}

/** Hands `text` to `onDelta` a few characters at a time, as a streaming model would. */
async function stream(text, { signal, onDelta }) {
  const characters = Array.from(text);
  for (let end = 8; end < characters.length && !signal.aborted; end += 8) {
    onDelta(characters.slice(0, end).join(''));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return text;
}

/** A local agent answering from its route's knowledge (the catalog's `routes.<intent>.knowledge`). */
function knowledgeAgent(name) {
  return {
    kind: 'agent',
    respond: (request, context) => {
      const line = bestLine(request.message, request.knowledge);
      const answer = line
        ? `${name}：${line}`
        : `${name}：这个问题我这里没有资料，您可以输入“转人工”联系客服。`;
      return stream(answer, context);
    },
  };
}

let tickets = 0;
const handlers = {
  billing: knowledgeAgent(zh ? '支付客服' : 'Billing'),
  accounts: knowledgeAgent(zh ? '账户客服' : 'Accounts'),
  service_desk: {
    kind: 'human',
    onHandoff: async ({ queue }) => {
      tickets += 1;
      return {
        message: zh
          ? `已为您创建工单 C-${tickets}（${queue} 队列），专员会在 24 小时内联系您。`
          : `Ticket C-${tickets} is open in the ${queue} queue; we will contact you within 24 hours.`,
      };
    },
  },
};

/** Out-of-scope, unsure and 转人工 turns: the host's own hand-off to people. */
const escalation = {
  kind: 'handoff',
  onHandoff: async ({ reason }) => ({
    message: zh
      ? `这个问题我转给人工同事处理（${reason}），请稍候。`
      : `I have passed this to a colleague (${reason}); please hold on.`,
  }),
};

// --- The page: a message list, an input, a send button, and the events panel ---

const statusLine = document.getElementById('status');
const messages = document.getElementById('messages');
const eventList = document.getElementById('events');
const form = document.getElementById('composer');
const input = document.getElementById('input');

/** Every event the host received, in order (read by the e2e test). */
const events = [];
globalThis.__events = events;

/** An element with a class and text (never HTML). */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One `<li>` per turn: the customer's bubble, then everything said in reply. */
const turns = new Map();
function turnOf(turnId) {
  let turn = turns.get(turnId);
  if (!turn) {
    const item = element('li', 'turn');
    item.dataset.turn = turnId;
    messages.append(item);
    turn = { item, reply: null, tool: null };
    turns.set(turnId, turn);
  }
  return turn;
}

function assistantBubble(turnId) {
  const turn = turnOf(turnId);
  if (!turn.reply) {
    turn.reply = element('div', 'bubble assistant');
    turn.item.append(turn.reply);
  }
  return turn.reply;
}

/** `key: value` rows of an object (tool arguments, results). */
function fields(className, object) {
  const list = element('dl', className);
  for (const [key, value] of Object.entries(object ?? {})) {
    const row = element('div', 'field');
    row.dataset.key = key;
    row.append(element('dt', '', key), element('dd', '', String(value)));
    list.append(row);
  }
  return list;
}

const QUESTIONS = {
  order_id: zh ? '请提供订单号（13 位数字）。' : 'Please give the order number (13 digits).',
  address: zh ? '请告诉我新的收货地址。' : 'What is the new delivery address?',
};

function toolCard(router, detail) {
  const turn = turnOf(detail.turnId);
  const card = element('div', 'bubble assistant tool');
  card.dataset.tool = detail.tool;
  card.dataset.status = detail.status;
  card.append(element('p', 'tool-name', detail.tool), fields('arguments', detail.arguments));
  if (detail.status === 'needs-input') {
    const asks = detail.missing.map((name) => QUESTIONS[name] ?? `${name}?`);
    card.append(element('p', 'question', asks.join(' ')));
  }
  if (detail.status === 'needs-confirmation') {
    const buttons = element('p', 'confirm');
    const yes = element('button', 'yes', zh ? '确认执行' : 'Confirm');
    const no = element('button', 'no', zh ? '不用了' : 'No thanks');
    yes.type = 'button';
    no.type = 'button';
    yes.addEventListener('click', () => void router.confirm(detail.turnId));
    no.addEventListener('click', () => router.decline(detail.turnId));
    buttons.append(yes, no);
    card.append(buttons);
  }
  turn.tool?.remove();
  turn.tool = card;
  turn.item.append(card);
}

function setToolStatus(turnId, status) {
  const card = turns.get(turnId)?.tool;
  if (!card) return null;
  card.dataset.status = status;
  card.querySelector('.confirm')?.remove();
  return card;
}

function showStatus(status) {
  statusLine.dataset.state = status.state;
  switch (status.state) {
    case 'checking-device':
      statusLine.textContent = 'Checking the device…';
      break;
    case 'downloading':
      statusLine.textContent = `Downloading the model… ${Math.round(status.percent)}%`;
      break;
    case 'initializing':
      statusLine.textContent = `Starting the model (${status.device})…`;
      break;
    case 'warming-up':
      statusLine.textContent = 'Warming up…';
      break;
    case 'ready':
      statusLine.dataset.device = status.backend.device;
      statusLine.textContent = `Ready: the model runs on this device (${status.backend.device}, ${status.backend.dtype}).`;
      break;
    case 'error':
      statusLine.textContent = `The model could not load: ${status.error.message}`;
      break;
  }
}

const percent = (value) => `${Math.round(value * 100)}%`;

/** One line per event for the events panel. */
function summary({ type, detail }) {
  switch (type) {
    case 'status':
      return detail.state === 'downloading'
        ? `downloading ${Math.round(detail.percent)}%`
        : detail.state;
    case 'message':
      return `${detail.queued ? '(queued) ' : ''}${detail.text}`;
    case 'classified':
      return `${detail.intentId} ${percent(detail.confidence)}, ${detail.route}`;
    case 'route':
      return detail.kind === 'escalation'
        ? `escalation (${detail.reason})`
        : [detail.kind, detail.handler, detail.queue, detail.tool].filter(Boolean).join(' · ');
    case 'tool-proposed':
      return `${detail.tool}: ${detail.status}`;
    case 'tool-confirmed':
    case 'tool-declined':
      return detail.tool;
    case 'tool-executed':
      return `${detail.tool} in ${Math.round(detail.durationMs)} ms`;
    case 'tool-failed':
      return `${detail.tool}: ${detail.error.message}`;
    case 'reply-delta':
      return `${detail.source}, ${detail.text.length} characters so far`;
    case 'reply':
      return `${detail.source}: ${detail.text}`;
    case 'escalated':
      return `${detail.reason}, ${detail.intentId} ${percent(detail.confidence)}`;
    case 'error':
      return `${detail.scope}: ${detail.error.code}: ${detail.error.message}`;
    default:
      return '';
  }
}

/** Events that come in runs (download progress, a streamed reply): a run shares one line. */
function runOf({ type, detail }) {
  if (type === 'status') return `status ${detail.state}`;
  if (type === 'reply-delta') return `reply-delta ${detail.turnId}`;
  return null;
}

function logEvent(event) {
  events.push(event);
  const last = eventList.lastElementChild;
  const run = runOf(event);
  if (run !== null && last?.dataset.run === run) {
    last.dataset.count = String(Number(last.dataset.count) + 1);
    last.querySelector('.detail').textContent = summary(event);
    last.querySelector('.count').textContent = `×${last.dataset.count}`;
    return;
  }
  const item = element('li');
  item.dataset.type = event.type;
  item.dataset.count = '1';
  if (run !== null) item.dataset.run = run;
  item.append(
    element('span', 'type', event.type),
    element('span', 'detail', summary(event)),
    element('span', 'count'),
  );
  eventList.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function render(router, { type, detail }) {
  switch (type) {
    case 'status':
      showStatus(detail);
      break;
    case 'message': {
      const bubble = element('div', 'bubble customer', detail.text);
      turnOf(detail.turnId).item.append(bubble);
      break;
    }
    case 'classified': {
      const chip = element('span', 'intent', `${detail.label} · ${percent(detail.confidence)}`);
      chip.dataset.intent = detail.intentId;
      turnOf(detail.turnId).item.querySelector('.customer')?.append(chip);
      break;
    }
    case 'route':
      turnOf(detail.turnId).item.dataset.route = detail.handler ?? detail.kind;
      break;
    case 'tool-proposed':
      toolCard(router, detail);
      break;
    case 'tool-confirmed':
      setToolStatus(detail.turnId, 'running');
      break;
    case 'tool-declined':
      setToolStatus(detail.turnId, 'declined');
      break;
    case 'tool-executed':
      setToolStatus(detail.turnId, 'done')?.append(fields('result', detail.result));
      break;
    case 'tool-failed':
      setToolStatus(detail.turnId, 'error')?.append(element('p', 'error', detail.error.message));
      break;
    case 'escalated':
      turnOf(detail.turnId).item.append(
        element('p', 'note', zh ? `已转交（${detail.reason}）` : `Handed over (${detail.reason})`),
      );
      break;
    case 'reply-delta':
    case 'reply': {
      const bubble = assistantBubble(detail.turnId);
      bubble.dataset.source = detail.source;
      bubble.dataset.status = type === 'reply' ? 'done' : 'streaming';
      bubble.textContent = detail.text;
      const suggestions = type === 'reply' ? (detail.suggestions ?? []) : [];
      if (suggestions.length > 0) {
        // Quick replies on a row of their own, under the answer.
        const row = element('div', 'suggestions');
        for (const suggestion of suggestions) {
          const button = element('button', 'suggestion', suggestion);
          button.type = 'button';
          button.addEventListener('click', () => router.send(suggestion));
          row.append(button);
        }
        bubble.append(row);
      }
      break;
    }
    case 'error':
      if (detail.turnId === undefined) {
        statusLine.after(element('p', 'problem', detail.error.message));
      } else {
        turnOf(detail.turnId).item.append(element('p', 'error', detail.error.message));
      }
      break;
  }
}

try {
  const router = await createRouter({
    model: '/models/fenliu-demo/',
    catalog: '/catalog.json',
    tools,
    toolReply,
    handlers,
    escalation,
    language,
    ...(params.get('device') && { device: params.get('device') }),
  });
  router.onEvent((event) => {
    logEvent(event);
    render(router, event);
  });
  showStatus(router.snapshot.classifier.status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Messages sent while the model loads or another one is answered wait, in sending order.
    if (router.send(input.value) !== null) input.value = '';
  });
} catch (error) {
  // An invalid catalog, or a route whose handler the host did not supply: nothing loads.
  statusLine.dataset.state = 'error';
  statusLine.textContent = `The router could not start: ${error.message}`;
}
