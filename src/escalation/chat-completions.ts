/**
 * The chat-completions escalation handler: one streaming POST to an OpenAI-compatible endpoint,
 * read as Server-Sent Events as it arrives. Uses only web platform APIs (fetch, ReadableStream,
 * TextDecoder, AbortController), so it runs the same in browsers and Node 20.
 */
import { AbortError, EscalationError, errorMessage } from '../shared/errors';
import { isRecord, parseJson } from '../shared/validation';
import type { ChatCompletionsEscalationConfig, EscalationRequest } from './types';
import { SseDecoder } from './sse';

/** Default for `ChatCompletionsEscalationConfig.timeoutMs`. */
export const DEFAULT_ESCALATION_TIMEOUT_MS = 30_000;

/** One message of a chat-completions request. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The request's messages: the system prompt when configured, the history, then this turn. */
export function chatCompletionMessages(
  config: Pick<ChatCompletionsEscalationConfig, 'systemPrompt'>,
  request: Pick<EscalationRequest, 'history' | 'message'>,
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (config.systemPrompt !== undefined && config.systemPrompt !== '') {
    messages.push({ role: 'system', content: config.systemPrompt });
  }
  for (const { role, content } of request.history) messages.push({ role, content });
  messages.push({ role: 'user', content: request.message });
  return messages;
}

/** Longest excerpt of an error response's body put in an `escalation-http` message. */
const ERROR_EXCERPT_CHARS = 300;
/** Bytes of an error response read for the excerpt; the rest is not waited for. */
const ERROR_BODY_BYTES = 8192;

/**
 * Sends the turn to `config.url` with `stream: true` and resolves with the whole reply text,
 * calling `onDelta` with the text so far each time a network read adds to it.
 *
 * Accepts an SSE stream (`data: {json}` events carrying `choices[0].delta.content`, ended by
 * `data: [DONE]`; comments and other fields ignored) or, from servers that ignore `stream`, one
 * JSON completion (`choices[0].message.content`). A stream that ends without `[DONE]` after some
 * text resolves with that text (some compatible servers omit `[DONE]`; the reply is not lost).
 *
 * Rejects with `EscalationError`:
 * - `escalation-http`: a non-2xx status, or an `error` object in the body (message has the status
 *   and a short excerpt of the body, with the API key redacted);
 * - `escalation-network`: the endpoint could not be reached (also what a CORS refusal looks like);
 * - `escalation-timeout`: no response within `timeoutMs`, or a gap longer than `timeoutMs` between
 *   two chunks; the request is aborted;
 * - `escalation-bad-stream`: a data line that is not JSON, or a reply that ends with no text.
 *
 * Rejects with `AbortError` when `signal` aborts; an exception thrown by `onDelta` propagates
 * unchanged. Either way the request is aborted.
 */
