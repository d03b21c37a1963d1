import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS } from '../../scripts/lib/paths';
import { launchChromium, serveDemo, watchPage, type DemoServer } from '../../scripts/lib/browser';

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

async function send(page: Page, text: string, nth: number) {
  const input = page.getByRole('textbox');
  await input.fill(text);
  await input.press('Enter');
  const chip = page.locator('.turn .intent').nth(nth);
  await chip.waitFor({ timeout: 120_000 });
  return chip;
}

describe('offline demo', () => {
  it('after one visit, reloads and classifies with the server stopped; history and settings persist', async () => {
    let server: DemoServer | null = await serveDemo();
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      const visited = Date.now();
      await page.goto(`${server.url}?device=wasm`);
      await waitReady(page);
      console.log(`first load (empty caches), navigation to ready: ${Date.now() - visited} ms`);
      expect(await page.evaluate(() => document.documentElement.dataset.offline)).toBe(
        'model-cached',
      );
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await (await send(page, '取消我的订阅', 0)).locator('.label').textContent()).toBe(
        '取消服务',
      );
      // A setting the user chose: the English UI.
      await page.locator('button.language').click();
      await expect.poll(() => page.locator('.subtitle').textContent()).toMatch(/^The model runs/);
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
      expect(await page.locator('.subtitle').textContent()).toMatch(/^The model runs/);
      const chip = await send(page, '后天杭州天气如何', 1);
      expect(await chip.getAttribute('data-route')).toBe('out_of_scope');
      expect(await chip.locator('.notice').textContent()).toMatch(
        /^Outside what this assistant handles/,
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
      // Chromium's DevTools quota override does not reach estimate() in this build: the page
      // takes a 5 MB quota from its test switch; the refusal, the notice and the service worker
      // leaving the model uncached are real.
      await page.goto(`${server.url}test/harness/?device=wasm&test-storage-quota=5000000`);
      await waitReady(page);
      expect(await page.evaluate(() => document.documentElement.dataset.offline)).toBe(
        'model-in-memory',
      );
      expect(await page.locator('.notice-line').textContent()).toMatch(
        /^浏览器未允许离线缓存模型，本次从内存运行 \(only \d+ MB free of the \d+ MB needed\)$/,
      );
      expect(await (await send(page, '取消我的订阅', 0)).locator('.label').textContent()).toBe(
        '取消服务',
      );
      expect(await cachedModelFiles(page)).toEqual([]);
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
