/**
 * The chat-completions escalation handler: one streaming POST to an OpenAI-compatible endpoint,
 * read as Server-Sent Events as it arrives. Uses only web platform APIs (fetch, ReadableStream,
 * TextDecoder, AbortController), so it runs the same in browsers and Node 20.
 *
 * Egress is bounded here, for escalations and catalog agents alike: the conversation goes to the
 * configured URL only (redirects are refused), at most `maxHistoryBytes` of it; at most
 * `maxReplyBytes` of reply are kept; the whole call ends within `timeoutMs`.
 */
import { AbortError, EscalationError, errorMessage } from '../shared/errors';
import { isRecord, MAX_TIMEOUT_MS, parseJson } from '../shared/validation';
import type {
  ChatCompletionsEscalationConfig,
  EscalationHistoryMessage,
  EscalationRequest,
} from './types';
import { SseDecoder } from './sse';

/**
 * Default for `ChatCompletionsEscalationConfig.timeoutMs`: the whole call, request to last byte.
 * A customer-service answer of a few hundred tokens streams in well under it; most of a
 * full-size (`DEFAULT_MAX_REPLY_BYTES`) reply still fits at 50 tokens a second.
 */
export const DEFAULT_ESCALATION_TIMEOUT_MS = 60_000;
/**
 * Default for `maxReplyBytes`: 16 KiB of text, about 5,000 Chinese characters or 2,500 English
 * words — far more than a chat answer needs, small enough that showing and saving it never
 * stalls the page and that sending it back as history later stays cheap.
 */
export const DEFAULT_MAX_REPLY_BYTES = 16_384;
/**
 * Default for `maxHistoryBytes`: 32 KiB, twice the reply cap, so this message, the last full-size
 * reply and the turns before it fit; under 16k tokens, which every current model accepts.
 */
export const DEFAULT_MAX_HISTORY_BYTES = 32_768;
/**
 * The response body may be this many times `maxReplyBytes` (2 MiB by default): OpenAI's stream
 * spends about 200 bytes of JSON per event on a token of 1–4 bytes, and servers add keep-alives.
 * Past it the call rejects as a reply too large, however little text it carried.
 */
export const BODY_BYTES_PER_REPLY_BYTE = 128;

/** One message of a chat-completions request. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The limits of one call, defaults filled in. */
interface CallLimits {
  timeoutMs: number;
  maxReplyBytes: number;
  maxHistoryBytes: number;
}

/**
 * Problems with the limits of a host-supplied config (`timeoutMs`, `maxReplyBytes`,
 * `maxHistoryBytes`); empty when they are absent or valid.
 */
export function limitProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const { timeoutMs } = config;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMEOUT_MS)
  ) {
    problems.push(`"timeoutMs" must be a positive number of milliseconds up to ${MAX_TIMEOUT_MS}`);
  }
  for (const name of ['maxReplyBytes', 'maxHistoryBytes'] as const) {
    const value = config[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) {
      problems.push(`"${name}" must be a positive whole number of bytes`);
    }
  }
  return problems;
}

function callLimits(config: ChatCompletionsEscalationConfig): CallLimits {
  // Agents (src/router) call streamChatCompletion without escalate()'s check: check the limits here.
  const problems = limitProblems(config as unknown as Record<string, unknown>);
  if (problems.length > 0) {
    throw new EscalationError(
      'escalation-unavailable',
      `The escalation handler is misconfigured: ${problems.join('; ')}.`,
    );
  }
  return {
    timeoutMs: config.timeoutMs ?? DEFAULT_ESCALATION_TIMEOUT_MS,
    maxReplyBytes: config.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES,
    maxHistoryBytes: config.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES,
  };
}

/**
 * The request's messages: the system prompt when configured, the most recent history that fits
 * in `maxHistoryBytes` together with this turn's message, then the message.
 *
 * Throws `EscalationError` `escalation-unavailable` when the message alone is over the cap.
 */
