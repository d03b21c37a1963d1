/**
 * `precache.json`, written into dist/ by the build (vite.config.ts): what the service worker
 * precaches as the app shell, and the model and runtime files it may cache when the page's
 * storage check allows it. Shared by the service worker, the page and the build.
 */
export interface PrecacheManifest {
  format: 1;
  /** Changes whenever any shell file changes; names the shell cache. */
  shellVersion: string;
  /** Changes whenever a model or runtime file changes; names the model cache. */
  modelVersion: string;
  /** App-shell URLs relative to the site root (`./`, `assets/index-….js`, …). */
  shell: string[];
  /** Model, tokenizer and onnxruntime-web files with their sizes in bytes. */
  model: { url: string; bytes: number }[];
}

/** Message from the page to the service worker: may model files be cached? */
export interface ModelCachingMessage {
  type: 'fenliu:model-caching';
  allowed: boolean;
}

export interface StoragePlanInput {
  /** `navigator.storage.persist()` / `persisted()` result. */
  persisted: boolean;
  /** `navigator.storage.estimate()`; null when the browser gives none. */
  quota: number | null;
  usage: number | null;
  /** Bytes of the model and runtime files to cache. */
  modelBytes: number;
}

export interface StoragePlan {
  cacheModel: boolean;
  persisted: boolean;
  reason: string;
}

/** Free space kept beyond the model itself (other caches grow too). */
export const QUOTA_HEADROOM = 1.2;

/**
 * Decides whether the model may be cached: only when the origin's free quota holds it with
 * headroom. Persistent storage is asked for first but not required (best-effort storage still
 * serves offline until the browser evicts it).
 *
 * @example
 * decideStoragePlan({ persisted: false, quota: 1e9, usage: 0, modelBytes: 4e7 }).cacheModel; // true
 */
export function decideStoragePlan(input: StoragePlanInput): StoragePlan {
  const { persisted, quota, usage, modelBytes } = input;
  const storage = persisted ? 'persistent storage' : 'best-effort storage';
  if (quota === null) {
    return { cacheModel: false, persisted, reason: 'the browser reports no storage quota' };
  }
  const free = quota - (usage ?? 0);
  const needed = modelBytes * QUOTA_HEADROOM;
  if (free < needed) {
    return {
      cacheModel: false,
      persisted,
      reason: `only ${Math.max(0, Math.floor(free / 1e6))} MB free of the ${Math.ceil(needed / 1e6)} MB needed`,
    };
  }
  return { cacheModel: true, persisted, reason: `${storage}, ${Math.floor(free / 1e6)} MB free` };
}
