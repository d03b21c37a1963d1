import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS } from '../../scripts/lib/paths';
import { launchChromium, serveDemo, watchPage, type DemoServer } from '../../scripts/lib/browser';
import { intentOf } from '../support/widget';

const LOAD_TIMEOUT = 240_000;

beforeAll(() => {
  mkdirSync(ARTIFACTS, { recursive: true });
});

/** Names of the files in the service worker's model cache (empty when there is none). */
function cachedModelFiles(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const names = (await caches.keys()).filter((name) => name.startsWith('fenliu-model-'));
    const urls: string[] = [];
    for (const name of names) {
      for (const request of await (await caches.open(name)).keys()) {
        urls.push(new URL(request.url).pathname);
      }
    }
    return urls.sort();
  });
}

async function waitReady(page: Page): Promise<void> {
  await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
}

/** Sends a message; returns its turn once classified (`li.turn[data-intent]`). */
async function send(page: Page, text: string, nth: number) {
  const input = page.getByRole('textbox');
  await input.fill(text);
  await input.press('Enter');
  const turn = page.locator('.turn').nth(nth);
  await intentOf(turn, 120_000);
  return turn;
}

describe('offline demo', () => {
  it('after one visit, reloads and classifies with the server stopped; history and settings persist', async () => {
    let server: DemoServer | null = await serveDemo();
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      const visited = Date.now();
      // The inspector names each turn's intent (customers see only the answer).
      await page.goto(`${server.url}?device=wasm&inspect=1`);
      await waitReady(page);
      console.log(`first load (empty caches), navigation to ready: ${Date.now() - visited} ms`);
      expect(await page.evaluate(() => document.documentElement.dataset.offline)).toBe(
        'model-cached',
      );
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      const first = await send(page, '取消我的订阅', 0);
      expect(await first.getAttribute('data-intent')).toBe('cancel_service');
      expect(await first.locator('.intent .label').textContent()).toBe('取消服务');
      // A setting the user chose: the English UI (the title is the catalog's name).
      const title = page.locator('.fenliu-header h2');
      expect(await title.textContent()).toBe('电商客服');
      await page.locator('button.language').click();
      await expect.poll(() => title.textContent()).toBe('E-commerce customer service');
      await expect
        .poll(() => cachedModelFiles(page), { timeout: 60_000 })
        .toEqual(
          expect.arrayContaining([
            '/models/fenliu-demo/onnx/model_int8.onnx',
            '/models/fenliu-demo/tokenizer.json',
            '/ort/ort-wasm-simd-threaded.asyncify.mjs',
            '/ort/ort-wasm-simd-threaded.asyncify.wasm',
          ]),
        );

      await server.close();
      server = null;
      const reloaded = Date.now();
      await page.reload();
      await waitReady(page);
      console.log(`cached load, server stopped, reload to ready: ${Date.now() - reloaded} ms`);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      // The conversation and the language came back from IndexedDB.
      expect(await page.locator('.turn .user-text').allTextContents()).toEqual([
        'You: 取消我的订阅',
      ]);
      expect(await title.textContent()).toBe('E-commerce customer service');
      expect(await first.locator('.intent .label').textContent()).toBe('Cancel service');
      const away = await send(page, '后天杭州天气如何', 1);
      expect(await away.getAttribute('data-route')).toBe('out_of_scope');
      expect(await away.locator('.escalation-reason').textContent()).toBe(
        'This is outside what I can help with.',
      );
      expect(await away.locator('.escalation-unavailable').textContent()).toBe(
        'This page has no hand-over configured (offline): your message was not sent to anyone or any service.',
      );
      await page.screenshot({ path: join(ARTIFACTS, 'offline-reload.png'), fullPage: true });
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await browser.close();
      await server?.close();
    }
  });

  it('keeps working from memory when the quota cannot hold the model, and says so', async () => {
    const server = await serveDemo();
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      const consoleInfo: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'info') consoleInfo.push(message.text());
      });
      // Chromium's DevTools quota override does not reach estimate() in this build: the page
      // takes a 5 MB quota from its test switch; the refusal, the notice and the service worker
      // leaving the model uncached are real.
      await page.goto(
        `${server.url}test/harness/?device=wasm&test-storage-quota=5000000&inspect=1`,
      );
      await waitReady(page);
      expect(await page.evaluate(() => document.documentElement.dataset.offline)).toBe(
        'model-in-memory',
      );
      // The customer reads that the model runs from memory (in the UI language); why the browser
      // refused is the developer's, in the console.
      expect(await page.locator('.notice-line').textContent()).toBe(
        '浏览器未允许离线缓存模型，本次从内存运行',
      );
      expect(consoleInfo).toContainEqual(
        expect.stringMatching(
          /^fenliu: offline caching refused: only \d+ MB free of the \d+ MB needed$/,
        ),
      );
      const turn = await send(page, '取消我的订阅', 0);
      expect(await turn.getAttribute('data-intent')).toBe('cancel_service');
      expect(await turn.locator('.intent .label').textContent()).toBe('取消服务');
      expect(await cachedModelFiles(page)).toEqual([]);
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
