/**
 * The Web Worker is only a transport: it exposes `IntentClassifier` over comlink and adds what a
 * browser needs: the device probe, the precision choice, WASM fallback (at session creation and on
 * a lost WebGPU device), lifecycle and progress events, and cancellation by request id.
 */
import { env, type DataType } from '@huggingface/transformers';
import { expose } from 'comlink';
import { IntentClassifier } from '../src/engine/classifier';
import type { Classification } from '../src/engine/classification';
import { chooseDevice, chooseDtype, type DeviceChoice } from '../src/engine/device';
import { errorMessage, FenliuError, ModelLoadError, serializeError } from '../src/shared/errors';
import { DownloadProgress, type Backend, type ClassifierStatus } from '../src/engine/lifecycle';
import { readModelCard } from '../src/engine/model-folder';
import { configureRuntime } from '../src/engine/runtime';
import { installErrorTransfer } from '../src/engine/worker-errors';
import { DEFAULT_DOWNLOAD_STALL_MS } from '../src/engine/watched-fetch';
import type {
  ClassifierWorkerApi,
  WorkerFault,
  WorkerLoadRequest,
} from '../src/engine/worker-protocol';

/** The onnxruntime-web build transformers.js uses for WASM and WebGPU (see scripts/link-assets). */
const ORT_WASM_BUILD = 'ort-wasm-simd-threaded.asyncify';

const WARM_UP_MESSAGE = '你好';

interface Loaded {
  classifier: IntentClassifier;
  backend: Backend;
}

/** What `GPUDevice` offers that the loss watch needs (WebGPU types are not in the TS libs). */
interface GpuDeviceLike {
  lost: Promise<{ reason: string; message: string }>;
  destroy(): void;
}

installErrorTransfer();

let current: Loaded | null = null;
/** The WASM reload after WebGPU failed at run time; classify calls wait for it. */
let switching: Promise<Loaded> | null = null;
let report: (status: ClassifierStatus) => void = () => undefined;
let lastRequest: WorkerLoadRequest | null = null;
let shippedDtypes: string[] = [];
let loseDeviceAfterNextMessage = false;
let deviceForTest: GpuDeviceLike | null = null;
let faultForTest: WorkerFault | null = null;
const inflight = new Map<number, AbortController>();

/** How transformers.js reports a file it could not fetch (it logs the fetch's error, drops it). */
const NOT_FOUND_LOCALLY = /not found locally at "([^"]+)"/;

function downloadFailed(error: unknown, why: string): ModelLoadError {
  return new ModelLoadError(
    'model-download-failed',
    `The model download was interrupted (${why}). It starts again when the connection is ` +
      'back; nothing partial was kept.',
    { cause: error },
  );
}

/** How long the HEAD probe of `asDownloadFailure` may take before the network counts as down. */
const PROBE_TIMEOUT_MS = 5000;

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

/** Carries out a `WorkerFault` test switch: never returns. */
function simulateFault(fault: WorkerFault): Promise<never> {
  if (fault === 'hang') {
    const never = Number.POSITIVE_INFINITY;
    while (performance.now() < never) {
      // NOTE: spin without yielding, like a runaway kernel: only terminate() stops this thread.
    }
  }
  setTimeout(() => {
    throw new Error('Simulated crash: the engine aborted while classifying.');
  });
  return new Promise<never>(() => undefined);
}

function isOnnxWeights(file: string): boolean {
  return file.endsWith('.onnx') || file.endsWith('.onnx_data');
}

async function loadOn(
  request: WorkerLoadRequest,
  device: 'wasm' | 'webgpu',
  dtype: string,
  progress: DownloadProgress,
  reportDownload: boolean,
): Promise<IntentClassifier> {
  let initializing = false;
  // NOTE: transformers.js fetches files in parallel and does not stop the others when one fails:
  // a file finishing after the load failed would report "downloading" over the error status and
  // leave the page waiting for ever. Once the load settled, its progress is old news.
  let settled = false;
  let classifier: IntentClassifier;
  try {
    classifier = await IntentClassifier.load({
      modelId: request.modelId,
      device,
      dtype: dtype as DataType,
      onProgress: (event) => {
        if (settled) return;
        const bytes = progress.update(event);
        if (bytes && reportDownload && !initializing) report({ state: 'downloading', ...bytes });
        if (event.status === 'done' && isOnnxWeights(event.file) && !initializing) {
          initializing = true;
          report({ state: 'initializing', device });
        }
      },
    });
  } finally {
    settled = true;
  }
  report({ state: 'warming-up' });
  // NOTE: the first run compiles kernels and grows buffers; pay for it before the user types.
  await classifier.classify(WARM_UP_MESSAGE);
  return classifier;
}

function wasmDtype(request: WorkerLoadRequest): string {
  const dtype = request.dtype ?? chooseDtype({ device: 'wasm', shaderF16: false }, shippedDtypes);
  if (!dtype) {
    throw new ModelLoadError(
      'model-load-failed',
      `Model "${request.modelId}" ships ${shippedDtypes.join(', ')}, none of which runs on WASM. ` +
        'Fix: export an int8 or fp32 model with training/export.py.',
    );
  }
  return dtype;
}

/** Makes ORT's own adapter request fail, so WebGPU session creation fails the way it does in the wild. */
function breakWebGpuForTest(): void {
  const gpu = (navigator as { gpu?: { requestAdapter: () => Promise<unknown> } }).gpu;
  if (gpu) gpu.requestAdapter = () => Promise.resolve(null);
}

