import { env, type ProgressInfo } from '@huggingface/transformers';
import { AbortError, ModelLoadError } from '../shared/errors';
import { reusingFetch, watchedFetch } from './watched-fetch';

/**
 * transformers.js keeps its settings in one global `env`. This module is the only place fenliu
 * writes to it, once per process (worker, CLI or test), so no import site mutates it by surprise.
 */
export interface RuntimeOptions {
  /**
   * Where model folders live: a URL path in the browser (`/models/`), a directory in Node.
   * Models load from `<modelRoot><modelId>/…`.
   */
  modelRoot: string;
  /**
   * onnxruntime-web's `.mjs`/`.wasm` files as absolute URLs (the default points at a CDN). Given,
   * a browser load fetches them itself as part of the download (`loadRuntimeFiles`), so the
   * progress bar covers the 27 MB binary, and keeps them in Cache Storage when `browserCache` is on.
   */
  wasmPaths?: { mjs: string; wasm: string };
  /** WASM threads; ORT picks 1 on a 2-core machine unless told (needs cross-origin isolation). */
  numThreads?: number;
  /**
   * Let transformers.js keep downloaded files in its own Cache Storage (browser only; default
   * true). Off where a service worker already caches them — the offline demo's — so the model
   * is stored once, and a refused cache (quota) is not filled behind the page's back. Off also
   * turns off the cached copy of onnxruntime's files, whose module is imported from a `blob:` URL
   * (see `loadRuntimeFiles`): a page whose Content-Security-Policy does not allow `blob:` scripts
   * and workers needs it off.
   */
  browserCache?: boolean;
  /**
   * Browser only: a model download that receives no byte for this long (ms), or is under way when
   * the browser goes offline, fails with a network error instead of waiting for ever (see
   * `watchedFetch`), and a GET answered while an earlier response for the same URL lies unread
   * takes that response's body (`reusingFetch`). Omitted: transformers.js's plain `fetch`.
   */
  downloadStallMs?: number;
}

let configuredRoot: string | null = null;
/** onnxruntime-web's files as configured; null in Node and until `configureRuntime` names them. */
let runtimePaths: { mjs: string; wasm: string } | null = null;
/** The fetch of `runtimePaths`, once per process (null until started, and again after a failure). */
let runtimeLoad: Promise<void> | null = null;
let runtimeLoaded = false;

export function configureRuntime(options: RuntimeOptions): void {
  // NOTE: models never come from a hub: everything a test or the demo needs is served locally.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = options.modelRoot.endsWith('/')
    ? options.modelRoot
    : `${options.modelRoot}/`;
  const wasm = env.backends.onnx.wasm;
  if (wasm) {
    if (options.wasmPaths !== undefined && !isNode()) {
      const { mjs, wasm: binary } = options.wasmPaths;
      if (runtimePaths?.mjs !== mjs || runtimePaths.wasm !== binary) {
        runtimePaths = { mjs, wasm: binary };
        runtimeLoad = null;
        runtimeLoaded = false;
        wasm.wasmPaths = { mjs, wasm: binary };
        delete wasm.wasmBinary;
      }
      // NOTE: the runtime files are fetched by `loadRuntimeFiles`, inside the download's progress;
      // transformers.js's own copy would fetch the binary a second time at session creation.
      env.useWasmCache = false;
    }
    if (options.numThreads !== undefined) wasm.numThreads = options.numThreads;
  }
  if (options.browserCache !== undefined) {
    env.useBrowserCache = options.browserCache;
    if (runtimePaths === null) env.useWasmCache = options.browserCache;
  }
  if (options.downloadStallMs !== undefined) {
    env.fetch = reusingFetch(
      watchedFetch({ stallMs: options.downloadStallMs, onlineEvents: globalThis }),
    );
  }
  configuredRoot = env.localModelPath;
}

/**
 * onnxruntime-web's files (absolute URLs) a browser session still needs fetched: none in Node,
 * without configured `wasmPaths`, or once `loadRuntimeFiles` has handed them over.
 */
export function pendingRuntimeFiles(): string[] {
  if (runtimePaths === null || runtimeLoaded) return [];
  return [runtimePaths.wasm, runtimePaths.mjs];
}

/** How runtime files announce themselves in progress events (`name`; `file` is the URL). */
const RUNTIME_NAME = 'onnxruntime-web';

