import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS } from '../../scripts/lib/paths';
import {
  launchChromium,
  serveDemo,
  watchPage,
  type Browser,
  type DemoServer,
} from '../../scripts/lib/browser';
import { intentOf } from '../support/widget';

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

/** Computed styles of a host element, to prove the widget's CSS does not leak out. */
function styleOf(page: Page, selector: string) {
  return page.locator(selector).evaluate((element) => {
    const style = getComputedStyle(element);
    return {
      padding: style.padding,
      borderRadius: style.borderRadius,
      background: style.backgroundColor,
      color: style.color,
      fontFamily: style.fontFamily,
    };
  });
}

/** Sends a message and returns the intent its turn was routed to (`li.turn[data-intent]`). */
async function classify(page: Page, text: string, nth: number): Promise<string | null> {
  const input = page.locator('fenliu-chat textarea, [data-fenliu-host] textarea').first();
  await input.fill(text);
  await input.press('Enter');
  // NOTE: `li.turn`: the host pages have a `.turn` of their own, outside the widget.
  return intentOf(page.locator('li.turn').nth(nth), 120_000);
}

/** The intent's name as the inspector shows it on the `nth` turn (the element's `inspect` on). */
async function intentName(page: Page, nth: number): Promise<string | null> {
  const label = page.locator('li.turn').nth(nth).locator('.inspector .intent .label');
  await label.waitFor({ timeout: 120_000 });
  return label.textContent();
}

/** Turns on a `<fenliu-chat>`'s operator view (its `inspect` attribute). */
async function inspect(page: Page): Promise<void> {
  await page.locator('fenliu-chat').evaluate((element) => {
    element.setAttribute('inspect', '');
  });
  await page.locator('fenliu-chat .inspector-bar').waitFor();
}

/** The session events a host page hears, as `fenliu-<type>` DOM events on the document. */
const SESSION_EVENTS = [
  'status',
  'message',
  'classified',
  'route',
  'tool-proposed',
  'tool-confirmed',
  'tool-declined',
  'tool-executed',
  'tool-failed',
  'reply-delta',
  'reply',
  'escalated',
  'error',
];

interface HeardEvent {
  type: string;
  detail: Record<string, unknown>;
}

/** Starts recording every `fenliu-*` session event that bubbles out of the widget. */
async function recordEvents(page: Page): Promise<void> {
  await page.evaluate((types) => {
    const heard: HeardEvent[] = [];
    Object.assign(window, { heardEvents: heard });
    for (const type of types) {
      document.addEventListener(`fenliu-${type}`, (event) => {
        heard.push({ type: event.type, detail: (event as CustomEvent).detail as never });
      });
    }
  }, SESSION_EVENTS);
}

async function heardEvents(page: Page): Promise<HeardEvent[]> {
  return page.evaluate(() => (window as unknown as { heardEvents: HeardEvent[] }).heardEvents);
}