export function chatCompletionMessages(
  config: Pick<ChatCompletionsEscalationConfig, 'systemPrompt' | 'maxHistoryBytes'>,
  request: Pick<EscalationRequest, 'history' | 'message'>,
): ChatMessage[] {
  const maxBytes = config.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES;
  const messages: ChatMessage[] = [];
  if (config.systemPrompt !== undefined && config.systemPrompt !== '') {
    messages.push({ role: 'system', content: config.systemPrompt });
  }
  for (const { role, content } of recentHistory(request.history, request.message, maxBytes)) {
    messages.push({ role, content });
  }
  messages.push({ role: 'user', content: request.message });
  return messages;
}

/**
 * The latest turns of `history` whose text fits in `maxBytes` (UTF-8) beside `message`: oldest
 * left out first, whole messages only, starting with a user message.
 */
function recentHistory(
  history: readonly EscalationHistoryMessage[],
  message: string,
  maxBytes: number,
): readonly EscalationHistoryMessage[] {
  const messageBytes = utf8Length(message);
  if (messageBytes > maxBytes) {
    throw new EscalationError(
      'escalation-unavailable',
      `This message is ${messageBytes} bytes long, more than the ${maxBytes} bytes ` +
        '(maxHistoryBytes) sent to the escalation endpoint, so it was not sent. Send a shorter message.',
    );
  }
  let budget = maxBytes - messageBytes;
  let start = history.length;
  while (start > 0) {
    const size = utf8Length(history[start - 1]?.content ?? '');
    if (size > budget) break;
    budget -= size;
    start -= 1;
  }
  // NOTE: an answer whose question was left out would read as the model's own opening line.
  while (start < history.length && history[start]?.role !== 'user') start += 1;
  return history.slice(start);
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
 * Bounded: the history sent is cut to `maxHistoryBytes` (see `chatCompletionMessages`), redirects
 * are refused, `onDelta` never sees more than `maxReplyBytes` of text, and the whole call ends
 * within `timeoutMs`.
 *
 * Rejects with `EscalationError`:
 * - `escalation-http`: a non-2xx status, or an `error` object in the body (message has the status
 *   and a short excerpt of the body, with the API key redacted);
 * - `escalation-network`: the endpoint could not be reached (also what a CORS refusal looks like),
 *   or it answered with a redirect, which is never followed: the conversation goes to no other
 *   address;
 * - `escalation-timeout`: the call, from the request to the end of the reply, took longer than
 *   `timeoutMs`; the request is aborted;
 * - `escalation-bad-stream`: a data line that is not JSON, a reply that ends with no text, or a
 *   reply over `maxReplyBytes` (or a body over `BODY_BYTES_PER_REPLY_BYTE` times that), in which
 *   case `onDelta` has had the text up to the cap and the request is aborted;
 * - `escalation-unavailable`: this message alone is over `maxHistoryBytes`, or a limit in the
 *   config is invalid; nothing is sent.
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
  const { timeoutMs, maxReplyBytes } = callLimits(config);
  const endpoint = describeEndpoint(config.url);
  // Built before anything needs cleaning up: invalid headers throw TypeError here
  // (escalate() reports them as escalation-unavailable before calling this).
  const headers = new Headers(config.headers);
  headers.set('Content-Type', 'application/json');
  headers.set('Accept', 'text/event-stream, application/json');
  if (config.apiKey !== undefined && config.apiKey !== '') {
    headers.set('Authorization', `Bearer ${config.apiKey}`);
  }
  const body = JSON.stringify({
    model: config.model,
    messages: chatCompletionMessages(config, request),
    stream: true,
  });
  const controller = new AbortController();
  const onCallerAbort = () => {
    controller.abort();
  };
  signal?.addEventListener('abort', onCallerAbort, { once: true });

  let timedOut = false;
  // NOTE: one deadline for the whole call, never restarted: a timer reset by each chunk lets a
  // server that drips a byte at a time hold the call open for ever.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  let responseStarted = false;
  /** Maps a fetch or read failure to the typed error saying why it happened. */
  const transportError = (error: unknown): Error => {
    if (signal?.aborted) return new AbortError();
    if (timedOut) {
      return new EscalationError(
        'escalation-timeout',
        responseStarted
          ? `The escalation endpoint ${endpoint} did not finish its reply within ${timeoutMs} ms.`
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
    let response: Response;
    try {
      response = await fetch(config.url, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
        // The endpoint is usually another origin: never send this page's cookies to it.
        credentials: 'omit',
        cache: 'no-store',
        // NOTE: a redirect would re-send the conversation to an address the host never chose
        // (a 307 keeps the POST body). `manual` rather than `error`: both refuse to follow, but
        // only `manual` lets the error say it was a redirect (browsers report `error` as a bare
        // "Failed to fetch").
        redirect: 'manual',
      });
    } catch (error) {
      throw transportError(error);
    }
    responseStarted = true;
    if (isRedirect(response)) throw redirectError(response, endpoint);
    const bodyReader = response.body?.getReader();
    reader = bodyReader;
    const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
      if (!bodyReader) return { done: true, value: undefined };
      try {
        return await bodyReader.read();
      } catch (error) {
        throw transportError(error);
      }
    };

    if (!response.ok) {
      const errorBody = await readErrorBody(read).catch(() => '');
      const status = [response.status, response.statusText].filter(Boolean).join(' ');
      const detail = errorBody ? `: ${excerpt(errorBodyMessage(errorBody), config.apiKey)}` : '.';
      throw new EscalationError(
        'escalation-http',
        `The escalation endpoint ${endpoint} answered HTTP ${status}${detail}`,
      );
    }
    return await readReply(read, {
      endpoint,
      apiKey: config.apiKey,
      maxReplyBytes,
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

/** A 3xx answer (Node's fetch) or the opaque stand-in browsers give for one under `manual`. */
function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
}

function redirectError(response: Response, endpoint: string): EscalationError {
  let target = '';
  try {
    // Only the origin: the query string may carry credentials. Browsers hide the Location.
    const location = response.headers.get('Location');
    if (location) target = ` to ${new URL(location, response.url || undefined).origin}`;
  } catch {
    // A relative or malformed Location with no base: say nothing about where.
  }
  const status = response.status === 0 ? '' : ` (HTTP ${response.status})`;
  return new EscalationError(
    'escalation-network',
    `The escalation endpoint ${endpoint} answered with a redirect${target}${status}. Redirects ` +
      'are refused, so the conversation goes only to the configured address: configure the ' +
      'final address instead, if you trust it.',
  );
}

type Read = () => Promise<ReadableStreamReadResult<Uint8Array>>;

/**
 * Reads the body of a successful response as SSE or, when it starts with `{`, as one JSON
 * completion, keeping at most `maxReplyBytes` of text.
 */
async function readReply(
  read: Read,
  context: {
    endpoint: string;
    apiKey: string | undefined;
    maxReplyBytes: number;
    onDelta?: (textSoFar: string) => void;
  },
): Promise<string> {
  const { endpoint, apiKey, maxReplyBytes, onDelta } = context;
  const maxBodyBytes = maxReplyBytes * BODY_BYTES_PER_REPLY_BYTE;
  // NOTE: the body, not Content-Type, decides: some proxies label a stream text/plain or JSON,
  // and an event stream never starts with `{` while a JSON completion always does.
  let format: 'sse' | 'json' | undefined;
  const sse = new SseDecoder();
  const json = new TextDecoder('utf-8');
  let jsonText = '';
  /** Bytes received while the format is still unknown (only whitespace so far). */
  const undecided: Uint8Array[] = [];
  let bodyBytes = 0;
  const reply = new CappedText(maxReplyBytes);
  let done = false;

  const tooLarge = () =>
    new EscalationError(
      'escalation-bad-stream',
      `The escalation endpoint ${endpoint} sent a reply longer than ${maxReplyBytes} bytes ` +
        '(maxReplyBytes): it is shown up to there and the rest was not read.',
    );

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
    reply.add(deltaContent(payload));
    return false;
  };

  while (!done) {
    const { done: ended, value } = await read();
    if (ended) break;
    bodyBytes += value.byteLength;
    if (bodyBytes > maxBodyBytes) {
      throw new EscalationError(
        'escalation-bad-stream',
        `The escalation endpoint ${endpoint} sent more than ${maxBodyBytes} bytes ` +
          `(${BODY_BYTES_PER_REPLY_BYTE} × maxReplyBytes) without finishing its reply; the rest was not read.`,
      );
    }
    let bytes: Uint8Array[] = [value];
    if (format === undefined) {
      undecided.push(value);
      format = sniffFormat(value);
      if (format === undefined) continue;
      bytes = undecided.splice(0);
    }
    const before = reply.text;
    for (const chunk of bytes) {
      if (format === 'json') {
        jsonText += json.decode(chunk, { stream: true });
        continue;
      }
      for (const data of sse.push(chunk)) {
        if (onEvent(data) || reply.isCut()) {
          done = true;
          break;
        }
      }
      if (done) break;
    }
    if (reply.text !== before) onDelta?.(reply.text);
    if (reply.isCut()) throw tooLarge();
  }

  if (format === 'json') {
    reply.add(jsonCompletionContent(jsonText + json.decode(), endpoint, apiKey));
    if (reply.text !== '') onDelta?.(reply.text);
    if (reply.isCut()) throw tooLarge();
  } else if (!done) {
    // The server closed without [DONE]: take an event it left unterminated, keep what arrived.
    const before = reply.text;
    for (const data of sse.end()) {
      if (onEvent(data)) break;
    }
    if (reply.text !== before) onDelta?.(reply.text);
    if (reply.isCut()) throw tooLarge();
    if (reply.text === '') {
      throw new EscalationError(
        'escalation-bad-stream',
        `The escalation endpoint ${endpoint} closed its stream before sending any reply text.`,
      );
    }
  }
  if (reply.text === '') {
    throw new EscalationError(
      'escalation-bad-stream',
      `The escalation endpoint ${endpoint} finished its reply without any text.`,
    );
  }
  return reply.text;
}

/** Reply text as it arrives, kept up to `maxBytes` of UTF-8 and cut there between characters. */
class CappedText {
  #text = '';
  #bytes = 0;
  #cut = false;

  constructor(private readonly maxBytes: number) {}

  get text(): string {
    return this.#text;
  }

  /** Whether a piece did not fit (`text` then holds what did; later pieces are dropped). */
  isCut(): boolean {
    return this.#cut;
  }

  add(piece: string): void {
    if (this.#cut || piece === '') return;
    const size = utf8Length(piece);
    if (this.#bytes + size <= this.maxBytes) {
      this.#text += piece;
      this.#bytes += size;
      return;
    }
    this.#text += piece.slice(0, utf8Prefix(piece, this.maxBytes - this.#bytes));
    this.#cut = true;
  }
}

/** UTF-8 bytes of `text` (a lone surrogate counts as the 3 bytes of U+FFFD it is sent as). */
function utf8Length(text: string): number {
  return utf8Measure(text, Infinity).bytes;
}

/** UTF-16 length of the longest prefix of `text` that fits in `maxBytes` of UTF-8, whole characters only. */
function utf8Prefix(text: string, maxBytes: number): number {
  return utf8Measure(text, maxBytes).end;
}

function utf8Measure(text: string, maxBytes: number): { end: number; bytes: number } {
  let bytes = 0;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    let units = 1;
    let size = code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        units = 2;
        size = 4;
      }
    }
    if (bytes + size > maxBytes) break;
    bytes += size;
    index += units;
  }
  return { end: index, bytes };
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
