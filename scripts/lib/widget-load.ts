import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { parseDataset } from '../../src/dataset/dataset';
import { percentile } from '../../src/evaluation/metrics';
import { strings } from '../../src/ui/i18n';
import { launchChromium, watchPage } from './browser';
import { ARTIFACTS, DEMO_DATA } from './paths';

/**
 * The widget under load: N distinct messages typed into the built demo's message box and sent
 * with Enter as fast as Playwright can type them, without waiting for any answer; then every turn
 * is read back. Shared by `npm run load` (figures) and test/e2e/load.test.ts (behaviour).
 *
 * Timings are taken inside the page: a capture-phase keydown listener stamps each Enter with the
 * text it sends, and a MutationObserver on the widget's shadow root stamps the moment each turn
 * appears and the moment it shows its outcome. Node never polls for them.
 */

/** How a turn ended, from what it shows (see ChatWidget.tsx and conversation.ts `isSettled`). */
export type TurnOutcome =
  /** Classified: the turn carries its intent (`li.turn[data-intent]`), escalated turns too. */
  | 'intent'
  /**
   * It answered an earlier turn's question for a missing tool argument: not classified, it
   * carries that call on (`li.turn:not([data-intent])` with a `.tool-call`).
   */
  | 'follow-up'
  | 'error'
  | 'cancelled'
  | 'interrupted'
  /** Still waiting when the run stopped waiting. */
  | 'unsettled';

/** One turn as the page recorded it. */
export interface SeenTurn {
  text: string;
  outcome: TurnOutcome;
  /** The turn's intent (`data-intent`), when it was classified. */
  intentId: string | null;
  /** Whether the turn was ever marked `queued` (waiting behind another message). */
  queued: boolean;
  /** Milliseconds from its Enter to its outcome (null: never settled or no Enter seen). */
  latencyMs: number | null;
}

/** Heap of one JavaScript isolate after a full garbage collection (CDP `Runtime.getHeapUsage`). */
export interface HeapSample {
  usedMB: number;
  totalMB: number;
}

/** What the run saw at one moment: page and worker heaps, DOM size. */
export interface MemoryPoint {
  page: HeapSample;
  /** The classifier worker's isolate; null when its CDP target could not be reached. */
  worker: HeapSample | null;
  /** Live DOM nodes of the page (CDP `Memory.getDOMCounters`). */
  domNodes: number;
  /** Elements inside the widget's shadow root. */
  widgetElements: number;
}

/** Everything one load run measured (`npm run load` writes it as bench/reliability/load.json). */
export interface LoadRun {
  messages: number;
  sent: string[];
  /** The turns in the widget at the end, in DOM order. */
  turns: SeenTurn[];
  /** Sent messages with no turn. */
  lost: number;
  /** Turns whose text appears more than once (beyond the first). */
  duplicated: number;
  /** Turns out of sending order: present turns minus the longest run kept in order. */
  reordered: number;
  /** Turns whose text was never sent. */
  unexpected: number;
  outcomes: Record<TurnOutcome, number>;
  /** Turns ever marked `queued`. */
  queuedSeen: number;
  /**
   * The most follow-up turns in a row. Each answers the question of the turn before it for a
   * still-missing argument, so a run longer than a tool's argument count means messages were
   * taken as answers to a question already answered.
   */
  longestFollowUpRun: number;
  intents: Record<string, number>;
  /** Enter key presses the page saw on the message box. */
  entersSeen: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number; max: number; n: number };
  /** From the first Enter to the last outcome. */
  wallSeconds: number;
  /** Seconds spent typing and pressing Enter for all messages. */
  sendSeconds: number;
  /** Settled turns per second over `wallSeconds`. */
  messagesPerSecond: number;
  memory: { before: MemoryPoint; after: MemoryPoint };
  /** Why the worker's heap is missing, when it is. */
  workerHeapNote: string | null;
  pageErrors: string[];
  foreignRequests: string[];
  /** Whether every turn settled before the wait ran out. */
  settled: boolean;
  backend: { device: string | null; dtype: string | null };
}

