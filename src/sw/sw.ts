/**
 * The demo's service worker: cache-first for the app shell, the model, the tokenizer and the
 * onnxruntime-web files, so that after one visit the page works with the server stopped. Model and
 * runtime files are cached only when the page's storage check allowed it (see `register.ts`);
 * otherwise they are fetched every visit and the model runs from memory. Cached responses keep
 * their COOP/COEP headers, so the page stays cross-origin isolated offline.
 *
 * Built to dist/sw.js by vite.config.ts, which replaces `__FENLIU_BUILD__` with the shell version.
 */
import type { ModelCachingMessage, PrecacheManifest } from './manifest';

declare const self: ServiceWorkerGlobalScope;

/**
 * URL prefixes (relative to the scope) of files cached only when the storage check allows it.
 * NOTE: defined here, not shared with the page: the worker must be one self-contained file.
 */
const MODEL_PREFIXES = ['models/', 'ort/'] as const;
declare const __FENLIU_BUILD__: string;

const BUILD = __FENLIU_BUILD__;
const SHELL_CACHE = `fenliu-shell-${BUILD}`;
const SETTINGS_CACHE = 'fenliu-settings';
const SETTINGS_URL = new URL('__fenliu/model-caching', self.registration.scope).href;
let modelCache: string | null = null;
let modelCachingAllowed: boolean | null = null;

const MANIFEST_URL = new URL('precache.json', self.registration.scope).href;

/** precache.json from the network when it answers (kept for offline use), else the kept copy. */
async function freshManifest(): Promise<Response> {
  try {
    const response = await fetch(MANIFEST_URL, { cache: 'no-cache' });
    if (!response.ok) throw new Error(`precache.json: HTTP ${response.status}`);
    const settings = await caches.open(SETTINGS_CACHE);
    await settings.put(MANIFEST_URL, response.clone());
    return response;
  } catch (error) {
    const kept = await caches.match(MANIFEST_URL, { cacheName: SETTINGS_CACHE });
    if (kept) return kept;
    throw error;
  }
}

async function manifest(): Promise<PrecacheManifest> {
  return (await (await freshManifest()).json()) as PrecacheManifest;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const { shell } = await manifest();
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(shell.map((path) => new URL(path, self.registration.scope).href));
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const { modelVersion } = await manifest();
      modelCache = `fenliu-model-${modelVersion}`;
      const keep = new Set([SHELL_CACHE, modelCache, SETTINGS_CACHE]);
      for (const name of await caches.keys()) {
        if (name.startsWith('fenliu-') && !keep.has(name)) await caches.delete(name);
      }
      // NOTE: take over the page that installed us, so the model it downloads next is cached.
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const data = event.data as Partial<ModelCachingMessage> | null;
  if (data?.type !== 'fenliu:model-caching' || typeof data.allowed !== 'boolean') return;
  modelCachingAllowed = data.allowed;
  event.waitUntil(
    caches
      .open(SETTINGS_CACHE)
      .then((cache) => cache.put(SETTINGS_URL, Response.json({ allowed: data.allowed }))),
  );
});

async function mayCacheModel(): Promise<boolean> {
  if (modelCachingAllowed === null) {
    const saved = await caches.match(SETTINGS_URL);
    modelCachingAllowed = saved ? ((await saved.json()) as { allowed: boolean }).allowed : false;
  }
  return modelCachingAllowed;
}

async function modelCacheName(): Promise<string> {
  modelCache ??= `fenliu-model-${(await manifest()).modelVersion}`;
  return modelCache;
}

function isModelFile(url: URL): boolean {
  const path = url.href.slice(self.registration.scope.length);
  return MODEL_PREFIXES.some((prefix) => path.startsWith(prefix));
}

async function respond(request: Request, url: URL): Promise<Response> {
  const navigation = request.mode === 'navigate';
  // NOTE: `?device=wasm&lang=en` are app settings, not different documents.
  // NOTE: ignoreVary: `vite preview` answers with `Vary: Origin`, and module scripts are requested
  // with an Origin header the precache requests lacked, so no cached script would ever match.
  const cached = await caches.match(request, { ignoreSearch: navigation, ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (!response.ok || response.type !== 'basic' || response.status === 206) return response;
  const model = isModelFile(url);
  if (model && !(await mayCacheModel())) return response;
  const cacheName = model ? await modelCacheName() : SHELL_CACHE;
  const copy = response.clone();
  // NOTE: a refused write (quota) must not fail the response: the page keeps working from memory.
  void caches
    .open(cacheName)
    .then((cache) => cache.put(navigation ? new URL(url.pathname, url).href : request, copy))
    .catch(() => undefined);
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.href === SETTINGS_URL) return;
  if (url.href === MANIFEST_URL) {
    event.respondWith(freshManifest());
    return;
  }
  if (url.pathname.endsWith('/sw.js')) return;
  event.respondWith(respond(request, url));
});
