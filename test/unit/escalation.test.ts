import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AbortError, EscalationError } from '../../src/shared/errors';
import {
  BODY_BYTES_PER_REPLY_BYTE,
  DEFAULT_MAX_HISTORY_BYTES,
  DEFAULT_MAX_REPLY_BYTES,
  describeEscalationConfig,
  escalate,
  escalationConfigProblems,
  escalationReason,
  streamChatCompletion,
  type ChatCompletionsEscalationConfig,
  type EscalationConfig,
  type EscalationRequest,
} from '../../src/escalation';
import {
  DRIP_INTERVAL_MS,
  ECHO_PREFIX,
  FAIL_500_MESSAGE,
  HTML_REPLY,
  OK_REPLY,
  OK_REPLY_PIECES,
  startOpenAiServer,
  type OpenAiTestServer,
  type RecordedRequest,
} from '../support/openai-server';

const REQUEST: EscalationRequest = {
  reason: 'intent',
  message: '我要转人工',
  intentId: 'human_agent',
  confidence: 0.93,
  language: 'zh',
  history: [
    { role: 'user', content: '帮我查一下订单' },
    { role: 'assistant', content: '请提供 13 位订单号。' },
  ],
};
const API_KEY = 'sk-test-0123456789abcdef';
/** Generous, so a busy machine never turns a normal reply into a timeout. */
const NORMAL_TIMEOUT_MS = 10_000;
/** For the timeout tests: the server never answers, so only the behaviour is asserted. */
const SHORT_TIMEOUT_MS = 200;

let server: OpenAiTestServer;

beforeAll(async () => {
  server = await startOpenAiServer();
});

afterAll(async () => {
  await server.close();
});

function endpoint(
  model: string,
  extra: Partial<ChatCompletionsEscalationConfig> = {},
): ChatCompletionsEscalationConfig {
  return {
    kind: 'chat-completions',
    url: server.url,
    model,
    timeoutMs: NORMAL_TIMEOUT_MS,
    ...extra,
  };
}

/** Runs one escalation, collecting the onDelta calls. */
async function run(config: EscalationConfig | null, signal?: AbortSignal) {
  const deltas: string[] = [];
  const result = await escalate(config, REQUEST, {
    signal,
    onDelta: (soFar) => deltas.push(soFar),
  });
  return { ...result, deltas };
}

