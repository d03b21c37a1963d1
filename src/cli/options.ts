/** Command-line parsing for `fenliu`: usage texts, typed flags and the CLI's own error types. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Wrong flags or arguments: the CLI prints the message and a hint, and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A file the user named cannot be read or written: the CLI prints the message and exits with 1. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

const MODEL_FLAGS = `  --model DIR         model folder (default: public/models/fenliu-demo)
  --dtype NAME        ONNX precision from the model card (default: its first, e.g. int8)`;
const CALIBRATION_FLAG = `  --calibration FILE  calibration.json to apply, or "none" (default: DIR/calibration.json if present)`;

export const USAGE = {
  main: `fenliu — on-device intent routing for customer-service chat

Usage:
  fenliu classify "text" [--model DIR] [--dtype NAME] [--calibration FILE|none] [--json]
  fenliu eval --data FILE [--model DIR] [--out DIR] [--dtype NAME] [--calibration FILE|none]
  fenliu calibrate --data FILE [--model DIR] [--write | --out FILE]
  fenliu route "text" [--catalog FILE] [--model DIR] [--lang zh|en] [--json]
  fenliu <command> --help

Data files are {"text","label"} JSON Lines or ShareGPT conversations; labels are the model's
intent labels (or ids). Exit codes: 0 ok, 1 error, 2 usage, 130 interrupted.`,
  classify: `Usage: fenliu classify "text" ["more text" …] [options]

Prints the intent, route, confidence, margin and the top 3 intents of each message.

${MODEL_FLAGS}
${CALIBRATION_FLAG}
  --json              print the classifications as JSON`,
  eval: `Usage: fenliu eval --data FILE [options]

Classifies every row of FILE and prints accuracy, macro-F1, per-intent precision/recall/F1,
out-of-scope precision/recall, ECE and latency; writes eval.json, confusion.svg and
reliability.svg to the output folder.

  --data FILE         labelled rows ({"text","label"} JSON Lines or ShareGPT)
${MODEL_FLAGS}
${CALIBRATION_FLAG}
  --out DIR           output folder (default: eval-out)
  --batch-size N      messages per model call (default 1: latency is per message; larger is
                      faster and reports each batch's time divided by its size)
  --json              also print eval.json to stdout`,
  calibrate: `Usage: fenliu calibrate --data FILE [options]

Classifies a validation split with the raw model, fits a temperature (minimum NLL) and
per-intent out-of-scope / escalation thresholds, prints ECE before and after, and with --write
saves DIR/calibration.json. Refuses (exit 1, nothing written) fewer than 20 in-scope rows or 2
intents, and a fit that lands on a boundary (temperature at its search bound, a threshold at 1).

  --data FILE             labelled validation rows (include out-of-scope rows, labelled with
                          the fallback intent, to fit the out-of-scope thresholds)
${MODEL_FLAGS}
  --write                 write DIR/calibration.json
  --out FILE              write the calibration to FILE instead
  --target-precision P    precision the accepted turns should reach (default 0.95)
  --prior-rows N          weight of the global thresholds per intent, in rows (default 20)
  --batch-size N          messages per model call (default 8)
  --json                  print the calibration as JSON`,
  route: `Usage: fenliu route "text" ["more text" …] [options]

Where each message would go, without running anything: the intent, and the catalog's route for
it — a template reply (printed), a tool (with the call the model proposes and what it still
needs), an agent, people (with the queue), the host — or escalation (out of scope, low
confidence, an escalating intent). First checks that the catalog matches the model (exit 1 with
each differing intent when it does not).

  --catalog FILE      the catalog with its route table (default: the model's own intents, tool
                      intents to their tools, the rest to the host)
${MODEL_FLAGS}
  --lang zh|en        language of template replies (default zh)
  --json              print the decisions as JSON`,
} as const;

export type CommandName = Exclude<keyof typeof USAGE, 'main'>;

/** `node:util` parseArgs, with its errors turned into `UsageError`s. */
export function parseFlags<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
  allowPositionals: boolean,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A positive integer flag, or `fallback` when absent. */
export function integerFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new UsageError(`--${name} must be a positive integer, not "${value}"`);
  }
  return parsed;
}

/** A number flag in [0, 1], or `fallback` when absent. */
export function fractionFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new UsageError(`--${name} must be a number between 0 and 1, not "${value}"`);
  }
  return parsed;
}

/** A required string flag. */
export function requiredFlag(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}