export interface LoadOptions {
  /** The built demo's URL (from `serveDemo()`). */
  url: string;
  messages: number;
  /** How long to wait for the last answer after the last Enter. */
  settleTimeoutMs?: number;
  /** Progress lines (sending, waiting). */
  log?: (line: string) => void;
}

/** The demo test split's texts, each made unique and checkable with a numbered suffix. */
export function loadMessages(count: number): string[] {
  const file = join(DEMO_DATA, 'test.jsonl');
  const texts = parseDataset(readFileSync(file, 'utf8'), file).map((example) => example.text);
  return Array.from({ length: count }, (_, index) => {
    const text = texts[index % texts.length] ?? '';
    return `${text.trim()} #${index + 1}`;
  });
}

const MB = 1024 * 1024;
const LOAD_TIMEOUT_MS = 240_000;

/** In-page recorder state, installed before the page's own scripts run. */
interface Recorder {
  enters: { text: string; at: number }[];
  turns: Map<Element, { text: string; seenAt: number; queued: boolean; settledAt: number | null }>;
  observe: () => boolean;
}

/**
 * Installed with `addInitScript`: stamps every Enter that sends from the message box (capture
 * phase, before React's handler empties the box) and, once `observe()` is called, every turn's
 * appearance, `queued` mark and outcome.
 */
function installRecorder(): void {
  // NOTE: keep in step with `readTurns` and the settled check in `runWidgetLoad`.
  const outcomeSelector = '.tool-call, .turn-error, .turn-cancelled, .turn-interrupted';
  const settled = (turn: Element): boolean =>
    turn.hasAttribute('data-intent') || turn.querySelector(outcomeSelector) !== null;
  const recorder: Recorder = {
    enters: [],
    turns: new Map(),
    observe: () => {
      const root = document.querySelector('[data-fenliu-host]')?.shadowRoot;
      if (!root) return false;
      const userText = (turn: Element): string => {
        const paragraph = turn.querySelector('.user-text');
        if (!paragraph) return '';
        // The visually hidden "你: " prefix is for screen readers, not part of the message.
        return [...paragraph.childNodes]
          .filter((node) => !(node instanceof Element && node.matches('.visually-hidden')))
          .map((node) => node.textContent ?? '')
          .join('');
      };
      const visit = (turn: Element, now: number): void => {
        let seen = recorder.turns.get(turn);
        if (!seen) {
          seen = { text: userText(turn), seenAt: now, queued: false, settledAt: null };
          recorder.turns.set(turn, seen);
        }
        if (turn.classList.contains('queued')) seen.queued = true;
        if (seen.settledAt === null && settled(turn)) seen.settledAt = now;
      };
      const observer = new MutationObserver((mutations) => {
        const now = performance.now();
        const touched = new Set<Element>();
        for (const mutation of mutations) {
          const target =
            mutation.target instanceof Element ? mutation.target : mutation.target.parentElement;
          const turn = target?.closest('li.turn');
          if (turn) touched.add(turn);
          for (const node of mutation.addedNodes) {
            if (!(node instanceof Element)) continue;
            if (node.matches('li.turn')) touched.add(node);
            for (const inner of node.querySelectorAll('li.turn')) touched.add(inner);
          }
        }
        for (const turn of touched) visit(turn, now);
      });
      observer.observe(root, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['class', 'data-intent'],
        characterData: true,
      });
      for (const turn of root.querySelectorAll('li.turn')) visit(turn, performance.now());
      return true;
    },
  };
  (globalThis as { __fenliuLoad?: Recorder }).__fenliuLoad = recorder;
  addEventListener(
    'keydown',
    (event) => {
      const target = event.composedPath()[0];
      if (
        event.key === 'Enter' &&
        !event.shiftKey &&
        !event.isComposing &&
        target instanceof HTMLTextAreaElement
      ) {
        recorder.enters.push({ text: target.value.trim(), at: performance.now() });
      }
    },
    { capture: true },
  );
}

/** A full GC, then the isolate's heap, through a CDP session (page or worker). */
async function heapAfterGc(send: CdpSend): Promise<HeapSample> {
  await send('HeapProfiler.enable', {});
  await send('HeapProfiler.collectGarbage', {});
  await send('HeapProfiler.collectGarbage', {});
  const usage = (await send('Runtime.getHeapUsage', {})) as { usedSize: number; totalSize: number };
  return { usedMB: usage.usedSize / MB, totalMB: usage.totalSize / MB };
}

