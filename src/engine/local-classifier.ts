import { env, type DataType, type ProgressInfo } from '@huggingface/transformers';
import type { Classifier, ClassifierState, CallOptions } from './classifier-api';
import type { Classification, ProposedToolCall } from './classification';
import { IntentClassifier, type ModelReply, type ToolTurn } from './classifier';
import {
  chooseDevice,
  chooseDtype,
  deviceReasonEnglish,
  type DeviceChoice,
  type DevicePreference,
  type DeviceReason,
} from './device';
import {
  DownloadProgress,
  type Backend,
  type ClassifierStatus,
  type PlannedFile,
} from './lifecycle';
import { onnxFileName } from './model-checks';
import { readModelCard } from './model-folder';
import { fileSizes, loadRuntimeFiles, modelRoot, pendingRuntimeFiles } from './runtime';
import {
  AbortError,
  errorMessage,
  FenliuError,
  ModelLoadError,
  serializeError,
} from '../shared/errors';
import type { LoadOutcome } from './worker-protocol';

/**
 * What the first run classifies when no canary ran at load: it compiles kernels and grows buffers
 * before the user types.
 */
const WARM_UP_MESSAGE = '你好';

/**
 * The model folder files transformers.js fetches for a Qwen3 causal LM besides the weights, and
 * whether the load fails without them (`generation_config.json` is optional to it).
 */
const FOLDER_FILES: readonly { file: string; required: boolean }[] = [
  { file: 'tokenizer.json', required: true },
  { file: 'tokenizer_config.json', required: true },
  { file: 'config.json', required: true },
  { file: 'generation_config.json', required: false },
];

/**
 * The least time between two `downloading` statuses while bytes arrive. NOTE: a status per chunk
 * would be thousands for a large model, each crossing the worker boundary and repainting the bar;
 * a file starting or ending, and the last byte, are reported at once.
 */
const DOWNLOAD_STATUS_INTERVAL_MS = 50;

export interface LocalClassifierOptions {
  /** Folder name under the configured model root (see `configureRuntime`). */
  modelId: string;
  /** `cpu`: onnxruntime-node; the others are onnxruntime-web (`auto` probes WebGPU). */
  device: DevicePreference | 'cpu';
  /** A precision the model ships; default: the best one for the device (see `chooseDtype`). */
  dtype?: string;
  /**
   * Set when WebGPU session creation failed in an earlier worker (how, as a `DeviceReason`): load
   * on WASM, continuing that worker's lifecycle (no new probe, no second download bar).
   */
  fallbackFrom?: DeviceReason;
  /**
   * Turns a load failure into the error callers should see; the worker uses it to tell an
   * interrupted download from a missing file. Default: the error as it is.
   */
  explainLoadFailure?: (error: unknown) => Promise<unknown>;
}

interface Loaded {
  classifier: IntentClassifier;
  backend: Backend;
}

/** What `GPUDevice` offers that the loss watch needs (WebGPU types are not in the TS libs). */
interface GpuDeviceLike {
  lost: Promise<{ reason: string; message: string }>;
}

/** `Backend`'s reason fields: the code, and its English words for logs and the status event. */
function reasonOf(reasonCode: DeviceReason): Pick<Backend, 'reason' | 'reasonCode'> {
  return { reason: deviceReasonEnglish(reasonCode), reasonCode };
}

function isOnnxWeights(file: string): boolean {
  return file.endsWith('.onnx') || file.endsWith('.onnx_data');
}

/**
 * The classifier in this thread: `IntentClassifier` plus what running it for a person needs —
 * device and precision choice, lifecycle and download progress as statuses, a warm-up, and the
 * switch to WASM when WebGPU fails (at session creation, while running, or by losing its
 * device). Node, tests and the CLI use it directly; the Web Worker exposes it to the page.
 *
 * @example
 * const classifier = new LocalClassifier({ modelId: 'fenliu-demo', device: 'cpu', dtype: 'int8' });
 * await classifier.load();
 * (await classifier.classify('我要退款')).intentId; // 'refund'
 */
export class LocalClassifier implements Classifier {
  private current: Loaded | null = null;
  /** The WASM reload after WebGPU failed at run time; calls wait for it. */
  private switching: Promise<Loaded> | null = null;
  private loading: Promise<ClassifierStatus> | null = null;
  private loadController: AbortController | null = null;
  private shippedDtypes: string[] = [];
  private currentState: ClassifierState = {
    status: { state: 'checking-device' },
    autoRetry: null,
    restartedAfter: null,
  };
  private readonly listeners = new Set<(state: ClassifierState) => void>();
  private options: LocalClassifierOptions;

