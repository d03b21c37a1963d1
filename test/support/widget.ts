import type { Locator, Page } from 'playwright-core';

/**
 * Drives the demo widget on a page for the e2e tests: its lifecycle statuses, and messages typed
 * into it. Serving the demo and starting Chromium are in scripts/lib/browser.ts.
 */

/** A lifecycle status as the widget reports it in its `fenliu-status` DOM event. */
export interface SeenStatus {
  state: string;
  percent?: number;
  loaded?: number;
  total?: number;
  /** Per file (`downloading`): a model folder file by its name in the folder, a runtime file by URL. */
  files?: { file: string; loaded: number; total: number | null; done: boolean }[];
  backend?: { device: string; dtype: string; modelBytes: number | null; reason: string };
  error?: { code: string; message: string };
}

/** Records every `fenliu-status` event the widgets on a page fire, from the first one on. */
export async function recordStatuses(page: Page): Promise<() => Promise<SeenStatus[]>> {
  await page.addInitScript(() => {
    const seen: unknown[] = [];
    (globalThis as { __fenliuStatuses?: unknown[] }).__fenliuStatuses = seen;
    addEventListener('fenliu-status', (event) => {
      seen.push((event as CustomEvent).detail);
    });
  });
  return () =>
    page.evaluate(() => (globalThis as { __fenliuStatuses?: SeenStatus[] }).__fenliuStatuses ?? []);
}

/**
 * Checks the lifecycle a page went through: states in order, download percent from ≥0 to 100
 * never going back, 100 only once every byte is in (`loaded === total`) and then `initializing`,
 * ending `ready`. Returns the problems (empty when all hold).
 */
export function lifecycleProblems(statuses: readonly SeenStatus[]): string[] {
  const order = ['checking-device', 'downloading', 'initializing', 'warming-up', 'ready'];
  const problems: string[] = [];
  let lastPercent = -1;
  let lastRank = 0;
  let previous = '';
  for (const status of statuses) {
    const rank = order.indexOf(status.state);
    if (rank < 0) problems.push(`unexpected state ${status.state}`);
    // A switch to WASM after WebGPU failed goes through initializing and warming-up again.
    const fallback = status.state === 'initializing' && lastRank >= 2;
    if (rank < lastRank && !fallback) {
      problems.push(`${status.state} after ${order[lastRank] ?? '?'}`);
    }
    lastRank = rank;
    if (status.state === 'downloading' && status.percent !== undefined) {
      if (status.percent < lastPercent) problems.push(`percent ${status.percent} < ${lastPercent}`);
      if (status.percent < 0 || status.percent > 100) problems.push(`percent ${status.percent}`);
      if (lastPercent === 100) problems.push('downloading again after 100%');
      if (status.percent === 100 && status.loaded !== status.total) {
        problems.push(`100% with ${status.loaded ?? '?'} of ${status.total ?? '?'} bytes`);
      }
      lastPercent = status.percent;
    } else if (previous === 'downloading' && status.state !== 'initializing') {
      problems.push(`${status.state} right after the download`);
    }
    previous = status.state;
  }
  if (lastPercent !== 100) problems.push(`download ended at ${lastPercent}%, not 100%`);
  if (statuses.at(-1)?.state !== 'ready') problems.push(`ended ${statuses.at(-1)?.state ?? '-'}`);
  return problems;
}

/** How long one message may take to be answered in a test (WASM on a busy shared machine). */
export const TURN_TIMEOUT = 120_000;

/** Waits until the widget has nothing in progress (no classification, tool call or hand-over). */
export async function waitIdle(page: Page): Promise<void> {
  await page.locator('button.stop').waitFor({ state: 'detached', timeout: TURN_TIMEOUT });
}

/**
 * Types a message into the page's (one) widget, sends it with Enter, and returns its turn once
 * the widget is idle again. Locators pierce shadow roots, so embeds work the same.
 */
export async function say(page: Page, text: string): Promise<Locator> {
  const turns = page.locator('.turn');
  const before = await turns.count();
  const input = page.locator('textarea').first();
  await input.fill(text);
  await input.press('Enter');
  await turns.nth(before).waitFor();
  await waitIdle(page);
  return turns.nth(before);
}

/**
 * Waits until a turn has been classified and returns its intent id. Every turn's `li.turn`
 * carries `data-intent` (and `data-route`) once classified, in the customer's view and the
 * inspector alike; the intent's name and confidence are the inspector's (`.intent`).
 */
export async function intentOf(turn: Locator, timeout = TURN_TIMEOUT): Promise<string | null> {
  await turn
    .and(turn.page().locator('li.turn[data-intent]'))
    .waitFor({ timeout, state: 'attached' });
  return turn.getAttribute('data-intent');
}

/**
 * Clears the conversation with the settings panel's "clear" button (shown while there are turns
 * and nothing is in progress). Returns whether there was a conversation to clear; the settings
 * panel is left closed.
 */
export async function clearConversation(page: Page): Promise<boolean> {
  const settings = page.locator('button.settings-toggle');
  if ((await settings.getAttribute('aria-expanded')) !== 'true') await settings.click();
  const clear = page.locator('button.clear');
  if ((await clear.count()) === 0) {
    await settings.click();
    return false;
  }
  await clear.click();
  await page.locator('.turn').first().waitFor({ state: 'detached' });
  return true;
}
