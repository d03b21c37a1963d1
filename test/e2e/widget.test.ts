import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ARTIFACTS, DEMO_DATA } from '../../scripts/lib/paths';
import {
  launchChromium,
  serveDemo,
  watchPage,
  type Browser,
  type DemoServer,
} from '../../scripts/lib/browser';
import { parseDataset } from '../../src/dataset/dataset';
import type { Catalog } from '../../src/catalog/types';
import { recordStatuses, say, waitIdle } from '../support/widget';

/**
 * The widget as a shop's customers and its operators meet it (issue 14), on the built demo page
 * in real Chromium with the real demo model: an answer for every intent of the demo catalog in
 * the customer's language, the inspector, the launcher, focus, the axe scan, and a correction
 * that comes out of the export as a training row. Screenshots of every view, language, theme and
 * size go to test-results/widget/.
 */

const SHOTS = join(ARTIFACTS, 'widget');
const LOAD_TIMEOUT = 240_000;
const catalog = JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')) as Catalog;

// NOTE: each test gets its own Chromium profile: the demo saves its conversation in IndexedDB,
// and a conversation left by one test would not be the empty one the next starts from.
let server: DemoServer;
let browser: Browser;
beforeAll(async () => {
  server = await serveDemo();
  mkdirSync(SHOTS, { recursive: true });
});
beforeEach(async () => {
  browser = await launchChromium();
});
afterEach(async () => {
  await browser.close();
});
afterAll(async () => {
  await server.close();
});

/**
 * One message per intent of the demo catalog, in each language, with the intent it routes to.
 * NOTE: the address change comes last: its open question for a free-text address would take the
 * next message as the address (issue 15 makes slot filling listen first).
 */
const MESSAGES = {
  zh: [
    ['greeting', '你好'],
    ['order_status', '查询订单 2024113012345'],
    ['shipping', '我的快递到哪了，订单2024113012345'],
    ['cancel_service', '取消我的订阅'],
    ['refund', '我要退款，订单2024113012345'],
    ['payment', '支付失败了会扣钱吗'],
    ['invoice', '我要开发票'],
    ['account', '忘记密码了怎么办'],
    ['complaint', '我要投诉你们的快递员态度太差'],
    ['human_agent', '转人工'],
    ['out_of_scope', '今天天气怎么样'],
    ['update_info', '修改我的收货地址'],
  ],
  en: [
    ['greeting', 'Hello'],
    ['order_status', 'What is the status of my order 2024113012345'],
    ['shipping', 'Track my parcel for order 2024113012345'],
    ['cancel_service', 'Cancel my subscription'],
    ['refund', 'I want a refund for order 2024113012345'],
    ['payment', 'My payment failed, was I charged?'],
    ['invoice', 'I need an invoice'],
    ['account', 'I forgot my password'],
    ['complaint', 'I want to file a complaint about the courier'],
    ['human_agent', 'I want to talk to a person'],
    ['out_of_scope', "What's the weather like today"],
    ['update_info', 'I need to change my address'],
  ],
} as const;

const CJK = /[\u3400-\u9fff]/u;

async function openDemo(page: Page, query: string): Promise<void> {
  await page.goto(`${server.url}?device=wasm&${query}`);
  await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
}

/** The answer a customer reads on a turn: the assistant bubble's visible text. */
async function answerOf(turn: Locator): Promise<string> {
  return (await turn.locator('.from-assistant .bubble').innerText()).trim();
}

/** Whether the element focused inside the widget's shadow root is its message box. */
async function composerFocused(page: Page): Promise<boolean> {
  return page.locator('textarea').evaluate((element) => element.matches(':focus'));
}

