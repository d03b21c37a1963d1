/** What a command gets from the entry point: output writers and the Ctrl-C signal. */
export interface CommandContext {
  /** A line to stdout (results). */
  out: (line: string) => void;
  /** A line to stderr (progress and notes). */
  err: (line: string) => void;
  /** stderr itself, for the progress bar. */
  stderr: NodeJS.WriteStream;
  signal: AbortSignal;
}
