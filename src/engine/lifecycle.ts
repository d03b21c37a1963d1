import type { ProgressInfo } from '@huggingface/transformers';
import type { ClassifierInfo } from './classifier';
import type { DeviceReason } from './device';
import type { SerializedError } from '../shared/errors';

/** Where the model runs and why: what the status line shows once the model is ready. */
export interface Backend {
  /** `cpu` is onnxruntime-node (Node, the CLI); the page runs `wasm` or `webgpu`. */
  device: 'cpu' | 'wasm' | 'webgpu';
  dtype: string;
  /** Bytes of the ONNX weights loaded (null when the server sent no sizes). */
  modelBytes: number | null;
  /** Why this backend, in English words (`deviceReasonEnglish`); mentions a WebGPU fallback. */
  reason: string;
  /** The same as data, for the widget to word in the user's language (src/ui/reasons.ts). */
  reasonCode: DeviceReason;
  /** True when WebGPU was chosen but failed (at creation or by losing its device). */
  fellBack: boolean;
}

/**
 * One file of a download as the `downloading` status lists it: a model folder file by its name in
 * the folder (`tokenizer.json`, `onnx/model_int8.onnx`), a runtime file (onnxruntime-web's
 * `.wasm`, `.mjs`) by its URL.
 */
export interface DownloadFile {
  file: string;
  /** Bytes of it that have arrived. */
  loaded: number;
  /** Its size in bytes; null while unknown (no size was found before its response came). */
  total: number | null;
  /** True once every byte of it has arrived. */
  done: boolean;
}

/**
 * The bytes a load must receive before the model can run (model, tokenizer and config files, and
 * in a browser onnxruntime-web's `.wasm` and `.mjs`), summed over `files`. `total` is known before
 * the first byte wherever sizes could be looked up (Cache Storage, HEAD, the disk); a file whose
 * size was not found adds its bytes as they arrive. `percent` never goes back and is 100 only
 * once every file has arrived (then `loaded === total`).
 */
export interface DownloadBytes {
  loaded: number;
  total: number;
  percent: number;
  files: DownloadFile[];
}

/**
 * Where a classifier is in its life, as a discriminated union the UI can switch on:
 * `checking-device → downloading → initializing → warming-up → ready | error`. Plain data, so a
 * status crosses the worker boundary by structured clone.
 */
export type ClassifierStatus =
  | { state: 'checking-device' }
  | ({ state: 'downloading' } & DownloadBytes)
  | { state: 'initializing'; device: 'cpu' | 'wasm' | 'webgpu' }
  | { state: 'warming-up' }
  | { state: 'ready'; info: ClassifierInfo; backend: Backend }
  | { state: 'error'; error: SerializedError };

/** The lifecycle states, in order (for tests and progress displays). */
export const LIFECYCLE_ORDER = [
  'checking-device',
  'downloading',
  'initializing',
  'warming-up',
  'ready',
] as const;

/** A file the load will fetch, named as its progress events name it, with its size when known. */
export interface PlannedFile {
  file: string;
  /** Bytes, or null when no size was found before the download. */
  bytes: number | null;
  /**
   * False for a file the load does without when it is missing (`generation_config.json`): until
   * its download starts, such a file does not hold the download open.
   */
  required: boolean;
}

/**
 * The highest percent shown before the last byte. NOTE: displays round (`toFixed(0)`), and 99.5
 * would read "100%" while bytes are still missing.
 */
export const PERCENT_BEFORE_LAST_BYTE = 99;

interface FileState {
  loaded: number;
  /** Planned or announced size; null while unknown. */
  bytes: number | null;
  /** The size the file's own response gave (its progress events' `total`), once known. */
  received: number | null;
  required: boolean;
  /** Its download started (a `download` or `progress` event came). */
  started: boolean;
  done: boolean;
}

/**
 * Folds per-file download events (transformers.js's `download`/`progress`/`done`, and the runtime
 * files' events in the same shape) into one byte count over every file a load needs. `plan`
 * declares the files and their sizes before the first byte, so the total is known up front; a
 * file nobody planned joins when its download starts. The percent never goes back (a size that
 * becomes known late lowers the raw ratio, not the reported one), stays below 100 until every
 * planned and started file is done, and is exactly 100 then.
 */