  constructor(options: LocalClassifierOptions) {
    this.options = options;
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
    this.loading ??= this.loadSettled();
    return this.loading;
  }

  retry(): void {
    this.loading = null;
    void this.load();
  }

  cancelLoad(): void {
    this.loadController?.abort();
  }

  /**
   * Loads and reports how it ended: with a final status, or asking for a fresh worker on WASM
   * because WebGPU session creation failed (see `LoadOutcome`: in a worker, every later session
   * creation would fail the same way). Never rejects.
   */
  async loadOutcome(): Promise<LoadOutcome> {
    const { options } = this;
    const continuing = options.fallbackFrom !== undefined;
    const controller = new AbortController();
    this.loadController = controller;
    try {
      if (!continuing) this.report({ state: 'checking-device' });
      await this.disposeCurrent();
      const choice = await this.chooseDevice();
      this.shippedDtypes = (await readModelCard(options.modelId)).dtypes;
      const progress = new DownloadProgress();
      const gpuDtype =
        choice.device === 'webgpu'
          ? (options.dtype ?? chooseDtype(choice, this.shippedDtypes))
          : null;
      let loaded: Loaded;
      if (choice.device === 'webgpu' && gpuDtype) {
        try {
          const classifier = await this.loadOn('webgpu', gpuDtype, progress, true, controller);
          loaded = {
            classifier,
            backend: {
              device: 'webgpu',
              dtype: gpuDtype,
              modelBytes: progress.bytesOf(isOnnxWeights),
              ...reasonOf(choice.reasonCode),
              fellBack: false,
            },
          };
        } catch (error) {
          if (error instanceof AbortError) throw error;
          const code = error instanceof ModelLoadError ? error.code : null;
          // NOTE: the folder's labels and tokenizer are wrong on every device: no retry on WASM.
          if (code === 'model-labels-mismatch' || code === 'model-tokenizer-mismatch') throw error;
          // NOTE: WebGPU can fail at session creation even with an adapter, or create it and
          // compute wrongly (quantized models on some drivers, transformers.js#1728): the
          // canaries catch that at load, and check the WASM load the same way.
          return {
            kind: 'restart-on-wasm',
            reasonCode: {
              code:
                code === 'model-output-mismatch'
                  ? 'webgpu-output-mismatch'
                  : 'webgpu-session-failed',
              detail: errorMessage(error),
            },
          };
        }
      } else {
        const device = choice.device === 'cpu' ? 'cpu' : 'wasm';
        const dtype = this.wasmDtype();
        // NOTE: a fallback worker reads the files again (from cache); the first worker's
        // download already reached 100 % and must not be shown again from 0.
        const classifier = await this.loadOn(device, dtype, progress, !continuing, controller);
        loaded = {
          classifier,
          backend: {
            device,
            dtype,
            modelBytes: progress.bytesOf(isOnnxWeights),
            ...reasonOf(choice.reasonCode),
            fellBack: continuing,
          },
        };
      }
      this.current = loaded;
      if (loaded.backend.device === 'webgpu') await this.watchDeviceLoss();
      const ready: ClassifierStatus = {
        state: 'ready',
        info: loaded.classifier.info,
        backend: loaded.backend,
      };
      this.report(ready);
      return { kind: 'settled', status: ready };
    } catch (error) {
      const explained =
        error instanceof AbortError
          ? new AbortError('Loading was cancelled.')
          : await (options.explainLoadFailure?.(error) ?? Promise.resolve(error));
      const failed: ClassifierStatus = { state: 'error', error: serializeError(explained) };
      this.report(failed);
      return { kind: 'settled', status: failed };
    } finally {
      if (this.loadController === controller) this.loadController = null;
    }
  }

  async classify(text: string, options: CallOptions = {}): Promise<Classification> {
    const target = await this.ready();
    const signal = options.signal;
    try {
      return await target.classifier.classify(text, { ...(signal && { signal }) });
    } catch (error) {
      if (error instanceof FenliuError || target.backend.device !== 'webgpu') throw error;
      this.switching ??= this.switchToWasm({
        code: 'webgpu-run-failed',
        detail: errorMessage(error),
      });
      const fallback = await this.switching;
      return fallback.classifier.classify(text, { ...(signal && { signal }) });
    }
  }

