import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../scripts/lib/data-files';
import { DEMO_DATA, DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';
import type { Catalog, IntentRoute } from '../../src/catalog/types';
import { createDemoHandlers } from '../../src/demo/handlers';
import type { Classification, ProposedToolCall } from '../../src/engine/classification';
import type { ModelReply, ToolTurn } from '../../src/engine/classifier';
import type { CallOptions, Classifier, ClassifierState } from '../../src/engine/classifier-api';
import type { ClassifierStatus } from '../../src/engine/lifecycle';
import { LocalClassifier } from '../../src/engine/local-classifier';
import { configureRuntime } from '../../src/engine/runtime';
import type { EscalationRequest } from '../../src/escalation/types';
import type { ChatTurn } from '../../src/router/conversation';
import { missingHandlerProblems, RouterSession } from '../../src/router/session';
import type {
  HumanRequest,
  RouterEvent,
  RouterEventMap,
  RouterEventType,
  RouterOptions,
} from '../../src/router/types';
import { ClassifierWorkerError } from '../../src/shared/errors';
import { MemoryShopStore } from '../../src/tools/demo/store';
import { templateReply } from '../../src/tools/demo/replies';
import { createDemoTools } from '../../src/tools/demo/tools';
import { OK_REPLY, startOpenAiServer } from '../support/openai-server';
import { reviveTurns } from '../../src/router/conversation';

/**
 * The router session on the committed demo model in Node: a real `LocalClassifier`, the demo
 * catalog, the demo shop's tools (in memory) and handlers. Each test asserts the turns and the
 * exact sequence of events a headless host hears.
 */

const catalog = readCatalog(join(DEMO_DATA, 'catalog.json'));
const ORDER = '2024113012345';

let model: LocalClassifier;

beforeAll(async () => {
  configureRuntime({ modelRoot: PUBLIC_MODELS });
  model = new LocalClassifier({ modelId: DEMO_MODEL_ID, device: 'cpu', dtype: 'int8' });
  const status = await model.load();
  expect(status.state).toBe('ready');
});
afterAll(async () => {
  await model.dispose();
});

/**
 * The file's one model, lent to a session: everything goes to it except `dispose`, so a disposed
 * session (which disposes its classifier) leaves it loaded for the next test.
 */
class LentClassifier implements Classifier {
  constructor(protected readonly inner: Classifier) {}

  get state(): ClassifierState {
    return this.inner.state;
  }

  subscribe(listener: (state: ClassifierState) => void): () => void {
    return this.inner.subscribe(listener);
  }

  load(): Promise<ClassifierStatus> {
    return this.inner.load();
  }

  retry(): void {
    this.inner.retry();
  }

  cancelLoad(): void {
    this.inner.cancelLoad();
  }

  classify(text: string, options?: CallOptions): Promise<Classification> {
    return this.inner.classify(text, options);
  }

  decodeToolCall(
    text: string,
    intentId: string,
    options?: CallOptions,
  ): Promise<ProposedToolCall | null> {
    return this.inner.decodeToolCall(text, intentId, options);
  }

  writeReply(turn: ToolTurn, options?: CallOptions): Promise<ModelReply> {
    return this.inner.writeReply(turn, options);
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/** Its first `classify` fails as a crashed worker's call does; the rest go to the model. */
class CrashingOnce extends LentClassifier {
  crashed = false;

  override classify(text: string, options?: CallOptions): Promise<Classification> {
    if (this.crashed) return super.classify(text, options);
    this.crashed = true;
    return Promise.reject(
      new ClassifierWorkerError('classifier-crashed', 'The classifier worker crashed.'),
    );
  }
}

/**
 * Still loading when the session starts (as a worker is on a page), ready on `finishLoading`:
 * then subscribers hear the model's real `ready` status.
 */
class LoadingLater extends LentClassifier {
  private loaded = false;
  private readonly listeners = new Set<(state: ClassifierState) => void>();

  override get state(): ClassifierState {
    return this.loaded
      ? this.inner.state
      : { status: { state: 'warming-up' }, autoRetry: null, restartedAfter: null };
  }

  override subscribe(listener: (state: ClassifierState) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  finishLoading(): void {
    this.loaded = true;
    for (const listener of this.listeners) listener(this.state);
  }
}

interface Started {
  session: RouterSession;
  events: RouterEvent[];
}

const sessions: RouterSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.dispose();
});

/** A session on the demo catalog, tools (a fresh in-memory shop) and handlers, recording events. */
function start(options: Partial<RouterOptions> = {}): Started {
  const session = new RouterSession({
    classifier: new LentClassifier(model),
    catalog,
    tools: createDemoTools(new MemoryShopStore()),
    handlers: createDemoHandlers(),
    toolReply: templateReply,
    ...options,
  });
  sessions.push(session);
  const events: RouterEvent[] = [];
  session.onEvent((event) => events.push(event));
  return { session, events };
}

/** The types of `turnId`'s events, in order. */
function typesOf(events: readonly RouterEvent[], turnId: string): RouterEventType[] {
  return events
    .filter((event) => 'turnId' in event.detail && event.detail.turnId === turnId)
    .map((event) => event.type);
}

/** The detail of `turnId`'s only event of `type`. */
function detailOf<Type extends RouterEventType>(
  events: readonly RouterEvent[],
  turnId: string,
  type: Type,
): RouterEventMap[Type] {
  const found = events.filter(
    (event) => event.type === type && 'turnId' in event.detail && event.detail.turnId === turnId,
  );
  expect(found, `${type} events of turn ${turnId}`).toHaveLength(1);
  return found[0]?.detail as RouterEventMap[Type];
}

function detailsOf<Type extends RouterEventType>(
  events: readonly RouterEvent[],
  type: Type,
): RouterEventMap[Type][] {
  return events.filter((event) => event.type === type).map((event) => event.detail as never);
}

function turnOf(session: RouterSession, turnId: string): ChatTurn {
  const turn = session.snapshot.turns.find((candidate) => candidate.id === turnId);
  if (!turn) throw new Error(`no turn ${turnId}`);
  return turn;
}

/** Resolves once the session's state satisfies `done` (checked now and after every change). */
function until(session: RouterSession, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (done()) {
      resolve();
      return;
    }
    const stop = session.subscribe(() => {
      if (!done()) return;
      stop();
      resolve();
    });
  });
}

