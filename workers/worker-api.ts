/**
 * The worker's side of the protocol (src/engine/worker-protocol.ts): `LocalClassifier` behind
 * request ids, plus what only a page's worker needs — the runtime's URLs, the same-origin rule,
 * and telling an interrupted download from a missing file. workers/classifier.worker.ts exposes
 * it; a test-only worker entry wraps it with fault switches.
 */
import { LocalClassifier } from '../src/engine/local-classifier';
import { configureRuntime } from '../src/engine/runtime';
import { DEFAULT_DOWNLOAD_STALL_MS } from '../src/engine/watched-fetch';
import type { ClassifierWorkerApi, WorkerLoadRequest } from '../src/engine/worker-protocol';
import { errorMessage, FenliuError, ModelLoadError, serializeError } from '../src/shared/errors';

/** The onnxruntime-web build transformers.js uses for WASM and WebGPU (see scripts/link-assets). */
const ORT_WASM_BUILD = 'ort-wasm-simd-threaded.asyncify';

/** How transformers.js reports a file it could not fetch (it logs the fetch's error, drops it). */
const NOT_FOUND_LOCALLY = /not found locally at "([^"]+)"/;

/** How long the HEAD probe of `asDownloadFailure` may take before the network counts as down. */
const PROBE_TIMEOUT_MS = 5000;

function downloadFailed(error: unknown, why: string): ModelLoadError {
  return new ModelLoadError(
    'model-download-failed',
    `The model download was interrupted (${why}). It starts again when the connection is ` +
      'back; nothing partial was kept.',
    { cause: error },
  );
}

/**
 * A download cut off by the network (offline, a dropped connection) becomes
 * `model-download-failed`, which the page retries when the connection is back. transformers.js
 * reports such a file as "not found", so unless the browser already knows it is offline a HEAD
 * request for it tells the cases apart: the network failing again (or not answering), or the
 * server having the file, means the transfer failed; a 404 stays a missing file. (HEAD goes past
 * the service worker's cache, which only answers GET.) Nothing partial was kept: transformers.js
 * holds the bytes in memory, and the service worker's Cache Storage write of a broken response
 * rejects as a whole.
 */
async function asDownloadFailure(error: unknown): Promise<unknown> {
  let path: string | undefined;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof TypeError && /fetch|network/i.test(cause.message)) {
      return downloadFailed(error, navigator.onLine ? cause.message : 'offline');
    }
    path ??= NOT_FOUND_LOCALLY.exec(cause.message)?.[1];
  }
  if (path === undefined) return error;
  if (!navigator.onLine) return downloadFailed(error, 'offline');
  try {
    // NOTE: with a timeout: on a network that went quiet the probe would hang like the download,
    // leaving the page on "downloading" for ever (seen with Chromium's offline mode).
    const response = await fetch(path, {
      method: 'HEAD',
      cache: 'no-store',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    return response.ok ? downloadFailed(error, 'the transfer broke off') : error;
  } catch (probe) {
    return downloadFailed(error, errorMessage(probe));
  }
}

/**
 * Points transformers.js at the page's model folder and onnxruntime-web's files. The load fetches
 * those files itself, inside the download's progress (`loadRuntimeFiles` in src/engine/runtime.ts),
 * and reuses transformers.js's unread size probes (`reusingFetch`), so every byte is on the bar once.
 */
function configureForPage(request: WorkerLoadRequest): void {
  const modelBase = new URL(request.modelBase);
  if (modelBase.origin !== self.location.origin) {
    throw new ModelLoadError(
      'model-load-failed',
      `The model must be served from this page's origin (${self.location.origin}), ` +
        `not ${modelBase.origin}. Fix: host the model folder beside the page.`,
    );
  }
  configureRuntime({
    // NOTE: a path, not a full URL: transformers.js 4.3 skips its local-file check for a
    // `localModelPath` that is an http(s) URL, so every file would look missing.
    modelRoot: modelBase.pathname,
    wasmPaths: {
      mjs: new URL(`${ORT_WASM_BUILD}.mjs`, request.ortBase).href,
      wasm: new URL(`${ORT_WASM_BUILD}.wasm`, request.ortBase).href,
    },
    // NOTE: ORT picks one thread on a 2-core machine; threads need cross-origin isolation.
    numThreads: self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1,
    browserCache: request.browserCache ?? true,
    downloadStallMs: DEFAULT_DOWNLOAD_STALL_MS,
  });
}

/** The worker's API over one `LocalClassifier` per load. */
export function createWorkerApi(): ClassifierWorkerApi {
  let classifier: LocalClassifier | null = null;
  const inflight = new Map<number, AbortController>();

  /** Runs one call with an abort controller `cancel(requestId)` can reach. */
  async function withRequest<T>(
    requestId: number,
    run: (target: LocalClassifier, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    inflight.set(requestId, controller);
    try {
      if (!classifier) {
        throw new FenliuError('classifier-not-ready', 'The model is not loaded yet.');
      }
      return await run(classifier, controller.signal);
    } finally {
      inflight.delete(requestId);
    }
  }

  return {
    async load(request, onStatus) {
      await classifier?.dispose();
      const local = new LocalClassifier({
        modelId: request.modelId,
        device: request.device,
        ...(request.dtype !== undefined && { dtype: request.dtype }),
        ...(request.fallbackFrom !== undefined && { fallbackFrom: request.fallbackFrom }),
        explainLoadFailure: asDownloadFailure,
      });
      classifier = local;
      // NOTE: later statuses too: a lost WebGPU device reports the switch to WASM.
      local.subscribe((state) => {
        onStatus(state.status);
      });
      try {
        configureForPage(request);
      } catch (error) {
        const status = { state: 'error' as const, error: serializeError(error) };
        onStatus(status);
        return { kind: 'settled', status };
      }
      return local.loadOutcome();
    },
    classify: (text, requestId) =>
      withRequest(requestId, (target, signal) => target.classify(text, { signal })),
    decodeToolCall: (text, intentId, requestId) =>
      withRequest(requestId, (target, signal) => target.decodeToolCall(text, intentId, { signal })),
    writeReply: (turn, requestId) =>
      withRequest(requestId, (target, signal) => target.writeReply(turn, { signal })),
    cancel(requestId) {
      inflight.get(requestId)?.abort();
    },
    ping() {
      // The answer is the message comlink sends back.
    },
    holdLifeline(name) {
      const locks = navigator.locks as LockManager | undefined;
      if (!locks) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        // NOTE: the callback's promise never settles: the lock is released only when this
        // worker's context ends, which is what the client waits for.
        locks
          .request(name, () => {
            resolve(true);
            return new Promise<never>(() => undefined);
          })
          .catch(() => {
            resolve(false);
          });
      });
    },
  };
}