  async decodeToolCall(
    text: string,
    intentId: string,
    options: CallOptions = {},
  ): Promise<ProposedToolCall | null> {
    const target = await this.ready();
    return target.classifier.decodeToolCall(text, intentId, options);
  }

  async writeReply(turn: ToolTurn, options: CallOptions = {}): Promise<ModelReply> {
    const target = await this.ready();
    return target.classifier.writeReply(turn, options);
  }

  async dispose(): Promise<void> {
    this.cancelLoad();
    await this.disposeCurrent();
    this.listeners.clear();
  }

  private async loadSettled(): Promise<ClassifierStatus> {
    const outcome = await this.loadOutcome();
    if (outcome.kind === 'settled') return outcome.status;
    // In this thread there is no fresh worker to move to: try WASM here.
    this.options = { ...this.options, fallbackFrom: outcome.reasonCode };
    const retried = await this.loadOutcome();
    return retried.kind === 'settled'
      ? retried.status
      : {
          state: 'error',
          error: serializeError(
            new ModelLoadError('model-load-failed', deviceReasonEnglish(retried.reasonCode)),
          ),
        };
  }

  private report(status: ClassifierStatus): void {
    this.currentState = { ...this.currentState, status };
    for (const listener of this.listeners) listener(this.currentState);
  }

  private async ready(): Promise<Loaded> {
    const target = (await this.switching) ?? this.current;
    if (!target) throw new FenliuError('classifier-not-ready', 'The model is not loaded yet.');
    return target;
  }

  private async chooseDevice(): Promise<
    DeviceChoice | { device: 'cpu'; reasonCode: DeviceReason; shaderF16: false }
  > {
    const { device, fallbackFrom } = this.options;
    if (fallbackFrom !== undefined) {
      return { device: 'wasm', reasonCode: fallbackFrom, shaderF16: false };
    }
    if (device === 'cpu') {
      return { device: 'cpu', reasonCode: { code: 'node-cpu' }, shaderF16: false };
    }
    return chooseDevice(device);
  }

  private wasmDtype(): string {
    const { dtype, modelId } = this.options;
    const chosen = dtype ?? chooseDtype({ device: 'wasm', shaderF16: false }, this.shippedDtypes);
    if (!chosen) {
      throw new ModelLoadError(
        'model-load-failed',
        `Model "${modelId}" ships ${this.shippedDtypes.join(', ')}, none of which runs on WASM. ` +
          'Fix: export an int8 or fp32 model with training/export.py.',
      );
    }
    return chosen;
  }

  /**
   * Downloads and initializes the model on `device`. The download covers every byte the session
   * needs — the model folder's files and, in a browser, onnxruntime-web's (`loadRuntimeFiles`) —
   * planned with their sizes before the first byte (`downloadPlan`); `initializing` follows the
   * last byte, after a `downloading` status at exactly 100 %.
   */
  private async loadOn(
    device: 'cpu' | 'wasm' | 'webgpu',
    dtype: string,
    progress: DownloadProgress,
    reportDownload: boolean,
    controller: AbortController,
  ): Promise<IntentClassifier> {
    const { signal } = controller;
    progress.plan(await this.downloadPlan(device, dtype, signal));
    if (reportDownload) this.report({ state: 'downloading', ...progress.current() });
    // NOTE: an object, not a `let`: the callback sets it, which control-flow narrowing cannot see.
    const download = { over: false, reportedAt: performance.now() };
    // NOTE: transformers.js fetches files in parallel and does not stop the others when one
    // fails: a file finishing after the load failed would report "downloading" over the error
    // status and leave the page waiting for ever. Once the load settled, its progress is old news.
    let settled = false;
    const onProgress = (event: ProgressInfo) => {
      if (settled || signal.aborted) return;
      const bytes = progress.update(event);
      if (!bytes || download.over) return;
      const complete = progress.complete;
      const now = performance.now();
      if (
        reportDownload &&
        (complete ||
          event.status !== 'progress' ||
          now - download.reportedAt >= DOWNLOAD_STATUS_INTERVAL_MS)
      ) {
        download.reportedAt = now;
        this.report({ state: 'downloading', ...bytes });
      }
      if (complete) {
        download.over = true;
        this.report({ state: 'initializing', device });
      }
    };
    let classifier: IntentClassifier;
    try {
      // NOTE: the runtime's files first: onnxruntime-web must hold its binary before
      // transformers.js creates the session, right after the weights arrive.
      if (device !== 'cpu') await loadRuntimeFiles(onProgress, signal);
      classifier = await IntentClassifier.load({
        modelId: this.options.modelId,
        device,
        dtype: dtype as DataType,
        signal,
        onProgress,
      });
    } finally {
      settled = true;
    }
    if (signal.aborted) {
      await classifier.dispose();
      throw new AbortError();
    }
    if (!download.over) {
      // NOTE: the plan named a file this load never fetched; what it did fetch has all arrived.
      if (reportDownload) this.report({ state: 'downloading', ...progress.finish() });
      this.report({ state: 'initializing', device });
    }
    this.report({ state: 'warming-up' });
    // NOTE: a verified model already ran its canary batch at load (kernels compiled, buffers
    // grown); a second, one-message run would only repeat that work.
    if (!classifier.info.verified) await classifier.classify(WARM_UP_MESSAGE);
    return classifier;
  }

