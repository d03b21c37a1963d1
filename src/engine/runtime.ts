import { env } from '@huggingface/transformers';
import { watchedFetch } from './watched-fetch';

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
   * onnxruntime-web's `.mjs`/`.wasm` files (the default points at a CDN). The object form lets
   * transformers.js keep the 27 MB binary in Cache Storage between visits.
   */
  wasmPaths?: { mjs: string; wasm: string };
  /** WASM threads; ORT picks 1 on a 2-core machine unless told (needs cross-origin isolation). */
  numThreads?: number;
  /**
   * Let transformers.js keep downloaded files in its own Cache Storage (browser only; default
   * true). Off where a service worker already caches them — the offline demo's — so the model
   * is stored once, and a refused cache (quota) is not filled behind the page's back. Off also
   * turns off its copy of onnxruntime's files, which it imports from `blob:` URLs: a page whose
   * Content-Security-Policy does not allow `blob:` scripts and workers needs it off.
   */
  browserCache?: boolean;
  /**
   * Browser only: a model download that receives no byte for this long (ms), or is under way when
   * the browser goes offline, fails with a network error instead of waiting for ever (see
   * `watchedFetch`). Omitted: transformers.js's plain `fetch`.
   */
  downloadStallMs?: number;
}

let configuredRoot: string | null = null;

export function configureRuntime(options: RuntimeOptions): void {
  // NOTE: models never come from a hub: everything a test or the demo needs is served locally.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = options.modelRoot.endsWith('/')
    ? options.modelRoot
    : `${options.modelRoot}/`;
  const wasm = env.backends.onnx.wasm;
  if (wasm) {
    if (options.wasmPaths !== undefined) wasm.wasmPaths = options.wasmPaths;
    if (options.numThreads !== undefined) wasm.numThreads = options.numThreads;
  }
  if (options.browserCache !== undefined) {
    env.useBrowserCache = options.browserCache;
    env.useWasmCache = options.browserCache;
  }
  if (options.downloadStallMs !== undefined) {
    env.fetch = watchedFetch({ stallMs: options.downloadStallMs, onlineEvents: globalThis });
  }
  configuredRoot = env.localModelPath;
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
