import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { validateCatalog } from '../catalog/catalog';
import type { Catalog } from '../catalog/types';
import { checkHandlers } from '../router/handler-checks';
import { DataValidationError, errorMessage, serializeError } from '../shared/errors';
import type { Language } from '../shared/language';
import { ChatWidget, type ChatWidgetProps } from '../ui/ChatWidget';
import { WidgetErrorBoundary } from '../ui/ErrorBoundary';
import { resolveModelLocation } from '../client/location';

/** What every embedding (React component, custom element, script tag) accepts. */
export interface EmbedOptions extends Omit<ChatWidgetProps, 'model' | 'catalog'> {
  /** URL of the model folder (`/models/fenliu-demo/`); default `models/fenliu-demo/` beside the page. */
  modelUrl?: string | null;
  /** URL of onnxruntime-web's folder; default `ort/` beside the models root. */
  ortUrl?: string | null;
  /** URL of a catalog JSON file (validated); ignored when `catalog` is given. */
  catalogUrl?: string | null;
  /**
   * The catalog itself, checked like a fetched file (a JSON copy is validated and used). An
   * invalid one is reported to the developer and the widget runs without it.
   */
  catalog?: Catalog | null;
  /** Base for relative URLs; default the document's base URL. */
  baseUrl?: string;
}

/** What the customer reads when the host's catalog could not be used (the developer gets why). */
const CATALOG_NOTICE: Record<Language, string> = {
  zh: '部分设置没能加载，助手先按默认设置回答。',
  en: 'Some of the assistant’s settings could not be loaded; it answers with its defaults.',
};

/** Where a catalog came from, for the developer's problem list. */
const CATALOG_PROPERTY = 'catalog property';

type CatalogCheck = { catalog: Catalog; error?: undefined } | { catalog?: undefined; error: Error };

/** Why a catalog from `file` cannot be used, as the problem list the developer gets. */
function catalogError(file: string, error: unknown): Error {
  return error instanceof DataValidationError
    ? error
    : new DataValidationError(
        'catalog-invalid',
        [{ file, line: 1, reason: `could not be read: ${errorMessage(error)}` }],
        { cause: error },
      );
}

/**
 * A host's catalog, checked exactly like a fetched one: a JSON copy is validated and used, so a
 * getter, a proxy or a later change to the host's object cannot reach the widget.
 */
function checkCatalog(value: unknown, file: string): CatalogCheck {
  try {
    const text = JSON.stringify(value) as string | undefined;
    return { catalog: validateCatalog(text === undefined ? text : JSON.parse(text), file) };
  } catch (error) {
    return { error: catalogError(file, error) };
  }
}

async function fetchCatalog(url: string): Promise<Catalog> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return validateCatalog(await response.json(), url);
}

/**
 * Resolves URLs, checks the host's catalog and handlers, loads a catalog URL, then renders the one
 * widget implementation inside an error boundary: whatever fails in it, the host page does not.
 * Every problem reaches the developer (console and an `error` event, `scope: 'developer'`); the
 * customer sees a short line in their language.
 */
export function EmbeddedChat(props: EmbedOptions) {
  const { onEvent } = props;
  // NOTE: the embeds pass a new callback every render; a failure reports to the latest one.
  const latest = useRef(onEvent);
  useEffect(() => {
    latest.current = onEvent;
  }, [onEvent]);
  const report = useCallback((error: unknown, logged: boolean) => {
    if (!logged) console.error(`fenliu: ${errorMessage(error)}`);
    latest.current?.({
      type: 'error',
      detail: { scope: 'developer', error: serializeError(error) },
    });
  }, []);
  return (
    <WidgetErrorBoundary
      language={props.language}
      theme={props.theme}
      onError={(error) => {
        report(error, true);
      }}
    >
      <CheckedChat {...props} report={report} />
    </WidgetErrorBoundary>
  );
}

function CheckedChat(props: EmbedOptions & { report: (error: unknown, logged: boolean) => void }) {
  const { modelUrl, ortUrl, catalogUrl, catalog, baseUrl, notice, handlers, report, ...widget } =
    props;
  const base = baseUrl ?? document.baseURI;
  const location = useMemo(() => {
    try {
      return resolveModelLocation(modelUrl, ortUrl, base);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }, [modelUrl, ortUrl, base]);
  const given = useMemo(
    () =>
      catalog === undefined || catalog === null ? null : checkCatalog(catalog, CATALOG_PROPERTY),
    [catalog],
  );
  const checkedHandlers = useMemo(() => checkHandlers(handlers), [handlers]);
  const [fetched, setFetched] = useState<{ url: string; catalog?: Catalog; error?: Error }>();

  useEffect(() => {
    if (given || !catalogUrl) return;
    const url = new URL(catalogUrl, base).href;
    let live = true;
    fetchCatalog(url).then(
      (loaded) => {
        if (live) setFetched({ url, catalog: loaded });
      },
      (error: unknown) => {
        if (live) setFetched({ url, error: catalogError(url, error) });
      },
    );
    return () => {
      live = false;
    };
  }, [given, catalogUrl, base]);

  // Each problem is reported once, when the value that has it is set.
  useEffect(() => {
    if (given?.error) report(given.error, false);
  }, [given, report]);
  useEffect(() => {
    if (fetched?.error) report(fetched.error, false);
  }, [fetched, report]);
  useEffect(() => {
    const { problems } = checkedHandlers;
    if (problems.length === 0) return;
    report(
      new DataValidationError(
        'catalog-invalid',
        problems.map((reason) => ({ file: 'handlers', line: 1, reason })),
      ),
      false,
    );
  }, [checkedHandlers, report]);

  if (location instanceof Error) {
    return (
      <p className="status-error" role="alert">
        {location.message}
      </p>
    );
  }
  // NOTE: the session starts once the catalog is here: routes and the catalog/model check need
  // it, and a session started without it would route with the model's intents alone.
  if (!given && catalogUrl && fetched?.url !== new URL(catalogUrl, base).href) return null;
  const catalogFailed = given ? given.error !== undefined : fetched?.error !== undefined;
  const shownNotice = catalogFailed
    ? (language: Language) => (
        <span className="catalog-problem" data-code="catalog-invalid">
          {CATALOG_NOTICE[language]}
        </span>
      )
    : notice;
  return (
    <ChatWidget
      {...widget}
      model={location}
      catalog={given ? (given.catalog ?? null) : (fetched?.catalog ?? null)}
      {...(checkedHandlers.handlers && { handlers: checkedHandlers.handlers })}
      {...(shownNotice !== undefined && { notice: shownNotice })}
    />
  );
}
