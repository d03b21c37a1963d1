import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { preview, type Connect, type PreviewServer } from 'vite';
import { REPO_ROOT } from './paths';

/**
 * The built demo served on a loopback port, and Debian's Chromium driven by Playwright: shared by
 * the e2e tests, `npm run load`, `npm run bench` and the real-size proof.
 */

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
