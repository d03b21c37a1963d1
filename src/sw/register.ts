import {
  decideStoragePlan,
  type ModelCachingMessage,
  type PrecacheManifest,
  type StoragePlan,
} from './manifest';

/** How long the first visit waits for the new service worker to take over before going on. */
const CONTROL_TIMEOUT_MS = 5000;

export interface OfflineSetup {
  /** Null when there is no service worker (unsupported, dev server, or registration failed). */
  plan: StoragePlan | null;
  /** Why offline use is unavailable, when it is. */
  problem: string | null;
}

async function storagePlan(modelBytes: number, quotaForTest?: number): Promise<StoragePlan> {
  const storage = navigator.storage as StorageManager | undefined;
  const persisted = await storage
    ?.persisted()
    .then(async (already) => already || (await storage.persist()))
    .catch(() => false);
  const estimate = await storage?.estimate().catch(() => undefined);
  return decideStoragePlan({
    persisted: persisted === true,
    quota: quotaForTest ?? estimate?.quota ?? null,
    usage: estimate?.usage ?? null,
    modelBytes,
  });
}

function controlled(timeoutMs: number): Promise<boolean> {
  if (navigator.serviceWorker.controller) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, timeoutMs);
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
}

/**
 * Registers the service worker at `scope` + `sw.js`, asks for persistent storage, checks the quota
 * against the model's size and tells the worker whether it may cache the model. Resolves once the
 * page is controlled (so the model download that follows goes through the worker's cache), or
 * after a timeout; never rejects: without a service worker the demo still works online.
 */
export async function setUpOffline(
  scope: string,
  options: {
    /**
     * Tests only: use this quota instead of `navigator.storage.estimate()`'s (Chromium's
     * DevTools quota override does not reach `estimate()` in the build the tests use).
     */
    quotaForTest?: number;
  } = {},
): Promise<OfflineSetup> {
  if (!('serviceWorker' in navigator)) {
    return { plan: null, problem: 'this browser has no service workers' };
  }
  try {
    const registration = await navigator.serviceWorker.register(new URL('sw.js', scope), {
      scope,
    });
    const response = await fetch(new URL('precache.json', scope), { cache: 'no-cache' });
    const manifest = (await response.json()) as PrecacheManifest;
    const modelBytes = manifest.model.reduce((sum, file) => sum + file.bytes, 0);
    const plan = await storagePlan(modelBytes, options.quotaForTest);
    await navigator.serviceWorker.ready;
    const message: ModelCachingMessage = { type: 'fenliu:model-caching', allowed: plan.cacheModel };
    (registration.active ?? navigator.serviceWorker.controller)?.postMessage(message);
    await controlled(CONTROL_TIMEOUT_MS);
    return { plan, problem: null };
  } catch (error) {
    return { plan: null, problem: error instanceof Error ? error.message : String(error) };
  }
}
