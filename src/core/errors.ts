/**
 * Errors with stable codes. Every failure a user or host page can act on is a `FenliuError`
 * subclass whose `code` never changes between releases, so callers branch on `code`, not on
 * message text, and the worker can rebuild the right class on the main thread.
 */

export type FenliuErrorCode =
  | 'catalog-invalid'
  | 'dataset-invalid'
  | 'model-load-failed'
  | 'model-folder-invalid'
  | 'input-invalid'
  | 'classifier-not-ready'
  | 'aborted';

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

export class ModelLoadError extends FenliuError {
  constructor(
    code: 'model-load-failed' | 'model-folder-invalid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ModelLoadError';
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

/** Plain-data form of an error, safe to post across a worker boundary. */
export interface SerializedError {
  name: string;
  code: FenliuErrorCode | 'internal';
  message: string;
  issues?: SourceIssue[];
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
    case 'model-load-failed':
    case 'model-folder-invalid':
      return new ModelLoadError(data.code, data.message);
    case 'input-invalid':
      return new InputError(data.message);
    case 'aborted':
      return new AbortError(data.message);
    case 'classifier-not-ready':
      return new FenliuError(data.code, data.message);
    case 'internal':
      return new Error(data.message);
  }
}

/** The message of anything thrown, for wrapping it in a typed error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