describe('embedding on host pages', () => {
  it('script tag: one <script> and one <fenliu-chat>; host CSS does not leak in, widget CSS does not leak out', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    await page.goto(`${server.url}examples/script-tag/`);
    const hostTurnBefore = await styleOf(page, '#host-turn');
    const hostButtonBefore = await styleOf(page, '#host-button');

    // The page places the widget behind a launcher bubble; the model loads meanwhile.
    const status = page.locator('fenliu-chat .status[data-device]');
    await status.waitFor({ timeout: LOAD_TIMEOUT, state: 'attached' });
    await page.locator('fenliu-chat .launcher-button').click();
    await status.waitFor();
    expect(await status.getAttribute('data-device')).toBe('wasm');

    // Leak in: the host hides `.status`/`.turns`, paints buttons green, sets 30px red monospace
    // text with letter spacing on `*` (!important). None of it may reach the shadow tree.
    expect(await status.isVisible()).toBe(true);
    const inside = await page.locator('fenliu-chat .fenliu-header h2').evaluate((element) => {
      const style = getComputedStyle(element);
      return {
        color: style.color,
        fontSize: style.fontSize,
        letterSpacing: style.letterSpacing,
        fontFamily: style.fontFamily,
      };
    });
    expect(inside.color).not.toBe('rgb(255, 0, 0)');
    expect(inside.fontSize).toBe('16.8px'); // the title's 1.05rem of 16px
    expect(inside.letterSpacing).toBe('normal');
    expect(inside.fontFamily).not.toContain('Courier');
    const widgetButton = await page
      .locator('fenliu-chat button.language')
      .evaluate((element) => getComputedStyle(element).backgroundColor);
    expect(widgetButton).not.toBe('rgb(0, 255, 0)');

    expect(await classify(page, '取消我的订阅', 0)).toBe('cancel_service');
    expect(await page.locator('fenliu-chat .turns').isVisible()).toBe(true);

    // Leak out: the widget styles `.turn` and `button`; the host's elements keep their styles.
    expect(await styleOf(page, '#host-turn')).toEqual(hostTurnBefore);
    expect(await styleOf(page, '#host-button')).toEqual(hostButtonBefore);
    expect(hostTurnBefore.padding).toBe('0px');
    expect(hostButtonBefore.background).toBe('rgb(0, 255, 0)');

    await page.screenshot({ path: join(ARTIFACTS, 'embed-script-tag.png'), fullPage: true });
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });

  it('custom element: catalog as a property, lang and theme attributes switch the UI, status events reach the host', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    await page.goto(`${server.url}examples/custom-element/?device=wasm&lang=en&theme=light`);
    const status = page.locator('fenliu-chat .status[data-device]');
    await status.waitFor({ timeout: LOAD_TIMEOUT });
    await expect
      .poll(() => page.locator('#events li').allTextContents())
      .toContain('status: ready');
    // The operator's view names each turn's intent in the UI language.
    await inspect(page);

    // Every routing decision reaches the host as a bubbling, composed DOM event.
    await recordEvents(page);
    expect(await classify(page, '你好', 0)).toBe('greeting');
    expect(await intentName(page, 0)).toBe('Greeting & small talk');
    await expect
      .poll(async () => (await heardEvents(page)).map(({ type }) => type))
      .toEqual(['fenliu-message', 'fenliu-classified', 'fenliu-route', 'fenliu-reply']);
    const [message, classified, route, reply] = await heardEvents(page);
    const turnId = message?.detail.turnId;
    expect(message?.detail).toEqual({ turnId, text: '你好', queued: false });
    expect(classified?.detail).toMatchObject({
      turnId,
      intentId: 'greeting',
      label: '问候闲聊',
      route: 'intent',
    });
    expect((classified?.detail.scores as unknown[]).length).toBe(12);
    expect(route?.detail).toEqual({ turnId, kind: 'reply', intentId: 'greeting' });
    expect(reply?.detail).toMatchObject({ turnId, source: 'template' });
    expect(reply?.detail.text).toMatch(/^Hello! I can look up orders/);
    expect(await page.locator('.turn .route-reply .assistant-reply').first().textContent()).toBe(
      reply?.detail.text,
    );
    expect(await page.locator('#events li').allTextContents()).toContain('route: greeting → reply');
    // The greeting's quick replies send their text.
    expect(await page.locator('.turn .suggestions button').allTextContents()).toEqual([
      'Check my order',
      'Where is my parcel?',
      'I want a refund',
    ]);

    expect(await classify(page, '修改我的收货地址', 1)).toBe('update_info');
    expect(await intentName(page, 1)).toBe('Update details');
    // The title is the catalog's name, in the UI language.
    const title = page.locator('fenliu-chat .fenliu-header h2');
    expect(await title.textContent()).toBe('E-commerce customer service');

    await page.locator('#toggle-lang').click();
    await expect.poll(() => title.textContent()).toBe('电商客服');
    // The intent's name follows the language: the catalog's Chinese name.
    expect(await intentName(page, 1)).toBe('修改信息');

    const root = page.locator('fenliu-chat section.fenliu');
    expect(await root.getAttribute('data-theme')).toBe('light');
    const lightBackground = await root.evaluate(
      (element) => getComputedStyle(element).backgroundColor,
    );
    await page.locator('#toggle-theme').click();
    await expect.poll(() => root.getAttribute('data-theme')).toBe('dark');
    const darkBackground = await root.evaluate(
      (element) => getComputedStyle(element).backgroundColor,
    );
    expect([lightBackground, darkBackground]).toEqual(['rgb(255, 255, 255)', 'rgb(17, 24, 39)']);

    await page.screenshot({
      path: join(ARTIFACTS, 'embed-custom-element-dark.png'),
      fullPage: true,
    });
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });

  it('a catalog that does not match the model: the customer gets a short notice, the developer the details, nothing is routed until it is fixed', async () => {
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`${server.url}examples/custom-element/?device=wasm&lang=en`);
    await page.locator('fenliu-chat .status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
    await inspect(page);
    await recordEvents(page);
    // The host renames one intent's label: the model still answers with the old one.
    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement & {
        catalog: { intents: { id: string; label: string }[] };
      };
      const renamed = structuredClone(chat.catalog);
      const complaint = renamed.intents.find((intent) => intent.id === 'complaint');
      if (complaint) complaint.label = '投诉';
      Object.assign(window, { originalCatalog: chat.catalog });
      chat.catalog = renamed;
    });
    const notice = page.locator('fenliu-chat .setup-problem');
    await notice.waitFor();
    expect(await notice.textContent()).toBe(
      'The assistant is being set up and cannot answer yet. Please try again later.',
    );
    expect(await notice.getAttribute('data-code')).toBe('catalog-model-mismatch');
    const [error] = await heardEvents(page);
    expect(error?.type).toBe('fenliu-error');
    expect(error?.detail).toMatchObject({
      scope: 'developer',
      error: {
        code: 'catalog-model-mismatch',
        differences: [
          { intentId: 'complaint', problem: 'label', catalog: '投诉', model: '投诉建议' },
        ],
      },
    });
    expect(consoleErrors.some((text) => text.includes('intent "complaint"'))).toBe(true);

    // A message waits rather than being routed with the wrong catalog …
    const input = page.locator('fenliu-chat textarea');
    await input.fill('修改我的收货地址');
    await input.press('Enter');
    await page.locator('fenliu-chat .turn .queued').waitFor();
    expect(await page.locator('fenliu-chat .turn .intent').count()).toBe(0);
    expect(await page.locator('fenliu-chat .turn[data-intent]').count()).toBe(0);
    // … and is answered once the host gives the model's catalog back.
    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement & { catalog: unknown };
      chat.catalog = (window as unknown as { originalCatalog: unknown }).originalCatalog;
    });
    expect(await intentOf(page.locator('fenliu-chat .turn').first(), 120_000)).toBe('update_info');
    expect(await intentName(page, 0)).toBe('Update details');
    expect(await notice.count()).toBe(0);
    await page.close();
  });

  it('React component: rendered by a React host app, in its own shadow root', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    await page.goto(`${server.url}examples/react/`);
    const status = page.locator('[data-fenliu-host] .status[data-device]');
    await status.waitFor({ timeout: LOAD_TIMEOUT });
    expect(
      await page.locator('[data-fenliu-host]').evaluate((element) => element.shadowRoot !== null),
    ).toBe(true);
    expect(await classify(page, '我要开发票', 0)).toBe('invoice');
    // The host's `onRoute` and `onClassified` callbacks heard the turn.
    await expect
      .poll(() => page.locator('#routes li').allTextContents())
      .toEqual(['invoice → tool (request_invoice)']);
    // A complaint goes to the host's service desk, in its queue.
    expect(await classify(page, '我要投诉你们的快递员态度太差', 1)).toBe('complaint');
    await expect
      .poll(() => page.locator('#routes li').allTextContents())
      .toEqual(['invoice → tool (request_invoice)', 'complaint → human (service_desk)']);
    await expect
      .poll(() =>
        page.locator('[data-fenliu-host] .route-reply .assistant-reply').last().textContent(),
      )
      .toBe('Passed to the complaints queue.');
    // Leak in: the host's `button { background: pink; border-radius: 0 }` does not reach the
    // widget's buttons, and its `.turn` rule does not reach the widget's turns, which keep the
    // widget's own layout. (The widget's turns have no padding of their own any more, so the
    // host's `padding: 0` alone could not show a leak.)
    const hostButton = await page.evaluate(() => {
      const probe = document.createElement('button');
      document.body.append(probe);
      const style = getComputedStyle(probe);
      const seen = { background: style.backgroundColor, borderRadius: style.borderRadius };
      probe.remove();
      return seen;
    });
    expect(hostButton).toEqual({ background: 'rgb(255, 105, 180)', borderRadius: '0px' });
    const widgetButton = await page
      .locator('[data-fenliu-host] button.language')
      .evaluate((element) => {
        const style = getComputedStyle(element);
        return { background: style.backgroundColor, borderRadius: style.borderRadius };
      });
    expect(widgetButton.background).not.toBe(hostButton.background);
    expect(widgetButton.borderRadius).not.toBe('0px');
    const turnStyle = await page
      .locator('[data-fenliu-host] li.turn')
      .first()
      .evaluate((element) => {
        const style = getComputedStyle(element);
        return { display: style.display, rowGap: style.rowGap };
      });
    expect(turnStyle).toEqual({ display: 'flex', rowGap: '8px' });
    await page.screenshot({ path: join(ARTIFACTS, 'embed-react.png'), fullPage: true });
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });
});