export class DownloadProgress {
  private readonly files = new Map<string, FileState>();
  private lastPercent = 0;
  private finished = false;

  /** Declares files the load will fetch (a file already known keeps what was learned of it). */
  plan(files: readonly PlannedFile[]): void {
    for (const { file, bytes, required } of files) {
      if (this.files.has(file)) continue;
      this.files.set(file, {
        loaded: 0,
        bytes,
        received: null,
        required,
        started: false,
        done: false,
      });
    }
  }

  /** Returns the aggregate after `event`, or null when the event is not about a file's bytes. */
  update(event: ProgressInfo): DownloadBytes | null {
    if (event.status !== 'download' && event.status !== 'progress' && event.status !== 'done') {
      return null;
    }
    let file = this.files.get(event.file);
    if (!file) {
      file = {
        loaded: 0,
        bytes: null,
        received: null,
        required: false,
        started: false,
        done: false,
      };
      this.files.set(event.file, file);
    }
    file.started = true;
    if (event.status === 'progress' && !file.done) {
      file.loaded = event.loaded;
      if (event.total > 0) {
        file.received = event.total;
        file.bytes = Math.max(file.bytes ?? 0, event.total);
      }
    } else if (event.status === 'done') {
      file.done = true;
      // NOTE: the response's own length is the truth; a planned size from elsewhere (a cache, a
      // HEAD answer) only stood in for it.
      file.bytes = file.received ?? file.bytes ?? file.loaded;
      file.loaded = file.bytes;
    }
    return this.current();
  }

  /** True once every planned and every started file has arrived. */
  get complete(): boolean {
    if (this.finished) return true;
    let arrived = false;
    for (const file of this.files.values()) {
      if ((file.required || file.started) && !file.done) return false;
      arrived ||= file.done;
    }
    return arrived;
  }

  /** The aggregate now. */
  current(): DownloadBytes {
    const complete = this.complete;
    const files: DownloadFile[] = [];
    let loaded = 0;
    let total = 0;
    for (const [name, file] of this.files) {
      // NOTE: an optional file that never started adds its planned bytes only while it may still
      // come; once everything else is in, it did not.
      const counted = file.required || file.started || (file.bytes !== null && !complete);
      if (!counted) continue;
      const size = file.bytes ?? file.loaded;
      loaded += Math.min(file.loaded, size);
      total += size;
      files.push({
        file: name,
        loaded: Math.min(file.loaded, size),
        total: file.bytes,
        done: file.done,
      });
    }
    const ratio = total > 0 ? (100 * loaded) / total : 0;
    const percent = complete ? 100 : Math.min(PERCENT_BEFORE_LAST_BYTE, ratio);
    this.lastPercent = Math.max(this.lastPercent, percent);
    return { loaded, total, percent: this.lastPercent, files };
  }

  /**
   * Ends the download when the load went on without a planned file (it fetched something else):
   * started files count as arrived, files that never started are dropped. Returns the final
   * aggregate (100 %).
   */
  finish(): DownloadBytes {
    for (const [name, file] of this.files) {
      if (!file.started) {
        this.files.delete(name);
        continue;
      }
      file.done = true;
      file.bytes = file.received ?? file.bytes ?? file.loaded;
      file.loaded = file.bytes;
    }
    this.finished = true;
    return this.current();
  }

  /** Total bytes of the files whose name passes `select` (e.g. the ONNX weights), or null. */
  bytesOf(select: (file: string) => boolean): number | null {
    let total = 0;
    for (const [file, state] of this.files) if (select(file)) total += state.bytes ?? 0;
    return total > 0 ? total : null;
  }
}

/** Automatic retries of an interrupted download while the browser says it is online. */
export const DOWNLOAD_RETRIES = 3;

/**
 * When to retry a download the network interrupted, after `failures` automatic retries in a row:
 * `when-online` while the browser is offline (its `online` event retries), else after 2, 4 and
 * 8 seconds; then null — the user's Retry button, so a server that keeps failing is not hammered.
 */
export function downloadRetryPlan(
  failures: number,
  online: boolean,
): 'when-online' | number | null {
  if (!online) return 'when-online';
  return failures < DOWNLOAD_RETRIES ? 2000 * 2 ** failures : null;
}