/** Serious and critical axe violations on the page (shadow DOM included), as short lines. */
async function axeProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact ?? '-'}): ${violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(' '))
          .join(', ')}`,
    );
}

describe.each([
  { language: 'zh', theme: 'light' },
  { language: 'en', theme: 'dark' },
  { language: 'zh', theme: 'dark' },
  { language: 'en', theme: 'light' },
] as const)('customer view and inspector, $language $theme', ({ language, theme }) => {
  it('answers every intent of the demo catalog in the customer’s language; screenshots at 1280×800 and 375×667; passes axe', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: theme });
    const watch = watchPage(browser.context, page, server.origin);
    await openDemo(page, `lang=${language}&theme=${theme}`);
    const shot = (name: string) =>
      page.screenshot({ path: join(SHOTS, `${name}-${language}-${theme}.png`) });
    // An empty conversation offers questions to start with.
    expect(await page.locator('.starters .chip').count()).toBeGreaterThanOrEqual(3);
    await shot('empty-1280');
    expect(await axeProblems(page)).toEqual([]);

    for (const [intentId, text] of MESSAGES[language]) {
      const turn = await say(page, text);
      expect(await turn.getAttribute('data-intent'), text).toBe(intentId);
      const answer = await answerOf(turn);
      expect(answer.length, `${text}: an answer`).toBeGreaterThan(0);
      if (language === 'en') expect(answer, `${text}: no Chinese in English`).not.toMatch(CJK);
    }
    await shot('customer-1280');
    expect(await axeProblems(page)).toEqual([]);

    await page.locator('#inspect-toggle').check();
    await page.locator('.inspector-bar').waitFor();
    await shot('inspector-1280');
    expect(await axeProblems(page)).toEqual([]);

    await page.setViewportSize({ width: 375, height: 667 });
    await shot('inspector-375');
    await page.locator('#inspect-toggle').evaluate((element) => {
      (element as HTMLInputElement).click();
    });
    await page.locator('.inspector-bar').waitFor({ state: 'detached' });
    await shot('customer-375');
    // Mobile: the composer is on screen, the title fits, and every button is a 44 px target.
    const box = await page.locator('textarea').boundingBox();
    expect(box && box.y + box.height).toBeLessThanOrEqual(667);
    const title = page.locator('.fenliu-header h2');
    expect(await title.evaluate((element) => element.scrollWidth <= element.clientWidth + 1)).toBe(
      true,
    );
    const small = await page.locator('section.fenliu button:visible').evaluateAll((buttons) =>
      buttons
        .map((button) => button.getBoundingClientRect())
        .filter((rect) => rect.height < 44 || rect.width < 44)
        .map((rect) => `${rect.width.toFixed(0)}×${rect.height.toFixed(0)}`),
    );
    expect(small).toEqual([]);
    // One scroll area: the page itself does not scroll under the open panel.
    expect(
      await page.evaluate(() => document.scrollingElement?.scrollHeight ?? 0),
    ).toBeLessThanOrEqual(667 + 1);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.foreignRequests).toEqual([]);
  });
});

describe('quick replies and focus', () => {
  it('a starter chip and an enum choice keep the keyboard in the composer; the confirmation states exactly what will change', async () => {
    const page = await browser.context.newPage();
    await openDemo(page, 'lang=en&theme=light');
    await page.locator('textarea').focus();
    const turns = page.locator('.turn');
    await page.locator('.starters .chip').first().click();
    expect(await composerFocused(page)).toBe(true);
    await turns.first().waitFor();
    await waitIdle(page);

    const cancel = await say(page, 'Cancel my subscription');
    const choices = cancel.locator('.tool-choices .chip');
    await choices.first().waitFor();
    const labels = await choices.allInnerTexts();
    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (const label of labels) expect(label).not.toMatch(CJK);
    const before = await turns.count();
    await choices.first().click();
    expect(await composerFocused(page)).toBe(true);
    const chosen = turns.nth(before);
    await chosen.waitFor();
    await waitIdle(page);
    expect(await chosen.locator('.chosen-note').innerText()).toBe('You chose');
    expect(await chosen.locator('.user-text').innerText()).toContain(labels[0]);
    const confirm = chosen.locator('.tool-confirm');
    expect(await confirm.locator('.tool-confirm-sentence').innerText()).toContain(labels[0]);
    await chosen.locator('button.decline').click();
    expect(await composerFocused(page)).toBe(true);
    expect(await answerOf(chosen)).toContain('nothing was changed');
    await page.close();
  });
});

describe('launcher', () => {
  it('loads the model while closed, opens and minimises, counts unread answers, and keeps focus where the customer is', async () => {
    const page = await browser.context.newPage();
    const statuses = await recordStatuses(page);
    await page.goto(`${server.url}examples/script-tag/?device=wasm`);
    const launcher = page.locator('.launcher-button');
    await launcher.waitFor();
    expect(await page.locator('section.fenliu').isHidden()).toBe(true);
    // The model loads in the background while the bubble is closed.
    await expect
      .poll(async () => (await statuses()).at(-1)?.state, { timeout: LOAD_TIMEOUT })
      .toBe('ready');

    await launcher.click();
    await page.locator('section.fenliu').waitFor();
    await expect.poll(() => composerFocused(page)).toBe(true);
    // Three messages at once: they are answered in order, most of them after the minimise.
    for (const text of [
      '我要退款，订单2024113012345',
      '我的快递到哪了，订单2024113012345',
      '你好',
    ]) {
      await page.locator('textarea').fill(text);
      await page.locator('textarea').press('Enter');
    }
    await page.locator('button.minimise').click();
    expect(await page.locator('section.fenliu').isHidden()).toBe(true);
    await expect.poll(() => launcher.evaluate((element) => element.matches(':focus'))).toBe(true);
    // The answer arrives while minimised: the bubble shows it as unread.
    await expect
      .poll(async () => Number((await page.locator('.badge').textContent()) ?? 0), {
        timeout: 120_000,
      })
      .toBeGreaterThanOrEqual(1);
    await expect
      .poll(() => page.locator('.turn .classifying, .turn .queued').count(), { timeout: 120_000 })
      .toBe(0);
    await page.screenshot({ path: join(SHOTS, 'launcher-unread.png') });
    await launcher.click();
    expect(await page.locator('.badge').count()).toBe(0);
    expect(await answerOf(page.locator('.turn').last())).toMatch(/分流小助手|I can look up/);
    await page.screenshot({ path: join(SHOTS, 'launcher-open.png') });
    await page.close();
  });
});

describe('inspector corrections', () => {
  it('a wrong intent corrected in the inspector comes out of the JSONL and ShareGPT exports as a valid training row', async () => {
    const page = await browser.context.newPage();
    await openDemo(page, 'lang=zh&theme=light&inspect=1');
    const turn = await say(page, 'Where is my order 2024113012345');
    const predicted = await turn.getAttribute('data-intent');
    const corrected = predicted === 'order_status' ? 'shipping' : 'order_status';
    const label = catalog.intents.find((intent) => intent.id === corrected)?.label ?? '';
    await turn.locator('.inspector-wrong-intent').click();
    await turn.locator('.inspector-intent-select').selectOption(corrected);
    await turn.locator('.inspector-save').click();
    await turn.locator('.inspector-corrected').waitFor();
    await page.screenshot({ path: join(SHOTS, 'inspector-correction.png') });

    for (const [format, button] of [
      ['jsonl', '.inspector-export-jsonl'],
      ['sharegpt', '.inspector-export-sharegpt'],
    ] as const) {
      const exports = page.locator('.inspector-exports');
      if (!(await exports.evaluate((element) => (element as HTMLDetailsElement).open))) {
        await exports.locator('summary').click();
      }
      const download = page.waitForEvent('download');
      await page.locator(button).click();
      const file = await (await download).path();
      const rows = parseDataset(readFileSync(file, 'utf8'), `corrections.${format}`);
      expect(rows).toContainEqual(
        expect.objectContaining({ text: 'Where is my order 2024113012345', label }),
      );
    }
  });
});
