import { readdirSync, readFileSync } from 'node:fs';

/**
 * Peak memory of the browser this process started: the proportional set size (PSS, shared pages
 * split between processes) summed over every Chromium process descending from us, sampled while
 * a case runs. Linux only (reads /proc), like the machines the benchmark runs on.
 */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: fields follow the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = Number(fields[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process ended while we listed it.
    }
  }
  return children;
}

function descendants(root: number): number[] {
  const children = childrenByParent();
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function pssMB(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const match = /^Pss:\s+(\d+) kB/m.exec(rollup);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export function browserPssMB(): number {
  return descendants(process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('chrom');
      } catch {
        return false;
      }
    })
    .reduce((sum, pid) => sum + pssMB(pid), 0);
}

/** Runs `work` while sampling the browser's PSS; returns its result and the peak in MB. */
export async function withPeakBrowserMemory<T>(
  work: () => Promise<T>,
): Promise<{ value: T; peakMB: number }> {
  let peakMB = browserPssMB();
  const timer = setInterval(() => {
    peakMB = Math.max(peakMB, browserPssMB());
  }, 250);
  try {
    const value = await work();
    return { value, peakMB: Math.max(peakMB, browserPssMB()) };
  } finally {
    clearInterval(timer);
  }
}
