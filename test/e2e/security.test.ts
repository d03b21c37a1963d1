import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Connect } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS } from '../../scripts/lib/paths';
import {
  launchChromium,
  serveDemo,
  watchPage,
  type Browser,
  type DemoServer,
  type PageWatch,
} from '../../scripts/lib/browser';
import { reliabilityLog } from '../../scripts/lib/reliability-log';
import { say, waitIdle } from '../support/widget';
import { OK_REPLY, startOpenAiServer, type OpenAiTestServer } from '../support/openai-server';

/**
 * Security of the embedded widget on real Chromium with the real demo model:
 * - the strict-CSP host page (examples/csp/) loads and classifies with the policy sent as a header
 *   on every response (the worker's own policy comes from its response, not the page's meta),
 *   and a page script's `eval`, an inline script and a worker's `eval` under the same policy are
 *   refused and seen (the check can fail);
 * - an API key given to the escalation endpoint reaches the endpoint and nothing the origin
 *   stores or logs;
 * - HTML and script payloads through a tool result, a tool argument the model decoded, the
 *   catalog's texts and the user's own message are shown as text, on a page without a policy,
 *   where the same payload parsed as HTML does run.
 * Escalation replies with HTML are covered in tools.test.ts.
 */

const record = reliabilityLog('security');
const LOAD_TIMEOUT = 240_000;

/** Test-only routes the CSP server answers itself. */
const REPORT_PATH = '/__security/csp-report';
const EVAL_PROBE_PATH = '/__security/eval-probe.js';
const WORKER_PROBE_PATH = '/__security/worker-probe.js';
const ESCALATION_PATH = '/__security/v1/chat/completions';

/**
 * The policy sent as a header on every response: the page's meta policy (examples/csp/index.html)
 * plus a report endpoint (a meta policy cannot report). No `blob:`: the page sets
 * `browser-cache="off"`, so transformers.js does not import onnxruntime's loader from a blob: URL.
 */
const HEADER_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  `report-uri ${REPORT_PATH}`,
].join('; ');

/** The examples/csp/ page's own policy, as its meta element states it. */
const META_POLICY =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'";

/** What the eval probe script does: a page script of the host's origin trying to eval. */
const EVAL_PROBE = `
try { window.__evalResult = String(eval('1 + 1')); } catch (error) { window.__evalResult = error.name; }
try { window.__functionResult = String(new Function('return 2')()); } catch (error) { window.__functionResult = error.name; }
`;

/** A worker under the header policy trying to eval: its violation must reach the reports. */
const WORKER_PROBE = `
let result;
try { result = String(eval('1 + 1')); } catch (error) { result = error.name; }
postMessage(result);
`;

const SECRET = 'sk-fenliu-test-SECRET-7f3a9c2e41d8b6';

/** HTML that runs script when parsed as HTML (it does on a page without a policy). */
const IMG_PAYLOAD = '<img src=x onerror="window.__pwned=1">';
const SCRIPT_PAYLOAD = '<script>window.__pwned=1</script>';

interface Violation {
  directive: string;
  blocked: string;
  source: string;
  sample: string;
}

let cspServer: DemoServer;
let plainServer: DemoServer;
let openai: OpenAiTestServer;
let browser: Browser;
/** Bodies of the CSP reports the browser sent (page and workers). */
const reports: string[] = [];
/** Every console message of every page and worker, as `type: text`. */
const consoleMessages: string[] = [];

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

/** Collects CSP reports and serves the eval probe script. */
const testRoutes: Connect.NextHandleFunction = (request, response, next) => {
  if (request.url === REPORT_PATH) {
    void readBody(request).then((body) => {
      reports.push(body);
      response.statusCode = 204;
      response.end();
    });
    return;
  }
  if (request.url === EVAL_PROBE_PATH) {
    response.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    response.setHeader('Content-Security-Policy', HEADER_POLICY);
    response.end(EVAL_PROBE);
    return;
  }
  if (request.url === WORKER_PROBE_PATH) {
    response.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    response.setHeader('Content-Security-Policy', HEADER_POLICY);
    // NOTE: the page is cross-origin isolated, so its workers' scripts must say COEP too.
    response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    response.end(WORKER_PROBE);
    return;
  }
  next();
};