  /**
   * The files `loadOn` will fetch, with their sizes where they can be found before the download
   * (see `fileSizes`): the model folder's files for `dtype` and, in a browser, onnxruntime-web's
   * files not yet loaded in this worker. A missing optional file is left out, one whose size could
   * not be looked up waits to start; a missing required one stays, unsized, and fails the load
   * with its own message.
   */
  private async downloadPlan(
    device: 'cpu' | 'wasm' | 'webgpu',
    dtype: string,
    signal: AbortSignal,
  ): Promise<PlannedFile[]> {
    const folder = `${modelRoot()}${this.options.modelId}/`;
    const files = [
      ...FOLDER_FILES.map(({ file, required }) => ({ file, path: `${folder}${file}`, required })),
      { file: onnxFileName(dtype), path: `${folder}${onnxFileName(dtype)}`, required: true },
      ...(device === 'cpu' ? [] : pendingRuntimeFiles()).map((url) => ({
        file: url,
        path: url,
        required: true,
      })),
    ];
    const sizes = await fileSizes(
      files.map(({ path }) => path),
      signal,
    );
    return files.flatMap(({ file, required }, index) => {
      const size = sizes[index];
      if (size === 'missing' && !required) return [];
      // NOTE: an optional file that was found is fetched like the others (in parallel with the
      // weights): the download is not over until it is in.
      const bytes = typeof size === 'number' ? size : null;
      return [{ file, bytes, required: required || bytes !== null }];
    });
  }

  private async watchDeviceLoss(): Promise<void> {
    const ort = env.backends.onnx as { webgpu?: { device?: Promise<GpuDeviceLike> } };
    const device = await ort.webgpu?.device;
    if (!device) return;
    void device.lost.then((info) => {
      if (this.current?.backend.device !== 'webgpu') return;
      this.switching ??= this.switchToWasm({
        code: 'webgpu-device-lost',
        detail: `${info.reason || 'unknown'}: ${info.message}`,
      });
    });
  }

  /** Reloads on WASM after WebGPU failed at run time; the conversation lives with the caller. */
  private async switchToWasm(reasonCode: DeviceReason): Promise<Loaded> {
    const previous = this.current;
    this.current = null;
    try {
      await previous?.classifier.dispose();
    } catch {
      // NOTE: disposing sessions of a lost device can throw; the WASM session does not need them.
    }
    try {
      const dtype = this.wasmDtype();
      this.report({ state: 'initializing', device: 'wasm' });
      const progress = new DownloadProgress();
      const classifier = await this.loadOn('wasm', dtype, progress, false, new AbortController());
      const loaded: Loaded = {
        classifier,
        backend: {
          device: 'wasm',
          dtype,
          modelBytes: progress.bytesOf(isOnnxWeights) ?? previous?.backend.modelBytes ?? null,
          ...reasonOf(reasonCode),
          fellBack: true,
        },
      };
      this.current = loaded;
      this.report({ state: 'ready', info: classifier.info, backend: loaded.backend });
      return loaded;
    } catch (error) {
      this.report({ state: 'error', error: serializeError(error) });
      throw error;
    } finally {
      this.switching = null;
    }
  }

  private async disposeCurrent(): Promise<void> {
    const previous = this.current;
    this.current = null;
    await previous?.classifier.dispose();
  }
}
