import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  serveDemo,
  watchPage,
  type Browser,
  type DemoServer,
} from '../../scripts/lib/browser';
import { intentOf } from '../support/widget';

/**
 * Issue 18: what a host page hands `<fenliu-chat>` is plain JavaScript and may be wrong. A bad
 * catalog, tool or handler is the developer's to hear about (console and `fenliu-error`); the
 * widget goes on and the customer reads a short line; a failure inside the widget stays inside
 * it, behind a reload button, and nothing the customer typed is lost.
 */

let server: DemoServer;
let browser: Browser;
beforeAll(async () => {
  server = await serveDemo();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

const LOAD_TIMEOUT = 240_000;
const TURN_TIMEOUT = 120_000;
const PAGE = 'examples/custom-element/?device=wasm&lang=en';

interface HeardError {
  scope: string;
  error: {
    code: string;
    message: string;
    issues?: { file: string; line: number; reason: string }[];
  };
}

/** Opens the example host page and records its console errors and `fenliu-error` events. */
async function openHostPage(page: Page): Promise<{ consoleErrors: string[] }> {
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${server.url}${PAGE}`);
  await page.locator('fenliu-chat .status').waitFor({ timeout: LOAD_TIMEOUT });
  await page.evaluate(() => {
    const heard: unknown[] = [];
    Object.assign(window, { heardErrors: heard });
    document.addEventListener('fenliu-error', (event) => {
      heard.push((event as CustomEvent).detail);
    });
  });
  return { consoleErrors };
}

async function heardErrors(page: Page): Promise<HeardError[]> {
  return page.evaluate(() => (window as unknown as { heardErrors: HeardError[] }).heardErrors);
}

async function waitUntilReady(page: Page): Promise<void> {
  await page
    .locator('fenliu-chat .status[data-device]')
    .waitFor({ timeout: LOAD_TIMEOUT, state: 'attached' });
  await page.locator('fenliu-chat textarea').waitFor({ timeout: LOAD_TIMEOUT });
}

async function say(page: Page, text: string): Promise<void> {
  const input = page.locator('fenliu-chat textarea');
  await input.fill(text);
  await input.press('Enter');
}

describe('what a host hands <fenliu-chat>', () => {
  it('a catalog property without an intent name: the widget runs on the model’s intents, the customer gets a short line, the developer the problem list', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    const { consoleErrors } = await openHostPage(page);
    await waitUntilReady(page);

    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement & {
        catalog: { intents: { id: string; name?: unknown }[] };
      };
      const broken = structuredClone(chat.catalog);
      const greeting = broken.intents.find((intent) => intent.id === 'greeting');
      if (greeting) delete greeting.name;
      chat.catalog = broken;
    });
    const notice = page.locator('fenliu-chat .catalog-problem');
    await notice.waitFor();
    expect(await notice.textContent()).toBe(
      'Some of the assistant’s settings could not be loaded; it answers with its defaults.',
    );
    expect(await notice.getAttribute('data-code')).toBe('catalog-invalid');
    await expect
      .poll(async () =>
        (await heardErrors(page)).find(
          (heard) => heard.error.issues?.[0]?.file === 'catalog property',
        ),
      )
      .toMatchObject({
        scope: 'developer',
        error: {
          code: 'catalog-invalid',
          issues: [
            {
              file: 'catalog property',
              line: 1,
              reason: 'intents[10].name must be an object with "zh" and "en" strings',
            },
          ],
        },
      });
    expect(consoleErrors.some((text) => text.includes('intents[10].name must be'))).toBe(true);
    // The developer's text never reaches the customer.
    expect(await page.locator('fenliu-chat section.fenliu').textContent()).not.toContain(
      'intents[10]',
    );

    // Messages are still answered, with the model's own intents (the inspector names the intent
    // by the model's label).
    await page.locator('fenliu-chat').evaluate((element) => {
      element.setAttribute('inspect', '');
    });
    await say(page, '你好');
    expect(await intentOf(page.locator('fenliu-chat li.turn').first())).toBe('greeting');
    const chip = page.locator('fenliu-chat .turn .intent .label').first();
    await chip.waitFor({ timeout: TURN_TIMEOUT });
    expect(await chip.textContent()).toBe('问候闲聊');

    // The line follows the customer's language.
    await page.locator('#toggle-lang').click();
    await expect.poll(() => notice.textContent()).toBe('部分设置没能加载，助手先按默认设置回答。');

    // A catalog whose getter throws is a catalog that cannot be read, not a crash.
    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement & { catalog: unknown };
      chat.catalog = {
        get intents(): never {
          throw new Error('the shop backend is not configured');
        },
      };
    });
    await expect
      .poll(async () =>
        (await heardErrors(page)).flatMap((heard) => heard.error.issues ?? []).at(-1),
      )
      .toEqual({
        file: 'catalog property',
        line: 1,
        reason: 'could not be read: the shop backend is not configured',
      });
    expect(await notice.isVisible()).toBe(true);
    expect(await page.locator('fenliu-chat .turn').count()).toBe(1);

    expect(watch.pageErrors).toEqual([]);
    expect(watch.foreignRequests).toEqual([]);
    await page.close();
  });

  it('a tool or handler that is not a function: a developer error naming it; the widget keeps answering', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    const { consoleErrors } = await openHostPage(page);
    await waitUntilReady(page);

    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement & {
        tools: unknown;
        handlers: Record<string, unknown>;
      };
      chat.tools = { lookup_order: {} };
      chat.handlers = {
        ...chat.handlers,
        service_desk: { kind: 'human', onHandoff: 'mailto:desk@shop.example' },
      };
    });
    await expect
      .poll(async () => (await heardErrors(page)).flatMap((heard) => heard.error.issues ?? []))
      .toEqual(
        expect.arrayContaining([
          {
            file: 'catalog',
            line: 1,
            reason:
              'tool "lookup_order": tools.lookup_order must be a function (args, { signal }) => Promise<object>, got an object',
          },
          {
            file: 'handlers',
            line: 1,
            reason: 'handlers.service_desk.onHandoff must be a function',
          },
        ]),
      );
    expect((await heardErrors(page)).every((heard) => heard.scope === 'developer')).toBe(true);
    expect(
      consoleErrors.some((text) => text.includes('tools.lookup_order must be a function')),
    ).toBe(true);
    expect(
      consoleErrors.some((text) => text.includes('handlers.service_desk.onHandoff must be')),
    ).toBe(true);

    // The turn that needs the tool fails on its card; the widget and the other routes go on.
    await say(page, '帮我查一下订单 2024113012345');
    const card = page.locator('fenliu-chat .turn .tool-call').first();
    await card.waitFor({ timeout: TURN_TIMEOUT });
    await expect
      .poll(() => card.getAttribute('data-status'), { timeout: TURN_TIMEOUT })
      .toBe('error');
    expect(await card.textContent()).not.toContain('TypeError');
    await say(page, '你好');
    await page.locator('fenliu-chat .turn .route-reply').first().waitFor({ timeout: TURN_TIMEOUT });

    expect(watch.pageErrors).toEqual([]);
    await page.close();
  });

  it('a failure inside the widget: a reload button instead of the widget, the host page goes on, the reload brings back what the customer typed', async () => {
    const page = await browser.context.newPage();
    const watch = watchPage(browser.context, page, server.origin);
    const { consoleErrors } = await openHostPage(page);
    // The conversation is kept under a persist key (set before the widget starts again).
    await page.evaluate(async () => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement;
      chat.remove();
      await new Promise((resolve) => setTimeout(resolve, 0));
      chat.setAttribute('persist', 'host-input-boundary');
      document.getElementById('slot')?.append(chat);
    });
    await waitUntilReady(page);

    // A host's `toolReply` that answers with an object, not text: rendering the reply fails.
    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement & { toolReply: unknown };
      chat.toolReply = () => ({ text: 'Your order has shipped.' });
    });
    await say(page, '帮我查一下订单 2024113012345');
    await page.locator('fenliu-chat textarea').fill('and when will it arrive?');

    const failed = page.locator('fenliu-chat .widget-failed');
    await failed.waitFor({ timeout: TURN_TIMEOUT });
    expect(await failed.locator('.notice-line').allTextContents()).toEqual([
      'The assistant ran into a problem.',
      '客服助手出了点问题。',
    ]);
    const reload = failed.locator('button.reload');
    expect(await reload.textContent()).toBe('Reload the assistant · 重新加载助手');
    await expect
      .poll(async () => (await heardErrors(page)).find((heard) => heard.error.code === 'internal'))
      .toMatchObject({ scope: 'developer' });
    // React's production build names its error by number: #31 is "Objects are not valid as a
    // React child".
    expect(
      (await heardErrors(page)).find((heard) => heard.error.code === 'internal')?.error.message,
    ).toMatch(/#31|Objects are not valid as a React child/);
    expect(consoleErrors.some((text) => text.includes('fenliu: the widget stopped'))).toBe(true);

    // The host page goes on: its own controls work and nothing escaped as a page error.
    await page.locator('#toggle-theme').click();
    expect(await page.locator('fenliu-chat').getAttribute('theme')).toBe('dark');
    expect(await page.locator('h1').textContent()).toBe('Acme Shop · support');
    expect(watch.pageErrors).toEqual([]);

    // The host fixes its function; the reload brings the widget back with the conversation and
    // the unsent words.
    await page.evaluate(() => {
      const chat = document.querySelector('fenliu-chat') as HTMLElement & { toolReply: unknown };
      chat.toolReply = null;
    });
    await reload.click();
    await waitUntilReady(page);
    expect(await failed.count()).toBe(0);
    await expect
      .poll(() => page.locator('fenliu-chat textarea').inputValue())
      .toBe('and when will it arrive?');
    await expect
      .poll(() => page.locator('fenliu-chat .turn .user-text').first().textContent())
      .toContain('帮我查一下订单 2024113012345');
    await page.locator('fenliu-chat textarea').press('Enter');
    expect(await intentOf(page.locator('fenliu-chat li.turn').nth(1))).not.toBeNull();

    expect(watch.pageErrors).toEqual([]);
    expect(watch.foreignRequests).toEqual([]);
    await page.close();
  });
});
