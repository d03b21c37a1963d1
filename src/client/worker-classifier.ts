import { proxy, wrap, type Remote } from 'comlink';
import type { Classification, ProposedToolCall } from '../engine/classification';
import type { CallOptions, Classifier, ClassifierState } from '../engine/classifier-api';
import type { ModelReply, ToolTurn } from '../engine/classifier';
import type { DeviceReason } from '../engine/device';
import { downloadRetryPlan, type ClassifierStatus } from '../engine/lifecycle';
import { installErrorTransfer } from '../engine/worker-errors';
import type { ClassifierWorkerApi, WorkerLoadRequest } from '../engine/worker-protocol';
import { AbortError, ClassifierWorkerError, FenliuError, serializeError } from '../shared/errors';
import { MAX_TIMEOUT_MS } from '../shared/validation';

installErrorTransfer();

export interface WorkerClassifierOptions extends WorkerLoadRequest {
  /**
   * How long one call may go unanswered before the worker is taken for hung and replaced
   * (default `DEFAULT_CALL_TIMEOUT_MS`). A backstop, not a speed target: set it well above the
   * slowest message on the slowest device you serve.
   */
  callTimeoutMs?: number;
  /**
   * Starts a worker that speaks `ClassifierWorkerApi`; default: the classifier worker bundled
   * beside this module. Tests pass a test-only worker entry that injects faults.
   */
  createWorker?: () => Worker;
}

/** Two minutes: the real Qwen3-0.6B on a slow phone's WASM needs tens of seconds for a long message. */
export const DEFAULT_CALL_TIMEOUT_MS = 120_000;

/** Worker replacements in a row, without a call answered in between, before the client stops. */
const MAX_RESTARTS = 2;

/** How long the heartbeat waits after an answer before it pings an idle worker again. */
const HEARTBEAT_INTERVAL_MS = 1000;

/** How long an idle worker may leave a ping unanswered before it is taken for gone. */
const HEARTBEAT_TIMEOUT_MS = 3000;

/**
 * How late the heartbeat's own timer may fire and still judge: later, the page itself was frozen
 * or throttled (a background tab), so the worker's answer may be waiting behind it.
 */
const HEARTBEAT_LATE_MS = 1000;

function defaultWorker(): Worker {
  return new Worker(new URL('../../workers/classifier.worker.ts', import.meta.url), {
    type: 'module',
    name: 'fenliu-classifier',
  });
}

/** The running worker as calls see it: its API, how to declare it dead, and what it is running. */
interface LiveWorker {
  api: Remote<ClassifierWorkerApi>;
  fail: (error: ClassifierWorkerError) => void;
  /**
   * Calls sent to it and not answered yet, including calls whose caller aborted (the worker may
   * still be computing them).
   */
  running: number;
  /** Calls sent to it so far: tells the heartbeat whether one started while it waited. */
  started: number;
}

let nextRequestId = 1;

/**
 * The classifier in a Web Worker, seen from the page, with no UI framework: it starts the worker,
 * loads the model, and supervises it. A worker that throws outside a call (crashed), ends without
 * an error event (exited: `self.close()`, killed for memory; see `watchLiveness`), or leaves a
 * call unanswered past its deadline (hung) is terminated, the calls it held are rejected with a
 * `ClassifierWorkerError`, and a fresh worker loads the model again. A WebGPU session that cannot
 * be created moves the load to a fresh worker on WASM; an interrupted download is retried when
 * the browser is back online or after a short, growing pause. The conversation belongs to the
 * caller, so none of this loses it.
 */
export class WorkerClassifier implements Classifier {
  private readonly options: WorkerClassifierOptions;
  private readonly callTimeoutMs: number;
  private live: LiveWorker | null = null;
  private terminateCurrent: (() => void) | null = null;
  /** Rejects of the calls the current worker holds, by request id. */
  private readonly held = new Map<number, (error: Error) => void>();
  private restarts = 0;
  private downloadFailures = 0;
  private started = false;
  private disposed = false;
  private cancelAutoRetry: (() => void) | null = null;
  private currentState: ClassifierState = {
    status: { state: 'checking-device' },
    autoRetry: null,
    restartedAfter: null,
  };
  private readonly listeners = new Set<(state: ClassifierState) => void>();
  private settledWaiters: ((status: ClassifierStatus) => void)[] = [];

