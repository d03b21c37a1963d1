import { spawnSync } from 'node:child_process';
import { format } from 'node:util';
import { vi } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/paths';
import type { CliEnvironment, OutputStream } from '../../src/cli/context';
import { main } from '../../src/cli/main';

/** What a run of `fenliu` gave: exit code and everything written to stdout and stderr. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `fenliu ...args` in this process: `main()` with collecting streams (not terminals, like the
 * binary's pipes), the repository root as its directory and no `FENLIU_DEBUG`.
 *
 * NOTE: whatever reaches the process's own stdout/stderr or `console` during the run is added
 * to what it collects, as the binary's pipes would receive it: a stray write from the CLI or the
 * engine fails the tests that compare whole outputs, in-process too.
 */
export function fenliu(...args: string[]): Promise<CliRun> {
  return fenliuWith({}, ...args);
}

/** `fenliu` in-process with another directory, environment or signal. */
export async function fenliuWith(
  environment: Partial<Pick<CliEnvironment, 'cwd' | 'env' | 'signal'>>,
  ...args: string[]
): Promise<CliRun> {
  const run = { stdout: '', stderr: '' };
  const collector = (stream: 'stdout' | 'stderr'): OutputStream => ({
    write: (text: string) => {
      run[stream] += text;
    },
  });
  const restore = captureStrayOutput(run);
  try {
    const status = await main(args, {
      stdout: collector('stdout'),
      stderr: collector('stderr'),
      cwd: REPO_ROOT,
      env: {},
      signal: new AbortController().signal,
      ...environment,
    });
    return { status, ...run };
  } finally {
    restore();
  }
}

function captureStrayOutput(run: { stdout: string; stderr: string }): () => void {
  const add = (stream: 'stdout' | 'stderr', chunk: unknown) => {
    run[stream] +=
      chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => add('stdout', chunk)),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => add('stderr', chunk)),
    ...(['log', 'info', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        add('stdout', `${format(...args)}\n`);
      }),
    ),
    ...(['warn', 'error', 'trace'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        add('stderr', `${format(...args)}\n`);
      }),
    ),
  ];
  return () => {
    for (const spy of spies) spy.mockRestore();
  };
}

/**
 * Spawns `bin/fenliu.js` (the file `npx fenliu` runs) from the repository root: the end-to-end
 * check that the real binary starts, prints and exits with the code `main()` returns.
 */
export function spawnFenliu(...args: string[]): CliRun {
  const result = spawnSync(process.execPath, ['bin/fenliu.js', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, FENLIU_DEBUG: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
