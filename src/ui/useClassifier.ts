import { proxy, wrap, type Remote } from 'comlink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Classification } from '../engine/classification';
import type { ModelReply, ToolTurn } from '../engine/classifier';
import { AbortError, ClassifierWorkerError, serializeError } from '../shared/errors';
import { downloadRetryPlan, type ClassifierStatus } from '../engine/lifecycle';
import { installErrorTransfer } from '../engine/worker-errors';
import type { ClassifierWorkerApi, WorkerLoadRequest } from '../engine/worker-protocol';
import { MAX_TIMEOUT_MS } from '../shared/validation';

installErrorTransfer();

export interface ClassifierOptions extends WorkerLoadRequest {
  /**
   * How long one call may go unanswered before the worker is taken for hung and replaced
   * (default `DEFAULT_CALL_TIMEOUT_MS`). A backstop, not a speed target: set it well above the
   * slowest message on the slowest device you serve.
   */
  callTimeoutMs?: number;
}

/** Two minutes: the real Qwen3-0.6B on a slow phone's WASM needs tens of seconds for a long message. */
export const DEFAULT_CALL_TIMEOUT_MS = 120_000;

/** Worker replacements in a row, without a call answered in between, before the widget stops. */
const MAX_RESTARTS = 2;

export interface ClassifierHandle {
  status: ClassifierStatus;
  /**
   * Classifies in the worker. Aborting `signal` rejects at once with `AbortError` and asks the
   * worker to stop at its next step. A worker that crashes or hangs rejects the call with
   * `ClassifierWorkerError` and is replaced.
   */
  classify: (text: string, signal?: AbortSignal) => Promise<Classification>;
  /** The model's reply to a tool's result, written in the worker; cancellable like `classify`. */
  writeReply: (turn: ToolTurn, signal?: AbortSignal) => Promise<ModelReply>;
  /** Starts a fresh worker and loads again (after an error or a cancelled download). */
  retry: () => void;
  /** Stops a download or initialization in progress: the worker is terminated. */
  cancelLoad: () => void;
  /** After an interrupted download: retried when back online, in N ms, or by the user (null). */
  autoRetry: 'when-online' | number | null;
  /** Why the worker was last replaced, until the next call is answered. */
  restartedAfter: ClassifierWorkerError | null;
}

/** The running worker as calls see it: its API and how to declare it dead. */
interface LiveWorker {
  api: Remote<ClassifierWorkerApi>;
  fail: (error: ClassifierWorkerError) => void;
}

let nextRequestId = 1;

/**
 * The only place that touches the worker: starts it, loads the model, exposes `classify`, and
 * terminates the worker when the component unmounts or the options change. It also supervises
 * it: a worker that throws outside a call (crashed) or leaves a call unanswered past its deadline
 * (hung) is terminated, the calls it held are rejected with a `ClassifierWorkerError`, and a
 * fresh worker loads the model again. The conversation is state of the caller, so a retry, a
 * restart or a backend switch never loses it.
 */
