/**
 * The Web Worker is only a transport: it exposes `IntentClassifier` over comlink and adds what a
 * browser needs (device probe, WASM fallback, progress as lifecycle events).
 */
import { expose } from 'comlink';
import { IntentClassifier, type Classification } from '../src/core/classifier';
import { chooseDevice, type DevicePreference } from '../src/core/device';
import { FenliuError, serializeError } from '../src/core/errors';
import { DownloadProgress, type ClassifierStatus } from '../src/core/lifecycle';
import { configureRuntime } from '../src/core/runtime';
import { installErrorTransfer } from '../src/core/worker-errors';

export interface WorkerLoadRequest {
  /** Absolute URL of the folder that holds `models/` and `ort/`. */
  assetBase: string;
  modelId: string;
  device: DevicePreference;
  dtype: 'fp32' | 'int8';
}

/** The onnxruntime-web build transformers.js uses for WASM and WebGPU (see scripts/link-assets). */
const ORT_WASM_BUILD = 'ort-wasm-simd-threaded.asyncify';

const WARM_UP_MESSAGE = '你好';

installErrorTransfer();
let classifier: IntentClassifier | null = null;

async function loadOn(
  request: WorkerLoadRequest,
  device: 'wasm' | 'webgpu',
  onStatus: (status: ClassifierStatus) => void,
): Promise<IntentClassifier> {
  const progress = new DownloadProgress();
  let initializing = false;
  return IntentClassifier.load({
    modelId: request.modelId,
    device,
    dtype: request.dtype,
    onProgress: (event) => {
      const bytes = progress.update(event);
      if (bytes && !initializing) onStatus({ state: 'downloading', ...bytes });
      if (event.status === 'done' && event.file.endsWith('.onnx')) {
        initializing = true;
        onStatus({ state: 'initializing' });
      }
    },
  });
}

const api = {
  async load(
    request: WorkerLoadRequest,
    onStatus: (status: ClassifierStatus) => void,
  ): Promise<ClassifierStatus> {
    try {
      onStatus({ state: 'checking-device' });
      configureRuntime({
        // NOTE: a path, not a full URL: transformers.js 4.3 skips its local-file check for a
        // `localModelPath` that is an http(s) URL, so every file would look missing.
        modelRoot: new URL('models/', request.assetBase).pathname,
        wasmPaths: {
          mjs: new URL(`ort/${ORT_WASM_BUILD}.mjs`, request.assetBase).href,
          wasm: new URL(`ort/${ORT_WASM_BUILD}.wasm`, request.assetBase).href,
        },
        // NOTE: ORT picks one thread on a 2-core machine; threads need cross-origin isolation.
        numThreads: self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1,
      });
      await classifier?.dispose();
      classifier = null;
      const choice = await chooseDevice(request.device);
      let reason = choice.reason;
      try {
        classifier = await loadOn(request, choice.device, onStatus);
      } catch (error) {
        if (choice.device !== 'webgpu') throw error;
        // NOTE: WebGPU can fail at session creation even with an adapter; WASM always works.
        reason = `WebGPU failed (${serializeError(error).message}); using WASM`;
        classifier = await loadOn(request, 'wasm', onStatus);
      }
      onStatus({ state: 'warming-up' });
      // NOTE: the first run compiles kernels and grows buffers; pay for it before the user types.
      await classifier.classify(WARM_UP_MESSAGE);
      const ready: ClassifierStatus = { state: 'ready', info: classifier.info, reason };
      onStatus(ready);
      return ready;
    } catch (error) {
      const failed: ClassifierStatus = { state: 'error', error: serializeError(error) };
      onStatus(failed);
      return failed;
    }
  },

  async classify(text: string): Promise<Classification> {
    if (!classifier) {
      throw new FenliuError('classifier-not-ready', 'The model is not loaded yet.');
    }
    return classifier.classify(text);
  },
};

export type ClassifierWorkerApi = typeof api;
expose(api);
