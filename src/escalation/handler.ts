/**
 * Escalation: turns the small on-device model should not answer itself (out of scope, low
 * confidence, or an intent flagged `escalate` such as 转人工) go to a handler the host page
 * configures — an OpenAI-compatible chat-completions endpoint, or a human-handoff callback. With
 * no handler configured nothing leaves the device and the caller is told so with a typed error.
 */
import type { Route } from '../engine/classification';
import { AbortError, EscalationError, errorMessage, FenliuError } from '../shared/errors';
import { isRecord } from '../shared/validation';
import { limitProblems, streamChatCompletion } from './chat-completions';
import type {
  EscalateOptions,
  EscalationConfig,
  EscalationDestination,
  EscalationReason,
  EscalationRequest,
  EscalationResult,
  HandoffEscalationConfig,
} from './types';

/**
 * The escalation reason for a classified turn, or null when the turn stays with its intent.
 *
 * @example
 * escalationReason('escalate', undefined); // 'low_confidence'
 * escalationReason('intent', { escalate: true }); // 'intent' (e.g. human_agent, 转人工)
 */
export function escalationReason(
  route: Route,
  intent: { escalate?: boolean } | undefined,
): EscalationReason | null {
  if (route === 'out_of_scope') return 'out_of_scope';
  // The engine routes an escalating intent (e.g. 转人工) to `escalate` itself.
  if (intent?.escalate === true) return 'intent';
  return route === 'escalate' ? 'low_confidence' : null;
}

/**
 * Checks a host-supplied escalation config (host pages are plain JavaScript, so anything can
 * arrive); returns the problems found, empty when valid. Problems never quote the API key.
 */
export function escalationConfigProblems(value: unknown): string[] {
  if (!isRecord(value)) return ['must be an object'];
  const config = value;
  if (config.kind === 'handoff') {
    return typeof config.onHandoff === 'function' ? [] : ['"onHandoff" must be a function'];
  }
  if (config.kind !== 'chat-completions') {
    return ['"kind" must be "chat-completions" or "handoff"'];
  }
  const problems: string[] = [];
  if (typeof config.url !== 'string' || !isHttpUrl(config.url)) {
    problems.push('"url" must be an http(s) URL');
  }
  if (typeof config.model !== 'string' || config.model.trim() === '') {
    problems.push('"model" must be a non-empty string');
  }
  if (config.apiKey !== undefined && typeof config.apiKey !== 'string') {
    problems.push('"apiKey" must be a string');
  }
  if (config.systemPrompt !== undefined && typeof config.systemPrompt !== 'string') {
    problems.push('"systemPrompt" must be a string');
  }
  problems.push(...limitProblems(config));
  const { headers } = config;
  if (
    headers !== undefined &&
    (typeof headers !== 'object' ||
      headers === null ||
      Object.values(headers).some((header) => typeof header !== 'string'))
  ) {
    problems.push('"headers" must be an object of strings');
  } else if (!isValidHeaders(headers as Record<string, string> | undefined)) {
    problems.push('"headers" has a header name or value that HTTP does not allow');
  }
  if (
    typeof config.apiKey === 'string' &&
    !isValidHeaders({ Authorization: `Bearer ${config.apiKey}` })
  ) {
    // Never quote the key itself.
    problems.push('"apiKey" has characters an HTTP header cannot carry');
  }
  return problems;
}

/** Whether fetch would accept these headers (names are tokens, values have no line breaks). */
function isValidHeaders(headers: Record<string, string> | undefined): boolean {
  try {
    new Headers(headers);
    return true;
  } catch {
    return false;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Where a handler sends escalated messages, for telling the user (the widget's escalation notice
 * names the host); never includes the API key, the URL's path or its query string.
 *
 * @example
 * describeEscalationConfig({ kind: 'chat-completions', url: 'https://api.example.com/v1/chat/completions', model: 'm' });
 * // { kind: 'chat-completions', host: 'api.example.com', model: 'm' }
 */
export function describeEscalationConfig(config: EscalationConfig | null): EscalationDestination {
  if (config === null) return { kind: 'none' };
  if (config.kind === 'handoff') return { kind: 'handoff' };
  let host = '';
  try {
    host = new URL(config.url).host;
  } catch {
    // An invalid URL is reported by escalate(); here it just has no host to show.
  }
  return { kind: 'chat-completions', host, model: config.model };
}

/**
 * Hands one turn to the configured handler and resolves with its reply.
 *
 * Rejects with `EscalationError`: `escalation-unavailable` when `config` is null (nothing is sent
 * anywhere; the widget says what happens instead) or invalid; `escalation-handoff-failed` when a
 * handoff callback fails; `escalation-http`, `escalation-network` (unreachable, or a redirect,
 * which is refused), `escalation-timeout` (the whole call past `timeoutMs`),
 * `escalation-bad-stream` (including a reply over `maxReplyBytes`) and `escalation-unavailable`
 * (this message alone over `maxHistoryBytes`) from a chat-completions endpoint (see
 * `streamChatCompletion`). Rejects with `AbortError` when `signal` aborts.
 *
 * A handoff callback receives the whole history: it is the host's own code, and decides itself
 * what to send where.
 *
 * @example
 * const { text } = await escalate(config, request, { signal, onDelta: (soFar) => show(soFar) });
 */
export async function escalate(
  config: EscalationConfig | null,
  request: EscalationRequest,
  options: EscalateOptions = {},
): Promise<EscalationResult> {
  const { signal, onDelta } = options;
  if (signal?.aborted) throw new AbortError();
  if (config === null) {
    throw new EscalationError(
      'escalation-unavailable',
      'No escalation handler is configured, so this message was not sent anywhere: it stays on ' +
        'this device, and no person or larger model will answer it.',
    );
  }
  const problems = escalationConfigProblems(config);
  if (problems.length > 0) {
    throw new EscalationError(
      'escalation-unavailable',
      `The escalation handler is misconfigured: ${problems.join('; ')}.`,
    );
  }
  if (config.kind === 'handoff') {
    return { kind: 'handoff', text: await handOff(config, request, signal) };
  }
  const text = await streamChatCompletion(config, request, { signal, onDelta });
  return { kind: 'chat-completions', text };
}

/**
 * Runs the host's handoff callback. Resolves with AbortError as soon as `signal` aborts, even if
 * the callback ignores its own signal, so a cancelled turn never waits on the host.
 */
async function handOff(
  config: HandoffEscalationConfig,
  request: EscalationRequest,
  signal: AbortSignal | undefined,
): Promise<string> {
  const controller = new AbortController();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      controller.abort();
      reject(new AbortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const handoff = Promise.resolve().then(() =>
      config.onHandoff(structuredClone(request), { signal: controller.signal }),
    );
    const answer = await Promise.race([handoff, aborted]);
    // The host's callback is plain JavaScript: check what it resolved with.
    const message: unknown = (answer as { message?: unknown } | undefined | null)?.message;
    return typeof message === 'string' ? message : '';
  } catch (error) {
    if (signal?.aborted) throw new AbortError();
    // The host may throw a typed error of its own choosing (e.g. escalation-unavailable when no
    // agent is online); keep it.
    if (error instanceof FenliuError) throw error;
    throw new EscalationError(
      'escalation-handoff-failed',
      `The handoff to a person failed: ${errorMessage(error)}`,
      { cause: error },
    );
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