/**
 * Forwards the page's same-origin escalation requests to the OpenAI-compatible test server, so
 * the page keeps `connect-src 'self'` (a host escalating to another origin would list it there).
 */
const escalationProxy: Connect.NextHandleFunction = (request, response, next) => {
  if (request.url !== ESCALATION_PATH) {
    next();
    return;
  }
  const target = new URL(openai.url);
  // NOTE: no on-the-fly gzip for the event stream (vite preview compresses what it may).
  const headers = { ...request.headers, host: target.host };
  delete headers['accept-encoding'];
  const upstream = httpRequest(target, { method: request.method, headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => {
    response.statusCode = 502;
    response.end();
  });
  request.pipe(upstream);
};

/** The strict policy on every response: page, scripts, worker, onnxruntime files, model files. */
const strictPolicy: Connect.NextHandleFunction = (_request, response, next) => {
  response.setHeader('Content-Security-Policy', HEADER_POLICY);
  next();
};

beforeAll(async () => {
  openai = await startOpenAiServer();
  cspServer = await serveDemo({ middlewares: [testRoutes, escalationProxy, strictPolicy] });
  plainServer = await serveDemo();
  browser = await launchChromium();
  browser.context.on('console', (message) => {
    consoleMessages.push(`${message.type()}: ${message.text()}`);
  });
  browser.context.on('page', (page) => {
    page.on('worker', (worker) => {
      worker.on('console', (message) => {
        consoleMessages.push(`worker ${message.type()}: ${message.text()}`);
      });
    });
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await browser.close();
  await plainServer.close();
  await cspServer.close();
  await openai.close();
});

/** Records every `securitypolicyviolation` in the page (shadow roots included: it is composed). */
async function recordViolations(page: Page): Promise<() => Promise<Violation[]>> {
  await page.addInitScript(() => {
    const seen: Violation[] = [];
    (globalThis as { __violations?: Violation[] }).__violations = seen;
    document.addEventListener(
      'securitypolicyviolation',
      (event) => {
        seen.push({
          directive: event.effectiveDirective,
          blocked: event.blockedURI,
          source: event.sourceFile,
          sample: event.sample,
        });
      },
      true,
    );
  });
  return () =>
    page.evaluate(() => (globalThis as { __violations?: Violation[] }).__violations ?? []);
}

/** Console messages that tell of a policy at work. */
function cspConsoleMessages(): string[] {
  return consoleMessages.filter((text) =>
    /Content Security Policy|Refused to|Content-Security-Policy/i.test(text),
  );
}

async function waitReady(page: Page): Promise<string | null> {
  const status = page.locator('fenliu-chat .status[data-device]');
  await status.waitFor({ timeout: LOAD_TIMEOUT });
  return status.getAttribute('data-device');
}

describe('the widget under a strict Content-Security-Policy (examples/csp/)', () => {
  let page: Page;
  let watch: PageWatch;
  let violations: () => Promise<Violation[]>;

  beforeAll(async () => {
    page = await browser.context.newPage();
    watch = watchPage(browser.context, page, cspServer.origin);
    violations = await recordViolations(page);
  });
  afterAll(async () => {
    await page.close();
  });

  it('loads to ready on WASM and classifies, with no violation in the page, its shadow root or its workers', async () => {
    await page.goto(`${cspServer.url}examples/csp/?device=wasm&persist=security-csp`);
    const metaPolicy = await page
      .locator('meta[http-equiv="Content-Security-Policy"]')
      .getAttribute('content');
    const device = await waitReady(page);
    // The operator's view too (its intent name and confidence bar, React's CSSOM styles).
    await page.locator('fenliu-chat').evaluate((element) => {
      element.setAttribute('inspect', '');
    });
    await page.locator('fenliu-chat .inspector-bar').waitFor();
    const turn = await say(page, '查一下订单 2024113012345');
    const chip = await turn.locator('.inspector .intent .label').textContent();
    const intent = await turn.getAttribute('data-intent');
    // Styles under style-src 'self': the widget's adopted stylesheet and React's CSSOM styles.
    const styles = await turn
      .locator('.inspector .intent .inspector-intent-line .bar-fill')
      .evaluate((fill) => ({
        adoptedSheets: (fill.getRootNode() as ShadowRoot).adoptedStyleSheets.length,
        barDisplay: getComputedStyle(fill).display,
        barWidth: (fill as HTMLElement).style.width,
      }));
    const seen = await violations();
    const cspConsole = cspConsoleMessages();
    await page.screenshot({ path: join(ARTIFACTS, 'security-csp.png'), fullPage: true });
    const ok =
      metaPolicy === META_POLICY &&
      device === 'wasm' &&
      chip === '查询订单' &&
      styles.adoptedSheets > 0 &&
      styles.barDisplay === 'block' &&
      styles.barWidth.endsWith('%') &&
      seen.length === 0 &&
      reports.length === 0 &&
      cspConsole.length === 0 &&
      watch.pageErrors.length === 0;
    record({
      area: 'security',
      case: 'strict CSP host page: widget loads and classifies',
      outcome:
        `ready on ${device ?? '?'}, 查一下订单 2024113012345 → ${chip ?? '?'} (${intent ?? '?'}); ` +
        `${styles.adoptedSheets} adopted stylesheet, confidence bar width ${styles.barWidth}; ` +
        `${seen.length} violation events, ${reports.length} CSP reports (page and workers), ` +
        `${cspConsole.length} CSP console messages, ${watch.pageErrors.length} page errors`,
      ok,
    });
    expect(metaPolicy).toBe(META_POLICY);
    expect(device).toBe('wasm');
    expect(chip).toBe('查询订单');
    expect(intent).toBe('order_status');
    expect(styles.adoptedSheets).toBeGreaterThan(0);
    expect(styles.barDisplay).toBe('block');
    expect(styles.barWidth).toMatch(/^\d+(\.\d)?%$/);
    expect(seen).toEqual([]);
    expect(reports).toEqual([]);
    expect(cspConsole).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.foreignRequests).toEqual([]);
  });

  it('an API key for the escalation endpoint reaches the endpoint and nothing the origin stores or logs', async () => {
    await page.evaluate(
      ({ url, apiKey }) => {
        const chat = document.querySelector('fenliu-chat') as unknown as { escalation: unknown };
        chat.escalation = { kind: 'chat-completions', url, model: 'ok', apiKey };
      },
      { url: `${cspServer.origin}${ESCALATION_PATH}`, apiKey: SECRET },
    );
    const away = await say(page, '今天天气怎么样');
    const route = await away.getAttribute('data-route');
    const reply = await away.locator('.escalation-reply').textContent();
    const sent = openai.completions().at(-1)?.headers.authorization;

    // A fresh page load: what is left is what the origin stored.
    await page.reload();
    await waitReady(page);
    const stored = await page.evaluate(readEverythingStored);
    const storedText = JSON.stringify(stored);
    const logged = consoleMessages.join('\n');
    const places = {
      indexedDB: JSON.stringify(stored.indexedDB),
      caches: JSON.stringify(stored.caches),
      localStorage: JSON.stringify(stored.localStorage),
      sessionStorage: JSON.stringify(stored.sessionStorage),
      console: logged,
      page: stored.page,
    };
    const leaks = Object.entries(places)
      .filter(([, text]) => text.includes(SECRET))
      .map(([place]) => place);
    const cacheEntries = stored.caches.reduce((sum, cache) => sum + cache.entries.length, 0);
    const storeCount = stored.indexedDB.length;
    // The scan sees the conversation: the escalated message was stored (so it can see a key).
    const scanSeesConversation = storedText.includes('今天天气怎么样');
    const ok =
      route === 'out_of_scope' &&
      reply === OK_REPLY &&
      sent === `Bearer ${SECRET}` &&
      scanSeesConversation &&
      leaks.length === 0;
    record({
      area: 'security',
      case: 'API key not stored or logged',
      outcome:
        `escalated (${route ?? '?'}), reply streamed; endpoint received Authorization ` +
        `${sent === `Bearer ${SECRET}` ? 'Bearer <the key>' : String(sent)}; after a reload scanned ` +
        `${storeCount} IndexedDB stores, ${stored.caches.length} caches (${cacheEntries} entries), ` +
        `${Object.keys(stored.localStorage).length} localStorage and ` +
        `${Object.keys(stored.sessionStorage).length} sessionStorage keys, ` +
        `${consoleMessages.length} console messages, the page: ` +
        (leaks.length === 0 ? 'the key is in none of them' : `the key is in ${leaks.join(', ')}`) +
        (scanSeesConversation
          ? ' (the stored conversation was read)'
          : ' (the stored conversation was NOT found)'),
      ok,
    });
    expect(route).toBe('out_of_scope');
    expect(reply).toBe(OK_REPLY);
    expect(sent).toBe(`Bearer ${SECRET}`);
    expect(scanSeesConversation).toBe(true);
    expect(leaks).toEqual([]);
    expect(await violations()).toEqual([]);
    expect(reports).toEqual([]);
  });

  it('the check can fail: a page script eval, an inline script and a worker eval under the same policy are refused and seen', async () => {
    const before = { events: (await violations()).length, reports: reports.length };
    const result = await page.evaluate(
      async ({ src, workerSrc }) => {
        const probe = document.createElement('script');
        probe.src = src;
        const loaded = new Promise((resolve) => {
          probe.addEventListener('load', resolve);
          probe.addEventListener('error', resolve);
        });
        document.head.append(probe);
        await loaded;
        const inline = document.createElement('script');
        inline.textContent = 'window.__inlineRan = 1;';
        document.head.append(inline);
        const state = globalThis as {
          __evalResult?: string;
          __functionResult?: string;
          __inlineRan?: number;
        };
        const worker = new Worker(workerSrc);
        const workerResult = await new Promise<string>((resolve) => {
          worker.addEventListener('message', (event: MessageEvent<string>) => {
            resolve(event.data);
          });
          worker.addEventListener('error', () => {
            resolve('worker failed to start');
          });
        });
        worker.terminate();
        return {
          evalResult: state.__evalResult ?? null,
          functionResult: state.__functionResult ?? null,
          inlineRan: state.__inlineRan ?? null,
          workerResult,
        };
      },
      { src: EVAL_PROBE_PATH, workerSrc: WORKER_PROBE_PATH },
    );
    const fromWorker = () =>
      reports
        .slice(before.reports)
        .filter((body) => body.includes(WORKER_PROBE_PATH) && body.includes('script-src')).length;
    await expect
      .poll(fromWorker)
      .toBeGreaterThan(0)
      .catch(() => undefined);
    const seen = (await violations()).slice(before.events);
    const directives = seen.map((violation) => `${violation.directive} ${violation.blocked}`);
    const reported = reports
      .slice(before.reports)
      .map((body) => JSON.parse(body) as { 'csp-report': { 'violated-directive': string } })
      .map((report) => report['csp-report']['violated-directive']);
    const refusedInConsole = cspConsoleMessages().filter((text) => text.includes('eval'));
    const ok =
      result.evalResult === 'EvalError' &&
      result.functionResult === 'EvalError' &&
      result.inlineRan === null &&
      result.workerResult === 'EvalError' &&
      fromWorker() > 0 &&
      directives.includes('script-src eval') &&
      directives.includes('script-src-elem inline') &&
      refusedInConsole.length > 0;
    record({
      area: 'security',
      case: 'strict CSP: eval, inline script and eval in a worker refused (control)',
      outcome:
        `eval → ${result.evalResult ?? '?'}, new Function → ${result.functionResult ?? '?'}, ` +
        `inline script ${result.inlineRan === null ? 'did not run' : 'ran'}, eval in a worker → ` +
        `${result.workerResult} (${fromWorker()} reports from the worker); page violation events: ` +
        `${directives.join(', ')}; reports: ${reported.join(', ')}; ` +
        `${refusedInConsole.length} "Refused to evaluate" console messages`,
      ok,
    });
    expect(result).toEqual({
      evalResult: 'EvalError',
      functionResult: 'EvalError',
      inlineRan: null,
      workerResult: 'EvalError',
    });
    expect(fromWorker()).toBeGreaterThan(0);
    expect(directives).toContain('script-src eval');
    expect(directives).toContain('script-src-elem inline');
    expect(reported).toContain('script-src');
    expect(refusedInConsole.length).toBeGreaterThan(0);
  });
});

/** What `readEverythingStored` returns: everything the origin keeps, as JSON-able data. */
interface StoredEverything {
  indexedDB: { database: string; store: string; keys: unknown; values: unknown }[];
  caches: {
    name: string;
    entries: { url: string; requestHeaders: string[][]; headers: string[][]; body?: string }[];
  }[];
  localStorage: Record<string, string>;
  sessionStorage: Record<string, string>;
  /** The document and the widget's shadow tree as HTML. */
  page: string;
}

/**
 * Runs in the page: every value of every store of every IndexedDB database, every Cache Storage
 * entry (URL, request and response headers; bodies except model and runtime files), local and
 * session storage. Binary values become text, so a key inside them would still be found.
 */
async function readEverythingStored(): Promise<StoredEverything> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  async function plain(value: unknown): Promise<unknown> {
    if (value instanceof Blob) return decoder.decode(await value.arrayBuffer());
    if (value instanceof ArrayBuffer) return decoder.decode(value);
    if (ArrayBuffer.isView(value)) return decoder.decode(value);
    if (Array.isArray(value)) return Promise.all(value.map(plain));
    if (value instanceof Map) return plain([...value.entries()]);
    if (value instanceof Set) return plain([...value]);
    if (typeof value === 'object' && value !== null) {
      const entries = await Promise.all(
        Object.entries(value).map(async ([key, item]) => [key, await plain(item)] as const),
      );
      return Object.fromEntries(entries);
    }
    return value;
  }
  function done<T>(request: IDBRequest<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => {
        resolve(request.result);
      };
      request.onerror = () => {
        reject(request.error ?? new Error('IndexedDB request failed'));
      };
    });
  }
  const stored: StoredEverything = {
    indexedDB: [],
    caches: [],
    localStorage: {},
    sessionStorage: {},
    page: '',
  };
  for (const { name } of await indexedDB.databases()) {
    if (name === undefined) continue;
    const database = await done(indexedDB.open(name));
    for (const store of Array.from(database.objectStoreNames)) {
      const objects = database.transaction(store, 'readonly').objectStore(store);
      const [keys, values] = await Promise.all([
        done(objects.getAllKeys()),
        done(objects.getAll()),
      ]);
      stored.indexedDB.push({
        database: name,
        store,
        keys: await plain(keys),
        values: await plain(values),
      });
    }
    database.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    const entries: StoredEverything['caches'][number]['entries'] = [];
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      const large = /\/(models|ort)\//.test(new URL(request.url).pathname);
      entries.push({
        url: request.url,
        requestHeaders: [...request.headers],
        headers: response ? [...response.headers] : [],
        ...(response && !large && { body: await response.text() }),
      });
    }
    stored.caches.push({ name, entries });
  }
  for (const [target, storage] of [
    [stored.localStorage, localStorage],
    [stored.sessionStorage, sessionStorage],
  ] as const) {
    for (let index = 0; index < storage.length; index++) {
      const key = storage.key(index);
      if (key !== null) target[key] = storage.getItem(key) ?? '';
    }
  }
  const shadow = document.querySelector('fenliu-chat')?.shadowRoot;
  stored.page = document.documentElement.outerHTML + (shadow ? shadow.innerHTML : '');
  return stored;
}

