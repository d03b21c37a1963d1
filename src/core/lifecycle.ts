import type { ProgressInfo } from '@huggingface/transformers';
import type { ClassifierInfo } from './classifier';
import type { SerializedError } from './errors';

/** Where a classifier is in its life, as a discriminated union the UI can switch on. */
export type ClassifierStatus =
  | { state: 'checking-device' }
  | { state: 'downloading'; loaded: number; total: number; percent: number }
  | { state: 'initializing' }
  | { state: 'warming-up' }
  | { state: 'ready'; info: ClassifierInfo; reason: string }
  | { state: 'error'; error: SerializedError };

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
}
