/**
 * A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests: started by the test
 * itself (no network), one behaviour per request chosen by the request's `model`, every request
 * recorded. Browsers may call it from another origin (CORS preflight answered, CORP
 * cross-origin), so Playwright tests can point the widget at it.
 *
 * Models:
 * - `ok`: streams `OK_REPLY` in several SSE events (a role-only first chunk, a keep-alive comment,
 *   writes cut inside a UTF-8 character and inside `\r\n`, a finish chunk, `[DONE]`), pausing
 *   between writes. Answers one JSON completion instead when the request's `stream` is not true.
 * - `ok-json`: one non-streaming JSON completion with `OK_REPLY`, whatever `stream` says.
 * - `echo`: streams `ECHO_PREFIX` + the last user message.
 * - `html`: streams `HTML_REPLY` (markup that must be shown as text).
 * - `no-done`: streams `OK_REPLY` and closes without `[DONE]`.
 * - `empty`: a stream with no content, then `[DONE]`.
 * - `fail-500`: HTTP 500 with an OpenAI-style error body.
 * - `fail-401`: HTTP 401 whose message echoes the bearer token (as careless servers do).
 * - `stream-error`: one content chunk, then `data: {"error": …}` and `[DONE]`.
 * - `hang`: reads the request and never answers (no headers).
 * - `stall`: streams the first chunk of `OK_REPLY`, then sends nothing more.
 * - `malformed`: one content chunk, then a data line that is not JSON, then `[DONE]`.
 * - `redirect`: HTTP 307 to the server's `redirectTo` (another test server), as a hijacked or
 *   misconfigured endpoint might; a server started without `redirectTo` answers it as `ok`, so a
 *   client that follows the redirect gets the other server's reply.
 * - `huge`: streams `HUGE_REPLY_BYTES` (10 MB) of reply text as fast as the client reads it.
 * - `huge-json`: one JSON completion whose content is `HUGE_REPLY_BYTES` long.
 * - `flood`: `HUGE_REPLY_BYTES` of SSE keep-alive comments, then `[DONE]`: a body with no text.
 * - `drip`: one content event (`DRIP_TEXT`), then `[DONE]`, sent one byte every
 *   `DRIP_INTERVAL_MS` (about 3 s in all): a server that keeps a per-chunk timer from firing.
 * - anything else: HTTP 404 `model_not_found`, as OpenAI answers an unknown model.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The reply of `ok`, `ok-json`, `no-done` and (its first piece) `stall`. */
export const OK_REPLY = '您好，我是人工客服小李。已经收到您的问题，请稍等，我马上为您查询。Thanks!';
/** The reply of `html`: the widget must show it as text, never run it. */
export const HTML_REPLY = '请看这张图：<img src=x onerror=alert(1)> 以及 <b>粗体</b>';
/** `echo` answers with this followed by the last user message. */
export const ECHO_PREFIX = '收到：';
/** The message of the `fail-500` error body. */
export const FAIL_500_MESSAGE = 'The test server failed on purpose.';

/** Bytes of reply text (`huge`, `huge-json`) or of keep-alives (`flood`): 10 MB. */
export const HUGE_REPLY_BYTES = 10_000_000;
/** The reply `drip` sends, a byte at a time. */
export const DRIP_TEXT = '滴';
/** Pause between two bytes of `drip` (the server waited a second; tests need no more than this). */
export const DRIP_INTERVAL_MS = 50;

/** The parts of `OK_REPLY` sent as separate events by `ok` (their concatenation is `OK_REPLY`). */
export const OK_REPLY_PIECES = [
  '您好，',
  '我是人工客服小李。',
  '已经收到您的问题，',
  '请稍等，我马上为您查询。',
  'Thanks!',
];

/** One request the server received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-case header names, as Node gives them. */
  headers: Record<string, string>;
  /** The parsed JSON body (null for none, the raw text when it is not JSON). */
  body: unknown;
  /** Becomes true when the client went away before the response was complete (an abort). */
  disconnected: boolean;
}

export interface OpenAiTestServer {
  /** The chat-completions endpoint to configure, e.g. `http://127.0.0.1:41234/v1/chat/completions`. */
  url: string;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Every request so far, oldest first (CORS preflights included, with method OPTIONS). */
  requests: RecordedRequest[];
  /** The POST requests only. */
  completions(): RecordedRequest[];
  /** Stops listening and destroys open connections (hanging and stalled ones included). */
  close(): Promise<void>;
}

/** Pause between writes of a streamed reply, so they reach the client as separate reads. */
const CHUNK_PAUSE_MS = 15;

