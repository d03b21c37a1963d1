import type { ServerResponse } from 'node:http';
import type { Locator, Page } from 'playwright-core';
import type { Connect } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveDemo, watchPage, type DemoServer } from '../../scripts/lib/browser';
import { clearConversation, intentOf, TURN_TIMEOUT, waitIdle } from '../support/widget';

/**
 * The saved conversation on real Chromium (src/router/persistence.ts): two tabs of the demo page
 * sharing one IndexedDB conversation lose none of each other's messages, and a burst of messages
 * sent while the model loads, more than the saved-turn cap, all come back after a reload.
 */

const LOAD_TIMEOUT = 240_000;
const MODEL_FILE = '/models/fenliu-demo/onnx/model_int8.onnx';

let server: DemoServer;
/** Model file requests held unanswered while a test stalls the model's load. */
let stalling = false;
const held: ServerResponse[] = [];

const stallModel: Connect.NextHandleFunction = (request, response, next) => {
  if (stalling && request.method === 'GET' && request.url?.split('?')[0] === MODEL_FILE) {
    held.push(response);
  } else {
    next();
  }
};

function releaseHeld(): void {
  for (const response of held.splice(0)) response.socket?.destroy();
}

beforeAll(async () => {
  server = await serveDemo({ middlewares: [stallModel] });
});
afterAll(async () => {
  releaseHeld();
  await server.close();
});

async function waitReady(page: Page): Promise<void> {
  await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
}

async function userTexts(page: Page): Promise<string[]> {
  return (await page.locator('.turn .user-text').allTextContents()).map((text) =>
    text.replace(/^你: /, ''),
  );
}

async function type(page: Page, text: string): Promise<void> {
  const input = page.getByRole('textbox');
  await input.fill(text);
  await input.press('Enter');
}

/** The turns saved under the demo's persistKey, as stored (null when nothing is). */
function storedTurns(page: Page): Promise<{ text: string; interrupted?: boolean }[] | null> {
  return page.evaluate(
    () =>
      new Promise<{ text: string; interrupted?: boolean }[] | null>((resolve, reject) => {
        const open = indexedDB.open('fenliu');
        open.onerror = () => {
          reject(open.error ?? new Error('open failed'));
        };
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('widget-state')) {
            db.close();
            resolve(null);
            return;
          }
          const read = db.transaction('widget-state').objectStore('widget-state').get('demo');
          read.onsuccess = () => {
            db.close();
            const value = read.result as { turns?: { text: string }[] } | undefined;
            resolve(value?.turns ?? null);
          };
          read.onerror = () => {
            reject(read.error ?? new Error('read failed'));
          };
        };
      }),
  );
}

/**
 * Sends `count` messages through the widget's textarea as fast as it takes them: the input and
 * Enter events its handlers read, one message per task (Playwright's fill and press per message
 * would take most of the test's time on a busy machine).
 */
function burst(textarea: Locator, count: number): Promise<void> {
  return textarea.evaluate(async (element, total) => {
    const textareaElement = element as HTMLTextAreaElement;
    // NOTE: the prototype's setter, as typing does: React ignores an input event after a plain
    // `value =` assignment (its own tracker already holds the value).
    const value = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value');
    const nextTask = () =>
      new Promise((resolve) => {
        setTimeout(resolve, 0);
      });
    for (let i = 1; i <= total; i++) {
      value?.set?.call(textareaElement, `burst ${String(i).padStart(3, '0')}`);
      textareaElement.dispatchEvent(new Event('input', { bubbles: true }));
      await nextTask();
      textareaElement.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }),
      );
      await nextTask();
    }
  }, count);
}

