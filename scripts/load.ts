/**
 * Load from the widget: 1 000 distinct messages sent from the built demo's message box (WASM) as
 * fast as they can be typed, none waiting for an answer; then every turn is checked against what
 * was sent (lost, duplicated, reordered, answered) and the figures are written.
 *
 *   npm run load                     # builds the demo, 1 000 messages → bench/reliability/load.json
 *   npm run load -- --messages 200   # shorter
 *
 * Latency is Enter → outcome on screen, stamped inside the page (see scripts/lib/widget-load.ts);
 * heaps are after a forced GC (CDP), the page's and the classifier worker's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable } from '../src/cli/table';
import { serveDemo } from './lib/browser';
import { REPO_ROOT } from './lib/paths';
import { runWidgetLoad, type LoadRun, type MemoryPoint } from './lib/widget-load';

export const LOAD_JSON = join(REPO_ROOT, 'bench', 'reliability', 'load.json');

/** What bench/reliability/load.json holds (the reliability report reads it). */
export interface LoadReport extends Omit<LoadRun, 'sent' | 'turns'> {
  date: string;
  command: string;
  browser: string;
  /** Turns the widget showed that were answered (intent chip or a follow-up answer). */
  answered: number;
}

/** The load run's figures as a plain-text table (also used by the reliability report). */
export function formatLoadTable(report: LoadReport): string {
  const memory = (when: string, point: MemoryPoint) => [
    when,
    point.page.usedMB.toFixed(1),
    point.worker ? point.worker.usedMB.toFixed(1) : '-',
    String(point.domNodes),
    String(point.widgetElements),
  ];
  const { latencyMs: latency, outcomes } = report;
  return [
    formatTable(
      ['when (after GC)', 'page heap MB', 'worker heap MB', 'DOM nodes', 'widget elements'],
      [memory('before', report.memory.before), memory('after', report.memory.after)],
      { right: ['page heap MB', 'worker heap MB', 'DOM nodes', 'widget elements'] },
    ),
    '',
    `messages ${report.messages} · turns ${report.messages - report.lost + report.duplicated + report.unexpected} · answered ${report.answered} · lost ${report.lost} · reordered ${report.reordered} · duplicated ${report.duplicated} · unexpected ${report.unexpected}`,
    `outcomes: intent ${outcomes.intent} · follow-up ${outcomes['follow-up']} · error ${outcomes.error} · cancelled ${outcomes.cancelled} · interrupted ${outcomes.interrupted} · unsettled ${outcomes.unsettled} · ever queued ${report.queuedSeen} · longest follow-up run ${report.longestFollowUpRun}`,
    `latency Enter→answer (n=${latency.n}) p50 ${latency.p50.toFixed(0)} ms · p95 ${latency.p95.toFixed(0)} ms · p99 ${latency.p99.toFixed(0)} ms · max ${latency.max.toFixed(0)} ms`,
    `${report.messagesPerSecond.toFixed(1)} answered/s over ${report.wallSeconds.toFixed(0)} s (typing all messages took ${report.sendSeconds.toFixed(0)} s) · ${report.backend.device ?? '?'} ${report.backend.dtype ?? '?'}`,
    ...(report.workerHeapNote ? [report.workerHeapNote] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '1000' },
      out: { type: 'string', default: LOAD_JSON },
    },
  });
  const messages = Number(values.messages);
  if (!Number.isInteger(messages) || messages < 1) {
    throw new Error('--messages must be a positive integer');
  }
  const server = await serveDemo();
  let run: LoadRun;
  try {
    run = await runWidgetLoad({
      url: server.url,
      messages,
      log: (line) => {
        console.log(line);
      },
    });
  } finally {
    await server.close();
  }
  const { sent, turns, ...figures } = run;
  const report: LoadReport = {
    date: new Date().toISOString(),
    command: `npm run load -- --messages ${messages}`,
    browser: 'Debian Chromium (headless), ?device=wasm',
    ...figures,
    answered: run.outcomes.intent + run.outcomes['follow-up'],
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatLoadTable(report));
  const shown = new Set(turns.map((turn) => turn.text));
  const lostTexts = sent.filter((text) => !shown.has(text));
  if (lostTexts.length > 0) console.log(`first lost: ${lostTexts.slice(0, 3).join(' | ')}`);
  console.log(`wrote ${values.out}`);
  const ok =
    report.lost === 0 &&
    report.reordered === 0 &&
    report.duplicated === 0 &&
    report.unexpected === 0 &&
    report.answered === messages;
  if (!ok) process.exitCode = 1;
}

// Run only as a script, not when the reliability report imports `formatLoadTable`.
if (process.argv[1]?.endsWith(join('scripts', 'load.ts'))) await main();