export interface OpenAiTestServerOptions {
  /** Where `redirect` sends the client (HTTP 307): another server's URL. */
  redirectTo?: string;
}

/** Starts the server on 127.0.0.1 at a free port. */
export async function startOpenAiServer(
  options: OpenAiTestServerOptions = {},
): Promise<OpenAiTestServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    handle(request, response, requests, options).catch((error: unknown) => {
      if (!response.headersSent) {
        sendJson(response, 500, { error: { message: String(error), type: 'server_error' } });
      } else {
        response.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/v1/chat/completions`,
    origin,
    requests,
    completions: () => requests.filter((entry) => entry.method === 'POST'),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function corsHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    // A wildcard does not cover Authorization, so name the headers (and any the page asks for).
    'Access-Control-Allow-Headers':
      request.headers['access-control-request-headers'] ?? 'Authorization, Content-Type',
    'Access-Control-Max-Age': '600',
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };
  if (request.headers['access-control-request-private-network'] === 'true') {
    headers['Access-Control-Allow-Private-Network'] = 'true';
  }
  return headers;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function recordHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  requests: RecordedRequest[],
  options: OpenAiTestServerOptions,
): Promise<void> {
  for (const [name, value] of Object.entries(corsHeaders(request))) {
    response.setHeader(name, value);
  }
  const text = await readBody(request);
  let body: unknown = null;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  const entry: RecordedRequest = {
    method: request.method ?? '',
    path: request.url ?? '',
    headers: recordHeaders(request),
    body,
    disconnected: false,
  };
  requests.push(entry);
  response.on('close', () => {
    if (!response.writableFinished) entry.disconnected = true;
  });

  if (request.method === 'OPTIONS') {
    response.writeHead(204);
    response.end();
    return;
  }
  if (request.method !== 'POST') {
    sendJson(response, 405, { error: { message: 'Only POST is supported.' } });
    return;
  }
  if (typeof body !== 'object' || body === null) {
    sendJson(response, 400, { error: { message: 'The body must be a JSON object.' } });
    return;
  }
  const { model, stream, messages } = body as {
    model?: unknown;
    stream?: unknown;
    messages?: unknown;
  };
  const modelName = typeof model === 'string' ? model : '';
  const sse = new SseWriter(response, modelName);

  switch (modelName) {
    case 'redirect':
      if (options.redirectTo !== undefined) {
        // 307 keeps the method and the body: a client that follows re-POSTs the conversation.
        response.writeHead(307, { Location: options.redirectTo });
        response.end();
        return;
      }
      await streamOk(sse);
      return;
    case 'ok':
      if (stream !== true) {
        sendJson(response, 200, completion(modelName, OK_REPLY));
        return;
      }
      await streamOk(sse);
      return;
    case 'ok-json':
      sendJson(response, 200, completion(modelName, OK_REPLY));
      return;
    case 'echo':
      await sse.start();
      await sse.content(ECHO_PREFIX + lastUserMessage(messages));
      await sse.done();
      return;
    case 'html':
      await sse.start();
      await sse.content(HTML_REPLY.slice(0, 6));
      await sse.content(HTML_REPLY.slice(6));
      await sse.done();
      return;
    case 'no-done':
      await sse.start();
      for (const piece of OK_REPLY_PIECES) await sse.content(piece);
      if (!response.destroyed) response.end();
      return;
    case 'empty':
      await sse.start();
      await sse.chunk({ role: 'assistant', content: '' });
      await sse.done();
      return;
    case 'fail-500':
      sendJson(response, 500, { error: { message: FAIL_500_MESSAGE, type: 'server_error' } });
      return;
    case 'fail-401': {
      const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
      sendJson(response, 401, {
        error: { message: `Incorrect API key provided: ${token}.`, type: 'invalid_request_error' },
      });
      return;
    }
    case 'stream-error':
      await sse.start();
      await sse.content(OK_REPLY_PIECES[0] ?? '');
      await sse.write(
        `data: ${JSON.stringify({ error: { message: 'Rate limit reached.', type: 'rate_limit' } })}\n\n`,
      );
      await sse.done();
      return;
    case 'huge':
      await streamHuge(response, sse);
      return;
    case 'huge-json':
      sendJson(response, 200, completion(modelName, 'x'.repeat(HUGE_REPLY_BYTES)));
      return;
    case 'flood':
      await sse.start();
      await writeRepeated(response, ': keep-alive\n\n', HUGE_REPLY_BYTES);
      await sse.done();
      return;
    case 'drip': {
      response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' });
      response.flushHeaders();
      const event = `data: ${JSON.stringify({ choices: [{ delta: { content: DRIP_TEXT } }] })}\n\n`;
      const bytes = Buffer.from(`${event}data: [DONE]\n\n`, 'utf8');
      for (const byte of bytes) {
        await new Promise((resolve) => setTimeout(resolve, DRIP_INTERVAL_MS));
        if (response.destroyed) return;
        response.write(Buffer.of(byte));
      }
      response.end();
      return;
    }
    case 'hang':
      // Never answer; close() destroys the socket.
      return;
    case 'stall':
      await sse.start();
      await sse.content(OK_REPLY_PIECES[0] ?? '');
      return;
    case 'malformed':
      await sse.start();
      await sse.content(OK_REPLY_PIECES[0] ?? '');
      await sse.write('data: {"choices": [{"delta": {"content": \n\n');
      await sse.done();
      return;
    default:
      sendJson(response, 404, {
        error: {
          message: `The model \`${modelName}\` does not exist.`,
          type: 'invalid_request_error',
          code: 'model_not_found',
        },
      });
  }
}