  constructor(options: WorkerClassifierOptions) {
    this.options = options;
    // NOTE: a host may mean "practically never" with a huge number; past MAX_TIMEOUT_MS
    // setTimeout would overflow and fire at once, failing every call, so the deadline stops there.
    this.callTimeoutMs = Math.min(options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, MAX_TIMEOUT_MS);
  }

  get state(): ClassifierState {
    return this.currentState;
  }

  subscribe(listener: (state: ClassifierState) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  load(): Promise<ClassifierStatus> {
    const { status } = this.currentState;
    if (this.started && (status.state === 'ready' || status.state === 'error')) {
      return Promise.resolve(status);
    }
    const settled = new Promise<ClassifierStatus>((resolve) => {
      this.settledWaiters.push(resolve);
    });
    if (!this.started) {
      this.started = true;
      this.startWorker(null);
    }
    return settled;
  }

  retry(): void {
    if (this.disposed) return;
    this.started = true;
    this.setAutoRetry(null);
    this.setState({ status: { state: 'checking-device' } });
    this.startWorker(null);
  }

  cancelLoad(): void {
    this.terminateCurrent?.();
    this.setStatus({
      state: 'error',
      error: serializeError(new AbortError('Loading was cancelled.')),
    });
  }

  classify(text: string, options: CallOptions = {}): Promise<Classification> {
    return this.call(options.signal, (api, requestId) => api.classify(text, requestId));
  }

  decodeToolCall(
    text: string,
    intentId: string,
    options: CallOptions = {},
  ): Promise<ProposedToolCall | null> {
    return this.call(options.signal, (api, requestId) =>
      api.decodeToolCall(text, intentId, requestId),
    );
  }

  writeReply(turn: ToolTurn, options: CallOptions = {}): Promise<ModelReply> {
    return this.call(options.signal, (api, requestId) => api.writeReply(turn, requestId));
  }

  dispose(): Promise<void> {
    this.disposed = true;
    this.setAutoRetry(null);
    this.terminateCurrent?.();
    const error = new FenliuError('classifier-not-ready', 'The classifier was disposed.');
    for (const reject of this.held.values()) reject(error);
    this.held.clear();
    this.listeners.clear();
    return Promise.resolve();
  }

  private setState(change: Partial<ClassifierState>): void {
    this.currentState = { ...this.currentState, ...change };
    for (const listener of this.listeners) listener(this.currentState);
    const { status } = this.currentState;
    if (status.state === 'ready' || status.state === 'error') {
      const waiters = this.settledWaiters;
      this.settledWaiters = [];
      for (const resolve of waiters) resolve(status);
    }
  }

  private setStatus(status: ClassifierStatus): void {
    this.setState({ status });
  }

  /** Starts a worker and loads the model in it; `fallbackFrom` set, it loads on WASM. */
  private startWorker(fallbackFrom: DeviceReason | null): void {
    this.terminateCurrent?.();
    if (this.disposed) return;
    const worker = (this.options.createWorker ?? defaultWorker)();
    let active = true;
    let loaded = false;
    let stopWatching: () => void = () => undefined;
    const terminate = () => {
      active = false;
      stopWatching();
      if (this.live?.api === api) this.live = null;
      worker.terminate();
    };
    const fail = (error: ClassifierWorkerError) => {
      if (!active) return;
      terminate();
      for (const reject of this.held.values()) reject(error);
      this.held.clear();
      if (loaded && this.restarts < MAX_RESTARTS) {
        this.restarts += 1;
        this.setState({
          restartedAfter: serializeError(error),
          status: { state: 'checking-device' },
        });
        this.startWorker(null);
      } else {
        this.setStatus({ state: 'error', error: serializeError(error) });
      }
    };
    const api = wrap<ClassifierWorkerApi>(worker);
    const live: LiveWorker = { api, fail, running: 0, started: 0 };
    this.live = live;
    this.terminateCurrent = terminate;
    stopWatching = watchLiveness(
      live,
      () => loaded && live.running === 0 && this.currentState.status.state === 'ready',
    );
    const onStatus = (next: ClassifierStatus) => {
      if (!active) return;
      if (next.state === 'ready') {
        loaded = true;
        this.downloadFailures = 0;
      }
      const interrupted = next.state === 'error' && next.error.code === 'model-download-failed';
      this.setAutoRetry(
        interrupted ? downloadRetryPlan(this.downloadFailures, navigator.onLine) : null,
      );
      this.setStatus(next);
    };
    // NOTE: an uncaught error in the worker (an engine abort, out of memory) leaves any call it
    // was running unanswered forever; the script failing to load lands here too.
    worker.addEventListener('error', (event) => {
      fail(
        new ClassifierWorkerError(
          'classifier-crashed',
          `The classifier worker crashed (${event.message || 'its script could not be loaded'}).`,
        ),
      );
    });
    const { modelBase, modelId, ortBase, device, dtype, browserCache } = this.options;
    const load: WorkerLoadRequest = { modelBase, modelId, ortBase, device };
    if (dtype !== undefined) load.dtype = dtype;
    if (browserCache !== undefined) load.browserCache = browserCache;
    if (fallbackFrom !== null) {
      load.device = 'wasm';
      load.fallbackFrom = fallbackFrom;
    }
    void api.load(load, proxy(onStatus)).then((outcome) => {
      // A WebGPU session creation failed: this worker cannot create another session, so a
      // fresh one loads on WASM.
      if (active && outcome.kind === 'restart-on-wasm') this.startWorker(outcome.reasonCode);
    });
  }

  /**
   * Plans the next automatic retry of an interrupted download: when the browser is back online,
   * or after a pause (null: none, the user's Retry button).
   */
  private setAutoRetry(plan: 'when-online' | number | null): void {
    this.cancelAutoRetry?.();
    this.cancelAutoRetry = null;
    if (plan !== this.currentState.autoRetry) this.setState({ autoRetry: plan });
    if (plan === null) return;
    const again = () => {
      this.cancelAutoRetry?.();
      this.cancelAutoRetry = null;
      this.retry();
    };
    if (plan === 'when-online') {
      // NOTE: the connection may have come back before this subscription.
      const already = navigator.onLine ? setTimeout(again, 0) : undefined;
      addEventListener('online', again, { once: true });
      this.cancelAutoRetry = () => {
        clearTimeout(already);
        removeEventListener('online', again);
      };
      return;
    }
    const timer = setTimeout(() => {
      this.downloadFailures += 1;
      again();
    }, plan);
    this.cancelAutoRetry = () => {
      clearTimeout(timer);
    };
  }

  private call<T>(
    signal: AbortSignal | undefined,
    run: (api: Remote<ClassifierWorkerApi>, requestId: number) => Promise<T>,
  ): Promise<T> {
    return callWorker(this.live, this.held, this.callTimeoutMs, signal, run).then((value) => {
      this.restarts = 0;
      if (this.currentState.restartedAfter !== null) this.setState({ restartedAfter: null });
      return value;
    });
  }
}

/**
 * One call into the worker, supervised. An AbortSignal cannot cross the worker boundary, so the
 * call carries a request id and aborting asks the worker to cancel that id. The call is `held`
 * until it settles, so a crash elsewhere can reject it; past `timeoutMs` the worker is declared
 * hung (which rejects every call it holds).
 */
function callWorker<T>(
  worker: LiveWorker | null,
  held: Map<number, (error: Error) => void>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  run: (api: Remote<ClassifierWorkerApi>, requestId: number) => Promise<T>,
): Promise<T> {
  if (!worker) {
    return Promise.reject(
      new FenliuError('classifier-not-ready', 'The classifier is not running.'),
    );
  }
  if (signal?.aborted) return Promise.reject(new AbortError());
  const requestId = nextRequestId++;
  return new Promise<T>((resolve, reject) => {
    const settle = () => {
      clearTimeout(deadline);
      held.delete(requestId);
      signal?.removeEventListener('abort', onAbort);
    };
    // NOTE: the engine checks the signal between model calls; a call already running (the
    // whole message, on a slow device) finishes in the worker, but the caller is released now
    // and its late answer dropped.
    const onAbort = () => {
      settle();
      void worker.api.cancel(requestId);
      reject(new AbortError());
    };
    const deadline = setTimeout(() => {
      worker.fail(
        new ClassifierWorkerError(
          'classifier-unresponsive',
          `The classifier did not answer within ${Math.round(timeoutMs / 1000)} s.`,
        ),
      );
    }, timeoutMs);
    held.set(requestId, (error) => {
      settle();
      reject(error);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.running += 1;
    worker.started += 1;
    run(worker.api, requestId).then(
      (value) => {
        worker.running -= 1;
        settle();
        resolve(value);
      },
      (error: unknown) => {
        worker.running -= 1;
        settle();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Notices a worker that is gone without an error event: it called `self.close()`, or the browser
 * ended it (killed for memory). Such a worker never answers again, and nothing on the page fires.
 * Returns a function that stops watching (call it before terminating the worker yourself).
 *
 * The rule, in two parts, because a worker's JavaScript runs on one thread: while it computes a
 * call (one model step of a long message can take tens of seconds on a slow phone), it answers
 * nothing, so silence alone cannot tell busy from gone.
 *
 * 1. Lifeline (any time, busy or idle): the worker holds a Web Lock named for it alone
 *    (`holdLifeline`) and the page queues for the same lock. The browser releases a lock when
 *    the context holding it ends, however it ends, so the page is granted it the moment the
 *    worker is gone: `classifier-crashed` ("exited"), the calls it held are rejected.
 * 2. Heartbeat (the fallback where Web Locks are missing, and what notices a thread stuck
 *    between calls): every `HEARTBEAT_INTERVAL_MS` the page pings a worker that is `idle` (loaded,
 *    ready, running no call); a ping unanswered for `HEARTBEAT_TIMEOUT_MS` counts only if the
 *    whole wait was idle — no call running or started (an answer queues behind a call's
 *    computation), no status but ready (a WASM switch computes between calls) — and the page's
 *    own timer fired on time (a frozen or throttled page proves nothing). Then the worker is
 *    replaced as `classifier-unresponsive`; an idle worker holds no call, so none is lost.
 *    Otherwise the wait starts again. So without Web Locks, a worker gone during a call is
 *    noticed by that call's deadline (`callTimeoutMs`), as a hung one is.
 */
function watchLiveness(worker: LiveWorker, idle: () => boolean): () => void {
  const lifeline = new AbortController();
  const locks = navigator.locks as LockManager | undefined;
  if (locks) {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const name = `fenliu-classifier-${id}`;
    void worker.api.holdLifeline(name).then((held) => {
      if (!held || lifeline.signal.aborted) return;
      // NOTE: a lock request aborted (we ended the worker ourselves) rejects; that is expected.
      locks
        .request(name, { signal: lifeline.signal }, () => {
          worker.fail(
            new ClassifierWorkerError(
              'classifier-crashed',
              'The classifier worker exited without an error (it closed itself, or the browser ' +
                'ended it, e.g. for lack of memory).',
            ),
          );
        })
        .catch(() => undefined);
    });
  }

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ping = () => {
    if (!idle()) {
      timer = setTimeout(ping, HEARTBEAT_INTERVAL_MS);
      return;
    }
    let answered = false;
    void worker.api.ping().then(() => {
      answered = true;
      if (stopped) return;
      clearTimeout(timer);
      timer = setTimeout(ping, HEARTBEAT_INTERVAL_MS);
    });
    let startedBefore = worker.started;
    let due = performance.now() + HEARTBEAT_TIMEOUT_MS;
    const judge = () => {
      if (stopped || answered) return;
      const now = performance.now();
      if (idle() && worker.started === startedBefore && now - due <= HEARTBEAT_LATE_MS) {
        worker.fail(
          new ClassifierWorkerError(
            'classifier-unresponsive',
            `The classifier worker did not answer for ${HEARTBEAT_TIMEOUT_MS / 1000} s while ` +
              'idle (it exited, or its thread is stuck).',
          ),
        );
        return;
      }
      startedBefore = worker.started;
      due = now + HEARTBEAT_TIMEOUT_MS;
      timer = setTimeout(judge, HEARTBEAT_TIMEOUT_MS);
    };
    timer = setTimeout(judge, HEARTBEAT_TIMEOUT_MS);
  };
  timer = setTimeout(ping, HEARTBEAT_INTERVAL_MS);

  return () => {
    stopped = true;
    clearTimeout(timer);
    lifeline.abort();
  };
}