/**
 * Fetches onnxruntime-web's `.wasm` and `.mjs` (see `RuntimeOptions.wasmPaths`) and hands them to
 * onnxruntime-web before any session exists, reporting their bytes through `onProgress` in
 * transformers.js's event shape (`file` is the URL):
 *
 * - the `.wasm` is read with progress and set as `env.wasm.wasmBinary` (onnxruntime-web then
 *   fetches nothing itself); with the browser cache on it comes from, or goes into,
 *   transformers.js's Cache Storage under the key transformers.js itself used;
 * - the `.mjs`, with the browser cache on, is read the same way and imported from a `blob:` URL
 *   (what transformers.js did, so a cached page works offline without a service worker); with it
 *   off it is imported from its URL here, and onnxruntime-web's own `import()` of that URL finds
 *   the module already loaded.
 *
 * Once per process; nothing happens in Node or without `wasmPaths`.
 */
export function loadRuntimeFiles(
  onProgress: (event: ProgressInfo) => void,
  signal?: AbortSignal,
): Promise<void> {
  const paths = runtimePaths;
  if (paths === null || runtimeLoaded) return Promise.resolve();
  runtimeLoad ??= fetchRuntime(paths, onProgress, signal).then(
    () => {
      runtimeLoaded = true;
    },
    (error: unknown) => {
      runtimeLoad = null;
      throw signal?.aborted ? new AbortError() : error;
    },
  );
  return runtimeLoad;
}

async function fetchRuntime(
  paths: { mjs: string; wasm: string },
  onProgress: (event: ProgressInfo) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const cache = await openBrowserCache();
  const [binary, mjs] = await Promise.all([
    fetchRuntimeFile(paths.wasm, cache, onProgress, signal),
    cache
      ? fetchRuntimeFile(paths.mjs, cache, onProgress, signal).then((bytes) =>
          URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' })),
        )
      : importRuntimeModule(paths.mjs, onProgress),
  ]);
  const wasm = env.backends.onnx.wasm;
  if (!wasm) return;
  wasm.wasmBinary = binary;
  wasm.wasmPaths = { mjs, wasm: paths.wasm };
}

/** transformers.js's Cache Storage when its browser cache is on (and can be opened), else null. */
async function openBrowserCache(): Promise<Cache | null> {
  if (!env.useBrowserCache || typeof caches === 'undefined') return null;
  try {
    return await caches.open(env.cacheKey);
  } catch {
    // NOTE: some contexts (an opaque-origin iframe) refuse Cache Storage: load without it.
    return null;
  }
}

async function fetchRuntimeFile(
  url: string,
  cache: Cache | null,
  onProgress: (event: ProgressInfo) => void,
  signal: AbortSignal | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  const cached = await cache?.match(url);
  const response = cached ?? ((await env.fetch(url, { signal })) as Response);
  if (!response.ok) throw missingRuntimeFile(url, response.status);
  onProgress({ status: 'download', name: RUNTIME_NAME, file: url });
  const bytes = await readWithProgress(response, (loaded, total) => {
    onProgress({
      status: 'progress',
      name: RUNTIME_NAME,
      file: url,
      loaded,
      total,
      progress: total > 0 ? (100 * loaded) / total : 0,
    });
  });
  if (cache && !cached) {
    const headers = new Headers(response.headers);
    headers.set('content-length', String(bytes.byteLength));
    // NOTE: a refused write (quota) must not fail the load: the runtime runs from memory.
    await cache.put(url, new Response(bytes, { headers })).catch(() => undefined);
  }
  onProgress({ status: 'done', name: RUNTIME_NAME, file: url });
  return bytes;
}

/** Imports onnxruntime-web's module from its URL, so its own `import()` of the URL is answered. */
async function importRuntimeModule(
  url: string,
  onProgress: (event: ProgressInfo) => void,
): Promise<string> {
  onProgress({ status: 'download', name: RUNTIME_NAME, file: url });
  try {
    await import(/* @vite-ignore */ url);
  } catch (error) {
    // NOTE: a failed import() says only "failed to fetch": a missing file must not read as a
    // network failure (those are retried when the connection is back).
    const probe = await fetch(url, { method: 'HEAD', cache: 'no-store' }).catch(() => null);
    if (probe && !probe.ok) throw missingRuntimeFile(url, probe.status);
    throw error;
  }
  onProgress({ status: 'done', name: RUNTIME_NAME, file: url });
  return url;
}