describe('HTML and script payloads reach the widget as text (page without a policy)', () => {
  let page: Page;
  let watch: PageWatch;

  beforeAll(async () => {
    page = await browser.context.newPage();
    watch = watchPage(browser.context, page, plainServer.origin);
    await page.goto(`${plainServer.url}examples/custom-element/?device=wasm`);
    await waitReady(page);
    // The operator's view as well: the intent's name and the call's arguments are shown there.
    await page.locator('fenliu-chat').evaluate((element) => {
      element.setAttribute('inspect', '');
    });
    await page.locator('fenliu-chat .inspector-bar').waitFor();
    // The host's tools return HTML and record the arguments they were called with.
    await page.evaluate(
      ({ img, script }) => {
        const chat = document.querySelector('fenliu-chat') as unknown as {
          tools: Record<string, (args: Record<string, unknown>) => Promise<unknown>>;
        };
        const calls: unknown[] = [];
        (globalThis as { __toolCalls?: unknown[] }).__toolCalls = calls;
        chat.tools = {
          ...chat.tools,
          lookup_order: (args) => {
            calls.push({ name: 'lookup_order', args });
            return Promise.resolve({ order_id: args.order_id, status: img, items: script });
          },
          change_address: (args) => {
            calls.push({ name: 'change_address', args });
            return Promise.resolve({ order_id: args.order_id, address: args.address });
          },
        };
      },
      { img: IMG_PAYLOAD, script: SCRIPT_PAYLOAD },
    );
  });
  afterAll(async () => {
    await page.close();
  });

  /** Whether anything ran, and the elements a payload would have created in the shadow tree (the
   * widget itself renders none of these). */
  function injected(): Promise<{ pwned: unknown; elements: string[] }> {
    return page.evaluate(() => {
      const root = document.querySelector('fenliu-chat')?.shadowRoot;
      const found = root
        ? Array.from(root.querySelectorAll('img, script, iframe, object, embed, b'))
        : [];
      return {
        pwned: (globalThis as { __pwned?: unknown }).__pwned ?? null,
        elements: found.map((element) => element.outerHTML),
      };
    });
  }

  async function fieldText(card: Locator, kind: string, key: string): Promise<string | null> {
    const field = card.locator(`.${kind} .field[data-key="${key}"] dd`);
    return (await field.count()) > 0 ? field.textContent() : null;
  }

  it('(a) a tool result with HTML in its fields', async () => {
    const turn = await say(page, '查一下订单 2024113012345');
    const card = turn.locator('.tool-call');
    const status = await card.getAttribute('data-status');
    const shown = {
      status: await fieldText(card, 'tool-result', 'status'),
      items: await fieldText(card, 'tool-result', 'items'),
    };
    const state = await injected();
    const ok =
      status === 'done' &&
      shown.status === IMG_PAYLOAD &&
      shown.items === SCRIPT_PAYLOAD &&
      state.pwned === null &&
      state.elements.length === 0;
    record({
      area: 'security',
      case: 'HTML in a tool result',
      outcome: `card ${status ?? '?'}; result fields shown as text: ${JSON.stringify(shown)}; ${state.elements.length} elements created, script ${state.pwned === null ? 'did not run' : 'RAN'}`,
      ok,
    });
    expect(status).toBe('done');
    expect(shown).toEqual({ status: IMG_PAYLOAD, items: SCRIPT_PAYLOAD });
    expect(state).toEqual({ pwned: null, elements: [] });
  });

  /**
   * Sends a change-of-address message; when the model calls change_address, confirms it and
   * compares the address the card shows with what the host's tool received and returned.
   */
  async function changeAddress(message: string) {
    const turn = await say(page, message);
    const route = await turn.getAttribute('data-route');
    const shownMessage = await turn.locator('.user-text').textContent();
    const card = turn.locator('.tool-call');
    if ((await card.count()) === 0) {
      return {
        route,
        shownMessage,
        tool: null,
        status: null,
        shown: null,
        argumentsText: null,
        received: null,
        result: null,
        inspected: null,
      };
    }
    const tool = await card.getAttribute('data-tool');
    const status = await card.getAttribute('data-status');
    const shown = await fieldText(card, 'tool-arguments', 'address');
    const argumentsText = await card.locator('.tool-arguments').textContent();
    const toolCalls = () =>
      page.evaluate(
        () =>
          (globalThis as { __toolCalls?: { name: string; args: Record<string, unknown> }[] })
            .__toolCalls ?? [],
      );
    let received: unknown = null;
    // NOTE: only the change this test means to make is confirmed; another tool stays pending.
    if (tool === 'change_address' && status === 'needs-confirmation') {
      const before = (await toolCalls()).length;
      await card.locator('button.confirm').click();
      await waitIdle(page);
      const call = (await toolCalls()).slice(before).find(({ name }) => name === 'change_address');
      received = call?.args.address ?? null;
    }
    const result = await fieldText(card, 'tool-result', 'address');
    // The operator's view lists the same argument, as text too.
    const inspectedField = turn.locator('.inspector-argument[data-key="address"] .inspector-value');
    const inspected =
      (await inspectedField.count()) > 0 ? await inspectedField.textContent() : null;
    return { route, shownMessage, tool, status, shown, argumentsText, received, result, inspected };
  }

  it('(b) a tool argument the model decoded from a message holding HTML', async () => {
    const imgMessage = `把订单 2024113012345 的地址改成 ${IMG_PAYLOAD}`;
    const img = await changeAddress(imgMessage);
    // Markup inside an address: the model copies the address span, tag included.
    const bold = await changeAddress(
      '把订单 2024113012345 的地址改成上海市<b>浦东新区</b>张江路88号',
    );
    const state = await injected();
    // Whatever the model decoded is what the card shows, the tool gets and the result shows.
    const consistent = (call: typeof img) =>
      call.tool !== 'change_address' ||
      (call.shown !== null && call.received === call.shown && call.result === call.shown);
    const ok =
      (img.shownMessage ?? '').endsWith(imgMessage) &&
      consistent(img) &&
      bold.tool === 'change_address' &&
      (bold.shown ?? '').includes('<b>') &&
      consistent(bold) &&
      state.pwned === null &&
      state.elements.length === 0;
    const describeCall = (call: typeof img) =>
      call.tool === null
        ? `routed ${call.route ?? '?'}, no tool call`
        : call.tool !== 'change_address'
          ? `${call.tool} (${call.status ?? '?'}, left unconfirmed), its arguments shown as text: ` +
            JSON.stringify(call.argumentsText)
          : `${call.tool} (${call.status ?? '?'}), decoded address ${JSON.stringify(call.shown)} shown ` +
            `as text, the tool received ${JSON.stringify(call.received)}, the result shows ` +
            JSON.stringify(call.result);
    record({
      area: 'security',
      case: 'HTML in a tool argument decoded by the model',
      outcome:
        `<img onerror> address: ${describeCall(img)}; <b> address: ${describeCall(bold)}; ` +
        `${state.elements.length} elements created, script ` +
        (state.pwned === null ? 'did not run' : 'RAN'),
      ok,
    });
    expect(img.shownMessage?.endsWith(imgMessage)).toBe(true);
    expect(consistent(img)).toBe(true);
    expect(bold.tool).toBe('change_address');
    expect(bold.status).toBe('needs-confirmation');
    expect(bold.shown).toContain('<b>');
    expect(bold.received).toBe(bold.shown);
    expect(bold.result).toBe(bold.shown);
    expect(bold.inspected).toBe(bold.shown);
    expect(state).toEqual({ pwned: null, elements: [] });
  });

  it('(d) the user\u2019s own message holding HTML and a script', async () => {
    const message = `${IMG_PAYLOAD}${SCRIPT_PAYLOAD}`;
    const turn = await say(page, message);
    const shown = await turn.locator('.user-text').textContent();
    const state = await injected();
    const ok =
      (shown ?? '').endsWith(message) && state.pwned === null && state.elements.length === 0;
    record({
      area: 'security',
      case: 'HTML in the user\u2019s message',
      outcome: `message shown as text (${JSON.stringify(shown)}); ${state.elements.length} elements created, script ${state.pwned === null ? 'did not run' : 'RAN'}`,
      ok,
    });
    expect(shown?.endsWith(message)).toBe(true);
    expect(state).toEqual({ pwned: null, elements: [] });
  });

  // NOTE: the card shows the tool's customer title (`presentation.title`; the description only
  // stands in where there is none), so the payload goes into both.
  it('(c) the catalog\u2019s intent name and tool title and description holding HTML', async () => {
    const name = `${IMG_PAYLOAD}查询订单`;
    const title = `${SCRIPT_PAYLOAD}订单详情`;
    const description = `${SCRIPT_PAYLOAD}按订单号查询。`;
    await page.evaluate(
      ({ name, title, description }) => {
        const chat = document.querySelector('fenliu-chat') as unknown as {
          catalog: {
            intents: { id: string; name: Record<string, string> }[];
            tools: {
              name: string;
              description: Record<string, string>;
              presentation?: { title: Record<string, string> };
            }[];
          };
        };
        const catalog = structuredClone(chat.catalog);
        for (const intent of catalog.intents) {
          if (intent.id === 'order_status') intent.name = { zh: name, en: name };
        }
        for (const tool of catalog.tools) {
          if (tool.name !== 'lookup_order') continue;
          tool.description = { zh: description, en: description };
          if (tool.presentation) tool.presentation.title = { zh: title, en: title };
        }
        chat.catalog = catalog;
      },
      { name, title, description },
    );
    await waitReady(page);
    const turn = await say(page, '查一下订单 2024113012345');
    const chip = await turn.locator('.inspector .intent .label').textContent();
    const shownTitle = await turn.locator('.tool-call .tool-title').textContent();
    const state = await injected();
    const ok =
      chip === name && shownTitle === title && state.pwned === null && state.elements.length === 0;
    record({
      area: 'security',
      case: 'HTML in the catalog\u2019s texts',
      outcome: `intent name shown as ${JSON.stringify(chip)}, tool title as ${JSON.stringify(shownTitle)}; ${state.elements.length} elements created, script ${state.pwned === null ? 'did not run' : 'RAN'}`,
      ok,
    });
    expect(chip).toBe(name);
    expect(shownTitle).toBe(title);
    expect(state).toEqual({ pwned: null, elements: [] });
    expect(watch.pageErrors).toEqual([]);
  });

  it('the check can fail: the same payload parsed as HTML on this page does run', async () => {
    await page.evaluate((html) => {
      const probe = document.createElement('div');
      probe.id = 'parsed-as-html';
      probe.innerHTML = html;
      document.body.append(probe);
    }, IMG_PAYLOAD);
    const pwned = () => page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned ?? null);
    // The image error fires after a failed load; give it its moment, then judge.
    await expect
      .poll(pwned)
      .toBe(1)
      .catch(() => undefined);
    const ran = await pwned();
    record({
      area: 'security',
      case: 'HTML payload parsed as HTML runs (control)',
      outcome: `innerHTML of the <img onerror> payload on the host page: window.__pwned = ${JSON.stringify(ran)}`,
      ok: ran === 1,
    });
    expect(ran).toBe(1);
  });
});