export async function streamChatCompletion(
  config: ChatCompletionsEscalationConfig,
  request: Pick<EscalationRequest, 'history' | 'message'>,
  options: { signal?: AbortSignal; onDelta?: (textSoFar: string) => void } = {},
): Promise<string> {
  const { signal, onDelta } = options;
  if (signal?.aborted) throw new AbortError();
  const timeoutMs = config.timeoutMs ?? DEFAULT_ESCALATION_TIMEOUT_MS;
  const endpoint = describeEndpoint(config.url);
  // Built before anything needs cleaning up: invalid headers throw TypeError here
  // (escalate() reports them as escalation-unavailable before calling this).
  const headers = new Headers(config.headers);
  headers.set('Content-Type', 'application/json');
  headers.set('Accept', 'text/event-stream, application/json');
  if (config.apiKey !== undefined && config.apiKey !== '') {
    headers.set('Authorization', `Bearer ${config.apiKey}`);
  }
  const controller = new AbortController();
  const onCallerAbort = () => {
    controller.abort();
  };
  signal?.addEventListener('abort', onCallerAbort, { once: true });

  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** (Re)starts the watchdog: one timeout covers the wait for headers, then each gap between reads. */
  const restartTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  let responseStarted = false;
  /** Maps a fetch or read failure to the typed error saying why it happened. */
  const transportError = (error: unknown): Error => {
    if (signal?.aborted) return new AbortError();
    if (timedOut) {
      return new EscalationError(
        'escalation-timeout',
        responseStarted
          ? `The escalation endpoint ${endpoint} stopped sending its reply for ${timeoutMs} ms.`
          : `The escalation endpoint ${endpoint} did not answer within ${timeoutMs} ms.`,
      );
    }
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : undefined;
    const detail =
      cause === undefined ? errorMessage(error) : `${errorMessage(error)}: ${errorMessage(cause)}`;
    return new EscalationError(
      'escalation-network',
      `Could not reach the escalation endpoint ${endpoint} (${redact(detail, config.apiKey)}). ` +
        'Check the URL, that the server is running, and that it allows requests from this page (CORS).',
      { cause: error },
    );
  };

  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    restartTimer();
    let response: Response;
    try {
      response = await fetch(config.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          model: config.model,
          messages: chatCompletionMessages(config, request),
          stream: true,
        }),
        signal: controller.signal,
        // The endpoint is usually another origin: never send this page's cookies to it.
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (error) {
      throw transportError(error);
    }
    responseStarted = true;
    restartTimer();
    const bodyReader = response.body?.getReader();
    reader = bodyReader;
    const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
      if (!bodyReader) return { done: true, value: undefined };
      try {
        const result = await bodyReader.read();
        restartTimer();
        return result;
      } catch (error) {
        throw transportError(error);
      }
    };

    if (!response.ok) {
      const body = await readErrorBody(read).catch(() => '');
      const status = [response.status, response.statusText].filter(Boolean).join(' ');
      const detail = body ? `: ${excerpt(errorBodyMessage(body), config.apiKey)}` : '.';
      throw new EscalationError(
        'escalation-http',
        `The escalation endpoint ${endpoint} answered HTTP ${status}${detail}`,
      );
    }
    return await readReply(read, {
      endpoint,
      apiKey: config.apiKey,
      onDelta,
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
    // On an early exit (error, [DONE] before the server closed) this closes the connection;
    // after a complete read it changes nothing.
    if (reader) reader.cancel().catch(() => undefined);
    controller.abort();
  }
}

type Read = () => Promise<ReadableStreamReadResult<Uint8Array>>;

/** Reads the body of a successful response as SSE or, when it starts with `{`, as one JSON completion. */
async function readReply(
  read: Read,
  context: { endpoint: string; apiKey: string | undefined; onDelta?: (textSoFar: string) => void },
): Promise<string> {
  const { endpoint, apiKey, onDelta } = context;
  // NOTE: the body, not Content-Type, decides: some proxies label a stream text/plain or JSON,
  // and an event stream never starts with `{` while a JSON completion always does.
  let format: 'sse' | 'json' | undefined;
  const sse = new SseDecoder();
  const json = new TextDecoder('utf-8');
  let jsonText = '';
  /** Bytes received while the format is still unknown (only whitespace so far). */
  const undecided: Uint8Array[] = [];
  let text = '';
  let done = false;

  /** Applies one SSE event's data; returns true at `[DONE]`. */
  const onEvent = (data: string): boolean => {
    const trimmed = data.trim();
    if (trimmed === '[DONE]') return true;
    // An empty `data:` line is a keep-alive some servers send instead of a comment.
    if (trimmed === '') return false;
    const payload = parseJson(
      data,
      () =>
        new EscalationError(
          'escalation-bad-stream',
          `The escalation endpoint ${endpoint} sent a stream event that is not JSON: ` +
            excerpt(data, apiKey),
        ),
    );
    throwIfErrorPayload(payload, endpoint, apiKey);
    text += deltaContent(payload);
    return false;
  };

  while (!done) {
    const { done: ended, value } = await read();
    if (ended) break;
    let bytes: Uint8Array[] = [value];
    if (format === undefined) {
      undecided.push(value);
      format = sniffFormat(value);
      if (format === undefined) continue;
      bytes = undecided.splice(0);
    }
    const before = text;
    for (const chunk of bytes) {
      if (format === 'json') {
        jsonText += json.decode(chunk, { stream: true });
        continue;
      }
      for (const data of sse.push(chunk)) {
        if (onEvent(data)) {
          done = true;
          break;
        }
      }
      if (done) break;
    }
    if (text !== before) onDelta?.(text);
  }

  if (format === 'json') {
    text = jsonCompletionContent(jsonText + json.decode(), endpoint, apiKey);
    if (text !== '') onDelta?.(text);
  } else if (!done) {
    // The server closed without [DONE]: take an event it left unterminated, keep what arrived.
    const before = text;
    for (const data of sse.end()) {
      if (onEvent(data)) break;
    }
    if (text !== before) onDelta?.(text);
    if (text === '') {
      throw new EscalationError(
        'escalation-bad-stream',
        `The escalation endpoint ${endpoint} closed its stream before sending any reply text.`,
      );
    }
  }
  if (text === '') {
    throw new EscalationError(
      'escalation-bad-stream',
      `The escalation endpoint ${endpoint} finished its reply without any text.`,
    );
  }
  return text;
}

