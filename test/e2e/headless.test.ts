import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, REPO_ROOT } from '../../scripts/lib/paths';
import {
  launchChromium,
  serveDemo,
  watchPage,
  type Browser,
  type DemoServer,
} from '../../scripts/lib/browser';
import { TURN_TIMEOUT } from '../support/widget';

/**
 * The headless router (dist/embed/router/fenliu-router.js) behind chat UIs that are not ours, on
 * real Chromium with the real demo model: examples/headless/ (the host's own markup, tools with
 * confirmation, the events it hears) and examples/agents/ (two local agents, one per route).
 */

let server: DemoServer;
let browser: Browser;
beforeAll(async () => {
  server = await serveDemo();
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

const LOAD_TIMEOUT = 240_000;

const catalog = JSON.parse(
  readFileSync(join(REPO_ROOT, 'data', 'demo', 'catalog.json'), 'utf8'),
) as { routes: { greeting: { text: { zh: string } } } };

/** An event as the pages record it on `window.__events`. */
interface SeenEvent {
  type: string;
  detail: Record<string, unknown> & { turnId?: string };
}

function seenEvents(page: Page): Promise<SeenEvent[]> {
  return page.evaluate(() => (globalThis as { __events?: SeenEvent[] }).__events ?? []);
}

/** One turn's events, without the streamed growth of its reply. */
async function turnEvents(page: Page, turnId: string): Promise<SeenEvent[]> {
  return (await seenEvents(page)).filter(
    (event) => event.detail.turnId === turnId && event.type !== 'reply-delta',
  );
}

/** Types the message into the page's own input and sends it with Enter; returns its turn id. */
async function send(page: Page, text: string): Promise<string> {
  const before = (await seenEvents(page)).length;
  await page.locator('#input').fill(text);
  await page.locator('#input').press('Enter');
  await expect
    .poll(async () => (await seenEvents(page)).slice(before).find((e) => e.type === 'message'))
    .toBeTruthy();
  const message = (await seenEvents(page)).slice(before).find((e) => e.type === 'message');
  return message?.detail.turnId ?? '';
}

/** Waits until the page has heard an event of `type` for the turn. */
async function waitFor(page: Page, turnId: string, type: string): Promise<SeenEvent> {
  const handle = await page.waitForFunction(
    ({ turnId, type }) =>
      (globalThis as { __events?: SeenEvent[] }).__events?.find(
        (event) => event.type === type && event.detail.turnId === turnId,
      ),
    { turnId, type },
    { timeout: TURN_TIMEOUT, polling: 100 },
  );
  return (await handle.jsonValue()) as SeenEvent;
}

describe('the headless router on host pages', () => {
  it("headless: the host's own chat renders a template reply, a tool's result, a change only after its yes, a streamed agent answer and an escalation", async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    await page.goto(`${server.url}examples/headless/?device=wasm`);
    await page.locator('#status[data-state="ready"]').waitFor({ timeout: LOAD_TIMEOUT });
    expect(await page.locator('#status').getAttribute('data-device')).toBe('wasm');
    // Not our widget: no custom element, no shadow root, only the host's own markup.
    expect(await page.locator('fenliu-chat, [data-fenliu-host]').count()).toBe(0);
    const statuses = (await seenEvents(page))
      .filter((event) => event.type === 'status')
      .map((event) => event.detail.state);
    expect(statuses.at(-1)).toBe('ready');

    // A greeting: the catalog's template reply.
    const hello = await send(page, '你好');
    await waitFor(page, hello, 'reply');
    const helloTurn = page.locator(`li.turn[data-turn="${hello}"]`);
    expect(
      await helloTurn
        .locator('.customer')
        .first()
        .evaluate((e) => e.firstChild?.nodeValue),
    ).toBe('你好');
    expect(await helloTurn.locator('.assistant').getAttribute('data-source')).toBe('template');
    expect(
      await helloTurn.locator('.assistant').evaluate((e) => e.firstChild?.nodeValue ?? ''),
    ).toBe(catalog.routes.greeting.text.zh);
    const greeting = await turnEvents(page, hello);
    expect(greeting.map((event) => event.type)).toEqual([
      'message',
      'classified',
      'route',
      'reply',
    ]);
    expect(greeting[1]?.detail).toMatchObject({ intentId: 'greeting', route: 'intent' });
    expect(greeting[2]?.detail).toMatchObject({ kind: 'reply', intentId: 'greeting' });
    expect(greeting[3]?.detail).toMatchObject({ source: 'template' });

    // An order lookup: the tool runs at once (it changes nothing) and its result is rendered.
    const lookup = await send(page, '帮我查一下订单 2024113012345');
    await waitFor(page, lookup, 'reply');
    const lookupCard = page.locator(`li.turn[data-turn="${lookup}"] .tool`);
    expect(await lookupCard.getAttribute('data-tool')).toBe('lookup_order');
    expect(await lookupCard.getAttribute('data-status')).toBe('done');
    expect(await lookupCard.locator('.result .field[data-key="status"] dd').textContent()).toBe(
      '已发货',
    );
    expect(await lookupCard.locator('.result .field[data-key="items"] dd').textContent()).toBe(
      '无线耳机 ×1',
    );
    expect(
      await page.locator(`li.turn[data-turn="${lookup}"] .assistant:not(.tool)`).textContent(),
    ).toBe('订单 2024113012345：已发货（无线耳机 ×1，¥299）。');
    const lookupEvents = await turnEvents(page, lookup);
    expect(lookupEvents.map((event) => event.type)).toEqual([
      'message',
      'classified',
      'route',
      'tool-proposed',
      'tool-executed',
      'reply',
    ]);
    expect(lookupEvents[1]?.detail).toMatchObject({ intentId: 'order_status' });
    expect(lookupEvents[2]?.detail).toMatchObject({ kind: 'tool', intentId: 'order_status' });
    expect(lookupEvents[3]?.detail).toMatchObject({
      tool: 'lookup_order',
      arguments: { order_id: '2024113012345' },
      status: 'running',
    });
    expect(lookupEvents[5]?.detail).toMatchObject({ source: 'tool' });

    // A refund changes data: proposed, shown with confirm/decline, and not run until the yes.
    const refund = await send(page, '订单 2024113012345 我要退款');
    await waitFor(page, refund, 'tool-proposed');
    const refundCard = page.locator(`li.turn[data-turn="${refund}"] .tool`);
    expect(await refundCard.getAttribute('data-tool')).toBe('request_refund');
    expect(await refundCard.getAttribute('data-status')).toBe('needs-confirmation');
    // The session is idle now (nothing pending); give a wrongly eager call time to show.
    await page.waitForTimeout(500);
    const runsBefore = await page.evaluate(
      () => (globalThis as { __toolRuns?: string[] }).__toolRuns ?? [],
    );
    expect(runsBefore).toEqual(['lookup_order']);
    expect((await turnEvents(page, refund)).map((event) => event.type)).toEqual([
      'message',
      'classified',
      'route',
      'tool-proposed',
    ]);
    await refundCard.getByRole('button', { name: '确认执行' }).click();
    await waitFor(page, refund, 'reply');
    expect(await refundCard.getAttribute('data-status')).toBe('done');
    expect(await refundCard.locator('.confirm').count()).toBe(0);
    expect(await refundCard.locator('.result .field[data-key="status"] dd').textContent()).toBe(
      '已受理',
    );
    expect(
      await page.evaluate(() => (globalThis as { __toolRuns?: string[] }).__toolRuns ?? []),
    ).toEqual(['lookup_order', 'request_refund']);
    expect((await turnEvents(page, refund)).map((event) => event.type)).toEqual([
      'message',
      'classified',
      'route',
      'tool-proposed',
      'tool-confirmed',
      'tool-executed',
      'reply',
    ]);

    // A payment question: the billing agent streams its answer from the route's knowledge.
    const payment = await send(page, '重复扣款了怎么办');
    await waitFor(page, payment, 'reply');
    const paymentEvents = (await seenEvents(page)).filter(
      (event) => event.detail.turnId === payment,
    );
    expect(paymentEvents[2]?.detail).toMatchObject({ kind: 'agent', handler: 'billing' });
    const deltas = paymentEvents.filter((event) => event.type === 'reply-delta');
    expect(deltas.length).toBeGreaterThan(0);
    const billingAnswer = '支付客服：重复扣款会在 3 个工作日内自动原路退回，无需申请。';
    expect(paymentEvents.at(-1)).toEqual({
      type: 'reply',
      detail: { turnId: payment, source: 'agent', text: billingAnswer },
    });
    const paymentBubble = page.locator(`li.turn[data-turn="${payment}"] .assistant`);
    expect(await paymentBubble.getAttribute('data-source')).toBe('agent');
    expect(await paymentBubble.getAttribute('data-status')).toBe('done');
    expect(await paymentBubble.textContent()).toBe(billingAnswer);

    // Out of scope: escalated to the host's hand-off, whose message is the reply.
    const weather = await send(page, '今天天气怎么样');
    await waitFor(page, weather, 'reply');
    const weatherEvents = await turnEvents(page, weather);
    expect(weatherEvents.map((event) => event.type)).toEqual([
      'message',
      'classified',
      'route',
      'escalated',
      'reply',
    ]);
    expect(weatherEvents[2]?.detail).toMatchObject({ kind: 'escalation', reason: 'out_of_scope' });
    expect(weatherEvents[4]?.detail).toMatchObject({ source: 'escalation' });
    expect(await page.locator(`li.turn[data-turn="${weather}"] .note`).textContent()).toBe(
      '已转交（out_of_scope）',
    );

    // The events panel lists what the host heard: a line per event, a run of status or
    // reply-delta events on one line with its count.
    const panel = await page
      .locator('#events li')
      .evaluateAll((items) =>
        items.flatMap((item) =>
          Array.from({ length: Number(item.getAttribute('data-count')) }, () =>
            item.getAttribute('data-type'),
          ),
        ),
      );
    expect(panel).toEqual((await seenEvents(page)).map((event) => event.type));

    await page.screenshot({ path: join(ARTIFACTS, 'headless.png'), fullPage: true });
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });

  it('agents: a payment question goes to the billing agent, an account question to the accounts agent', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    await page.goto(`${server.url}examples/agents/?device=wasm`);
    await page.locator('#status[data-state="ready"]').waitFor({ timeout: LOAD_TIMEOUT });

    const payment = await send(page, '支持哪些付款方式');
    await waitFor(page, payment, 'reply');
    const account = await send(page, '忘记密码了怎么办');
    await waitFor(page, account, 'reply');

    const routeOf = async (turnId: string) =>
      (await turnEvents(page, turnId)).find((event) => event.type === 'route')?.detail;
    const replyOf = async (turnId: string) =>
      (await turnEvents(page, turnId)).find((event) => event.type === 'reply')?.detail;
    expect(await routeOf(payment)).toMatchObject({
      kind: 'agent',
      intentId: 'payment',
      handler: 'billing',
    });
    expect(await routeOf(account)).toMatchObject({
      kind: 'agent',
      intentId: 'account',
      handler: 'accounts',
    });
    // Each answer is its own agent's FAQ entry for the question.
    const billingAnswer =
      '我们支持微信支付、支付宝和银联银行卡（借记卡、信用卡），暂不支持货到付款。';
    const accountsAnswer =
      '在登录页点“忘记密码”，用绑定手机号收到的验证码设置新密码，验证码 5 分钟内有效。';
    expect(await replyOf(payment)).toMatchObject({ source: 'agent', text: billingAnswer });
    expect(await replyOf(account)).toMatchObject({ source: 'agent', text: accountsAnswer });

    // The page labels each answer with the agent the route named.
    const paymentItem = page.locator(`#transcript li[data-turn="${payment}"]`);
    const accountItem = page.locator(`#transcript li[data-turn="${account}"]`);
    expect(await paymentItem.getAttribute('data-handler')).toBe('billing');
    expect(await accountItem.getAttribute('data-handler')).toBe('accounts');
    expect(await paymentItem.locator('.who').textContent()).toBe('支付客服 · 小蔡');
    expect(await accountItem.locator('.who').textContent()).toBe('账户客服 · 小林');
    expect(await paymentItem.locator('.answer').textContent()).toBe(billingAnswer);
    expect(await accountItem.locator('.answer').textContent()).toBe(accountsAnswer);
    expect(await page.locator('.agent .answered').allTextContents()).toEqual([
      'answered 1',
      'answered 1',
    ]);

    await page.screenshot({ path: join(ARTIFACTS, 'headless-agents.png'), fullPage: true });
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });
});