function missingRuntimeFile(url: string, status: number): ModelLoadError {
  const file = new URL(url).pathname.split('/').pop() ?? url;
  return new ModelLoadError(
    'model-load-failed',
    `onnxruntime-web's ${file} is not at ${url} (HTTP ${String(status)}). Fix: serve ` +
      "onnxruntime-web's files there (`npm run setup` copies them to public/ort/), or point the " +
      'widget at the folder that has them (the `ort` attribute, `ortUrl` in createRouter).',
  );
}

/**
 * Reads a response's body, calling `onChunk(loaded, total)` after each chunk; `total` is the
 * Content-Length, or the bytes so far when the server sent none.
 */
export async function readWithProgress(
  response: Response,
  onChunk: (loaded: number, total: number) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const length = contentLength(response);
  const announced = typeof length === 'number' ? length : 0;
  let buffer = new Uint8Array(announced);
  let loaded = 0;
  if (response.body === null) return buffer;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(Math.max(loaded + value.byteLength, buffer.byteLength * 2));
      grown.set(buffer.subarray(0, loaded));
      buffer = grown;
    }
    buffer.set(value, loaded);
    loaded += value.byteLength;
    onChunk(loaded, Math.max(loaded, announced));
  }
  return loaded === buffer.byteLength ? buffer : buffer.slice(0, loaded);
}

/** What a size lookup found: bytes, the file is missing (404, no such file), or nothing known. */
export type FileSize = number | 'missing' | 'unknown';

/** How long a HEAD request for a file's size may take before the size counts as unknown. */
const SIZE_PROBE_TIMEOUT_MS = 5000;

/**
 * The sizes of files a load will fetch, looked up before the download so its total is known up
 * front: from the disk in Node; in a browser from Cache Storage (transformers.js's cache or a
 * service worker's: what the load will read) and otherwise a HEAD request (past the service
 * worker, which answers only GET), in parallel. A lookup that fails or times out is `unknown`:
 * that file's bytes then join the total when its download starts.
 */
export async function fileSizes(
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<FileSize[]> {
  if (isNode()) {
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as NodeFs;
    return Promise.all(
      paths.map((path) =>
        fs.stat(path).then(
          (stat): FileSize => stat.size,
          (error: unknown): FileSize =>
            (error as { code?: string }).code === 'ENOENT' ? 'missing' : 'unknown',
        ),
      ),
    );
  }
  const sizes = await Promise.all(paths.map((path) => browserFileSize(path, signal)));
  if (signal?.aborted) throw new AbortError();
  return sizes;
}

function contentLength(response: Response): FileSize {
  const length = Number(response.headers.get('content-length') ?? NaN);
  return Number.isSafeInteger(length) && length >= 0 ? length : 'unknown';
}

async function browserFileSize(path: string, signal: AbortSignal | undefined): Promise<FileSize> {
  try {
    const cached = typeof caches === 'undefined' ? undefined : await caches.match(path);
    if (cached) return contentLength(cached);
  } catch {
    // NOTE: Cache Storage refused (an opaque origin): ask the server.
  }
  const timeout = AbortSignal.timeout(SIZE_PROBE_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      method: 'HEAD',
      cache: 'no-store',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (response.status === 404) return 'missing';
    return response.ok ? contentLength(response) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The configured model root; throws if `configureRuntime` has not run (a programming error). */
export function modelRoot(): string {
  if (configuredRoot === null) {
    throw new Error('configureRuntime({ modelRoot }) must be called before loading a model');
  }
  return configuredRoot;
}

const NODE_FS = 'node:fs/promises';

interface NodeFs {
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  stat(path: string): Promise<{ size: number }>;
}

export function isNode(): boolean {
  const { process } = globalThis as { process?: { versions?: { node?: string } } };
  return process?.versions?.node !== undefined;
}

/** Reads a text file of a model folder, from disk in Node and over HTTP in the browser. */
export async function readModelText(modelId: string, fileName: string): Promise<string> {
  const path = `${modelRoot()}${modelId}/${fileName}`;
  if (isNode()) {
    // NOTE: a variable specifier keeps bundlers from pulling Node's fs into the browser build.
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as NodeFs;
    return fs.readFile(path, 'utf8');
  }
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.text();
}