export function useClassifier(options: ClassifierOptions): ClassifierHandle {
  const [status, setStatus] = useState<ClassifierStatus>({ state: 'checking-device' });
  const [attempt, setAttempt] = useState(0);
  // Why WebGPU failed in the previous worker; set, the next worker loads on WASM.
  const [fallbackFrom, setFallbackFrom] = useState<string | null>(null);
  const [restartedAfter, setRestartedAfter] = useState<ClassifierWorkerError | null>(null);
  const [autoRetry, setAutoRetry] = useState<'when-online' | number | null>(null);
  const live = useRef<LiveWorker | null>(null);
  const stop = useRef<(() => void) | null>(null);
  // Rejects of the calls the current worker holds, by request id.
  const held = useRef(new Map<number, (error: Error) => void>());
  const restarts = useRef(0);
  const downloadFailures = useRef(0);
  // A test fault is for the first worker only, or every replacement would fail again.
  const faultSpent = useRef(false);
  const { modelBase, modelId, ortBase, device, dtype, simulateWebGpuFailure, browserCache } =
    options;
  const { simulateFault } = options;
  // NOTE: a host may mean "practically never" with a huge number; past MAX_TIMEOUT_MS setTimeout
  // would overflow and fire at once, failing every call, so the deadline stops there.
  const callTimeoutMs = Math.min(options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, MAX_TIMEOUT_MS);

  useEffect(() => {
    const worker = new Worker(new URL('../../workers/classifier.worker.ts', import.meta.url), {
      type: 'module',
      name: 'fenliu-classifier',
    });
    let active = true;
    let loaded = false;
    const terminate = () => {
      active = false;
      live.current = null;
      worker.terminate();
    };
    const fail = (error: ClassifierWorkerError) => {
      if (!active) return;
      terminate();
      for (const reject of held.current.values()) reject(error);
      held.current.clear();
      if (loaded && restarts.current < MAX_RESTARTS) {
        restarts.current += 1;
        setRestartedAfter(error);
        setStatus({ state: 'checking-device' });
        setAttempt((count) => count + 1);
      } else {
        setStatus({ state: 'error', error: serializeError(error) });
      }
    };
    const api = wrap<ClassifierWorkerApi>(worker);
    live.current = { api, fail };
    const onStatus = (next: ClassifierStatus) => {
      if (!active) return;
      if (next.state === 'ready') {
        loaded = true;
        downloadFailures.current = 0;
      }
      const interrupted = next.state === 'error' && next.error.code === 'model-download-failed';
      setAutoRetry(
        interrupted ? downloadRetryPlan(downloadFailures.current, navigator.onLine) : null,
      );
      setStatus(next);
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
    const request: WorkerLoadRequest = { modelBase, modelId, ortBase, device };
    if (dtype !== undefined) request.dtype = dtype;
    if (simulateWebGpuFailure !== undefined) request.simulateWebGpuFailure = simulateWebGpuFailure;
    if (browserCache !== undefined) request.browserCache = browserCache;
    if (simulateFault !== undefined && !faultSpent.current) {
      faultSpent.current = true;
      request.simulateFault = simulateFault;
    }
    if (fallbackFrom !== null) {
      request.device = 'wasm';
      request.fallbackFrom = fallbackFrom;
    }
    void api.load(request, proxy(onStatus)).then((outcome) => {
      // A WebGPU session creation failed: this worker cannot create another session, so a
      // fresh one loads on WASM (the effect runs again with `fallbackFrom` set).
      if (active && outcome.kind === 'restart-on-wasm') setFallbackFrom(outcome.reason);
    });
    stop.current = () => {
      terminate();
      setStatus({
        state: 'error',
        error: serializeError(new AbortError('Loading was cancelled.')),
      });
    };
    return terminate;
  }, [
    modelBase,
    modelId,
    ortBase,
    device,
    dtype,
    simulateWebGpuFailure,
    browserCache,
    simulateFault,
    attempt,
    fallbackFrom,
  ]);

  const retry = useCallback(() => {
    setAutoRetry(null);
    setStatus({ state: 'checking-device' });
    setFallbackFrom(null);
    setAttempt((count) => count + 1);
  }, []);

  // An interrupted download starts again by itself: when the browser is back online, or after a
  // short, growing pause when the server dropped it.
  useEffect(() => {
    if (autoRetry === null) return;
    if (autoRetry === 'when-online') {
      // NOTE: the connection may have come back before this subscription.
      const already = navigator.onLine ? setTimeout(retry, 0) : undefined;
      addEventListener('online', retry, { once: true });
      return () => {
        clearTimeout(already);
        removeEventListener('online', retry);
      };
    }
    const timer = setTimeout(() => {
      downloadFailures.current += 1;
      retry();
    }, autoRetry);
    return () => {
      clearTimeout(timer);
    };
  }, [autoRetry, retry]);

  const call = useCallback(
    <T>(
      signal: AbortSignal | undefined,
      run: (api: Remote<ClassifierWorkerApi>, requestId: number) => Promise<T>,
    ): Promise<T> =>
      callWorker(live.current, held.current, callTimeoutMs, signal, run).then((value) => {
        restarts.current = 0;
        setRestartedAfter(null);
        return value;
      }),
    [callTimeoutMs],
  );
  const classify = useCallback(
    (text: string, signal?: AbortSignal) =>
      call(signal, (api, requestId) => api.classify(text, requestId)),
    [call],
  );
  const writeReply = useCallback(
    (turn: ToolTurn, signal?: AbortSignal) =>
      call(signal, (api, requestId) => api.writeReply(turn, requestId)),
    [call],
  );
  const cancelLoad = useCallback(() => {
    stop.current?.();
  }, []);

  return { status, classify, writeReply, retry, cancelLoad, autoRetry, restartedAfter };
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
  if (!worker) return Promise.reject(new AbortError('The classifier is not running.'));
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
    run(worker.api, requestId).then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
