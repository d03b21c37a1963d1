import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/paths';
import { launchChromium, serveDemo } from '../support/browser';

const ARTIFACTS = join(REPO_ROOT, 'test-results');

let server: Awaited<ReturnType<typeof serveDemo>>;
beforeAll(async () => {
  server = await serveDemo();
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await server.close();
});

describe.each([
  { device: 'wasm', webgpu: false },
  { device: 'webgpu', webgpu: true },
] as const)('demo page on $device', ({ device, webgpu }) => {
  it('shows 取消服务 for 取消我的订阅, using only its own origin', async () => {
    const browser = await launchChromium({ webgpu });
    try {
      const page = await browser.context.newPage();
      const origin = new URL(server.url).origin;
      const foreignRequests: string[] = [];
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:')) {
          foreignRequests.push(url);
        }
      });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));

      await page.goto(`${server.url}?device=${device}`);
      const status = page.locator('.status[data-device]');
      await status.waitFor({ timeout: 240_000 });
      expect(await status.getAttribute('data-device')).toBe(device);
      expect(await status.getAttribute('data-dtype')).toBe('int8');
      expect(await status.locator('.backend').textContent()).toBe(device.toUpperCase());

      const input = page.getByRole('textbox');
      await input.fill('取消我的订阅');
      await input.press('Enter');
      const chip = page.locator('.turn .intent .label').first();
      await chip.waitFor({ timeout: 120_000 });
      expect(await chip.textContent()).toBe('取消服务');
      const latency = await page.locator('.turn .intent').first().getAttribute('data-latency-ms');
      console.log(`${device}: 取消我的订阅 → 取消服务 in ${latency} ms (in the worker)`);
      expect(await page.locator('.turn .user-text').first().textContent()).toBe('取消我的订阅');
      await expect.poll(() => input.inputValue()).toBe('');

      // The acceptance message, timed from the key press to the chip on screen.
      const pressed = Date.now();
      await input.fill('修改我的收货地址');
      await input.press('Enter');
      const second = page.locator('.turn .intent .label').nth(1);
      await second.waitFor({ timeout: 120_000 });
      const onScreenMs = Date.now() - pressed;
      expect(await second.textContent()).toBe('修改信息');
      console.log(`${device}: 修改我的收货地址 → 修改信息 on screen ${onScreenMs} ms after Enter`);

      await page.screenshot({ path: join(ARTIFACTS, `demo-${device}.png`) });
      expect(foreignRequests).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
