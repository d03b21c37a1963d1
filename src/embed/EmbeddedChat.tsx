import { useEffect, useMemo, useState } from 'react';
import { validateCatalog } from '../catalog/catalog';
import type { Catalog } from '../catalog/types';
import { errorMessage } from '../shared/errors';
import { ChatWidget, type ChatWidgetProps } from '../ui/ChatWidget';
import { resolveModelLocation } from '../client/location';

/** What every embedding (React component, custom element, script tag) accepts. */
export interface EmbedOptions extends Omit<ChatWidgetProps, 'model' | 'catalog'> {
  /** URL of the model folder (`/models/fenliu-demo/`); default `models/fenliu-demo/` beside the page. */
  modelUrl?: string | null;
  /** URL of onnxruntime-web's folder; default `ort/` beside the models root. */
  ortUrl?: string | null;
  /** URL of a catalog JSON file (validated); ignored when `catalog` is given. */
  catalogUrl?: string | null;
  /** The catalog itself. */
  catalog?: Catalog | null;
  /** Base for relative URLs; default the document's base URL. */
  baseUrl?: string;
}

async function fetchCatalog(url: string): Promise<Catalog> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return validateCatalog(await response.json(), url);
}

/** Resolves URLs and loads the catalog, then renders the one widget implementation. */
export function EmbeddedChat(props: EmbedOptions) {
  const { modelUrl, ortUrl, catalogUrl, catalog, baseUrl, notice, ...widget } = props;
  const base = baseUrl ?? document.baseURI;
  const location = useMemo(() => {
    try {
      return resolveModelLocation(modelUrl, ortUrl, base);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }, [modelUrl, ortUrl, base]);
  const [fetched, setFetched] = useState<{ url: string; catalog?: Catalog; error?: string }>();

  useEffect(() => {
    if (catalog || !catalogUrl) return;
    const url = new URL(catalogUrl, base).href;
    let live = true;
    fetchCatalog(url).then(
      (loaded) => {
        if (live) setFetched({ url, catalog: loaded });
      },
      (error: unknown) => {
        if (live) setFetched({ url, error: errorMessage(error) });
      },
    );
    return () => {
      live = false;
    };
  }, [catalog, catalogUrl, base]);

  if (location instanceof Error) {
    return (
      <p className="status-error" role="alert">
        {location.message}
      </p>
    );
  }
  // NOTE: the session starts once the catalog is here: routes and the catalog/model check need
  // it, and a session started without it would route with the model's intents alone.
  if (!catalog && catalogUrl && fetched?.url !== new URL(catalogUrl, base).href) return null;
  const shownNotice = fetched?.error ? `Catalog ${fetched.url}: ${fetched.error}` : notice;
  return (
    <ChatWidget
      {...widget}
      model={location}
      catalog={catalog ?? fetched?.catalog ?? null}
      {...(shownNotice !== undefined && { notice: shownNotice })}
    />
  );
}
