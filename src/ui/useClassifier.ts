import { proxy, wrap, type Remote } from 'comlink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ClassifierWorkerApi, WorkerLoadRequest } from '../../workers/classifier.worker';
import type { Classification } from '../core/classification';
import { AbortError, serializeError } from '../core/errors';
import type { ClassifierStatus } from '../core/lifecycle';
import { installErrorTransfer } from '../core/worker-errors';

installErrorTransfer();

export type ClassifierOptions = WorkerLoadRequest;

export interface ClassifierHandle {
  status: ClassifierStatus;
  /**
   * Classifies in the worker. Aborting `signal` rejects at once with `AbortError` and asks the
   * worker to stop at its next step.
   */
  classify: (text: string, signal?: AbortSignal) => Promise<Classification>;
  /** Starts a fresh worker and loads again (after an error or a cancelled download). */
  retry: () => void;
  /** Stops a download or initialization in progress: the worker is terminated. */
  cancelLoad: () => void;
}

let nextRequestId = 1;

/**
 * The only place that touches the worker: starts it, loads the model, exposes `classify`, and
 * terminates the worker when the component unmounts or the options change. The conversation is
 * state of the caller, so a retry or a backend switch never loses it.
 */
export function useClassifier(options: ClassifierOptions): ClassifierHandle {
  const [status, setStatus] = useState<ClassifierStatus>({ state: 'checking-device' });
  const [attempt, setAttempt] = useState(0);
  // Why WebGPU failed in the previous worker; set, the next worker loads on WASM.
  const [fallbackFrom, setFallbackFrom] = useState<string | null>(null);
  const remote = useRef<Remote<ClassifierWorkerApi> | null>(null);
  const stop = useRef<(() => void) | null>(null);
  const { modelBase, modelId, ortBase, device, dtype, simulateWebGpuFailure } = options;

  useEffect(() => {
    const worker = new Worker(new URL('../../workers/classifier.worker.ts', import.meta.url), {
      type: 'module',
      name: 'fenliu-classifier',
    });
    let active = true;
    const api = wrap<ClassifierWorkerApi>(worker);
    remote.current = api;
    const onStatus = (next: ClassifierStatus) => {
      if (active) setStatus(next);
    };
    worker.addEventListener('error', (event) => {
      onStatus({
        state: 'error',
        error: serializeError(
          new Error(
            `The classifier worker failed: ${event.message || 'its script could not be loaded'}`,
          ),
        ),
      });
    });
    const request: WorkerLoadRequest = { modelBase, modelId, ortBase, device };
    if (dtype !== undefined) request.dtype = dtype;
    if (simulateWebGpuFailure !== undefined) request.simulateWebGpuFailure = simulateWebGpuFailure;
    if (fallbackFrom !== null) {
      request.device = 'wasm';
      request.fallbackFrom = fallbackFrom;
    }
    void api.load(request, proxy(onStatus)).then((outcome) => {
      // A WebGPU session creation failed: this worker cannot create another session, so a
      // fresh one loads on WASM (the effect runs again with `fallbackFrom` set).
      if (active && outcome.kind === 'restart-on-wasm') setFallbackFrom(outcome.reason);
    });
    const terminate = () => {
      active = false;
      remote.current = null;
      worker.terminate();
    };
    stop.current = () => {
      terminate();
      setStatus({
        state: 'error',
        error: serializeError(new AbortError('Loading was cancelled.')),
      });
    };
    return terminate;
  }, [modelBase, modelId, ortBase, device, dtype, simulateWebGpuFailure, attempt, fallbackFrom]);

  const classify = useCallback(async (text: string, signal?: AbortSignal) => {
    const api = remote.current;
    if (!api) throw new AbortError('The classifier is not running.');
    if (signal?.aborted) throw new AbortError();
    const requestId = nextRequestId++;
    return new Promise<Classification>((resolve, reject) => {
      // NOTE: the engine checks the signal between model calls; a call already running (the
      // whole message, on a slow device) finishes in the worker, but the caller is released now
      // and its late answer dropped.
      const onAbort = () => {
        void api.cancel(requestId);
        reject(new AbortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      api
        .classify(text, requestId)
        .then(resolve, reject)
        .finally(() => {
          signal?.removeEventListener('abort', onAbort);
        });
    });
  }, []);

  const retry = useCallback(() => {
    setStatus({ state: 'checking-device' });
    setFallbackFrom(null);
    setAttempt((count) => count + 1);
  }, []);
  const cancelLoad = useCallback(() => {
    stop.current?.();
  }, []);

  return { status, classify, retry, cancelLoad };
}