/** `json` when the first non-blank byte opens an object, `sse` for anything else, undefined if all blank. */
function sniffFormat(bytes: Uint8Array): 'sse' | 'json' | undefined {
  for (const byte of bytes) {
    // Spaces, tabs, line ends and the UTF-8 byte order mark (EF BB BF) say nothing yet.
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    if (byte === 0xef || byte === 0xbb || byte === 0xbf) continue;
    return byte === 0x7b ? 'json' : 'sse';
  }
  return undefined;
}

/** The first choice (index 0) of a chunk or completion, if any. */
function firstChoice(payload: unknown): Record<string, unknown> | undefined {
  if (!isRecord(payload) || !Array.isArray(payload.choices)) return undefined;
  const choices: unknown[] = payload.choices;
  const choice = choices.find((entry) => isRecord(entry) && (entry.index ?? 0) === 0);
  return isRecord(choice) ? choice : undefined;
}

/** `choices[0].delta.content` of a stream chunk; '' for role-only, finish and usage chunks. */
function deltaContent(payload: unknown): string {
  const delta = firstChoice(payload)?.delta;
  return isRecord(delta) && typeof delta.content === 'string' ? delta.content : '';
}

/** OpenAI-compatible servers report failures inside a 200 stream as `{"error": {...}}`. */
function throwIfErrorPayload(payload: unknown, endpoint: string, apiKey: string | undefined): void {
  if (!isRecord(payload) || payload.error === undefined || payload.error === null) return;
  throw new EscalationError(
    'escalation-http',
    `The escalation endpoint ${endpoint} reported an error: ` +
      excerpt(errorBodyMessage(JSON.stringify(payload)), apiKey),
  );
}

/** `choices[0].message.content` of a non-streaming completion. */
function jsonCompletionContent(body: string, endpoint: string, apiKey: string | undefined): string {
  const payload = parseJson(
    body,
    () =>
      new EscalationError(
        'escalation-bad-stream',
        `The escalation endpoint ${endpoint} sent a reply that is not JSON: ${excerpt(body, apiKey)}`,
      ),
  );
  throwIfErrorPayload(payload, endpoint, apiKey);
  const message = firstChoice(payload)?.message;
  if (!isRecord(message) || typeof message.content !== 'string') {
    throw new EscalationError(
      'escalation-bad-stream',
      `The escalation endpoint ${endpoint} sent JSON without choices[0].message.content: ` +
        excerpt(body, apiKey),
    );
  }
  return message.content;
}

/** Up to `ERROR_BODY_BYTES` of an error response, decoded. */
async function readErrorBody(read: Read): Promise<string> {
  const decoder = new TextDecoder('utf-8');
  let body = '';
  let bytes = 0;
  while (bytes < ERROR_BODY_BYTES) {
    const { done, value } = await read();
    if (done) break;
    bytes += value.byteLength;
    body += decoder.decode(value, { stream: true });
  }
  return body + decoder.decode();
}

/** The `error.message` of an OpenAI-style error body, or the body itself. */
function errorBodyMessage(body: string): string {
  try {
    const payload: unknown = JSON.parse(body);
    if (isRecord(payload)) {
      const { error } = payload;
      if (typeof error === 'string') return error;
      if (isRecord(error) && typeof error.message === 'string') return error.message;
    }
  } catch {
    // Not JSON (an HTML error page, plain text): show the text itself.
  }
  return body;
}

/** A short one-line excerpt of server text for an error message, with the API key removed. */
function excerpt(text: string, apiKey: string | undefined): string {
  const line = redact(text, apiKey).replace(/\s+/g, ' ').trim();
  return line.length > ERROR_EXCERPT_CHARS ? `${line.slice(0, ERROR_EXCERPT_CHARS)}…` : line;
}

/** Removes the API key from text a server or runtime produced (some servers echo it back). */
function redact(text: string, apiKey: string | undefined): string {
  return apiKey ? text.split(apiKey).join('[api key]') : text;
}

/** Origin and path of the endpoint, for messages: the query string may carry credentials. */
function describeEndpoint(url: string): string {
  try {
    const { origin, pathname } = new URL(url);
    return `${origin}${pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
