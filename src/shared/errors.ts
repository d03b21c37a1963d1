/**
 * Errors with stable codes. Every failure a user or host page can act on is a `FenliuError`
 * subclass whose `code` never changes between releases, so callers branch on `code`, not on
 * message text, and the worker can rebuild the right class on the main thread.
 */

export type FenliuErrorCode =
  | 'catalog-invalid'
  | 'catalog-model-mismatch'
  | 'dataset-invalid'
  | 'model-load-failed'
  | 'model-folder-invalid'
  | 'input-invalid'
  | 'classifier-not-ready'
  | ClassifierWorkerErrorCode
  | 'model-download-failed'
  | 'aborted'
  | ToolErrorCode
  | EscalationErrorCode
  | ModelCanaryErrorCode;

/**
 * Why a tool call did not produce a result. `tool-failed` is the tool's own error (its message is
 * shown to the user); the others are raised by fenliu around the call.
 */
export type ToolErrorCode =
  | 'tool-unknown'
  | 'tool-invalid-arguments'
  | 'tool-not-confirmed'
  | 'tool-timeout'
  | 'tool-failed'
  | 'tool-bad-result';

/**
 * The classifier's worker stopped answering: `classifier-crashed` when it threw outside any call
 * (an engine abort, out of memory) or exited without an error (`self.close()`, killed for
 * memory), `classifier-unresponsive` when a call outlived its deadline or an idle worker stopped
 * answering its heartbeat. Either way the worker is replaced; the calls it held are rejected
 * with this error.
 */
export type ClassifierWorkerErrorCode = 'classifier-crashed' | 'classifier-unresponsive';

/** Why a turn could not be handed to the escalation handler. */
export type EscalationErrorCode =
  | 'escalation-unavailable'
  | 'escalation-handoff-failed'
  | 'escalation-http'
  | 'escalation-timeout'
  | 'escalation-bad-stream'
  | 'escalation-network';

/**
 * A model folder that loads but would answer wrongly, caught by its canaries (fenliu.json's
 * `canaries`, src/engine/canary.ts): `model-tokenizer-mismatch` when the folder's tokenizer (or
 * chat template, or system message) turns a canary into other token ids than at export,
 * `model-labels-mismatch` when fenliu.json's labels are not the ones the model was trained on,
 * `model-output-mismatch` when the model's label distribution for a canary is not the recorded one
 * (corrupt weights, or a backend that computes wrongly).
 */
export type ModelCanaryErrorCode =
  'model-tokenizer-mismatch' | 'model-labels-mismatch' | 'model-output-mismatch';

export class FenliuError extends Error {
  readonly code: FenliuErrorCode;

  constructor(code: FenliuErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FenliuError';
    this.code = code;
  }
}

/** One problem in a data file, located precisely enough to fix by hand. */
export interface SourceIssue {
  file: string;
  line: number;
  reason: string;
}

export function formatIssue(issue: SourceIssue): string {
  return `${issue.file}:${issue.line}: ${issue.reason}`;
}

/** A catalog or dataset file that failed validation; `issues` lists every problem found. */
export class DataValidationError extends FenliuError {
  readonly issues: readonly SourceIssue[];

  constructor(
    code: 'catalog-invalid' | 'dataset-invalid',
    issues: readonly SourceIssue[],
    options?: { cause?: unknown },
  ) {
    const shown = issues.slice(0, 20).map(formatIssue).join('\n');
    const more = issues.length > 20 ? `\n… and ${issues.length - 20} more` : '';
    super(code, `${issues.length} problem(s):\n${shown}${more}`, options);
    this.name = 'DataValidationError';
    this.issues = issues;
  }
}

/**
 * One way a catalog differs from the model it is loaded with. Declared here by shape (src/shared
 * imports nothing from src/catalog); src/catalog/model-match.ts's `ModelMismatch` narrows
 * `problem` to the kinds it reports.
 */
export interface CatalogModelDifference {
  intentId: string;
  problem: string;
  /** The catalog's side (a label, a tool, `true`/`false`), absent where it has none. */
  catalog?: string;
  /** The model's side, likewise. */
  model?: string;
}

