// The host script of examples/agents/index.html: the catalog's route table sends payment
// questions to the `billing` handler and account questions to `accounts`; here each handler is a
// local agent, a plain object with its own FAQ, answering in the page. The model decides who
// answers; the `route` event says who it was, and the page labels each answer with that agent.
//
// URL switch: ?device=wasm|webgpu.
import { createRouter } from '/embed/router/fenliu-router.js';

const params = new URLSearchParams(location.search);

/** How many of a FAQ entry's keywords the message contains. */
function hits(entry, message) {
  return entry.keys.filter((key) => message.includes(key)).length;
}

/** Character pairs of a text (Chinese has no spaces; shared pairs are what overlap means). */
function pairs(text) {
  const characters = Array.from(text.replace(/\s+/g, ''));
  return new Set(characters.slice(1).map((character, index) => characters[index] + character));
}

/**
 * An agent's answer: its own FAQ entry with the most keywords in the message (the first on a
 * tie), else the route's knowledge line (the catalog's `routes.<intent>.knowledge`) sharing the
 * most character pairs with it, else an honest "not in my notes".
 */
function answerFrom(agent, request) {
  agent.answered += 1;
  showAgents();
  let best = null;
  for (const entry of agent.faq) {
    const score = hits(entry, request.message);
    if (score > 0 && (!best || score > best.score)) best = { answer: entry.answer, score };
  }
  if (best) return Promise.resolve(best.answer);
  const asked = pairs(request.message);
  let line = null;
  for (const candidate of request.knowledge.split('\n')) {
    const shared = [...pairs(candidate)].filter((pair) => asked.has(pair)).length;
    if (shared > 0 && (!line || shared > line.shared)) line = { text: candidate, shared };
  }
  return Promise.resolve(
    line ? `根据资料：${line.text}` : `${agent.title}这里没有这方面的资料，您可以输入“转人工”。`,
  );
}

/** The billing agent: a route handler (`kind`, `respond`) that also carries its own knowledge. */
const billing = {
  kind: 'agent',
  title: '支付客服 · 小蔡',
  colour: '#b4530a',
  answered: 0,
  faq: [
    {
      keys: ['付款方式', '支付方式', '哪些', '微信', '支付宝', '银行卡', '信用卡'],
      answer: '我们支持微信支付、支付宝和银联银行卡（借记卡、信用卡），暂不支持货到付款。',
    },
    {
      keys: ['重复', '两次', '扣了两'],
      answer: '重复扣款会在 3 个工作日内原路退回，不用申请。',
    },
    {
      keys: ['支付失败', '付款失败', '扣钱', '扣款'],
      answer: '支付失败不会扣款；若银行显示已扣款而订单仍未支付，钱会在 1–3 个工作日内退回。',
    },
    {
      keys: ['分期'],
      answer: '信用卡可分 3、6 或 12 期，在收银台选择“分期付款”。',
    },
    {
      keys: ['优惠券', '红包'],
      answer: '优惠券在结算页自动抵扣；未到使用门槛或已过期的券不能用。',
    },
  ],
  respond: (request) => answerFrom(billing, request),
};

/** The accounts agent: another object, another FAQ. */
const accounts = {
  kind: 'agent',
  title: '账户客服 · 小林',
  colour: '#1f5f99',
  answered: 0,
  faq: [
    {
      keys: ['忘记密码', '密码忘', '找回密码', '重置密码'],
      answer: '在登录页点“忘记密码”，用绑定手机号收到的验证码设置新密码，验证码 5 分钟内有效。',
    },
    {
      keys: ['锁定', '冻结', '锁了'],
      answer: '密码连续输错 5 次会锁定 30 分钟，到时自动解锁；用短信验证码重置密码可立即解锁。',
    },
    {
      keys: ['手机号', '换绑', '绑定'],
      answer: '在“账户设置 > 手机号”里先验证旧手机号，再验证新手机号，就能换绑。',
    },
    {
      keys: ['验证码', '收不到'],
      answer: '验证码一般 1 分钟内到达；收不到时请看看短信是否被拦截，60 秒后可重新发送。',
    },
    {
      keys: ['注销'],
      answer: '没有未完成的订单或退款时，可在“账户设置 > 注销账户”中注销；注销后记录无法恢复。',
    },
  ],
  respond: (request) => answerFrom(accounts, request),
};

const agents = { billing, accounts };

