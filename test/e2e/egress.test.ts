import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  serveDemo,
  watchPage,
  type Browser,
  type DemoServer,
} from '../../scripts/lib/browser';
import { reliabilityLog } from '../../scripts/lib/reliability-log';
import { DEFAULT_MAX_HISTORY_BYTES, DEFAULT_MAX_REPLY_BYTES } from '../../src/escalation';
import { say } from '../support/widget';
import { startOpenAiServer, type OpenAiTestServer } from '../support/openai-server';

/**
 * Where the conversation may go, in the built widget on real Chromium with the real demo model
 * (issue 18, classes 3 and 4):
 * - only to an endpoint the host page's code configured: the demo page takes none from its URL;
 * - never on through a redirect: the redirect target receives nothing, not even a preflight;
 * - the widget names the endpoint's host (here in English; tools.test.ts checks Chinese);
 * - a 10 MB reply is cut at the reply cap, and the next request stays under the history cap.
 */

let server: DemoServer;
let endpoint: OpenAiTestServer;
let elsewhere: OpenAiTestServer;
let redirecting: OpenAiTestServer;
let browser: Browser;
beforeAll(async () => {
  server = await serveDemo();
  endpoint = await startOpenAiServer();
  elsewhere = await startOpenAiServer();
  redirecting = await startOpenAiServer({ redirectTo: elsewhere.url });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser.close();
  await Promise.all([endpoint.close(), elsewhere.close(), redirecting.close()]);
  await server.close();
});

const LOAD_TIMEOUT = 240_000;
const record = reliabilityLog('egress');

async function setEscalation(page: Page, url: string, model: string): Promise<void> {
  await page.evaluate(
    ({ url, model }) => {
      const chat = document.querySelector('fenliu-chat') as unknown as { escalation: unknown };
      chat.escalation = { kind: 'chat-completions', url, model, timeoutMs: 30_000 };
    },
    { url, model },
  );
}

/** Starts recording the `fenliu-error` events the page hears (the developer's side of errors). */
async function recordErrors(page: Page): Promise<void> {
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

describe('what the conversation may reach', () => {
  it('the demo page takes no escalation endpoint from its URL: nothing is sent, the page says so', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    const switches = new URLSearchParams({
      device: 'wasm',
      'escalation-url': endpoint.url,
      'escalation-model': 'echo',
    });
    await page.goto(`${server.url}?${switches.toString()}`);
    await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });

    const away = await say(page, '今天天气怎么样');
    expect(await away.getAttribute('data-route')).toBe('out_of_scope');
    expect(await away.locator('.escalation').getAttribute('data-status')).toBe('unavailable');
    expect(await away.locator('.escalation-destination').count()).toBe(0);
    expect(await away.locator('.escalation-unavailable').textContent()).toBe(
      '这个页面没有配置转交渠道（离线），消息没有发送给任何人或任何服务。',
    );
    record({
      area: 'egress',
      case: 'demo page opened with ?escalation-url= pointing at a server',
      outcome: `requests the server got: ${endpoint.requests.length}; notice ${(await away.locator('.escalation').getAttribute('data-status')) ?? '-'}`,
      ok: endpoint.requests.length === 0,
    });
    expect(endpoint.requests).toEqual([]);
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });

  it('an embedded widget names the endpoint host, refuses a redirect, and caps a 10 MB reply and the history sent next', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    // NOTE: Playwright reports a redirect's target as a request of its own (`redirectedFrom`)
    // even when the fetch stopped at the redirect; what the target server received is the truth.
    const initiated: string[] = [];
    browser.context.on('request', (request) => {
      if (request.redirectedFrom() === null) initiated.push(request.url());
    });
    await page.goto(`${server.url}examples/custom-element/?device=wasm&lang=en`);
    await page.locator('fenliu-chat .status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
    await recordErrors(page);

    // A 307 to another server: refused, and the other server never hears of the conversation.
    await setEscalation(page, redirecting.url, 'redirect');
    const redirected = await say(page, '今天天气怎么样');
    // A failed hand-over names the host it went to in its notice (no destination line then).
    const error = redirected.locator('.escalation-error');
    expect(await error.getAttribute('data-code')).toBe('escalation-network');
    expect(await error.textContent()).toBe(
      `The hand-over to a larger model at ${new URL(redirecting.url).host} failed. ` +
        'Sorry, the answering service cannot be reached right now. Please try again later.',
    );
    expect(await redirected.locator('.escalation-destination').count()).toBe(0);
    // Why, for the developer: the turn's error event names the redirect.
    expect(
      (await heardErrors(page)).find((heard) => heard.error.code === 'escalation-network')?.error
        .message,
    ).toContain('answered with a redirect');
    expect(await redirected.locator('.escalation-reply').count()).toBe(0);
    record({
      area: 'egress',
      case: 'escalation endpoint answers 307 to another origin',
      outcome: `notice shows ${(await error.getAttribute('data-code')) ?? '-'}; requests the other origin got: ${elsewhere.requests.length}`,
      ok: elsewhere.requests.length === 0,
    });
    expect(redirecting.completions()).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);

    // 10 MB of reply: shown up to the cap, then the error; the page goes on.
    await setEscalation(page, endpoint.url, 'huge');
    const huge = await say(page, '推荐一部电影');
    expect(await huge.locator('.escalation-error').getAttribute('data-code')).toBe(
      'escalation-bad-stream',
    );
    expect(await huge.locator('.escalation-error').textContent()).toBe(
      `The hand-over to a larger model at ${new URL(endpoint.url).host} failed. ` +
        'Sorry, the reply from the answering service was incomplete. Please try again later.',
    );
    const kept = (await huge.locator('.escalation-reply').textContent()) ?? '';
    record({
      area: 'egress',
      case: 'escalation endpoint sends a 10 MB reply',
      outcome: `kept ${kept.length} characters, then escalation-bad-stream`,
      ok: kept.length === DEFAULT_MAX_REPLY_BYTES,
    });
    expect(kept).toBe('x'.repeat(DEFAULT_MAX_REPLY_BYTES));

    // The next escalation carries that reply as history, within the history cap.
    await setEscalation(page, endpoint.url, 'echo');
    const next = await say(page, '讲个笑话');
    expect(await next.locator('.escalation').getAttribute('data-status')).toBe('done');
    const destination = next.locator('.escalation-destination');
    expect(await destination.getAttribute('data-kind')).toBe('chat-completions');
    expect(await destination.getAttribute('data-host')).toBe(new URL(endpoint.url).host);
    expect(await destination.textContent()).toBe(
      `This answer comes from a larger model at ${new URL(endpoint.url).host}; your message was sent there.`,
    );
    const sent = endpoint.completions().at(-1);
    const sentBytes = Buffer.byteLength(JSON.stringify(sent?.body ?? null), 'utf8');
    expect(sentBytes).toBeLessThan(DEFAULT_MAX_HISTORY_BYTES + 1024);
    expect(JSON.stringify(sent?.body)).toContain('讲个笑话');

    // The page itself contacted only the configured endpoints, besides its own origin.
    const origins = new Set(
      initiated
        .filter((url) => watch.foreignRequests.includes(url))
        .map((url) => new URL(url).origin),
    );
    expect([...origins].sort()).toEqual([endpoint.origin, redirecting.origin].sort());
    expect(elsewhere.requests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });
});