/** The rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection, got a result');
}

function lastCompletion(): RecordedRequest {
  const last = server.completions().at(-1);
  if (!last) throw new Error('no request reached the server');
  return last;
}

async function expectDisconnected(entry: RecordedRequest): Promise<void> {
  await vi.waitFor(() => {
    expect(entry.disconnected).toBe(true);
  });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => {
    probe.close(() => {
      resolve();
    });
  });
  return address.port;
}

describe('escalate to a chat-completions endpoint', () => {
  it('streams the reply: the exact text, onDelta with growing prefixes as it arrives', async () => {
    const { kind, text, deltas } = await run(endpoint('ok'));
    expect(kind).toBe('chat-completions');
    expect(text).toBe(OK_REPLY);
    // One call per network read that added text; the server pauses between its five pieces.
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.at(-1)).toBe(OK_REPLY);
    for (const [index, delta] of deltas.entries()) {
      expect(OK_REPLY.startsWith(delta)).toBe(true);
      if (index > 0) expect(delta.length).toBeGreaterThan(deltas[index - 1]?.length ?? 0);
    }
    // The server cut a write inside 我 (a 3-byte character): no replacement character appears.
    expect(deltas.some((delta) => delta.includes('\uFFFD'))).toBe(false);
  });

  it('sends the system prompt, the history and the message, the key as a bearer token, extra headers', async () => {
    await run(
      endpoint('ok', {
        apiKey: API_KEY,
        systemPrompt: '你是客服主管。',
        headers: { 'X-Tenant': 'acme' },
      }),
    );
    const sent = lastCompletion();
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['x-tenant']).toBe('acme');
    expect(sent.body).toEqual({
      model: 'ok',
      stream: true,
      messages: [
        { role: 'system', content: '你是客服主管。' },
        { role: 'user', content: '帮我查一下订单' },
        { role: 'assistant', content: '请提供 13 位订单号。' },
        { role: 'user', content: '我要转人工' },
      ],
    });
  });

  it('sends no Authorization header and no system message when none is configured', async () => {
    await run(endpoint('ok'));
    const sent = lastCompletion();
    expect(sent.headers).not.toHaveProperty('authorization');
    expect(sent.body).toMatchObject({
      messages: [
        { role: 'user', content: '帮我查一下订单' },
        { role: 'assistant', content: '请提供 13 位订单号。' },
        { role: 'user', content: '我要转人工' },
      ],
    });
  });

  it('accepts a non-streaming JSON completion from a server that ignores stream', async () => {
    const { text, deltas } = await run(endpoint('ok-json'));
    expect(text).toBe(OK_REPLY);
    expect(deltas).toEqual([OK_REPLY]);
  });

  it('returns what the endpoint wrote for this message', async () => {
    const { text } = await run(endpoint('echo'));
    expect(text).toBe(`${ECHO_PREFIX}我要转人工`);
  });

  it('returns markup in a reply verbatim, as text for the widget to show as text', async () => {
    const { text } = await run(endpoint('html'));
    expect(text).toBe(HTML_REPLY);
    expect(text).toContain('<img src=x onerror=alert(1)>');
  });

  it('keeps the text of a stream that ends without [DONE]', async () => {
    const { text, deltas } = await run(endpoint('no-done'));
    expect(text).toBe(OK_REPLY);
    expect(deltas.at(-1)).toBe(OK_REPLY);
  });

  it('rejects a stream with no reply text with escalation-bad-stream', async () => {
    const error = await rejection(run(endpoint('empty')));
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-bad-stream');
  });

  it('rejects a data line that is not JSON with escalation-bad-stream, after showing what came before', async () => {
    const deltas: string[] = [];
    const error = await rejection(
      escalate(endpoint('malformed'), REQUEST, { onDelta: (soFar) => deltas.push(soFar) }),
    );
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-bad-stream');
    expect(error.message).toContain('not JSON');
    expect(deltas).toEqual([OK_REPLY_PIECES[0]]);
  });

  it('rejects HTTP 500 with escalation-http, the status and the server message', async () => {
    const error = await rejection(run(endpoint('fail-500')));
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-http');
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain(FAIL_500_MESSAGE);
  });

  it('never puts the API key in an error, even when the server echoes it', async () => {
    const error = await rejection(run(endpoint('fail-401', { apiKey: API_KEY })));
    expect(error).toHaveProperty('code', 'escalation-http');
    expect(error.message).toContain('HTTP 401');
    expect(error.message).toContain('Incorrect API key provided: [api key]');
    expect(error.message).not.toContain(API_KEY);
    expect(JSON.stringify(error)).not.toContain(API_KEY);
  });

  it('rejects an unknown model (HTTP 404) with escalation-http', async () => {
    const error = await rejection(run(endpoint('no-such-model')));
    expect(error).toHaveProperty('code', 'escalation-http');
    expect(error.message).toContain('HTTP 404');
    expect(error.message).toContain('The model `no-such-model` does not exist.');
  });

  it('rejects an error object inside a 200 stream with escalation-http', async () => {
    const error = await rejection(run(endpoint('stream-error')));
    expect(error).toHaveProperty('code', 'escalation-http');
    expect(error.message).toContain('Rate limit reached.');
  });

  it('times out with escalation-timeout when no response starts, and aborts the request', async () => {
    const error = await rejection(run(endpoint('hang', { timeoutMs: SHORT_TIMEOUT_MS })));
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-timeout');
    expect(error.message).toContain(`did not answer within ${SHORT_TIMEOUT_MS} ms`);
    await expectDisconnected(lastCompletion());
  });

  it('times out with escalation-timeout when a started stream stalls, keeping what came, and aborts the request', async () => {
    const deltas: string[] = [];
    const error = await rejection(
      escalate(endpoint('stall', { timeoutMs: SHORT_TIMEOUT_MS }), REQUEST, {
        onDelta: (soFar) => deltas.push(soFar),
      }),
    );
    expect(error).toHaveProperty('code', 'escalation-timeout');
    expect(error.message).toContain(`did not finish its reply within ${SHORT_TIMEOUT_MS} ms`);
    expect(deltas).toEqual([OK_REPLY_PIECES[0]]);
    await expectDisconnected(lastCompletion());
  });

  it('rejects an endpoint nobody listens on with escalation-network', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    const error = await rejection(run(endpoint('ok', { url, apiKey: API_KEY })));
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-network');
    expect(error.message).toContain(url);
    expect(error.message).not.toContain(API_KEY);
  });

  it('rejects with AbortError when the caller aborts mid-stream, and aborts the request', async () => {
    const controller = new AbortController();
    const error = await rejection(
      escalate(endpoint('stall'), REQUEST, {
        signal: controller.signal,
        onDelta: () => {
          controller.abort();
        },
      }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toHaveProperty('code', 'aborted');
    await expectDisconnected(lastCompletion());
  });

  it('sends nothing when the signal is already aborted', async () => {
    const before = server.completions().length;
    const error = await rejection(run(endpoint('ok'), AbortSignal.abort()));
    expect(error).toBeInstanceOf(AbortError);
    expect(server.completions()).toHaveLength(before);
  });

  it('passes an exception thrown by onDelta through unchanged and closes the request', async () => {
    const thrown = new RangeError('display failed');
    const error = await rejection(
      streamChatCompletion(endpoint('stall'), REQUEST, {
        onDelta: () => {
          throw thrown;
        },
      }),
    );
    expect(error).toBe(thrown);
    await expectDisconnected(lastCompletion());
  });
});

describe('what leaves the device, and what comes back, is bounded', () => {
  const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

  it('refuses a redirect with escalation-network: the other server gets no request', async () => {
    const elsewhere = await startOpenAiServer();
    const redirecting = await startOpenAiServer({ redirectTo: elsewhere.url });
    try {
      const deltas: string[] = [];
      const error = await rejection(
        escalate(endpoint('redirect', { url: redirecting.url, apiKey: API_KEY }), REQUEST, {
          onDelta: (soFar) => deltas.push(soFar),
        }),
      );
      expect(error).toBeInstanceOf(EscalationError);
      expect(error).toHaveProperty('code', 'escalation-network');
      expect(error.message).toContain(`answered with a redirect to ${elsewhere.origin} (HTTP 307)`);
      expect(error.message).not.toContain(API_KEY);
      expect(redirecting.completions()).toHaveLength(1);
      expect(elsewhere.requests).toEqual([]);
      // Nothing the other server might have said is shown as the endpoint's reply.
      expect(deltas).toEqual([]);
    } finally {
      await redirecting.close();
      await elsewhere.close();
    }
  });

  it('stops a 10 MB reply at maxReplyBytes: onDelta sees what fits, escalation-bad-stream, the request aborted', async () => {
    const deltas: string[] = [];
    const error = await rejection(
      escalate(endpoint('huge', { maxReplyBytes: 4096 }), REQUEST, {
        onDelta: (soFar) => deltas.push(soFar),
      }),
    );
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-bad-stream');
    expect(error.message).toContain('sent a reply longer than 4096 bytes (maxReplyBytes)');
    expect(deltas.at(-1)).toBe('x'.repeat(4096));
    expect(Math.max(...deltas.map(bytes))).toBe(4096);
    await expectDisconnected(lastCompletion());
  });

  it("keeps DEFAULT_MAX_REPLY_BYTES by default, on the agents' path (streamChatCompletion) too", async () => {
    const deltas: string[] = [];
    const error = await rejection(
      streamChatCompletion(endpoint('huge'), REQUEST, { onDelta: (soFar) => deltas.push(soFar) }),
    );
    expect(error).toHaveProperty('code', 'escalation-bad-stream');
    expect(deltas.at(-1)).toHaveLength(DEFAULT_MAX_REPLY_BYTES);
    await expectDisconnected(lastCompletion());
  });

  it('cuts a reply at the cap between characters, never inside one', async () => {
    // OK_REPLY opens with 您好， (9 bytes), then 我 (3 more): a 10-byte cap keeps 您好，.
    const deltas: string[] = [];
    const error = await rejection(
      escalate(endpoint('ok', { maxReplyBytes: 10 }), REQUEST, {
        onDelta: (soFar) => deltas.push(soFar),
      }),
    );
    expect(error).toHaveProperty('code', 'escalation-bad-stream');
    expect(deltas.at(-1)).toBe('您好，');
  });

  it('refuses a 10 MB JSON completion once the body passes its cap', async () => {
    const deltas: string[] = [];
    const error = await rejection(
      escalate(endpoint('huge-json', { maxReplyBytes: 4096 }), REQUEST, {
        onDelta: (soFar) => deltas.push(soFar),
      }),
    );
    expect(error).toHaveProperty('code', 'escalation-bad-stream');
    expect(error.message).toContain(`sent more than ${4096 * BODY_BYTES_PER_REPLY_BYTE} bytes`);
    expect(deltas).toEqual([]);
  });

  it('refuses 10 MB of keep-alives once the body passes its cap, not after reading them all', async () => {
    const error = await rejection(run(endpoint('flood', { maxReplyBytes: 4096 })));
    expect(error).toHaveProperty('code', 'escalation-bad-stream');
    expect(error.message).toContain(`sent more than ${4096 * BODY_BYTES_PER_REPLY_BYTE} bytes`);
    await expectDisconnected(lastCompletion());
  });

  it('ends a dripping reply at timeoutMs: the deadline bounds the whole call, not each gap', async () => {
    const timeoutMs = 10 * DRIP_INTERVAL_MS;
    const started = performance.now();
    const error = await rejection(run(endpoint('drip', { timeoutMs })));
    const elapsed = performance.now() - started;
    expect(error).toHaveProperty('code', 'escalation-timeout');
    expect(error.message).toContain(`did not finish its reply within ${timeoutMs} ms`);
    // The drip takes about 3 s; each of its bytes arrives well within timeoutMs of the last.
    expect(elapsed).toBeLessThan(4 * timeoutMs);
    await expectDisconnected(lastCompletion());
  });

  it('sends the latest turns that fit in maxHistoryBytes beside the message, oldest left out first', async () => {
    const turn = (n: number): EscalationRequest['history'] => [
      { role: 'user', content: `问题${n} ${'a'.repeat(100)}` },
      { role: 'assistant', content: `回答${n} ${'b'.repeat(100)}` },
    ];
    const history = [1, 2, 3, 4].flatMap(turn);
    const size = bytes(history[0]?.content ?? '');
    const request = { ...REQUEST, history };
    const sentMessages = async (maxHistoryBytes: number) => {
      await escalate(endpoint('echo', { maxHistoryBytes }), request);
      return (lastCompletion().body as { messages: unknown[] }).messages;
    };
    const message = { role: 'user', content: REQUEST.message };
    // Room for three: 回答3 would open the conversation without its question, so it is left out too.
    expect(await sentMessages(bytes(REQUEST.message) + 3 * size)).toEqual([...turn(4), message]);
    expect(await sentMessages(bytes(REQUEST.message) + 4 * size)).toEqual([
      ...turn(3),
      ...turn(4),
      message,
    ]);
    // Exactly the message: no history.
    expect(await sentMessages(bytes(REQUEST.message))).toEqual([message]);
  });

  it('leaves a 10 MB reply saved earlier out of the next request (default cap)', async () => {
    const history: EscalationRequest['history'] = [
      { role: 'user', content: '讲个长故事' },
      { role: 'assistant', content: 'x'.repeat(10_000_000) },
      { role: 'user', content: '帮我查一下订单' },
      { role: 'assistant', content: '请提供 13 位订单号。' },
    ];
    await escalate(endpoint('echo'), { ...REQUEST, history });
    const sent = lastCompletion().body as { messages: unknown[] };
    expect(bytes(JSON.stringify(sent))).toBeLessThan(DEFAULT_MAX_HISTORY_BYTES);
    expect(sent.messages).toEqual([
      ...history.slice(2),
      { role: 'user', content: REQUEST.message },
    ]);
  });

  it('refuses a message longer than maxHistoryBytes on its own with escalation-unavailable, sending nothing', async () => {
    const before = server.requests.length;
    const error = await rejection(run(endpoint('ok', { maxHistoryBytes: 10 })));
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-unavailable');
    expect(error.message).toContain(
      `This message is ${bytes(REQUEST.message)} bytes long, more than the 10 bytes`,
    );
    expect(server.requests).toHaveLength(before);
  });
});

describe('escalate without a usable handler', () => {
  it('rejects a null config with escalation-unavailable and says the message went nowhere', async () => {
    const before = server.requests.length;
    const error = await rejection(run(null));
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-unavailable');
    expect(error.message).toContain('not sent anywhere');
    expect(server.requests).toHaveLength(before);
  });

  it('rejects an invalid config with escalation-unavailable naming each problem', async () => {
    const before = server.requests.length;
    const error = await rejection(run(endpoint('', { url: 'ftp://example.com/x', timeoutMs: -1 })));
    expect(error).toHaveProperty('code', 'escalation-unavailable');
    expect(error.message).toContain('"url" must be an http(s) URL');
    expect(error.message).toContain('"model" must be a non-empty string');
    expect(error.message).toContain('"timeoutMs" must be a positive number');
    expect(server.requests).toHaveLength(before);
  });

  it('lists config problems for anything a host page might pass', () => {
    expect(escalationConfigProblems(endpoint('ok'))).toEqual([]);
    expect(
      escalationConfigProblems({ kind: 'handoff', onHandoff: () => Promise.resolve() }),
    ).toEqual([]);
    expect(escalationConfigProblems(null)).toEqual(['must be an object']);
    expect(escalationConfigProblems({ kind: 'email' })).toEqual([
      '"kind" must be "chat-completions" or "handoff"',
    ]);
    expect(escalationConfigProblems({ kind: 'handoff' })).toEqual([
      '"onHandoff" must be a function',
    ]);
    expect(
      escalationConfigProblems({ ...endpoint('ok'), apiKey: 42, headers: { 'X-A': 1 } }),
    ).toEqual(['"apiKey" must be a string', '"headers" must be an object of strings']);
    expect(escalationConfigProblems({ ...endpoint('ok'), headers: { 'Bad Name': 'x' } })).toEqual([
      '"headers" has a header name or value that HTTP does not allow',
    ]);
    const problems = escalationConfigProblems({ ...endpoint('ok'), apiKey: 'sk-line\nbreak' });
    expect(problems).toEqual(['"apiKey" has characters an HTTP header cannot carry']);
    expect(escalationConfigProblems({ ...endpoint('ok'), timeoutMs: 2 ** 40 })).toEqual([
      '"timeoutMs" must be a positive number of milliseconds up to 2147483647',
    ]);
    expect(
      escalationConfigProblems({ ...endpoint('ok'), maxReplyBytes: 0, maxHistoryBytes: '32k' }),
    ).toEqual([
      '"maxReplyBytes" must be a positive whole number of bytes',
      '"maxHistoryBytes" must be a positive whole number of bytes',
    ]);
  });

  it("refuses invalid limits on the agents' path too (streamChatCompletion), sending nothing", async () => {
    const before = server.requests.length;
    const error = await rejection(
      streamChatCompletion(endpoint('ok', { maxReplyBytes: -1 }), REQUEST),
    );
    expect(error).toHaveProperty('code', 'escalation-unavailable');
    expect(error.message).toContain('"maxReplyBytes" must be a positive whole number of bytes');
    expect(server.requests).toHaveLength(before);
  });
});

describe('escalate to a human-handoff callback', () => {
  it('calls the callback with the request and shows the message it returns', async () => {
    const calls: { request: EscalationRequest; aborted: boolean }[] = [];
    const result = await escalate(
      {
        kind: 'handoff',
        onHandoff: (request, { signal }) => {
          calls.push({ request, aborted: signal.aborted });
          return Promise.resolve({ message: '已为您转接人工客服，请稍候。' });
        },
      },
      REQUEST,
    );
    expect(result).toEqual({ kind: 'handoff', text: '已为您转接人工客服，请稍候。' });
    expect(calls).toEqual([{ request: REQUEST, aborted: false }]);
  });

  it('returns empty text when the callback returns nothing', async () => {
    const result = await escalate({ kind: 'handoff', onHandoff: async () => {} }, REQUEST);
    expect(result).toEqual({ kind: 'handoff', text: '' });
  });

  it('turns a callback failure into escalation-handoff-failed with its message', async () => {
    const error = await rejection(
      escalate(
        {
          kind: 'handoff',
          onHandoff: () => Promise.reject(new Error('no agent is online')),
        },
        REQUEST,
      ),
    );
    expect(error).toBeInstanceOf(EscalationError);
    expect(error).toHaveProperty('code', 'escalation-handoff-failed');
    expect(error.message).toBe('The handoff to a person failed: no agent is online');
  });

  it('keeps a typed error the callback throws', async () => {
    const thrown = new EscalationError('escalation-timeout', 'The agent queue timed out.');
    const error = await rejection(
      escalate({ kind: 'handoff', onHandoff: () => Promise.reject(thrown) }, REQUEST),
    );
    expect(error).toBe(thrown);
  });

  it('rejects with AbortError on abort, even if the callback never settles, and aborts its signal', async () => {
    const controller = new AbortController();
    let callbackSignal: AbortSignal | undefined;
    const pending = escalate(
      {
        kind: 'handoff',
        onHandoff: (_request, { signal }) => {
          callbackSignal = signal;
          controller.abort();
          return new Promise<never>(() => undefined);
        },
      },
      REQUEST,
      { signal: controller.signal },
    );
    const error = await rejection(pending);
    expect(error).toBeInstanceOf(AbortError);
    expect(callbackSignal?.aborted).toBe(true);
  });
});

describe('escalation helpers', () => {
  it('maps a route and its intent to the reason shown to the user', () => {
    expect(escalationReason('out_of_scope', undefined)).toBe('out_of_scope');
    expect(escalationReason('escalate', { escalate: false })).toBe('low_confidence');
    expect(escalationReason('intent', { escalate: true })).toBe('intent');
    expect(escalationReason('intent', {})).toBeNull();
    expect(escalationReason('intent', undefined)).toBeNull();
    expect(escalationReason('escalate', { escalate: true })).toBe('intent');
  });

  it('describes where escalated messages go without the key or the query string', () => {
    const config = endpoint('gpt-test', {
      url: 'https://llm.example.com/v1/chat/completions?api-key=secret',
      apiKey: API_KEY,
    });
    expect(describeEscalationConfig(config)).toEqual({
      kind: 'chat-completions',
      host: 'llm.example.com',
      model: 'gpt-test',
    });
    expect(describeEscalationConfig(null)).toEqual({ kind: 'none' });
    expect(
      describeEscalationConfig({ kind: 'handoff', onHandoff: () => Promise.resolve() }),
    ).toEqual({ kind: 'handoff' });
  });
});
