import type { ProgressInfo } from '@huggingface/transformers';
import type { ClassifierInfo } from './classifier';
import type { SerializedError } from '../shared/errors';

/** Where the model runs and why: what the status line shows once the model is ready. */
export interface Backend {
  /** `cpu` is onnxruntime-node (Node, the CLI); the page runs `wasm` or `webgpu`. */
  device: 'cpu' | 'wasm' | 'webgpu';
  dtype: string;
  /** Bytes of the ONNX weights loaded (null when the server sent no sizes). */
  modelBytes: number | null;
  /** Why this backend, in words; mentions the fallback when WebGPU failed. */
  reason: string;
  /** True when WebGPU was chosen but failed (at creation or by losing its device). */
  fellBack: boolean;
}

/**
 * Where a classifier is in its life, as a discriminated union the UI can switch on:
 * `checking-device → downloading → initializing → warming-up → ready | error`.
 */
export type ClassifierStatus =
  | { state: 'checking-device' }
  | { state: 'downloading'; loaded: number; total: number; percent: number }
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

/**
 * Folds transformers.js's per-file download events into one byte count. The percent never goes
 * back, even when a new file's size becomes known after others have started.
 */
export class DownloadProgress {
  private readonly files = new Map<string, { loaded: number; total: number }>();
  private lastPercent = 0;

  /** Returns the aggregate after `event`, or null when the event carries no byte counts. */
  update(event: ProgressInfo): { loaded: number; total: number; percent: number } | null {
    if (event.status === 'progress') {
      this.files.set(event.file, { loaded: event.loaded, total: event.total });
    } else if (event.status === 'done') {
      const file = this.files.get(event.file);
      if (!file) return null;
      file.loaded = file.total;
    } else {
      return null;
    }
    let loaded = 0;
    let total = 0;
    for (const file of this.files.values()) {
      loaded += file.loaded;
      total += file.total;
    }
    const percent = total > 0 ? Math.min(100, (100 * loaded) / total) : 0;
    this.lastPercent = Math.max(this.lastPercent, percent);
    return { loaded, total, percent: this.lastPercent };
  }

  /** Total bytes of the files whose name passes `select` (e.g. the ONNX weights), or null. */
  bytesOf(select: (file: string) => boolean): number | null {
    let total = 0;
    for (const [file, bytes] of this.files) if (select(file)) total += bytes.total;
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