/** The catalog's third handler: complaints go to people (the `complaints` queue). */
const serviceDesk = {
  kind: 'human',
  onHandoff: async ({ queue }) => ({ message: `已转给投诉组（${queue} 队列），24 小时内联系您。` }),
};

/** Out-of-scope, unsure and 转人工 turns. */
const escalation = {
  kind: 'handoff',
  onHandoff: async () => ({ message: '这个问题我转给人工同事，请稍候。' }),
};

/**
 * The catalog declares six tools and the router needs code for each; this page is about agents,
 * so the order tools say plainly that they are not connected (examples/headless/ implements them).
 */
const notConnected = (name) => async () => {
  throw new Error(`${name} 在这个示例页上没有接入（见 examples/headless/）。`);
};
const tools = Object.fromEntries(
  [
    'lookup_order',
    'track_shipment',
    'change_address',
    'request_refund',
    'request_invoice',
    'cancel_service',
  ].map((name) => [name, notConnected(name)]),
);

// --- The page ---

const statusLine = document.getElementById('status');
const agentList = document.getElementById('agents');
const transcript = document.getElementById('transcript');

/** Every event the host received, in order (read by the e2e test). */
const events = [];
globalThis.__events = events;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  // NOTE: textContent, never innerHTML: the texts hold what the customer typed.
  if (text !== undefined) node.textContent = text;
  return node;
}

function showAgents() {
  agentList.replaceChildren(
    ...Object.entries(agents).map(([name, agent]) => {
      const card = element('li', 'agent');
      card.dataset.agent = name;
      card.style.setProperty('--colour', agent.colour);
      card.append(
        element('h2', '', agent.title),
        element('p', '', `handlers.${name} · ${agent.faq.length} FAQ entries`),
        element('p', 'answered', `answered ${agent.answered}`),
      );
      return card;
    }),
  );
}
showAgents();

/** Who answers a route: an agent's title, or what kind of route it was. */
function answerer(detail) {
  if (detail.kind === 'agent') return agents[detail.handler]?.title ?? detail.handler;
  if (detail.kind === 'escalation') return `转人工 (${detail.reason})`;
  return { reply: '模板回复', tool: '工具', human: `人工 · ${detail.queue}`, host: '本页' }[
    detail.kind
  ];
}

/** Each message's `<li>`, by turn id. */
const turns = new Map();
const turnItem = (turnId) => turns.get(turnId);

function render({ type, detail }) {
  switch (type) {
    case 'status':
      statusLine.dataset.state = detail.state;
      statusLine.textContent =
        detail.state === 'downloading'
          ? `Downloading the model… ${Math.round(detail.percent)}%`
          : detail.state === 'ready'
            ? `Ready (${detail.backend.device}): ask about payment or your account.`
            : detail.state === 'error'
              ? `The model could not load: ${detail.error.message}`
              : `${detail.state}…`;
      break;
    case 'message': {
      const item = element('li');
      item.dataset.turn = detail.turnId;
      item.append(element('p', 'question', detail.text));
      turns.set(detail.turnId, item);
      transcript.append(item);
      break;
    }
    case 'route': {
      const item = turnItem(detail.turnId);
      item.dataset.kind = detail.kind;
      if (detail.handler) item.dataset.handler = detail.handler;
      const agent = detail.kind === 'agent' ? agents[detail.handler] : undefined;
      if (agent) item.style.setProperty('--colour', agent.colour);
      item.append(element('span', 'who', answerer(detail)));
      break;
    }
    case 'reply': {
      const answer = element('span', 'answer', detail.text);
      answer.dataset.source = detail.source;
      turnItem(detail.turnId)?.append(answer);
      break;
    }
    case 'tool-failed':
      turnItem(detail.turnId)?.append(element('span', 'answer error', detail.error.message));
      break;
    case 'error':
      if (detail.turnId) {
        turnItem(detail.turnId)?.append(element('span', 'answer error', detail.error.message));
      } else {
        statusLine.after(element('p', 'problem', detail.error.message));
      }
      break;
  }
}

try {
  const router = await createRouter({
    model: '/models/fenliu-demo/',
    catalog: '/catalog.json',
    handlers: { ...agents, service_desk: serviceDesk },
    tools,
    escalation,
    ...(params.get('device') && { device: params.get('device') }),
  });
  router.onEvent((event) => {
    events.push(event);
    render(event);
  });
  document.getElementById('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('input');
    if (router.send(input.value) !== null) input.value = '';
  });
} catch (error) {
  statusLine.dataset.state = 'error';
  statusLine.textContent = `The router could not start: ${error.message}`;
}
