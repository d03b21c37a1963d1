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
