import { AbortError, errorMessage, ToolError, throwIfAborted } from '../shared/errors';
import { checkArguments } from '../catalog/json-schema';
import type { ToolArguments, ToolCall } from '../catalog/types';
import { isRecord, MAX_TIMEOUT_MS } from '../shared/validation';
import type { ToolRegistry } from './registry';

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** A JSON object, the only shape a tool result may have. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One completed tool call, as the conversation history keeps it. */
export interface ToolRun {
  name: string;
  /** The arguments `execute` received (checked against the schema). */
  arguments: ToolArguments;
  /** A fresh JSON copy of what `execute` returned. */
  result: JsonObject;
  /** When `execute` was called, per `now` (epoch milliseconds by default). */
  startedAt: number;
  /** From calling `execute` until its result was checked. */
  durationMs: number;
}

export interface RunToolOptions {
  /** Stops the call; it then rejects with `AbortError`. */
  signal?: AbortSignal;
  /** Whether the user agreed to this call; required for tools that declare confirmation. */
  confirmed: boolean;
  /** Clock for `startedAt`/`durationMs`; defaults to `Date.now`. */
  now?: () => number;
}

/** The largest result kept, as UTF-8 JSON: a result is shown in the chat and fed to the model. */
export const MAX_RESULT_BYTES = 64 * 1024;
/** Deeper results are refused before they can exhaust the checker's stack. */
const MAX_RESULT_DEPTH = 32;

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Why `value` is not plain JSON, or null if it is. `ancestors` catches cycles. */
function jsonProblem(value: unknown, path: string, ancestors: object[]): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${value}, which JSON cannot hold`;
    case 'object':
      break;
    case 'undefined':
      return `${path} is undefined, which JSON cannot hold`;
    default:
      return `${path} is a ${typeof value}, which JSON cannot hold`;
  }
  if (value === null) return null;
  if (ancestors.includes(value)) return `${path} refers back to itself (a cycle)`;
  if (ancestors.length >= MAX_RESULT_DEPTH)
    return `${path} is nested deeper than ${MAX_RESULT_DEPTH}`;
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainObject(value)) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `${path} is an instance of ${typeof name === 'string' ? name : 'a class'}, not a plain object`;
  }
  const inner = [...ancestors, value];
  if (isArray) {
    for (let index = 0; index < value.length; index += 1) {
      const problem = jsonProblem(value[index], `${path}[${index}]`, inner);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (Object.getOwnPropertySymbols(value).length > 0) return `${path} has symbol keys`;
  for (const [key, item] of Object.entries(value)) {
    const problem = jsonProblem(item, `${path}.${key}`, inner);
    if (problem !== null) return problem;
  }
  return null;
}

/** What a value is, for messages; never its content (a function's source, a long text). */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * The result as a fresh JSON object, or a `tool-bad-result` error saying what is wrong. A copy,
 * so the history never changes if the tool later mutates what it returned.
 */
function checkResult(tool: string, result: unknown): JsonObject {
  const refuse = (why: string) =>
    new ToolError('tool-bad-result', tool, `${tool} returned an unusable result: ${why}.`);
  let json: string;
  try {
    if (!isRecord(result)) {
      throw refuse(`expected a plain object, got ${kindOf(result)}`);
    }
    const problem = jsonProblem(result, 'result', []);
    if (problem !== null) throw refuse(problem);
    json = JSON.stringify(result);
  } catch (error) {
    // NOTE: getters and proxies can throw while the result is read; that is the result's fault.
    throw error instanceof ToolError ? error : refuse(errorMessage(error));
  }
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > MAX_RESULT_BYTES) {
    throw refuse(`${bytes} bytes of JSON, more than ${MAX_RESULT_BYTES}`);
  }
  return JSON.parse(json) as JsonObject;
}

function describeArgumentIssues(
  missing: readonly string[],
  problems: readonly { key: string; reason: string }[],
): string {
  // NOTE: checkArguments also counts an invalid key as missing; its problem says more.
  const absent = missing.filter((key) => !problems.some((problem) => problem.key === key));
  const parts = [
    ...(absent.length > 0 ? [`missing ${absent.join(', ')}`] : []),
    ...problems.map(({ key, reason }) => `${key}: ${reason}`),
  ];
  return parts.join('; ');
}

/**
 * Runs `execute` and settles when it does, when the caller aborts, or when the tool's timeout
 * passes — whichever comes first, even if `execute` ignores its signal.
 */
async function executeWithin(
  tool: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  execute: (signal: AbortSignal) => Promise<unknown>,
): Promise<unknown> {
  const controller = new AbortController();
  let stop: (reason: unknown) => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => {
    stop = reject;
  });
  const abort = (reason: Error) => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    stop(reason);
  };
  const onCallerAbort = () => {
    abort(new AbortError());
  };
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  // NOTE: catalogs are checked for timeouts past MAX_TIMEOUT_MS at load; the cap here also
  // covers a spec built in code, which would otherwise time out at once.
  const timer = setTimeout(
    () => {
      abort(new ToolError('tool-timeout', tool, `${tool} did not finish within ${timeoutMs} ms.`));
    },
    Math.min(timeoutMs, MAX_TIMEOUT_MS),
  );
  try {
    const running = Promise.resolve().then(() => execute(controller.signal));
    // NOTE: a call that lost the race may still reject later; that rejection is expected.
    running.catch(() => undefined);
    return await Promise.race([running, stopped]);
  } catch (error) {
    // Once stopped, the stop reason wins over whatever `execute` threw in response.
    if (controller.signal.aborted) throw controller.signal.reason;
    if (error instanceof ToolError) throw error;
    throw new ToolError('tool-failed', tool, errorMessage(error));
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

/**
 * Runs one tool call, near the user's consent, and returns its run for the history. In order:
 * an unknown tool is `tool-unknown`; arguments that are missing or break the schema are
 * `tool-invalid-arguments` (so `execute` never sees them); a tool that declares confirmation or
 * changes data, called without `confirmed: true`, is `tool-not-confirmed`; then `execute` runs under a signal that fires on
 * the caller's abort (→ `AbortError`) or the tool's timeout (→ `tool-timeout`). A `ToolError`
 * from `execute` passes through; anything else it throws becomes `tool-failed` with its
 * message; a result that is not a plain JSON object of at most 64 KB is `tool-bad-result`.
 *
 * @example
 * const run = await runToolCall(registry, { name: 'lookup_order', arguments: { order_id } }, {
 *   confirmed: false,
 *   signal: controller.signal,
 * });
 */
export async function runToolCall(
  registry: ToolRegistry,
  call: ToolCall,
  options: RunToolOptions,
): Promise<ToolRun> {
  const now = options.now ?? Date.now;
  throwIfAborted(options.signal);
  const tool = registry.get(call.name);
  if (tool === undefined) {
    throw new ToolError('tool-unknown', call.name, `There is no tool named "${call.name}".`);
  }
  const { spec, execute } = tool;
  const checked = checkArguments(spec.parameters, call.arguments);
  if (checked.missing.length > 0 || checked.problems.length > 0) {
    throw new ToolError(
      'tool-invalid-arguments',
      spec.name,
      `${spec.name}: ${describeArgumentIssues(checked.missing, checked.problems)}.`,
    );
  }
  // NOTE: `changesData` is checked too, not only `requiresConfirmation`: a spec built in code
  // that skipped the catalog check must still never change data unasked. Only `true` confirms
  // (a plain-JS caller passing "yes" or 1 does not).
  const confirmed: unknown = options.confirmed;
  if ((spec.requiresConfirmation || spec.changesData) && confirmed !== true) {
    throw new ToolError(
      'tool-not-confirmed',
      spec.name,
      `${spec.name} changes data and runs only after the user confirms it.`,
    );
  }
  const args = checked.arguments;
  const startedAt = now();
  const raw = await executeWithin(spec.name, spec.timeoutMs, options.signal, (signal) =>
    execute({ ...args }, { signal }),
  );
  const result = checkResult(spec.name, raw);
  return { name: spec.name, arguments: args, result, startedAt, durationMs: now() - startedAt };
}