/** No turn is being worked on, and none waits. */
function idle(session: RouterSession): () => boolean {
  return () =>
    session.snapshot.pending === null &&
    session.snapshot.turns.every((turn) => turn.queued !== true);
}

function routeOfIntent<Kind extends IntentRoute['kind']>(
  intentId: string,
  kind: Kind,
): Extract<IntentRoute, { kind: Kind }> {
  const route = catalog.routes?.[intentId];
  if (route?.kind !== kind) throw new Error(`the demo catalog routes ${intentId} elsewhere`);
  return route as Extract<IntentRoute, { kind: Kind }>;
}

function required(id: string | null): string {
  if (id === null) throw new Error('the message was not sent');
  return id;
}

/** Developer errors are reported in a task after `new` (and after `await createRouter`). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

describe('a plain intent', () => {
  it('answers 你好 with the greeting template and its suggestions, in the chosen language', async () => {
    const greeting = routeOfIntent('greeting', 'reply');
    const { session, events } = start();
    const turn = await session.route('你好');
    expect(typesOf(events, turn.id)).toEqual(['message', 'classified', 'route', 'reply']);
    expect(detailOf(events, turn.id, 'message')).toEqual({
      turnId: turn.id,
      text: '你好',
      queued: false,
    });
    expect(detailOf(events, turn.id, 'classified')).toMatchObject({
      text: '你好',
      intentId: 'greeting',
      label: '问候闲聊',
      route: 'intent',
      reason: null,
    });
    expect(detailOf(events, turn.id, 'route')).toEqual({
      turnId: turn.id,
      kind: 'reply',
      intentId: 'greeting',
    });
    const zh = {
      text: '您好！我是分流小助手，可以帮您查订单、查物流、办理退款退货、修改地址和开发票。',
      suggestions: ['查询订单', '我的快递到哪了', '我要退款'],
    };
    expect(greeting.text.zh).toBe(zh.text);
    expect(detailOf(events, turn.id, 'reply')).toEqual({
      turnId: turn.id,
      source: 'template',
      ...zh,
    });
    expect(turn.reply).toEqual({ source: 'template', status: 'done', ...zh });
    expect(turnOf(session, turn.id)).toEqual(turn);

    session.setLanguage('en');
    const english = await session.route('你好');
    expect(detailOf(events, english.id, 'reply')).toEqual({
      turnId: english.id,
      source: 'template',
      text: greeting.text.en,
      suggestions: ['Check my order', 'Where is my parcel?', 'I want a refund'],
    });
    expect(session.snapshot.pending).toBeNull();
  });
});

describe('a tool intent', () => {
  it('asks for the missing order number, takes it from the next message, runs on confirmation', async () => {
    const { session, events } = start();
    const asked = await session.route('我要退款');
    expect(typesOf(events, asked.id)).toEqual(['message', 'classified', 'route', 'tool-proposed']);
    expect(detailOf(events, asked.id, 'classified')).toMatchObject({ intentId: 'refund' });
    expect(detailOf(events, asked.id, 'route')).toEqual({
      turnId: asked.id,
      kind: 'tool',
      intentId: 'refund',
      tool: 'request_refund',
    });
    expect(detailOf(events, asked.id, 'tool-proposed')).toEqual({
      turnId: asked.id,
      tool: 'request_refund',
      arguments: {},
      missing: ['order_id'],
      status: 'needs-input',
    });
    expect(asked.tool).toMatchObject({
      name: 'request_refund',
      arguments: {},
      missing: ['order_id'],
      status: 'needs-input',
    });

    const answer = await session.route(`订单${ORDER}，质量问题`);
    // The follow-up is not classified: it answers the question.
    expect(typesOf(events, answer.id)).toEqual(['message', 'tool-proposed']);
    expect(detailOf(events, answer.id, 'tool-proposed')).toEqual({
      turnId: answer.id,
      tool: 'request_refund',
      arguments: { order_id: ORDER },
      missing: [],
      status: 'needs-confirmation',
      continues: asked.id,
    });
    expect(answer.answers).toEqual({ turnId: asked.id, keys: ['order_id'] });
    expect(answer.result).toBeUndefined();
    expect(turnOf(session, asked.id).tool?.status).toBe('continued');

    await session.confirm(answer.id);
    expect(typesOf(events, answer.id)).toEqual([
      'message',
      'tool-proposed',
      'tool-confirmed',
      'tool-executed',
      'reply',
    ]);
    expect(detailOf(events, answer.id, 'tool-confirmed')).toEqual({
      turnId: answer.id,
      tool: 'request_refund',
      arguments: { order_id: ORDER },
    });
    const result = {
      order_id: ORDER,
      refund_id: 'RF20241124001',
      amount: 299,
      reason: '其他',
      status: '已受理',
    };
    expect(detailOf(events, answer.id, 'tool-executed')).toMatchObject({
      tool: 'request_refund',
      arguments: { order_id: ORDER },
      result,
    });
    const text = templateReply('request_refund', result, 'zh');
    expect(detailOf(events, answer.id, 'reply')).toEqual({
      turnId: answer.id,
      source: 'tool',
      text,
    });
    expect(turnOf(session, answer.id).tool).toMatchObject({
      status: 'done',
      result,
      reply: { text, source: 'template' },
    });
    expect(session.snapshot.pending).toBeNull();
  });

  it('runs a read-only tool (lookup_order) without asking', async () => {
    const { session, events } = start();
    const turn = await session.route(`帮我查一下订单 ${ORDER}`);
    expect(typesOf(events, turn.id)).toEqual([
      'message',
      'classified',
      'route',
      'tool-proposed',
      'tool-executed',
      'reply',
    ]);
    expect(detailOf(events, turn.id, 'classified')).toMatchObject({ intentId: 'order_status' });
    expect(detailOf(events, turn.id, 'tool-proposed')).toEqual({
      turnId: turn.id,
      tool: 'lookup_order',
      arguments: { order_id: ORDER },
      missing: [],
      status: 'running',
    });
    const result = {
      order_id: ORDER,
      status: '已发货',
      items: '无线耳机 ×1',
      amount: 299,
      placed_at: '2024-11-20',
    };
    expect(detailOf(events, turn.id, 'tool-executed').result).toEqual(result);
    expect(detailOf(events, turn.id, 'reply')).toEqual({
      turnId: turn.id,
      source: 'tool',
      text: templateReply('lookup_order', result, 'zh'),
    });
    expect(turn.tool).toMatchObject({ name: 'lookup_order', status: 'done', result });
  });
});

describe('escalation', () => {
  it('hands 转人工 to the host and shows what it answers', async () => {
    const requests: EscalationRequest[] = [];
    const notice = '已为您转接人工客服小王，请稍候。';
    const { session, events } = start({
      escalation: {
        kind: 'handoff',
        onHandoff: (request) => {
          requests.push(request);
          return Promise.resolve({ message: notice });
        },
      },
    });
    const turn = await session.route('转人工');
    expect(typesOf(events, turn.id)).toEqual([
      'message',
      'classified',
      'route',
      'escalated',
      'reply',
    ]);
    expect(detailOf(events, turn.id, 'classified')).toMatchObject({
      intentId: 'human_agent',
      route: 'escalate',
    });
    expect(detailOf(events, turn.id, 'route')).toEqual({
      turnId: turn.id,
      kind: 'escalation',
      intentId: 'human_agent',
      reason: 'intent',
    });
    expect(detailOf(events, turn.id, 'escalated')).toMatchObject({
      text: '转人工',
      reason: 'intent',
      intentId: 'human_agent',
    });
    expect(requests).toEqual([
      {
        reason: 'intent',
        message: '转人工',
        intentId: 'human_agent',
        confidence: expect.any(Number) as number,
        language: 'zh',
        history: [],
      },
    ]);
    expect(detailOf(events, turn.id, 'reply')).toEqual({
      turnId: turn.id,
      source: 'escalation',
      text: notice,
    });
    expect(turn.escalation).toEqual({
      reason: 'intent',
      status: 'done',
      handler: 'handoff',
      text: notice,
    });
  });

  it('streams 转人工 to a chat-completions endpoint and records its host on the turn', async () => {
    const server = await startOpenAiServer();
    try {
      const { session, events } = start({
        escalation: { kind: 'chat-completions', url: server.url, model: 'ok' },
      });
      const turn = await session.route('转人工');
      expect(detailOf(events, turn.id, 'reply')).toEqual({
        turnId: turn.id,
        source: 'escalation',
        text: OK_REPLY,
      });
      expect(turn.escalation).toEqual({
        reason: 'intent',
        status: 'done',
        handler: 'chat-completions',
        endpointHost: new URL(server.url).host,
        text: OK_REPLY,
      });
      // The host is part of the saved turn, so the widget names it after a configuration change.
      expect(reviveTurns(JSON.parse(JSON.stringify([turn])))[0]?.escalation?.endpointHost).toBe(
        new URL(server.url).host,
      );
    } finally {
      await server.close();
    }
  });

  it('without an escalation handler, marks the turn unavailable and sends nothing', async () => {
    const { session, events } = start();
    const turn = await session.route('转人工');
    expect(typesOf(events, turn.id)).toEqual(['message', 'classified', 'route', 'escalated']);
    expect(turn.escalation).toEqual({ reason: 'intent', status: 'unavailable', text: '' });
  });
});

describe('agent and human routes', () => {
  const billing = routeOfIntent('payment', 'agent');

  it('answers a payment question with the demo billing agent', async () => {
    const { session, events } = start();
    const turn = await session.route('支付失败了会扣钱吗');
    expect(typesOf(events, turn.id)).toEqual(['message', 'classified', 'route', 'reply']);
    expect(detailOf(events, turn.id, 'route')).toEqual({
      turnId: turn.id,
      kind: 'agent',
      intentId: 'payment',
      handler: 'billing',
    });
    const text =
      '支付失败不会扣款。如果银行显示已扣款但订单仍是未支付，款项会在 1–3 个工作日内由银行自动退回。';
    expect(billing.knowledge?.split('\n')).toContain(text);
    expect(detailOf(events, turn.id, 'reply')).toEqual({ turnId: turn.id, source: 'agent', text });
    expect(turn.reply).toEqual({ source: 'agent', status: 'done', text, handler: 'billing' });
  });

  it('streams an endpoint agent, sending the route’s system prompt and knowledge first', async () => {
    const server = await startOpenAiServer();
    try {
      const { session, events } = start({
        handlers: {
          ...createDemoHandlers(),
          billing: { kind: 'agent', url: server.url, model: 'ok' },
        },
      });
      const turn = await session.route('支付失败了会扣钱吗');
      expect(typesOf(events, turn.id).filter((type) => type !== 'reply-delta')).toEqual([
        'message',
        'classified',
        'route',
        'reply',
      ]);
      expect(typesOf(events, turn.id).at(-1)).toBe('reply');
      const deltas = detailsOf(events, 'reply-delta').map((delta) => {
        expect(delta).toMatchObject({ turnId: turn.id, source: 'agent' });
        return delta.text;
      });
      expect(deltas.length).toBeGreaterThan(1);
      deltas.forEach((text, index) => {
        expect(OK_REPLY.startsWith(text)).toBe(true);
        expect(text.length).toBeGreaterThan(deltas[index - 1]?.length ?? 0);
      });
      expect(deltas.at(-1)).toBe(OK_REPLY);
      expect(detailOf(events, turn.id, 'reply')).toEqual({
        turnId: turn.id,
        source: 'agent',
        text: OK_REPLY,
      });
      expect(turn.reply).toEqual({
        source: 'agent',
        status: 'done',
        text: OK_REPLY,
        handler: 'billing',
      });
      const [request, ...others] = server.completions();
      expect(others).toEqual([]);
      expect(request?.body).toMatchObject({
        model: 'ok',
        stream: true,
        messages: [
          {
            role: 'system',
            content: `${billing.system ?? ''}\n\n知识:\n${billing.knowledge ?? ''}`,
          },
          { role: 'user', content: '支付失败了会扣钱吗' },
        ],
      });
    } finally {
      await server.close();
    }
  });

  it('hands a complaint to the service desk’s complaints queue', async () => {
    const requests: HumanRequest[] = [];
    const notice = '投诉已转给专员，工单 C-9001。';
    const { session, events } = start({
      handlers: {
        ...createDemoHandlers(),
        service_desk: {
          kind: 'human',
          onHandoff: (request) => {
            requests.push(request);
            return Promise.resolve({ message: notice });
          },
        },
      },
    });
    const turn = await session.route('快递员态度太差了，我要投诉');
    expect(typesOf(events, turn.id)).toEqual(['message', 'classified', 'route', 'reply']);
    expect(detailOf(events, turn.id, 'route')).toEqual({
      turnId: turn.id,
      kind: 'human',
      intentId: 'complaint',
      handler: 'service_desk',
      queue: 'complaints',
    });
    expect(requests).toEqual([
      {
        reason: 'intent',
        message: '快递员态度太差了，我要投诉',
        intentId: 'complaint',
        confidence: expect.any(Number) as number,
        language: 'zh',
        history: [],
        queue: 'complaints',
      },
    ]);
    expect(detailOf(events, turn.id, 'reply')).toEqual({
      turnId: turn.id,
      source: 'human',
      text: notice,
    });
    expect(turn.reply).toEqual({
      source: 'human',
      status: 'done',
      text: notice,
      handler: 'service_desk',
      queue: 'complaints',
    });
  });
});

describe('the queue', () => {
  it('answers a burst of five messages in sending order', async () => {
    const { session, events } = start();
    const burst = [
      ['你好', 'greeting'],
      ['支付失败了会扣钱吗', 'payment'],
      ['忘记密码了怎么办', 'account'],
      ['快递员态度太差了，我要投诉', 'complaint'],
      ['取消自动续费', 'cancel_service'],
    ] as const;
    const ids = burst.map(([text]) => required(session.send(text)));
    expect(detailsOf(events, 'message').map(({ queued }) => queued)).toEqual([
      false,
      true,
      true,
      true,
      true,
    ]);
    expect(session.snapshot.pending).toBe(ids[0]);
    await until(session, idle(session));

    expect(
      detailsOf(events, 'classified').map(({ turnId, intentId }) => [turnId, intentId]),
    ).toEqual(ids.map((id, index) => [id, burst[index]?.[1]]));
    const answered = [
      ['classified', 'route', 'reply'],
      ['classified', 'route', 'reply'],
      ['classified', 'route', 'reply'],
      ['classified', 'route', 'reply'],
      ['classified', 'route', 'tool-proposed'],
    ];
    expect(events.map(({ type }) => type)).toEqual([
      ...burst.map(() => 'message'),
      ...answered.flat(),
    ]);
    // Each turn's events come together, in sending order.
    expect(
      events.map(({ detail }) => ('turnId' in detail ? detail.turnId : null)).slice(burst.length),
    ).toEqual(ids.flatMap((id, index) => answered[index]?.map(() => id) ?? []));
    const turns = ids.map((id) => turnOf(session, id));
    expect(turns.map((turn) => turn.reply?.source ?? turn.tool?.status)).toEqual([
      'template',
      'agent',
      'agent',
      'human',
      'needs-confirmation',
    ]);
    expect(turns[4]?.tool?.arguments).toEqual({ plan: '自动续费' });
    expect(session.snapshot.pending).toBeNull();
  });

  it('keeps a message whose classification crashed, answers the rest, and answers it on resend', async () => {
    const { session, events } = start({ classifier: new CrashingOnce(model) });
    const texts = ['你好', '忘记密码了怎么办', '快递员态度太差了，我要投诉'];
    const [first, second, third] = texts.map((text) => required(session.send(text)));
    if (!first || !second || !third) throw new Error('three messages were sent');
    await until(session, idle(session));

    expect(typesOf(events, first)).toEqual(['message', 'error']);
    expect(detailOf(events, first, 'error')).toEqual({
      turnId: first,
      scope: 'turn',
      error: {
        name: 'ClassifierWorkerError',
        code: 'classifier-crashed',
        message: 'The classifier worker crashed.',
      },
    });
    expect(turnOf(session, first)).toMatchObject({
      text: '你好',
      queued: false,
      error: { code: 'classifier-crashed', message: 'The classifier worker crashed.' },
    });
    expect(turnOf(session, first).result).toBeUndefined();
    expect(typesOf(events, second)).toEqual(['message', 'classified', 'route', 'reply']);
    expect(typesOf(events, third)).toEqual(['message', 'classified', 'route', 'reply']);
    expect(turnOf(session, second).result?.intentId).toBe('account');
    expect(turnOf(session, third).result?.intentId).toBe('complaint');

    session.resend(first);
    expect(turnOf(session, first).error).toBeUndefined();
    await until(session, () => idle(session)() && turnOf(session, first).reply !== undefined);
    expect(typesOf(events, first)).toEqual(['message', 'error', 'classified', 'route', 'reply']);
    expect(turnOf(session, first)).toMatchObject({
      text: '你好',
      result: { intentId: 'greeting' },
      reply: { source: 'template', status: 'done' },
    });
    // The resent turn keeps its place in the conversation.
    expect(session.snapshot.turns.map((turn) => turn.id)).toEqual([first, second, third]);
  });

  it('cancels the turn being classified and answers the next one', async () => {
    const { session, events } = start();
    const first = required(session.send('你好'));
    const second = required(session.send('忘记密码了怎么办'));
    expect(session.snapshot.pending).toBe(first);
    session.cancel();
    await until(session, idle(session));
    expect(typesOf(events, first)).toEqual(['message']);
    expect(turnOf(session, first)).toMatchObject({ text: '你好', cancelled: true, queued: false });
    expect(turnOf(session, first).result).toBeUndefined();
    expect(typesOf(events, second)).toEqual(['message', 'classified', 'route', 'reply']);
    expect(turnOf(session, second).reply).toMatchObject({ source: 'agent', status: 'done' });
  });
});

describe('configuration problems', () => {
  /** The demo catalog with the complaint intent's label renamed (the model answers 投诉建议). */
  function renamedComplaint(): Catalog {
    return {
      ...catalog,
      intents: catalog.intents.map((intent) =>
        intent.id === 'complaint' ? { ...intent, label: '投诉' } : intent,
      ),
    };
  }

  it('stops routing while the catalog does not match the model, and resumes once it does', async () => {
    const loading = new LoadingLater(model);
    const { session, events } = start({ classifier: loading, catalog: renamedComplaint() });
    const waiting = required(session.send('你好'));
    loading.finishLoading();

    const errors = detailsOf(events, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      scope: 'developer',
      error: {
        code: 'catalog-model-mismatch',
        differences: [
          { intentId: 'complaint', problem: 'label', catalog: '投诉', model: '投诉建议' },
        ],
      },
    });
    expect(errors[0]?.error.message).toContain(
      'intent "complaint": label "投诉" in the catalog, "投诉建议" in the model',
    );
    expect(session.snapshot.problems.map((problem) => problem.code)).toEqual([
      'catalog-model-mismatch',
    ]);
    const another = required(session.send('忘记密码了怎么办'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(detailsOf(events, 'message').map(({ queued }) => queued)).toEqual([true, true]);
    expect(detailsOf(events, 'classified')).toEqual([]);
    expect(session.snapshot.pending).toBeNull();
    expect(turnOf(session, waiting).queued).toBe(true);

    session.configure({ catalog });
    expect(session.snapshot.problems).toEqual([]);
    await until(session, idle(session));
    expect(detailsOf(events, 'classified').map(({ turnId }) => turnId)).toEqual([waiting, another]);
    expect(turnOf(session, waiting).reply?.source).toBe('template');
    expect(turnOf(session, another).reply?.source).toBe('agent');
    expect(detailsOf(events, 'error')).toHaveLength(1);
  });

  // On a classifier that is already ready, the mismatch is found inside the constructor; it is
  // reported after `new` returns, as `configure`'s other problems are.
  it('reports a mismatch to listeners added right after `new` on a loaded model', async () => {
    const { session, events } = start({ catalog: renamedComplaint() });
    expect(session.snapshot.problems.map((problem) => problem.code)).toEqual([
      'catalog-model-mismatch',
    ]);
    await nextTask();
    expect(detailsOf(events, 'error').map(({ error }) => error.code)).toEqual([
      'catalog-model-mismatch',
    ]);
  });

  it('reports a route naming a handler the host did not supply, and fails only its turns', async () => {
    const handlers = createDemoHandlers();
    delete handlers.billing;
    const { session, events } = start({ handlers });
    const [problem, ...others] = session.snapshot.problems;
    expect(others).toEqual([]);
    expect(problem?.code).toBe('catalog-invalid');
    expect(problem?.message).toContain(
      'intent "payment" routes to agent handler "billing", which the host did not supply (handlers.billing)',
    );
    await nextTask();
    expect(detailsOf(events, 'error')).toEqual([{ scope: 'developer', error: problem }]);

    const greeting = await session.route('你好');
    expect(typesOf(events, greeting.id)).toEqual(['message', 'classified', 'route', 'reply']);
    const payment = await session.route('支付失败了会扣钱吗');
    expect(typesOf(events, payment.id)).toEqual(['message', 'classified', 'route', 'error']);
    expect(detailOf(events, payment.id, 'route')).toMatchObject({
      kind: 'agent',
      handler: 'billing',
    });
    expect(detailOf(events, payment.id, 'error')).toMatchObject({
      scope: 'turn',
      error: { code: 'catalog-invalid' },
    });
    expect(payment.reply).toMatchObject({
      source: 'agent',
      status: 'error',
      handler: 'billing',
      error: { code: 'catalog-invalid' },
    });
    expect(payment.reply?.error?.message).toContain('intent "payment"');
    expect(session.snapshot.pending).toBeNull();
  });

  it('lists every missing or mismatched handler, one line per intent', () => {
    expect(missingHandlerProblems(catalog, {})).toEqual([
      'intent "payment" routes to agent handler "billing", which the host did not supply (handlers.billing)',
      'intent "account" routes to agent handler "accounts", which the host did not supply (handlers.accounts)',
      'intent "complaint" routes to human handler "service_desk", which the host did not supply (handlers.service_desk)',
    ]);
    const handlers = createDemoHandlers();
    expect(missingHandlerProblems(catalog, handlers)).toEqual([]);
    const desk = handlers.service_desk;
    if (!desk) throw new Error('the demo handlers have a service desk');
    expect(missingHandlerProblems(catalog, { ...handlers, billing: desk })).toEqual([
      'intent "payment" routes to agent handler "billing", but handlers.billing is a human handler',
    ]);
    expect(missingHandlerProblems(null, {})).toEqual([]);
  });
});
