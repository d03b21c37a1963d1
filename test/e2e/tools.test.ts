import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS } from '../../scripts/lib/paths';
import {
  launchChromium,
  serveDemo,
  watchPage,
  type Browser,
  type DemoServer,
} from '../../scripts/lib/browser';
import { reliabilityLog } from '../../scripts/lib/reliability-log';
import { say, waitIdle } from '../support/widget';
import {
  FAIL_500_MESSAGE,
  HTML_REPLY,
  OK_REPLY,
  startOpenAiServer,
  type OpenAiTestServer,
} from '../support/openai-server';

/**
 * Tool calls and escalation in the built widget, on real Chromium with the real demo model and
 * the demo shop in real IndexedDB; hand-overs go to an OpenAI-compatible server this test starts
 * on 127.0.0.1.
 */

let server: DemoServer;
let openai: OpenAiTestServer;
let browser: Browser;
beforeAll(async () => {
  server = await serveDemo();
  openai = await startOpenAiServer();
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await browser.close();
  await openai.close();
  await server.close();
});

const LOAD_TIMEOUT = 240_000;
const record = reliabilityLog('tools');

async function openDemo(page: Page, query = ''): Promise<void> {
  await page.goto(`${server.url}?device=wasm${query}`);
  await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
}

/** A tool card's `key: value` rows (arguments while it asks to confirm, then the result), as text. */
async function fields(card: Locator, kind: 'tool-arguments' | 'tool-result') {
  return rows(card.locator(`.${kind} .field`), 'dd');
}

/** The arguments a turn's call ran with, as the inspector lists them (`?inspect=1`). */
async function inspectedArguments(turn: Locator) {
  return rows(turn.locator('.inspector-arguments .inspector-argument'), '.inspector-value');
}

async function rows(found: Locator, value: string) {
  const entries: [string, string][] = [];
  for (let index = 0; index < (await found.count()); index++) {
    const row = found.nth(index);
    entries.push([
      (await row.getAttribute('data-key')) ?? '',
      (await row.locator(value).textContent()) ?? '',
    ]);
  }
  return Object.fromEntries(entries);
}