type CdpSend = (method: string, params: Record<string, unknown>) => Promise<unknown>;

/**
 * A CDP channel to the page's dedicated classifier worker. Playwright's `Worker` has no CDP
 * session of its own (`newCDPSession` takes a page or a frame), so the page's session attaches
 * to the worker target (non-flattened) and tunnels commands through `Target.sendMessageToTarget`.
 */
async function workerChannel(session: CDPSession): Promise<CdpSend> {
  const { targetInfos } = (await session.send('Target.getTargets')) as {
    targetInfos: { targetId: string; type: string; url: string }[];
  };
  const worker = targetInfos.find(
    (target) => target.type === 'worker' && target.url.includes('classifier.worker'),
  );
  if (!worker) throw new Error('no dedicated worker target whose URL names classifier.worker');
  const { sessionId } = await session.send('Target.attachToTarget', {
    targetId: worker.targetId,
    flatten: false,
  });
  return tunnel(session, sessionId);
}

function tunnel(session: CDPSession, sessionId: string): CdpSend {
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  session.on('Target.receivedMessageFromTarget', (event) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
    };
    const call = message.id === undefined ? undefined : waiting.get(message.id);
    if (!call || message.id === undefined) return;
    waiting.delete(message.id);
    if (message.error) call.reject(new Error(message.error.message));
    else call.resolve(message.result);
  });
  return (method, params) => {
    const id = nextId++;
    const answer = new Promise<unknown>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
    });
    void session.send('Target.sendMessageToTarget', {
      sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    return answer;
  };
}

async function memoryPoint(
  page: Page,
  session: CDPSession,
  worker: CdpSend | null,
): Promise<MemoryPoint> {
  // NOTE: CDPSession.send is typed per method; the shared helper takes any method name.
  const send = session.send.bind(session) as unknown as CdpSend;
  const pageHeap = await heapAfterGc(send);
  const workerHeap = worker ? await heapAfterGc(worker) : null;
  const counters = (await session.send('Memory.getDOMCounters')) as { nodes: number };
  const widgetElements = await page.evaluate(
    () =>
      document.querySelector('[data-fenliu-host]')?.shadowRoot?.querySelectorAll('*').length ?? 0,
  );
  return { page: pageHeap, worker: workerHeap, domNodes: counters.nodes, widgetElements };
}

/** Longest strictly increasing subsequence length (patience sorting), for the reordered count. */
function longestIncreasing(values: readonly number[]): number {
  const tails: number[] = [];
  for (const value of values) {
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((tails[middle] ?? 0) < value) low = middle + 1;
      else high = middle;
    }
    tails[low] = value;
  }
  return tails.length;
}

