/**
 * `fenliu`: classify messages, evaluate a model on a labelled file and calibrate its thresholds,
 * in Node with onnxruntime-node. `main` returns the exit code; the entry point sets it.
 */
import { AbortError, DataValidationError, FenliuError, errorMessage } from '../shared/errors';
import type { CliEnvironment, CommandContext } from './context';
import { CliError, USAGE, UsageError, type CommandName } from './options';
import { visible, visibleLines } from './terminal';

type Command = (args: string[], context: CommandContext) => Promise<number>;

// NOTE: commands are imported on use: the engine pulls in transformers.js and onnxruntime-node,
// which take seconds to load and are not needed for `--help` or a usage error.
const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  classify: async () => (await import('./commands/classify')).classifyCommand,
  eval: async () => (await import('./commands/eval')).evalCommand,
  calibrate: async () => (await import('./commands/calibrate')).calibrateCommand,
  route: async () => (await import('./commands/route')).routeCommand,
};

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/**
 * Runs one command line (without `node` and the script) and returns its exit code. Errors become
 * one message on stderr: `FenliuError`s and unreadable files exit 1, usage mistakes 2, Ctrl-C 130;
 * no stack traces unless `FENLIU_DEBUG=1`. It reads nothing from `process`: streams, directory,
 * environment and signal come in `environment`, so tests call it in-process.
 *
 * @example
 * process.exitCode = await main(['classify', '取消我的订阅'], processEnvironment(signal));
 */
export async function main(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  const { stdout, stderr, cwd, signal } = environment;
  // NOTE: every line the commands print passes through `visibleLines`, so a label, message or
  // file name with an escape sequence in it never reaches the terminal raw; `--json` output
  // stays valid JSON through it.
  const context: CommandContext = {
    out: (line) => stdout.write(`${visibleLines(line)}\n`),
    err: (line) => stderr.write(`${visibleLines(line)}\n`),
    stderr,
    cwd,
    signal,
  };
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = args[0];
    context.out(topic !== undefined && isCommand(topic) ? USAGE[topic] : USAGE.main);
    return name === undefined ? 2 : 0;
  }
  if (!isCommand(name)) {
    context.err(`fenliu: unknown command "${name}"\n\n${USAGE.main}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    context.out(USAGE[name]);
    return 0;
  }
  try {
    const command = await COMMANDS[name]();
    return await command(args, context);
  } catch (error) {
    return report(error, name, context, environment.env.FENLIU_DEBUG === '1');
  }
}

function report(
  error: unknown,
  command: CommandName,
  context: CommandContext,
  debug: boolean,
): number {
  if (debug && error instanceof Error) context.err(String(error.stack));
  const prefix = `fenliu ${command}:`;
  if (error instanceof UsageError) {
    context.err(`${prefix} ${error.message}\nRun \`fenliu ${command} --help\` for usage.`);
    return 2;
  }
  if (error instanceof AbortError) {
    context.err(`${prefix} interrupted`);
    return 130;
  }
  if (error instanceof DataValidationError) {
    // One line per bad row, `file:line: reason`, so editors and CI annotate them; a newline
    // in a quoted label stays on its row's line.
    context.err(`${prefix} ${error.issues.length} bad row(s)`);
    for (const issue of error.issues.slice(0, 50)) {
      context.err(`${visible(issue.file)}:${issue.line}: ${visible(issue.reason)}`);
    }
    if (error.issues.length > 50) context.err(`… and ${error.issues.length - 50} more`);
    return 1;
  }
  if (error instanceof FenliuError || error instanceof CliError) {
    context.err(`${prefix} ${error.message}`);
    return 1;
  }
  context.err(`${prefix} internal error: ${errorMessage(error)} (FENLIU_DEBUG=1 shows the stack)`);
  return 1;
}