describe('tool calls in the offline demo', () => {
  it('查一下订单 → intent, tool card with the stored order, reply; a missing order number is asked for; an unknown order fails on the card', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    // The inspector: the arguments a call ran with and the timings (customers see the result).
    await openDemo(page, '&inspect=1');

    const lookup = await say(page, '帮我查一下订单 2024113012345');
    expect(await lookup.getAttribute('data-intent')).toBe('order_status');
    const card = lookup.locator('.tool-call');
    expect(await card.getAttribute('data-tool')).toBe('lookup_order');
    expect(await card.getAttribute('data-status')).toBe('done');
    // Done, the card shows the result only; the inspector has the arguments it ran with.
    expect(await card.locator('.tool-arguments').count()).toBe(0);
    expect(await inspectedArguments(lookup)).toEqual({ order_id: '2024113012345' });
    expect(await fields(card, 'tool-result')).toMatchObject({
      order_id: '2024113012345',
      status: '已发货',
    });
    expect(await card.locator('.assistant-reply').textContent()).toContain('2024113012345');
    // What a tool turn adds, on this machine: the chip's latency includes decoding the call.
    const plain = await say(page, '你好');
    console.log(
      `tool turn: classification + call ${await lookup.locator('.intent').getAttribute('data-latency-ms')} ms; ` +
        `plain turn ${await plain.locator('.intent').getAttribute('data-latency-ms')} ms (WASM)`,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'tool-lookup.png'), fullPage: true });

    // No order number: the widget asks, and the next message supplies it.
    const ask = await say(page, '我的快递到哪了');
    expect(await ask.getAttribute('data-intent')).toBe('shipping');
    const pendingCard = ask.locator('.tool-call');
    expect(await pendingCard.getAttribute('data-status')).toBe('needs-input');
    expect(await pendingCard.locator('.tool-ask').getAttribute('data-missing')).toBe('order_id');
    expect(await pendingCard.locator('.tool-ask').textContent()).toContain('订单号');
    const answer = await say(page, '订单号是 2024113012345');
    // Taken as the answer to that question: not classified, it carries the call on with the
    // order number filled in.
    expect(await answer.getAttribute('data-intent')).toBeNull();
    expect(await pendingCard.getAttribute('data-status')).toBe('continued');
    const tracked = answer.locator('.tool-call');
    expect(await tracked.getAttribute('data-tool')).toBe('track_shipment');
    expect(await tracked.getAttribute('data-status')).toBe('done');
    expect(await inspectedArguments(answer)).toEqual({ order_id: '2024113012345' });
    expect(await fields(tracked, 'tool-result')).toMatchObject({
      tracking_number: 'SF1234567890',
      courier: '顺丰速运',
    });

    // A failing tool: its typed error on the card, no result made up.
    const unknown = await say(page, '帮我查一下订单 2099000000001');
    const failed = unknown.locator('.tool-call');
    expect(await failed.getAttribute('data-status')).toBe('error');
    expect(await failed.locator('.tool-error').getAttribute('data-code')).toBe('tool-failed');
    expect(await failed.locator('.tool-error').textContent()).toContain(
      '没有找到订单 2099000000001',
    );
    record({
      area: 'fault',
      case: 'a tool that throws (lookup of an unknown order)',
      outcome: `card ${(await failed.getAttribute('data-status')) ?? '-'}, ${(await failed.locator('.tool-error').getAttribute('data-code')) ?? '-'}: "${(await failed.locator('.tool-error').textContent()) ?? ''}"; no result shown`,
      ok: (await failed.locator('.tool-result').count()) === 0,
    });
    expect(await failed.locator('.tool-result').count()).toBe(0);
    await page.screenshot({
      path: join(ARTIFACTS, 'tool-missing-and-failing.png'),
      fullPage: true,
    });

    // Without an escalation endpoint (the offline demo) the user is told what happens instead.
    const away = await say(page, '今天天气怎么样');
    expect(await away.getAttribute('data-route')).toBe('out_of_scope');
    expect(await away.locator('.escalation').getAttribute('data-status')).toBe('unavailable');
    expect(await away.locator('.escalation-reason').textContent()).toBe(
      '这个问题超出了我能处理的范围。',
    );
    expect(await away.locator('.escalation-unavailable').textContent()).toBe(
      '这个页面没有配置转交渠道（离线），消息没有发送给任何人或任何服务。',
    );

    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });

  it('a change needs confirmation; declined it does not run, confirmed it does, and the shop remembers it after a reload', async () => {
    const page = await browser.context.newPage();
    await openDemo(page);

    const declined = await say(page, '订单 2024113012345 我要退款');
    const declinedCard = declined.locator('.tool-call');
    expect(await declinedCard.getAttribute('data-tool')).toBe('request_refund');
    expect(await declinedCard.getAttribute('data-status')).toBe('needs-confirmation');
    await declinedCard.getByRole('button', { name: '不用了' }).click();
    expect(await declinedCard.getAttribute('data-status')).toBe('declined');

    const confirmed = await say(page, '订单 2024113012345 我要退款');
    const card = confirmed.locator('.tool-call');
    await card.getByRole('button', { name: '确认执行' }).click();
    await waitIdle(page);
    expect(await card.getAttribute('data-status')).toBe('done');
    expect(await fields(card, 'tool-result')).toMatchObject({
      order_id: '2024113012345',
      status: '已受理',
    });

    await page.reload();
    await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
    // The conversation, tool calls and results included, came back from IndexedDB …
    expect(
      await page.locator('.tool-call[data-tool="request_refund"][data-status="done"]').count(),
    ).toBe(1);
    // … and so did the shop: the order is now being refunded.
    const after = await say(page, '帮我查一下订单 2024113012345');
    expect(await fields(after.locator('.tool-call'), 'tool-result')).toMatchObject({
      status: '退款中',
    });
    await page.close();
  });
});

