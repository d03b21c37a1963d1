import type { ModelLocation } from '../engine/worker-protocol';

/** Where the widget looks for its model when the host names none: `models/fenliu-demo/` beside the page. */
export const DEFAULT_MODEL_PATH = 'models/fenliu-demo/';

/**
 * Turns a model folder URL (the `model` attribute, e.g. `/models/fenliu-demo/`) into the root,
 * the model id and the runtime folder. onnxruntime-web's files default to `ort/` beside the
 * models root (`/models/…` → `/ort/`), the layout `scripts/link-assets.ts` produces.
 *
 * @example
 * resolveModelLocation('/models/fenliu-demo', null, 'https://shop.example/help/');
 * // { modelBase: 'https://shop.example/models/', modelId: 'fenliu-demo',
 * //   ortBase: 'https://shop.example/ort/' }
 */
export function resolveModelLocation(
  modelUrl: string | null | undefined,
  ortUrl: string | null | undefined,
  baseUrl: string,
): ModelLocation {
  const folder = new URL(modelUrl?.trim() || DEFAULT_MODEL_PATH, baseUrl);
  folder.search = '';
  folder.hash = '';
  const segments = folder.pathname.split('/').filter((segment) => segment !== '');
  const modelId = segments.pop();
  if (modelId === undefined) {
    throw new TypeError(`"${modelUrl ?? ''}" names no model folder (expected e.g. /models/<id>/)`);
  }
  const modelBase = new URL(`/${segments.map((s) => `${s}/`).join('')}`, folder).href;
  const ortBase = new URL(ortUrl?.trim() || '../ort/', ortUrl?.trim() ? baseUrl : modelBase);
  if (!ortBase.pathname.endsWith('/')) ortBase.pathname += '/';
  return { modelBase, modelId: decodeURIComponent(modelId), ortBase: ortBase.href };
}