/** `ok`: the reply in pieces, with the awkward cuts a real network produces. */
async function streamOk(sse: SseWriter): Promise<void> {
  await sse.start();
  await sse.chunk({ role: 'assistant', content: '' });
  await sse.write(': keep-alive\n\n');
  for (const [index, piece] of OK_REPLY_PIECES.entries()) {
    const event = Buffer.from(sse.event({ content: piece }), 'utf8');
    if (index === 1) {
      // Cut inside the UTF-8 bytes of the first character of the content (我 is 3 bytes).
      const cut = event.indexOf(Buffer.from('我', 'utf8')) + 1;
      await sse.write(event.subarray(0, cut));
      await sse.write(event.subarray(cut));
    } else if (index === 2) {
      // CRLF line ends, cut between \r and \n.
      const crlf = Buffer.from(event.toString('utf8').replace(/\n/g, '\r\n'), 'utf8');
      const cut = crlf.indexOf('\r') + 1;
      await sse.write(crlf.subarray(0, cut));
      await sse.write(crlf.subarray(cut));
    } else {
      await sse.write(event);
    }
  }
  await sse.chunk({}, 'stop');
  await sse.done();
}

/** `huge`: `HUGE_REPLY_BYTES` of text in 16 KB events, as fast as the client takes them. */
async function streamHuge(response: ServerResponse, sse: SseWriter): Promise<void> {
  await sse.start();
  const event = sse.event({ content: 'x'.repeat(16_000) });
  await writeRepeated(response, event, HUGE_REPLY_BYTES, 16_000);
  await sse.done();
}

/**
 * Writes `piece` until `total` bytes (of `unit` each) have gone, waiting whenever the socket's
 * buffer is full; stops when the client goes away.
 */
async function writeRepeated(
  response: ServerResponse,
  piece: string,
  total: number,
  unit = Buffer.byteLength(piece),
): Promise<void> {
  const chunk = Buffer.from(piece, 'utf8');
  for (let sent = 0; sent < total; sent += unit) {
    if (response.destroyed) return;
    if (!response.write(chunk)) await drained(response);
  }
}

/** Resolves when the socket can take more, or the client has gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      response.off('drain', settle);
      response.off('close', settle);
      resolve();
    };
    response.on('drain', settle);
    response.on('close', settle);
  });
}

function lastUserMessage(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (const message of [...(messages as unknown[])].reverse()) {
    if (typeof message !== 'object' || message === null) continue;
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (role === 'user' && typeof content === 'string') return content;
  }
  return '';
}

function completion(model: string, content: string): unknown {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
  };
}

/** Writes chat.completion.chunk events the way OpenAI's API does. */
class SseWriter {
  constructor(
    private readonly response: ServerResponse,
    private readonly model: string,
  ) {}

  async start(): Promise<void> {
    this.response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    this.response.flushHeaders();
    await pause();
  }

  event(delta: Record<string, unknown>, finishReason: string | null = null): string {
    const chunk = {
      id: 'chatcmpl-test',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }

  async chunk(delta: Record<string, unknown>, finishReason: string | null = null): Promise<void> {
    await this.write(this.event(delta, finishReason));
  }

  async content(text: string): Promise<void> {
    await this.chunk({ content: text });
  }

  /** Sends `[DONE]` and ends the response at once (clients close as soon as they read it). */
  done(): Promise<void> {
    if (!this.response.destroyed) this.response.end('data: [DONE]\n\n');
    return Promise.resolve();
  }

  /** Writes raw bytes, then pauses; does nothing once the client has gone. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.response.destroyed) return;
    this.response.write(data);
    await pause();
  }
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, CHUNK_PAUSE_MS));
}