describe('escalation from an embedded widget', () => {
  async function openHost(page: Page): Promise<void> {
    await page.goto(`${server.url}examples/custom-element/?device=wasm`);
    await page.locator('fenliu-chat .status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
    // The developer's side of each failure: the `fenliu-error` events.
    await page.evaluate(() => {
      const heard: unknown[] = [];
      Object.assign(window, { heardErrors: heard });
      document.addEventListener('fenliu-error', (event) => {
        heard.push((event as CustomEvent).detail);
      });
    });
  }

  async function heardErrors(page: Page): Promise<{ error: { code: string; message: string } }[]> {
    return page.evaluate(
      () =>
        (window as unknown as { heardErrors: { error: { code: string; message: string } }[] })
          .heardErrors,
    );
  }

  async function setEscalation(
    page: Page,
    model: string,
    timeoutMs = 30_000,
    url = openai.url,
  ): Promise<void> {
    await page.evaluate(
      ({ url, model, timeoutMs }) => {
        const chat = document.querySelector('fenliu-chat') as unknown as {
          escalation: unknown;
        };
        chat.escalation = {
          kind: 'chat-completions',
          url,
          model,
          apiKey: 'sk-test-key',
          timeoutMs,
        };
      },
      { url, model, timeoutMs },
    );
  }

  it('hands off through the host callback, streams a chat-completions reply as text, and shows each failure with its code', async () => {
    const page = await browser.context.newPage();
    await openHost(page);

    // The example page's own hand-off callback.
    const handedOff = await say(page, '转人工');
    expect(await handedOff.getAttribute('data-route')).toBe('escalate');
    expect(await handedOff.locator('.escalation').getAttribute('data-reason')).toBe('intent');
    expect(await handedOff.locator('.escalation-reason').textContent()).toBe(
      '您希望由人工客服来处理。',
    );
    expect(await handedOff.locator('.escalation-reply').textContent()).toBe('客服小王马上接入。');
    // The widget says where each turn went: the shop's staff here, an endpoint's host below.
    const staff = handedOff.locator('.escalation-destination');
    expect(await staff.getAttribute('data-kind')).toBe('handoff');
    expect(await staff.textContent()).toBe('已转交给本店的客服人员，请稍候。');
    const events = await page.locator('#events').textContent();
    // The host's onescalate callback and its hand-off handler both saw the turn.
    expect(events).toContain('escalate: 转人工 (转人工)');
    expect(events).toContain('handoff: intent: 转人工');

    await setEscalation(page, 'ok');
    const streamed = await say(page, '今天天气怎么样');
    expect(await streamed.locator('.escalation').getAttribute('data-status')).toBe('done');
    expect(await streamed.locator('.escalation-reply').textContent()).toBe(OK_REPLY);
    const model = streamed.locator('.escalation-destination');
    expect(await model.getAttribute('data-kind')).toBe('chat-completions');
    expect(await model.getAttribute('data-host')).toBe(new URL(openai.url).host);
    expect(await model.textContent()).toBe(
      `这条回答来自 ${new URL(openai.url).host} 上的更大模型，您的消息已发送到那里。`,
    );
    const request = openai.completions().at(-1);
    expect(request?.headers.authorization).toBe('Bearer sk-test-key');
    expect(JSON.stringify(request?.body)).toContain('今天天气怎么样');

    // A reply full of HTML stays text.
    await setEscalation(page, 'html');
    const html = await say(page, '讲个笑话');
    expect(await html.locator('.escalation-reply').textContent()).toBe(HTML_REPLY);
    expect(await page.locator('fenliu-chat img, fenliu-chat b').count()).toBe(0);

    // Each failure: its code, and the customer told plainly where it went and that it failed
    // (the endpoint's own words are the developer's: in the `fenliu-error` event).
    for (const [model, code, timeoutMs, why, what] of [
      [
        'fail-500',
        'escalation-http',
        30_000,
        '抱歉，回答服务暂时出了问题，请稍后再试。',
        'escalation endpoint answers HTTP 500',
      ],
      [
        'malformed',
        'escalation-bad-stream',
        30_000,
        '抱歉，回答服务的回复不完整，请稍后再试。',
        'escalation endpoint sends a malformed stream',
      ],
      [
        'hang',
        'escalation-timeout',
        1_500,
        '抱歉，回答服务太久没有回复，请稍后再试。',
        'escalation endpoint too slow (no answer in 1.5 s)',
      ],
      [
        'down',
        'escalation-network',
        30_000,
        '抱歉，暂时连不上回答服务，请稍后再试。',
        'escalation endpoint down (connection refused)',
      ],
    ] as const) {
      // "down": a loopback port nothing listens on.
      const url = model === 'down' ? 'http://127.0.0.1:9/v1' : openai.url;
      await setEscalation(page, model, timeoutMs, url);
      const turn = await say(page, '推荐一部电影');
      const error = turn.locator('.escalation-error');
      const seen = await error.getAttribute('data-code');
      record({
        area: 'fault',
        case: what,
        outcome: `notice shows ${seen ?? '-'}: "${(await error.textContent()) ?? ''}"; the widget goes on`,
        ok: seen === code,
      });
      expect(seen, model).toBe(code);
      expect(await error.textContent(), model).toBe(
        `转交给 ${new URL(url).host} 上的更大模型没有成功。${why}`,
      );
      if (model === 'fail-500') {
        expect(
          (await heardErrors(page)).find((heard) => heard.error.code === 'escalation-http')?.error
            .message,
        ).toContain(FAIL_500_MESSAGE);
      }
    }

    // The host's own tools misbehaving: one never settles, one returns what is not JSON data.
    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as unknown as {
        tools: Record<string, unknown>;
      };
      chat.tools = {
        ...chat.tools,
        lookup_order: () => new Promise(() => undefined),
        track_shipment: () => Promise.resolve({ when: new Date(), notify: () => undefined }),
      };
    });
    for (const [text, code, what] of [
      [
        '帮我查一下订单 2024113012345',
        'tool-timeout',
        'a tool that hangs (never settles; 5 s limit)',
      ],
      ['订单 2024113012345 的快递到哪了', 'tool-bad-result', 'a tool that returns malformed data'],
    ] as const) {
      const turn = await say(page, text);
      const card = turn.locator('.tool-call');
      const seen = await card.locator('.tool-error').getAttribute('data-code');
      record({
        area: 'fault',
        case: what,
        outcome: `card ${(await card.getAttribute('data-status')) ?? '-'}, ${seen ?? '-'}: "${(await card.locator('.tool-error').textContent()) ?? ''}"; no result shown`,
        ok: seen === code && (await card.locator('.tool-result').count()) === 0,
      });
      expect(seen, what).toBe(code);
      expect(await card.locator('.tool-result').count()).toBe(0);
    }
    // The key went to the endpoint only: it is not on the page.
    expect(await page.content()).not.toContain('sk-test-key');
    await page.screenshot({ path: join(ARTIFACTS, 'escalation.png'), fullPage: true });
    await page.close();
  });
});
