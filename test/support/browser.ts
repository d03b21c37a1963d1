import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { preview, type Connect, type PreviewServer } from 'vite';
import { REPO_ROOT } from '../../scripts/lib/paths';

/** Debian's Chromium; Playwright's own browser download cannot work on this network. */
const CHROMIUM = '/usr/bin/chromium';
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Where e2e tests save screenshots (kept as CI artefacts). */
export const ARTIFACTS = join(REPO_ROOT, 'test-results');

export interface DemoServer {
  url: string;
  origin: string;
  port: number;
  close: () => Promise<void>;
}

export interface ServeOptions {
  /** A fixed port (to restart a stopped server where a browser expects it); default: a free one. */
  port?: number;
  /**
   * Middlewares run before the static files, in order: a test's faults (a connection dropped
   * mid-download) or headers (a strict Content-Security-Policy on every response).
   */
  middlewares?: Connect.NextHandleFunction[];
}

/** Serves the built demo (dist/) with `vite preview` on a loopback port. */
export async function serveDemo({
  port = 0,
  middlewares = [],
}: ServeOptions = {}): Promise<DemoServer> {
  const server: PreviewServer = await preview({
    root: REPO_ROOT,
    logLevel: 'error',
    preview: { port, host: '127.0.0.1', strictPort: port !== 0 },
    plugins: [
      {
        name: 'fenliu:test-middlewares',
        configurePreviewServer(preview) {
          for (const middleware of middlewares) preview.middlewares.use(middleware);
        },
      },
    ],
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report its URL');
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    port: Number(parsed.port),
    close: () => server.close(),
  };
}

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

/** Starts Chromium with a fresh profile; `webgpu` adds the flag that grants a SwiftShader adapter. */
export async function launchChromium({ webgpu = false } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'fenliu-chromium-'));
  const args = webgpu ? [...BASE_FLAGS, '--enable-unsafe-webgpu'] : BASE_FLAGS;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What a page did that a test checks at the end: requests outside its origin, uncaught errors. */
export interface PageWatch {
  foreignRequests: string[];
  pageErrors: string[];
}

/**
 * Records every request (page, workers, service worker) that leaves `origin`, and uncaught page
 * errors. `blob:` and `data:` URLs stay on the device.
 */
export function watchPage(context: BrowserContext, page: Page, origin: string): PageWatch {
  const watch: PageWatch = { foreignRequests: [], pageErrors: [] };
  context.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:')) {
      watch.foreignRequests.push(url);
    }
  });
  page.on('pageerror', (error) => watch.pageErrors.push(error.message));
  return watch;
}

/** A lifecycle status as the widget reports it in its `fenliu-status` DOM event. */
export interface SeenStatus {
  state: string;
  percent?: number;
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
 * never going back, ending `ready`. Returns the problems (empty when all hold).
 */
export function lifecycleProblems(statuses: readonly SeenStatus[]): string[] {
  const order = ['checking-device', 'downloading', 'initializing', 'warming-up', 'ready'];
  const problems: string[] = [];
  let lastPercent = -1;
  let lastRank = 0;
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
      lastPercent = status.percent;
    }
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
