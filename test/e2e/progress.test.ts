import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL_ID } from '../../scripts/lib/paths';
import { launchChromium, serveDemo, watchPage, type DemoServer } from '../../scripts/lib/browser';
import { lifecycleProblems, recordStatuses, type SeenStatus } from '../support/widget';

/**
 * Issue 14, item 7: one progress bar over every byte a page must receive before the model can
 * run — the weights, the tokenizer and config files, and onnxruntime-web's `.wasm` and `.mjs` —
 * with its total known before the first byte, never going back, at 100 % exactly when the last
 * byte is in, then `initializing`. The bytes are counted on the wire: what the page (its worker
 * and its service worker) fetched, by Content-Length. Both ways a page keeps the files: the
 * demo's service worker (transformers.js's cache off), and an embed's transformers.js cache.
 */

const LOAD_TIMEOUT = 240_000;
const FOLDER = `/models/${DEMO_MODEL_ID}/`;
/** The files whose bytes must be under the bar, by path: the page must fetch each of them. */
const MUST_COUNT = [
  `${FOLDER}tokenizer.json`,
  `${FOLDER}tokenizer_config.json`,
  `${FOLDER}onnx/model_int8.onnx`,
  '/ort/ort-wasm-simd-threaded.asyncify.wasm',
];
/** Model folder and runtime files the load fetches (not fenliu.json/calibration.json, read first). */
const DOWNLOADED = new RegExp(
  `^(${FOLDER}(tokenizer(_config)?\\.json|config\\.json|generation_config\\.json|onnx/[^/]+)|/ort/[^/]+)$`,
);

let server: DemoServer;
beforeAll(async () => {
  server = await serveDemo();
});
afterAll(async () => {
  await server.close();
});

/** Bytes (Content-Length) of every successful GET of a model or runtime file, by path. */
function countFetchedBytes(page: Page): Map<string, number> {
  const fetched = new Map<string, number>();
  page.context().on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (response.request().method() !== 'GET' || response.status() !== 200) return;
    if (!DOWNLOADED.test(path)) return;
    fetched.set(path, Number(response.headers()['content-length']));
  });
  return fetched;
}

/** The path a `downloading` status's file entry was fetched from. */
function pathOf(file: string): string {
  return new URL(file, `${server.url}${FOLDER.slice(1)}`).pathname;
}

function downloads(statuses: readonly SeenStatus[]): SeenStatus[] {
  return statuses.filter((status) => status.state === 'downloading');
}

describe.each([
  { name: 'the demo page', path: '', kept: "the service worker's cache" },
  { name: 'an embedded widget', path: 'examples/custom-element/', kept: "transformers.js's cache" },
])('download progress on $name (WASM)', ({ name, path, kept }) => {
  it('one total over model, tokenizer and runtime bytes, known up front, monotone to exactly 100', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const watch = watchPage(browser.context, page, server.origin);
      const statuses = await recordStatuses(page);
      const fetched = countFetchedBytes(page);
      await page.goto(`${server.url}${path}?device=wasm`);
      await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
      expect(await page.locator('.status').getAttribute('data-device')).toBe('wasm');

      const seen = await statuses();
      // States in order, percents never going back, 100 only with every byte in, then
      // initializing (test/support/widget.ts).
      expect(lifecycleProblems(seen)).toEqual([]);
      const bar = downloads(seen);
      const first = bar[0];
      const last = bar.at(-1);
      expect(first).toMatchObject({ loaded: 0, percent: 0 });
      expect(last?.percent).toBe(100);
      expect(bar.slice(0, -1).every((status) => (status.percent ?? 100) < 100)).toBe(true);
      // The total before the first byte is the total at the last: every file was sized up front.
      expect(new Set(bar.map((status) => status.total))).toEqual(new Set([last?.total]));

      const requested = [...fetched.entries()].sort(([a], [b]) => a.localeCompare(b));
      console.log(
        `${name}, wasm: files fetched for the model and runtime (bytes): ${requested
          .map(([path, bytes]) => `${path} ${String(bytes)}`)
          .join(', ')}; bar total ${String(last?.total)}`,
      );
      expect(requested.map(([path]) => path)).toEqual(expect.arrayContaining(MUST_COUNT));
      const wire = requested.reduce((sum, [, bytes]) => sum + bytes, 0);
      expect(last?.total).toBeGreaterThanOrEqual(wire);
      // File by file: each one fetched is on the bar, at the size it came with, and arrived.
      const onBar = new Map((last?.files ?? []).map((file) => [pathOf(file.file), file]));
      for (const [path, bytes] of requested) {
        expect({ path, ...onBar.get(path) }).toMatchObject({
          path,
          total: bytes,
          loaded: bytes,
          done: true,
        });
      }
      expect(watch.foreignRequests).toEqual([]);
      expect(watch.pageErrors).toEqual([]);

      // A reload reads the files from where the page kept them: the same bar, sized from there.
      // (`recordStatuses` starts a fresh record on every navigation.)
      await page.reload();
      await page.locator('.status[data-device]').waitFor({ timeout: LOAD_TIMEOUT });
      const again = await statuses();
      expect(lifecycleProblems(again)).toEqual([]);
      const rebar = downloads(again);
      console.log(`${name}: reloaded from ${kept}, bar total ${String(rebar.at(-1)?.total)}`);
      expect(new Set(rebar.map((status) => status.total))).toEqual(new Set([last?.total]));
      expect(rebar.at(-1)?.percent).toBe(100);
    } finally {
      await browser.close();
    }
  });
});