async function watchDeviceLoss(request: WorkerLoadRequest): Promise<void> {
  const ort = env.backends.onnx as { webgpu?: { device?: Promise<GpuDeviceLike> } };
  const device = await ort.webgpu?.device;
  if (!device) return;
  loseDeviceAfterNextMessage = request.simulateWebGpuFailure === 'lose-device';
  void device.lost.then((info) => {
    if (current?.backend.device !== 'webgpu') return;
    switching ??= switchToWasm(`WebGPU device lost (${info.reason || 'unknown'}: ${info.message})`);
  });
  // Keep a handle so the test switch can destroy the very device ORT runs on.
  if (loseDeviceAfterNextMessage) deviceForTest = device;
}

/** Reloads on WASM after WebGPU failed at run time; the conversation lives on the main thread. */
async function switchToWasm(reason: string): Promise<Loaded> {
  const request = lastRequest;
  if (!request) throw new FenliuError('classifier-not-ready', 'The model is not loaded yet.');
  const previous = current;
  current = null;
  try {
    await previous?.classifier.dispose();
  } catch {
    // NOTE: disposing sessions of a lost device can throw; the WASM session does not need them.
  }
  try {
    const dtype = wasmDtype(request);
    report({ state: 'initializing', device: 'wasm' });
    const progress = new DownloadProgress();
    const classifier = await loadOn(request, 'wasm', dtype, progress, false);
    const loaded: Loaded = {
      classifier,
      backend: {
        device: 'wasm',
        dtype,
        modelBytes: progress.bytesOf(isOnnxWeights) ?? previous?.backend.modelBytes ?? null,
        reason: `${reason}; switched to WASM`,
        fellBack: true,
      },
    };
    current = loaded;
    report({ state: 'ready', info: classifier.info, backend: loaded.backend });
    return loaded;
  } catch (error) {
    report({ state: 'error', error: serializeError(error) });
    throw error;
  } finally {
    switching = null;
  }
}

/** The in-process classifier behind the protocol (each method is documented there). */
const api: ClassifierWorkerApi = {
  async load(request, onStatus) {
    report = onStatus;
    lastRequest = request;
    const continuing = request.fallbackFrom !== undefined;
    try {
      if (!continuing) report({ state: 'checking-device' });
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
      await current?.classifier.dispose();
      current = null;
      const choice: DeviceChoice = continuing
        ? { device: 'wasm', reason: `${request.fallbackFrom ?? ''}; using WASM`, shaderF16: false }
        : await chooseDevice(request.device);
      shippedDtypes = (await readModelCard(request.modelId)).dtypes;
      const progress = new DownloadProgress();
      const gpuDtype =
        choice.device === 'webgpu' ? (request.dtype ?? chooseDtype(choice, shippedDtypes)) : null;
      let loaded: Loaded;
      if (choice.device === 'webgpu' && gpuDtype) {
        try {
          if (request.simulateWebGpuFailure === 'fail-creation') breakWebGpuForTest();
          const classifier = await loadOn(request, 'webgpu', gpuDtype, progress, true);
          loaded = {
            classifier,
            backend: {
              device: 'webgpu',
              dtype: gpuDtype,
              modelBytes: progress.bytesOf(isOnnxWeights),
              reason: choice.reason,
              fellBack: false,
            },
          };
        } catch (error) {
          // NOTE: WebGPU can fail at session creation even with an adapter; WASM always works.
          const reason = `WebGPU failed at session creation (${errorMessage(error)})`;
          return { kind: 'restart-on-wasm', reason };
        }
      } else {
        const dtype = wasmDtype(request);
        // NOTE: a fallback worker reads the files again (from cache); the first worker's
        // download already reached 100 % and must not be shown again from 0.
        const classifier = await loadOn(request, 'wasm', dtype, progress, !continuing);
        loaded = {
          classifier,
          backend: {
            device: 'wasm',
            dtype,
            modelBytes: progress.bytesOf(isOnnxWeights),
            reason: choice.reason,
            fellBack: continuing,
          },
        };
      }
      current = loaded;
      if (loaded.backend.device === 'webgpu') await watchDeviceLoss(request);
      const ready: ClassifierStatus = {
        state: 'ready',
        info: loaded.classifier.info,
        backend: loaded.backend,
      };
      faultForTest = request.simulateFault ?? null;
      report(ready);
      return { kind: 'settled', status: ready };
    } catch (error) {
      const failed: ClassifierStatus = {
        state: 'error',
        error: serializeError(await asDownloadFailure(error)),
      };
      report(failed);
      return { kind: 'settled', status: failed };
    }
  },

  async classify(text, requestId) {
    if (faultForTest) return simulateFault(faultForTest);
    const controller = new AbortController();
    inflight.set(requestId, controller);
    try {
      const target = (await switching) ?? current;
      if (!target) throw new FenliuError('classifier-not-ready', 'The model is not loaded yet.');
      let result: Classification;
      try {
        result = await target.classifier.classify(text, { signal: controller.signal });
      } catch (error) {
        if (error instanceof FenliuError || target.backend.device !== 'webgpu') throw error;
        switching ??= switchToWasm(`WebGPU failed while running (${errorMessage(error)})`);
        const fallback = await switching;
        result = await fallback.classifier.classify(text, { signal: controller.signal });
      }
      if (loseDeviceAfterNextMessage && deviceForTest) {
        loseDeviceAfterNextMessage = false;
        deviceForTest.destroy();
      }
      return result;
    } finally {
      inflight.delete(requestId);
    }
  },

  async writeReply(turn, requestId) {
    const controller = new AbortController();
    inflight.set(requestId, controller);
    try {
      const target = (await switching) ?? current;
      if (!target) throw new FenliuError('classifier-not-ready', 'The model is not loaded yet.');
      return await target.classifier.writeReply(turn, { signal: controller.signal });
    } finally {
      inflight.delete(requestId);
    }
  },

  cancel(requestId) {
    inflight.get(requestId)?.abort();
  },
};

expose(api);
