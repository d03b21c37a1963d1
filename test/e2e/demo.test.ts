import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';
import { chooseDtype } from '../../src/engine/device';
import type { ModelCard } from '../../src/engine/model-folder';
import { launchChromium, serveDemo, watchPage, type DemoServer } from '../../scripts/lib/browser';
import { intentOf, lifecycleProblems, recordStatuses } from '../support/widget';

let server: DemoServer;
beforeAll(async () => {
  server = await serveDemo();
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await server.close();
});

const card = JSON.parse(
  readFileSync(join(PUBLIC_MODELS, DEMO_MODEL_ID, 'fenliu.json'), 'utf8'),
) as ModelCard;

describe.each([
  { device: 'wasm', webgpu: false },
  { device: 'webgpu', webgpu: true },
] as const)('demo page on $device', ({ device, webgpu }) => {
  // SwiftShader's adapter has no shader-f16.
  const choice = { device, shaderF16: false };
  it('downloads 0→100 %, shows the backend (inspector), and routes 取消我的订阅 and 修改我的收货地址, using only its own origin', async () => {
    const browser = await launchChromium({ webgpu });
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      const statuses = await recordStatuses(page);

      const started = Date.now();
      // The operator's view: the backend line, and each turn's intent, confidence and runner-ups.
      await page.goto(`${server.url}?device=${device}&inspect=1`);
      const status = page.locator('.status[data-device]');
      await status.waitFor({ timeout: 240_000 });
      // Customers read only that the assistant is online.
      expect(await status.locator('.status-text').textContent()).toBe('在线');
      console.log(`${device}: first load to ready ${Date.now() - started} ms`);
      expect(await status.getAttribute('data-device')).toBe(device);
      // The precision the device policy picks from the model card (int8 on WASM; on a WebGPU
      // adapter without shader-f16, 4-bit weights when shipped).
      expect(await status.getAttribute('data-dtype')).toBe(chooseDtype(choice, card.dtypes));
      expect(await status.getAttribute('data-fell-back')).toBe('false');
      expect(Number(await status.getAttribute('data-model-bytes'))).toBeGreaterThan(5e6);
      const backendLine = page.locator('.inspector-bar .backend-line');
      expect(await backendLine.locator('.backend').textContent()).toBe(
        device === 'wasm' ? 'WASM' : 'WebGPU',
      );
      expect(await backendLine.locator('.dtype').textContent()).toBe(
        chooseDtype(choice, card.dtypes),
      );
      expect(await backendLine.locator('.model-size').textContent()).toMatch(/^\d+\.\d MB$/);
      expect(lifecycleProblems(await statuses())).toEqual([]);

      const input = page.getByRole('textbox', { name: '消息' });
      await input.fill('取消我的订阅');
      await input.press('Enter');
      const first = page.locator('.turn .inspector .intent').first();
      await first.waitFor({ timeout: 120_000 });
      expect(await first.locator('.label').textContent()).toBe('取消服务');
      expect(await first.getAttribute('data-intent')).toBe('cancel_service');
      expect(await page.locator('.turn').first().getAttribute('data-intent')).toBe(
        'cancel_service',
      );
      const confidence = Number(await first.getAttribute('data-confidence'));
      expect(confidence).toBeGreaterThan(0);
      expect(confidence).toBeLessThanOrEqual(1);
      expect(await first.locator('.confidence').first().textContent()).toMatch(
        /^置信度 (>99|\d+)%$/,
      );
      console.log(
        `${device}: 取消我的订阅 → 取消服务 (confidence ${confidence}) in ${await first.getAttribute('data-latency-ms')} ms`,
      );
      expect(await page.locator('.turn .user-text').first().textContent()).toBe('你: 取消我的订阅');
      await expect.poll(() => input.inputValue()).toBe('');

      // Runner-up intents on demand: hidden until the summary is activated from the keyboard.
      const runnerUps = first.locator('.runner-ups li');
      expect(await runnerUps.first().isVisible()).toBe(false);
      await first.locator('.runner-ups summary').focus();
      await page.keyboard.press('Enter');
      expect(await runnerUps.count()).toBe(4);
      expect(await runnerUps.first().isVisible()).toBe(true);

      // Shift+Enter adds a line instead of sending.
      await input.fill('修改我的收货地址');
      await input.press('Shift+Enter');
      expect(await input.inputValue()).toBe('修改我的收货地址\n');
      await input.press('Enter');
      const second = page.locator('.turn .inspector .intent').nth(1);
      await second.waitFor({ timeout: 120_000 });
      expect(await second.locator('.label').textContent()).toBe('修改信息');

      if (webgpu) {
        // Stopping a classification: on the software WebGPU adapter a message takes long enough
        // for Escape to reach the worker before the answer (on WASM it is too fast to catch).
        await input.fill('我要退款');
        await input.press('Enter');
        await input.press('Escape');
        const stopped = page.locator('.turn').nth(2).locator('.turn-cancelled');
        await stopped.waitFor({ timeout: 120_000 });
        expect(await stopped.textContent()).toBe('已停止');
        expect(await page.locator('.turn').nth(2).locator('.intent').count()).toBe(0);
        expect(await page.locator('.turn').nth(2).getAttribute('data-intent')).toBeNull();
      }

      await page.screenshot({ path: join(ARTIFACTS, `demo-${device}.png`), fullPage: true });
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('demo page controls', () => {
  it('the auto theme follows the system colour scheme, and switches with it live', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.goto(`${server.url}?device=wasm&lang=en&theme=auto`);
      const widget = page.locator('section.fenliu');
      const background = () =>
        widget.evaluate((element) => getComputedStyle(element).backgroundColor);
      expect(await widget.getAttribute('data-theme')).toBe('auto');
      await expect.poll(() => widget.getAttribute('data-scheme')).toBe('dark');
      expect(await background()).toBe('rgb(17, 24, 39)');
      await page.emulateMedia({ colorScheme: 'light' });
      await expect.poll(() => widget.getAttribute('data-scheme')).toBe('light');
      expect(await background()).toBe('rgb(255, 255, 255)');
    } finally {
      await browser.close();
    }
  });
  it('cancels loading, retries, and exposes status, log and controls to assistive technology', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      await page.goto(`${server.url}?device=wasm&lang=en&theme=dark&inspect=1`);
      // Cancel is offered from the first lifecycle state on; it stops the worker.
      await page.getByRole('button', { name: 'Cancel' }).click();
      const status = page.getByRole('status');
      await expect.poll(() => status.textContent()).toBe('Loading cancelled');
      expect(await page.locator('.status-error .error-code').textContent()).toBe('(aborted)');
      expect(
        await page.getByRole('button', { name: 'Send message', exact: true }).isDisabled(),
      ).toBe(true);

      await page.getByRole('button', { name: 'Retry' }).click();
      await page.locator('.status[data-device]').waitFor({ timeout: 240_000 });
      expect(await status.textContent()).toBe('Online');
      expect(await page.locator('.status').getAttribute('data-device')).toBe('wasm');
      expect(await page.locator('.inspector-bar .backend').textContent()).toBe('WASM');
      // Retry hands the keyboard back to the message box once the model is ready.
      const input = page.getByRole('textbox', { name: 'Message' });
      await expect.poll(() => input.evaluate((element) => element.matches(':focus'))).toBe(true);
      await page.keyboard.type('我要开发票');
      await page.keyboard.press('Enter');
      const log = page.getByRole('log', { name: 'Conversation' });
      expect(await intentOf(log.locator('.turn').first())).toBe('invoice');
      expect(await log.locator('.intent .label').first().textContent()).toBe('Invoice');
      expect(await page.locator('section.fenliu').getAttribute('data-theme')).toBe('dark');
      await page.screenshot({ path: join(ARTIFACTS, 'demo-en-dark.png'), fullPage: true });
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