/** The most consecutive items for which `test` holds. */
function longestRun<T>(items: readonly T[], test: (item: T) => boolean): number {
  let longest = 0;
  let current = 0;
  for (const item of items) {
    current = test(item) ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}

/** Reads the final turns (DOM order) with what the recorder stamped for each. */
async function readTurns(page: Page): Promise<
  {
    text: string;
    outcome: TurnOutcome;
    intentId: string | null;
    queued: boolean;
    seenAt: number | null;
    settledAt: number | null;
  }[]
> {
  return page.evaluate(() => {
    const recorder = (globalThis as { __fenliuLoad?: Recorder }).__fenliuLoad;
    const root = document.querySelector('[data-fenliu-host]')?.shadowRoot;
    if (!recorder || !root) return [];
    return [...root.querySelectorAll('li.turn')].map((turn) => {
      const seen = recorder.turns.get(turn);
      const outcome: TurnOutcome = turn.hasAttribute('data-intent')
        ? 'intent'
        : turn.querySelector('.tool-call')
          ? 'follow-up'
          : turn.querySelector('.turn-error')
            ? 'error'
            : turn.querySelector('.turn-cancelled')
              ? 'cancelled'
              : turn.querySelector('.turn-interrupted')
                ? 'interrupted'
                : 'unsettled';
      const paragraph = turn.querySelector('.user-text');
      const text = paragraph
        ? [...paragraph.childNodes]
            .filter((node) => !(node instanceof Element && node.matches('.visually-hidden')))
            .map((node) => node.textContent ?? '')
            .join('')
        : '';
      return {
        text,
        outcome,
        intentId: turn.getAttribute('data-intent'),
        queued: seen?.queued === true || turn.classList.contains('queued'),
        seenAt: seen?.seenAt ?? null,
        settledAt: seen?.settledAt ?? null,
      };
    });
  });
}

/**
 * Types every message into the focused message box and presses Enter after each, as trusted
 * keyboard input (CDP `Input.*`, what Playwright's keyboard sends), all queued at once: no
 * message waits for the page to handle the previous one, let alone for its answer. The browser
 * delivers the events in order, each as its own task, so the widget sees the text of a message
 * before its Enter, exactly as from a (very fast) keyboard. Each message first selects what is
 * in the box, so a message the widget did not take is typed over (and found lost), not merged
 * into the next one.
 */
async function typeAll(
  session: CDPSession,
  texts: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  const pending: Promise<unknown>[] = [];
  const key = (params: KeyEvent) => pending.push(session.send('Input.dispatchKeyEvent', params));
  for (const text of texts) {
    key({
      type: 'rawKeyDown',
      key: 'a',
      code: 'KeyA',
      windowsVirtualKeyCode: 65,
      modifiers: CONTROL,
      commands: ['selectAll'],
    });
    key({ type: 'keyUp', key: 'a', code: 'KeyA', windowsVirtualKeyCode: 65, modifiers: CONTROL });
    pending.push(session.send('Input.insertText', { text }));
    key({
      type: 'keyDown',
      key: 'Enter',
      code: 'Enter',
      windowsVirtualKeyCode: 13,
      text: '\r',
      unmodifiedText: '\r',
    });
    key({ type: 'keyUp', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13 });
  }
  log(`queued ${texts.length} messages as keyboard input`);
  await Promise.all(pending);
}

/** The fields of CDP `Input.dispatchKeyEvent` used here (playwright-core does not export them). */
interface KeyEvent {
  type: 'rawKeyDown' | 'keyDown' | 'keyUp';
  key: string;
  code: string;
  windowsVirtualKeyCode: number;
  modifiers?: number;
  text?: string;
  unmodifiedText?: string;
  commands?: string[];
}

/** CDP's modifier bit for Control. */
const CONTROL = 2;

/**
 * Opens the built demo on WASM in a fresh Chromium, sends `messages` distinct messages from the
 * widget as fast as they can be typed, waits until every turn has its outcome (or
 * `settleTimeoutMs` passes), and returns what it saw. Never throws for lost, reordered or failed
 * messages: the caller judges the run.
 */
export async function runWidgetLoad({
  url,
  messages,
  settleTimeoutMs = 20 * 60_000,
  log = () => undefined,
}: LoadOptions): Promise<LoadRun> {
  const sent = loadMessages(messages);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const origin = new URL(url).origin;
    const watch = watchPage(browser.context, page, origin);
    // NOTE: tsx compiles with esbuild's keepNames, which wraps named inner functions in
    // `__name(...)`; functions sent to the page need that helper there too.
    await page.addInitScript({ content: 'globalThis.__name = (target) => target;' });
    await page.addInitScript(installRecorder);
    await page.goto(`${url}?device=wasm`);
    const status = page.locator('.status[data-device]');
    await status.waitFor({ timeout: LOAD_TIMEOUT_MS });
    const backend = {
      device: await status.getAttribute('data-device'),
      dtype: await status.getAttribute('data-dtype'),
    };
    const observing = await page.evaluate(
      () => (globalThis as { __fenliuLoad?: Recorder }).__fenliuLoad?.observe() ?? false,
    );
    if (!observing) throw new Error('the widget has no shadow root to observe');

    const session = await browser.context.newCDPSession(page);
    let worker: CdpSend | null = null;
    let workerHeapNote: string | null = null;
    try {
      worker = await workerChannel(session);
    } catch (error) {
      workerHeapNote = `the classifier worker's CDP target could not be reached: ${String(error)}`;
    }
    const before = await memoryPoint(page, session, worker);

    const input = page.getByRole('textbox', { name: strings('zh').messageLabel });
    await input.focus();
    const sendStarted = performance.now();
    await typeAll(session, sent, log);
    const sendSeconds = (performance.now() - sendStarted) / 1000;

    // Settled: every turn shows its outcome and the widget is idle (no Stop button). Checked in
    // the page; the timings themselves come from the observer.
    let settled = true;
    try {
      await page.waitForFunction(
        () => {
          const root = document.querySelector('[data-fenliu-host]')?.shadowRoot;
          if (!root) return false;
          const busy = root.querySelector('.composer .stop, li.turn.queued, .classifying');
          if (busy) return false;
          const selector = '.tool-call, .turn-error, .turn-cancelled, .turn-interrupted';
          return [...root.querySelectorAll('li.turn')].every(
            (turn) => turn.hasAttribute('data-intent') || turn.querySelector(selector),
          );
        },
        undefined,
        { timeout: settleTimeoutMs, polling: 1000 },
      );
    } catch {
      settled = false;
    }
    log(settled ? 'all turns settled' : 'gave up waiting for the last turns');

    const seen = await readTurns(page);
    const enters = await page.evaluate(
      () => (globalThis as { __fenliuLoad?: Recorder }).__fenliuLoad?.enters ?? [],
    );
    const after = await memoryPoint(page, session, worker);
    await page.screenshot({ path: join(ARTIFACTS, 'load-wasm.png') }).catch(() => undefined);

    const enterAt = new Map<string, number>();
    for (const enter of enters) if (!enterAt.has(enter.text)) enterAt.set(enter.text, enter.at);
    const sentIndex = new Map(sent.map((text, index) => [text, index]));
    const counted = new Set<string>();
    let duplicated = 0;
    let unexpected = 0;
    const order: number[] = [];
    for (const turn of seen) {
      const index = sentIndex.get(turn.text);
      if (index === undefined) unexpected += 1;
      else if (counted.has(turn.text)) duplicated += 1;
      else {
        counted.add(turn.text);
        order.push(index);
      }
    }
    const outcomes: Record<TurnOutcome, number> = {
      intent: 0,
      'follow-up': 0,
      error: 0,
      cancelled: 0,
      interrupted: 0,
      unsettled: 0,
    };
    const intents: Record<string, number> = {};
    const turns: SeenTurn[] = seen.map((turn) => {
      outcomes[turn.outcome] += 1;
      if (turn.intentId) intents[turn.intentId] = (intents[turn.intentId] ?? 0) + 1;
      const start = enterAt.get(turn.text);
      return {
        text: turn.text,
        outcome: turn.outcome,
        intentId: turn.intentId,
        queued: turn.queued,
        latencyMs: start !== undefined && turn.settledAt !== null ? turn.settledAt - start : null,
      };
    });
    const latencies = turns
      .map((turn) => turn.latencyMs)
      .filter((value): value is number => value !== null)
      .sort((a, b) => a - b);
    const firstEnter = enters[0]?.at ?? 0;
    const lastOutcome = Math.max(firstEnter, ...seen.map((turn) => turn.settledAt ?? 0));
    const wallSeconds = (lastOutcome - firstEnter) / 1000;
    const answered = outcomes.intent + outcomes['follow-up'];
    return {
      messages,
      sent,
      turns,
      lost: sent.length - counted.size,
      duplicated,
      reordered: order.length - longestIncreasing(order),
      unexpected,
      outcomes,
      queuedSeen: turns.filter((turn) => turn.queued).length,
      longestFollowUpRun: longestRun(turns, (turn) => turn.outcome === 'follow-up'),
      intents,
      entersSeen: enters.length,
      latencyMs: {
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
        mean: latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length),
        max: latencies.at(-1) ?? Number.NaN,
        n: latencies.length,
      },
      wallSeconds,
      sendSeconds,
      messagesPerSecond: wallSeconds > 0 ? answered / wallSeconds : Number.NaN,
      memory: { before, after },
      workerHeapNote,
      pageErrors: watch.pageErrors,
      foreignRequests: watch.foreignRequests,
      settled,
      backend,
    };
  } finally {
    await browser.close();
  }
}
