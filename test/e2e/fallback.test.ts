import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS } from '../../scripts/lib/paths';
import { launchChromium, serveDemo, watchPage, type DemoServer } from '../../scripts/lib/browser';
import { reliabilityLog } from '../../scripts/lib/reliability-log';
import { lifecycleProblems, recordStatuses } from '../support/widget';

const record = reliabilityLog('fallback');

// Both switches make WebGPU fail for real inside the worker (ORT gets no adapter; the GPU device
// ORT runs on is destroyed), with a WebGPU adapter present (--enable-unsafe-webgpu).
let server: DemoServer;
beforeAll(async () => {
  server = await serveDemo();
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await server.close();
});

describe('WebGPU → WASM fallback', () => {
  it('falls back to WASM when WebGPU session creation fails, and says so', async () => {
    const browser = await launchChromium({ webgpu: true });
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      const statuses = await recordStatuses(page);
      await page.goto(
        `${server.url}test/harness/?device=webgpu&lang=en&simulate-webgpu-failure=fail-creation&inspect=1`,
      );
      const status = page.locator('.status[data-device]');
      await status.waitFor({ timeout: 240_000 });
      expect(await status.getAttribute('data-device')).toBe('wasm');
      expect(await status.getAttribute('data-fell-back')).toBe('true');
      // The operator reads why in the inspector, in the UI language; the host hears the
      // engine's words (with the browser's detail) in the status event.
      const reason = page.locator('.inspector-bar .reason');
      expect(await reason.textContent()).toBe('WebGPU failed to start: running on WASM instead');
      expect(await reason.getAttribute('class')).toBe('reason fell-back');
      const seen = await statuses();
      expect(seen.at(-1)?.backend?.reason).toMatch(
        /^WebGPU failed at session creation \(.+\); using WASM$/,
      );
      expect(lifecycleProblems(seen)).toEqual([]);

      const input = page.getByRole('textbox', { name: 'Message' });
      await input.fill('取消我的订阅');
      await input.press('Enter');
      const chip = page.locator('.turn .intent .label').first();
      await chip.waitFor({ timeout: 120_000 });
      const label = await chip.textContent();
      record({
        area: 'fault',
        case: 'WebGPU fails at session creation',
        outcome: `loaded on ${(await status.getAttribute('data-device')) ?? '-'}, inspector says "${(await reason.textContent()) ?? ''}" (event: "${seen.at(-1)?.backend?.reason ?? ''}"); first message → ${label ?? '-'}`,
        ok: label === 'Cancel service',
      });
      expect(label).toBe('Cancel service');
      await page.screenshot({ path: join(ARTIFACTS, 'fallback-creation.png'), fullPage: true });
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('switches to WASM when the WebGPU device is lost, keeping the conversation', async () => {
    const browser = await launchChromium({ webgpu: true });
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      const statuses = await recordStatuses(page);
      await page.goto(
        `${server.url}test/harness/?device=webgpu&simulate-webgpu-failure=lose-device&inspect=1`,
      );
      const status = page.locator('.status[data-device]');
      await status.waitFor({ timeout: 240_000 });
      expect(await status.getAttribute('data-device')).toBe('webgpu');

      const input = page.getByRole('textbox', { name: '消息' });
      await input.fill('取消我的订阅');
      await input.press('Enter');
      await page.locator('.turn .intent').first().waitFor({ timeout: 120_000 });
      // The first message ran on WebGPU; then the switch destroys the device.
      await page.locator('.status[data-device="wasm"]').waitFor({ timeout: 240_000 });
      expect(await status.getAttribute('data-fell-back')).toBe('true');
      const reason = page.locator('.inspector-bar .reason');
      expect(await reason.textContent()).toBe('WebGPU 设备丢失，已切换到 WASM');
      expect(await reason.getAttribute('class')).toBe('reason fell-back');
      await expect
        .poll(async () => (await statuses()).at(-1)?.backend?.reason)
        .toMatch(/^WebGPU device lost \(destroyed: .*\); switched to WASM$/);

      await input.fill('修改我的收货地址');
      await input.press('Enter');
      const second = page.locator('.turn .intent').nth(1);
      await second.waitFor({ timeout: 120_000 });
      const turns = await page.locator('.turn').count();
      record({
        area: 'fault',
        case: 'WebGPU device lost mid-conversation',
        outcome: `switched to WASM ("${(await reason.textContent()) ?? ''}"); next message → ${(await second.locator('.label').textContent()) ?? '-'}; ${turns} turns kept`,
        ok: turns === 2,
      });
      expect(await second.locator('.label').textContent()).toBe('修改信息');
      expect(await page.locator('.turn .intent .label').first().textContent()).toBe('取消服务');
      expect(await page.locator('.turn').count()).toBe(2);
      await page.screenshot({ path: join(ARTIFACTS, 'fallback-device-lost.png'), fullPage: true });
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
