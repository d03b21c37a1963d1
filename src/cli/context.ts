/**
 * What the CLI takes from its process, passed in rather than read from `process`, so `main` runs
 * the same in the `fenliu` binary and in a test that calls it in-process, again and again.
 */

/** A stream the CLI writes to: `process.stdout` / `process.stderr`, or a test's collector. */
export interface OutputStream {
  write(text: string): unknown;
  /** A terminal: the progress bar redraws one line in place instead of printing plain lines. */
  readonly isTTY?: boolean;
  /** The terminal's width, for the progress bar (default 80). */
  readonly columns?: number;
}

/**
 * Everything `main` reads from outside its arguments.
 *
 * @example
 * const environment: CliEnvironment = {
 *   stdout: { write: (text) => out.push(text) },
 *   stderr: { write: (text) => err.push(text) },
 *   cwd: '/path/to/repo',
 *   env: {},
 *   signal: new AbortController().signal,
 * };
 */
export interface CliEnvironment {
  /** Results: tables and JSON. */
  stdout: OutputStream;
  /** Progress, notes and errors. */
  stderr: OutputStream;
  /** Relative paths on the command line (`--data`, `--model`, `--out`, …) are resolved from it. */
  cwd: string;
  /** Environment variables; `FENLIU_DEBUG=1` adds stack traces to errors. */
  env: Readonly<Record<string, string | undefined>>;
  /** Ctrl-C: stops classification between batches. */
  signal: AbortSignal;
}

/** The running process's streams, directory and environment (what `bin/fenliu.js` runs with). */
export function processEnvironment(signal: AbortSignal): CliEnvironment {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    signal,
  };
}

/** What a command gets from `main`: line writers, stderr for the progress bar, cwd and Ctrl-C. */
export interface CommandContext {
  /** A line to stdout (results). */
  out: (line: string) => void;
  /** A line to stderr (progress and notes). */
  err: (line: string) => void;
  /** stderr itself, for the progress bar. */
  stderr: OutputStream;
  /** The directory relative paths are resolved from. */
  cwd: string;
  signal: AbortSignal;
}
