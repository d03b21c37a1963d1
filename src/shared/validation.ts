/**
 * How fenliu reads a document it did not write itself (a catalog and its tool declarations, a
 * model folder's `fenliu.json` and `calibration.json`, a host's escalation config): one function
 * per document, `…Problems(value: unknown): string[]`, lists every problem it finds — never only
 * the first, never throwing — each phrased so a person can fix the file by hand
 * (`"tools"[0].timeoutMs must be a positive number of milliseconds`). The layer that reads the
 * document parses it with `parseJson` and turns a non-empty list into its own typed error with
 * `checkDocument`; only then does it treat the value as its type. The checks are plain code over
 * the guards below: no schema is compiled at run time (a strict Content-Security-Policy forbids
 * `new Function`).
 *
 * State the widget saved on an earlier visit is the one document that is not refused but
 * revived: the same guards keep each field that fits and drop the rest (see
 * src/router/conversation.ts), so a conversation saved by an older release cannot break the widget.
 */

/**
 * The longest delay `setTimeout` keeps (2^31 − 1 ms, about 24.8 days). A longer one overflows
 * and fires at once, so a configured timeout above it would fail every call straight away.
 */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An array of strings (empty included). */
export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** One of `values`, compared with `===`. */
export function isOneOf<T>(values: readonly T[], value: unknown): value is T {
  return (values as readonly unknown[]).includes(value);
}

/**
 * Returns `value` as a `T` when `problemsOf` finds nothing wrong with it; otherwise throws the
 * error `fail` makes of the problems (the reading layer's typed error, naming the file).
 *
 * @example
 * const calibration = checkDocument<Calibration>(JSON.parse(text), calibrationProblems,
 *   (problems) => new ModelLoadError('model-folder-invalid', `calibration.json: ${problems.join('; ')}`));
 */
// NOTE: `T` is what an empty problem list proves: this is the one place a document from outside
// is given its type, so the type parameter appears in the result only.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function checkDocument<T>(
  value: unknown,
  problemsOf: (value: unknown) => readonly string[],
  fail: (problems: readonly string[]) => Error,
): T {
  const problems = problemsOf(value);
  if (problems.length > 0) throw fail(problems);
  return value as T;
}

/**
 * Parses JSON text; text that is not JSON throws the error `fail` makes of `JSON.parse`'s (the
 * reading layer's typed error, naming the file and the fix).
 *
 * @example
 * const value = parseJson(text, (error) => new ModelLoadError('model-folder-invalid',
 *   `${modelId}/config.json is not valid JSON.`, { cause: error }));
 */
export function parseJson(text: string, fail: (error: unknown) => Error): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw fail(error);
  }
}
