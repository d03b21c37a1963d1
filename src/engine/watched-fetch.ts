/**
 * A `fetch` for model downloads that fails instead of hanging. A network that drops mid-transfer
 * does not always reset the connection: a lost Wi-Fi link, a sleeping laptop or Chromium's own
 * offline mode leave the response body waiting for bytes that never come, and transformers.js
 * would wait with it — a progress bar stuck for ever. Here a download fails with a `TypeError`
 * (what `fetch` itself throws for network errors, so callers already treat it as one) when:
 *
 * - the headers, or the body's next bytes, were awaited for `stallMs` without arriving (time the
 *   caller spends not reading is not a stall), or
 * - the `offline` event fires on `onlineEvents` (the worker's or page's global scope) before the
 *   body was read to its end.
 *
 * The stalled connection is aborted too, so a service worker's copy of the response never
 * completes and nothing partial is cached.
 */

/** How long a model download may go without receiving a byte before it fails. */
export const DEFAULT_DOWNLOAD_STALL_MS = 30_000;

export interface WatchedFetchOptions {
  /** No byte for this long (ms) fails the download. */
  stallMs: number;
  /** Where the `offline` event fires (`self` in a worker); omitted: only stalls are watched. */
  onlineEvents?: EventTarget;
  /** The fetch to watch (default: the global one). */
  fetch?: typeof fetch;
}

/** Wraps `fetch` so that a stalled or offline download rejects (see the module comment). */
export function watchedFetch(options: WatchedFetchOptions): typeof fetch {
  const { stallMs, onlineEvents } = options;
  const innerFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  return async (input, init) => {
    const connection = new AbortController();
    let fail: (error: TypeError) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => {
      fail = (error) => {
        reject(error);
        connection.abort(error);
      };
    });
    // NOTE: a rejection nobody awaits yet (before the body is read) must not be reported as unhandled.
    failure.catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      timer = setTimeout(() => {
        fail(new TypeError(`network: no data received for ${String(stallMs)} ms`));
      }, stallMs);
    };
    const disarm = () => {
      clearTimeout(timer);
    };
    const onOffline = () => {
      fail(new TypeError('network: the browser went offline during the download'));
    };
    const stopWatching = () => {
      disarm();
      onlineEvents?.removeEventListener('offline', onOffline);
    };
    onlineEvents?.addEventListener('offline', onOffline);
    arm();

    const signals = [connection.signal, ...(init?.signal ? [init.signal] : [])];
    let response: Response;
    try {
      response = await Promise.race([
        innerFetch(input, { ...init, signal: AbortSignal.any(signals) }),
        failure,
      ]);
    } catch (error) {
      stopWatching();
      throw error;
    }
    disarm();
    const { body } = response;
    if (body === null) {
      stopWatching();
      return response;
    }
    const reader = body.getReader();
    const watched = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          arm();
          const chunk = await Promise.race([reader.read(), failure]);
          disarm();
          if (chunk.done) {
            stopWatching();
            controller.close();
            return;
          }
          controller.enqueue(chunk.value);
        } catch (error) {
          stopWatching();
          reader.cancel(error).catch(() => undefined);
          controller.error(error);
        }
      },
      cancel(reason) {
        stopWatching();
        connection.abort(reason);
        return reader.cancel(reason);
      },
    });
    return new Response(watched, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** How long a response nobody has started reading stays on offer to a later GET of its URL. */
export const REUSE_WINDOW_MS = 60_000;

interface Offer {
  /** The later request takes the body: this response may no longer read it. */
  withdraw: () => void;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  init: ResponseInit;
}

/**
 * Wraps `fetch` so that a GET of a URL whose previous response's body nobody has started reading
 * (within `windowMs`) is answered with that body instead of a second transfer; the earlier
 * response's body then fails if it is ever read. A body left unread past `windowMs` is cancelled,
 * which frees its connection.
 *
 * NOTE: transformers.js 4.3's `from_pretrained` learns the model files' sizes with a full GET
 * (`get_file_metadata` on a local model), drops the response unread, then GETs each file again to
 * load it. Behind the demo's service worker, which reads every model response to its end to cache
 * it, the weights crossed the network twice; without one, the abandoned transfer held a
 * connection. With this wrapper, the load reads the first transfer.
 */
export function reusingFetch(inner: typeof fetch, windowMs = REUSE_WINDOW_MS): typeof fetch {
  const unread = new Map<string, Offer>();

  const offer = (key: string, reader: Offer['reader'], init: ResponseInit): Response => {
    let mine = true;
    const stopOffering = () => {
      clearTimeout(expiry);
      if (unread.get(key) === entry) unread.delete(key);
    };
    const expiry = setTimeout(() => {
      stopOffering();
      mine = false;
      reader.cancel().catch(() => undefined);
    }, windowMs);
    const entry: Offer = {
      withdraw: () => {
        stopOffering();
        mine = false;
      },
      reader,
      init,
    };
    unread.set(key, entry);
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          stopOffering();
          if (!mine) {
            controller.error(
              new TypeError('this response was unread, and a later request took its body'),
            );
            return;
          }
          try {
            const chunk = await reader.read();
            if (chunk.done) controller.close();
            else controller.enqueue(chunk.value);
          } catch (error) {
            controller.error(error);
          }
        },
        cancel(reason) {
          stopOffering();
          if (!mine) return undefined;
          mine = false;
          return reader.cancel(reason);
        },
      },
      // NOTE: no read-ahead: a body is "started" only when its reader asks for bytes.
      { highWaterMark: 0 },
    );
    return new Response(body, init);
  };

  return async (input, init) => {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const key = reuseKey(input);
    const partial = new Headers(init?.headers).has('range');
    if (method.toUpperCase() !== 'GET' || partial || key === null) return inner(input, init);
    const earlier = unread.get(key);
    if (earlier) {
      earlier.withdraw();
      return offer(key, earlier.reader, earlier.init);
    }
    const response = await inner(input, init);
    if (!response.ok || response.body === null) return response;
    return offer(key, response.body.getReader(), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** The absolute URL a request is for, or null when it has none (then it is never reused). */
function reuseKey(input: string | URL | Request): string | null {
  const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input;
  try {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    return new URL(url, base).href;
  } catch {
    return null;
  }
}
