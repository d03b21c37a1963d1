import { validateCatalog } from '../catalog/catalog';
import type { Catalog } from '../catalog/types';
import { resolveModelLocation } from '../client/location';
import { WorkerClassifier, type WorkerClassifierOptions } from '../client/worker-classifier';
import type { Classifier } from '../engine/classifier-api';
import type { DevicePreference } from '../engine/device';
import { DataValidationError } from '../shared/errors';
import { checkHandlers } from './handler-checks';
import { missingHandlerProblems, RouterSession } from './session';
import type { RouterOptions } from './types';

export interface CreateRouterOptions extends Omit<RouterOptions, 'classifier' | 'catalog'> {
  /**
   * The model: its folder's URL (`/models/fenliu-demo/`, same origin as the page; it then runs
   * in a Web Worker), or a `Classifier` (an in-process `LocalClassifier` in Node).
   */
  model: string | Classifier;
  /** The catalog, or the URL of its JSON file (fetched and validated). */
  catalog?: Catalog | string | null;
  /** onnxruntime-web's folder; default `ort/` beside the models root. */
  ortUrl?: string;
  /** `auto` (default) probes WebGPU and falls back to WASM. */
  device?: DevicePreference;
  /** A precision the model ships; default: the best one for the device. */
  dtype?: string;
  /** transformers.js's Cache Storage copy of the model (default on). */
  browserCache?: boolean;
  /** See `WorkerClassifierOptions.callTimeoutMs`. */
  callTimeoutMs?: number;
  /** Base for relative URLs; default the document's base URL. */
  baseUrl?: string;
  /** Starts the classifier worker (tests inject a fault-injecting entry); default the bundled one. */
  createWorker?: WorkerClassifierOptions['createWorker'];
}

async function fetchCatalog(url: string): Promise<Catalog> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return validateCatalog(await response.json(), url);
}

/**
 * The headless router: fenliu in front of a chat UI that is not ours. Checks the catalog (and
 * that every handler its routes name is supplied) before anything loads, starts the model in a
 * Web Worker, and returns the session: `route(text)` answers a message, the events say what
 * happened (see `RouterEventMap`).
 *
 * Throws `DataValidationError` (`catalog-invalid`) for an invalid catalog, a handler of the wrong
 * shape (naming it), or a route whose handler is missing (naming the intent). A catalog that does not match the model is reported
 * once the model has loaded (an `error` event with `catalog-model-mismatch`; nothing is routed).
 *
 * @example
 * const router = await createRouter({
 *   model: '/models/fenliu-demo/',
 *   catalog: '/catalog.json',
 *   tools: { lookup_order: async ({ order_id }) => orders.get(order_id) },
 *   handlers: { billing: { kind: 'agent', respond: async ({ message }) => billingBot(message) } },
 * });
 * router.on('route', ({ intentId, kind }) => console.log(intentId, kind));
 * const turn = await router.route('我的订单2024113012345到哪了');
 */
export async function createRouter(options: CreateRouterOptions): Promise<RouterSession> {
  const { model, catalog, ortUrl, device, dtype, browserCache, callTimeoutMs, baseUrl } = options;
  const { createWorker, ...rest } = options;
  // NOTE: what the session takes; the model's location and the worker's options stay here.
  const sessionKeys = [
    'tools',
    'handlers',
    'escalation',
    'toolReply',
    'language',
    'modelReplies',
    'persistKey',
  ] as const;
  const session = Object.fromEntries(
    sessionKeys.filter((key) => rest[key] !== undefined).map((key) => [key, rest[key]]),
  ) as Omit<RouterOptions, 'classifier' | 'catalog'>;
  const base = baseUrl ?? document.baseURI;
  const checked =
    typeof catalog === 'string'
      ? await fetchCatalog(new URL(catalog, base).href)
      : catalog
        ? validateCatalog(catalog)
        : null;
  // Host pages are plain JavaScript: each handler's shape first, then that every route finds one.
  const handlerShapes = checkHandlers(options.handlers).problems;
  const missing = missingHandlerProblems(checked, options.handlers ?? {});
  if (handlerShapes.length + missing.length > 0) {
    throw new DataValidationError('catalog-invalid', [
      ...handlerShapes.map((reason) => ({ file: 'handlers', line: 1, reason })),
      ...missing.map((reason) => ({ file: 'routes', line: 1, reason })),
    ]);
  }
  const classifier =
    typeof model === 'string'
      ? new WorkerClassifier({
          ...resolveModelLocation(model, ortUrl, base),
          device: device ?? 'auto',
          ...(dtype !== undefined && { dtype }),
          ...(browserCache !== undefined && { browserCache }),
          ...(callTimeoutMs !== undefined && { callTimeoutMs }),
          ...(createWorker && { createWorker }),
        })
      : model;
  const router = new RouterSession({ ...session, classifier, catalog: checked });
  void classifier.load();
  return router;
}