describe('the saved conversation', () => {
  it('two tabs on one conversation keep every message of both, exactly once, answered; a clear clears both', async () => {
    const browser = await launchChromium();
    try {
      const [a, b] = [await browser.context.newPage(), await browser.context.newPage()];
      const watches = [a, b].map((page) => watchPage(browser.context, page, server.origin));
      const started = Date.now();
      await a.goto(`${server.url}?device=wasm`);
      await waitReady(a);
      await b.goto(`${server.url}?device=wasm`);
      await waitReady(b);
      console.log(`two tabs ready: ${Date.now() - started} ms`);
      // Sent alternately without waiting for answers: both tabs save while the other does.
      const sent: string[] = [];
      for (let i = 1; i <= 3; i++) {
        for (const [name, page] of [
          ['A', a],
          ['B', b],
        ] as const) {
          const text = `你好 ${name}${i}`;
          await type(page, text);
          sent.push(text);
        }
      }
      await Promise.all([waitIdle(a), waitIdle(b)]);
      // Each tab shows the other's messages without a reload (BroadcastChannel), answered.
      for (const page of [a, b]) {
        await expect.poll(() => userTexts(page), { timeout: 30_000 }).toEqual(sent);
        await expect
          .poll(() => page.locator('.turn[data-intent]').count(), { timeout: TURN_TIMEOUT })
          .toBe(sent.length);
      }
      await Promise.all([a.reload(), b.reload()]);
      for (const page of [a, b]) {
        await page
          .locator('.turn')
          .nth(sent.length - 1)
          .waitFor({ timeout: LOAD_TIMEOUT });
        expect(await userTexts(page)).toEqual(sent);
        expect(await page.locator('.turn[data-intent]').count()).toBe(sent.length);
        expect(await page.locator('.turn-interrupted').count()).toBe(0);
      }
      console.log(`two tabs, sent, answered and reloaded: ${Date.now() - started} ms`);
      // Cleared in one tab, the conversation is gone from the other too, and stays gone.
      expect(await clearConversation(a)).toBe(true);
      await expect.poll(() => b.locator('.turn').count(), { timeout: 30_000 }).toBe(0);
      await b.reload();
      // NOTE: the saved conversation is read long before the model is ready again.
      await waitReady(b);
      expect(await b.locator('.turn').count()).toBe(0);
      for (const watch of watches) {
        expect(watch.pageErrors).toEqual([]);
        expect(watch.foreignRequests).toEqual([]);
      }
    } finally {
      await browser.close();
    }
  });

  it('300 messages sent before the model is ready all come back after a reload, and can be sent again', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      // The model's download never answers: every message waits in the queue.
      stalling = true;
      await page.goto(`${server.url}?device=wasm`);
      const textarea = page.getByRole('textbox');
      await textarea.waitFor();
      await expect.poll(() => held.length, { timeout: LOAD_TIMEOUT }).toBeGreaterThan(0);
      const started = Date.now();
      await burst(textarea, 300);
      console.log(`300 messages sent: ${Date.now() - started} ms`);
      expect(await page.locator('.turn.queued').count()).toBe(300);
      // All saved (as interrupted: nothing answered them yet) before the reload.
      await expect
        .poll(async () => (await storedTurns(page))?.length ?? 0, { timeout: 30_000 })
        .toBe(300);
      console.log(`300 messages saved: ${Date.now() - started} ms`);
      stalling = false;
      await page.reload();
      releaseHeld();
      const turns = page.locator('.turn');
      await turns.nth(299).waitFor({ timeout: LOAD_TIMEOUT });
      const texts = await userTexts(page);
      expect(texts).toHaveLength(300);
      expect(texts).toEqual(
        Array.from({ length: 300 }, (_, i) => `burst ${String(i + 1).padStart(3, '0')}`),
      );
      expect(await page.locator('.turn-interrupted').count()).toBe(300);
      expect(await page.locator('.turn button.resend').count()).toBe(300);
      // Sent again once the model is ready: answered.
      await waitReady(page);
      const first = page.locator('.turn[data-turn-id]').first();
      const id = await first.getAttribute('data-turn-id');
      await first.locator('button.resend').click();
      const resent = page.locator(`.turn[data-turn-id="${id ?? ''}"]`);
      await intentOf(resent);
      expect(await resent.locator('.turn-interrupted').count()).toBe(0);
      expect(await page.locator('.turn-interrupted').count()).toBe(299);
      console.log(`reloaded, one sent again and answered: ${Date.now() - started} ms`);
      expect(watch.pageErrors).toEqual([]);
      expect(watch.foreignRequests).toEqual([]);
    } finally {
      stalling = false;
      releaseHeld();
      await browser.close();
    }
  });
});
