import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
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

/** Serves the built demo (dist/) with `vite preview` on a free loopback port. */
export async function serveDemo(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: PreviewServer = await preview({
    root: REPO_ROOT,
    logLevel: 'error',
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report its URL');
  return { url, close: () => server.close() };
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