/**
 * The catalog does not match the model: the model answers with the labels, tools and escalation
 * of the catalog it was trained on, so a different catalog would route its answers wrongly.
 * `differences` lists each intent that differs; the message names them and the fix.
 */
export class CatalogMismatchError extends FenliuError {
  readonly differences: readonly CatalogModelDifference[];

  constructor(
    differences: readonly CatalogModelDifference[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super('catalog-model-mismatch', message, options);
    this.name = 'CatalogMismatchError';
    this.differences = differences;
  }
}

export class ModelLoadError extends FenliuError {
  constructor(
    code:
      'model-load-failed' | 'model-folder-invalid' | 'model-download-failed' | ModelCanaryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ModelLoadError';
  }
}

/** The classifier's worker crashed or hung and is being replaced (see `ClassifierWorkerErrorCode`). */
export class ClassifierWorkerError extends FenliuError {
  constructor(code: ClassifierWorkerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ClassifierWorkerError';
  }
}

export class InputError extends FenliuError {
  constructor(message: string) {
    super('input-invalid', message);
    this.name = 'InputError';
  }
}

export class AbortError extends FenliuError {
  constructor(message = 'The operation was aborted.') {
    super('aborted', message);
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

/** A tool call that did not produce a result; `tool` names the tool. */
export class ToolError extends FenliuError {
  readonly tool: string;

  constructor(code: ToolErrorCode, tool: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ToolError';
    this.tool = tool;
  }
}

/** The escalation handler could not take the turn (no handler, HTTP error, timeout, bad stream). */
export class EscalationError extends FenliuError {
  constructor(code: EscalationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'EscalationError';
  }
}

/** Plain-data form of an error, safe to post across a worker boundary. */
export interface SerializedError {
  name: string;
  code: FenliuErrorCode | 'internal';
  message: string;
  issues?: SourceIssue[];
  differences?: CatalogModelDifference[];
  tool?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof DataValidationError) {
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      issues: [...error.issues],
    };
  }
  if (error instanceof CatalogMismatchError) {
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      differences: [...error.differences],
    };
  }
  if (error instanceof ToolError) {
    return { name: error.name, code: error.code, message: error.message, tool: error.tool };
  }
  if (error instanceof FenliuError) {
    return { name: error.name, code: error.code, message: error.message };
  }
  return { name: 'Error', code: 'internal', message: errorMessage(error) };
}

/** Rebuilds the typed error on the receiving side of a worker boundary. */
export function deserializeError(data: SerializedError): Error {
  switch (data.code) {
    case 'catalog-invalid':
    case 'dataset-invalid':
      return new DataValidationError(data.code, data.issues ?? []);
    case 'catalog-model-mismatch':
      return new CatalogMismatchError(data.differences ?? [], data.message);
    case 'model-load-failed':
    case 'model-folder-invalid':
    case 'model-download-failed':
    case 'model-tokenizer-mismatch':
    case 'model-labels-mismatch':
    case 'model-output-mismatch':
      return new ModelLoadError(data.code, data.message);
    case 'input-invalid':
      return new InputError(data.message);
    case 'aborted':
      return new AbortError(data.message);
    case 'classifier-not-ready':
      return new FenliuError(data.code, data.message);
    case 'classifier-crashed':
    case 'classifier-unresponsive':
      return new ClassifierWorkerError(data.code, data.message);
    case 'tool-unknown':
    case 'tool-invalid-arguments':
    case 'tool-not-confirmed':
    case 'tool-timeout':
    case 'tool-failed':
    case 'tool-bad-result':
      return new ToolError(data.code, data.tool ?? 'unknown', data.message);
    case 'escalation-unavailable':
    case 'escalation-handoff-failed':
    case 'escalation-http':
    case 'escalation-timeout':
    case 'escalation-bad-stream':
    case 'escalation-network':
      return new EscalationError(data.code, data.message);
    case 'internal':
      return new Error(data.message);
  }
}

/** The message of anything thrown, for wrapping it in a typed error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
