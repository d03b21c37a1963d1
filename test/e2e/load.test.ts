import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA } from '../../scripts/lib/paths';
import { runWidgetLoad, type LoadRun } from '../../scripts/lib/widget-load';
import { validateCatalog } from '../../src/catalog/catalog';
import { serveDemo, type DemoServer } from '../../scripts/lib/browser';
import { reliabilityLog } from '../../scripts/lib/reliability-log';

/**
 * Issue 7's load case in the browser: 1 000 distinct messages typed into the built demo (WASM)
 * and sent with Enter as fast as keyboard input can be queued, none waiting for an answer (the
 * code path of `npm run load`, which reports the timings; this test asserts behaviour only).
 * Every message must get its turn at once, in sending order, once, and each turn an answer.
 */

const MESSAGES = 1000;
const catalogFile = join(DEMO_DATA, 'catalog.json');
const catalog = validateCatalog(JSON.parse(readFileSync(catalogFile, 'utf8')), catalogFile);
/** The most arguments one demo tool can ask for: the longest chain of answers to its questions. */
const MOST_ARGUMENTS = Math.max(
  ...(catalog.tools ?? []).map((tool) => Object.keys(tool.parameters.properties).length),
);
const log = reliabilityLog('load');

let server: DemoServer;
beforeAll(async () => {
  server = await serveDemo();
});
afterAll(async () => {
  await server.close();
});

function describeRun(run: LoadRun): string {
  const answered = run.outcomes.intent + run.outcomes['follow-up'];
  const heap = `${run.memory.before.page.usedMB.toFixed(1)}→${run.memory.after.page.usedMB.toFixed(1)} MB`;
  const worker = run.memory.after.worker
    ? `, worker heap ${run.memory.before.worker?.usedMB.toFixed(1) ?? '?'}→${run.memory.after.worker.usedMB.toFixed(1)} MB`
    : '';
  return (
    `${run.entersSeen} sent, ${answered} answered (${run.outcomes['follow-up']} as answers to a tool's question), ` +
    `${run.lost} lost, ${run.reordered} reordered, ${run.duplicated} duplicated, ` +
    `${run.outcomes.error} errors, longest run of answers to one tool's questions ${run.longestFollowUpRun}, ` +
    `heap ${heap}${worker}`
  );
}

describe('the widget under load', () => {
  it(`keeps ${MESSAGES} messages sent without waiting: each one shown once, in order, and answered`, async () => {
    const run = await runWidgetLoad({
      url: server.url,
      messages: MESSAGES,
      settleTimeoutMs: 600_000,
      log: (line) => {
        console.log(`load: ${line}`);
      },
    });
    const texts = run.turns.map((turn) => turn.text);
    const answered = run.turns.filter(
      (turn) => turn.outcome === 'intent' || turn.outcome === 'follow-up',
    ).length;
    const ok =
      run.settled &&
      run.entersSeen === MESSAGES &&
      run.lost === 0 &&
      run.reordered === 0 &&
      run.duplicated === 0 &&
      run.unexpected === 0 &&
      answered === MESSAGES &&
      run.longestFollowUpRun <= MOST_ARGUMENTS;
    log({
      area: 'load',
      case: `${MESSAGES} messages from the widget`,
      outcome: describeRun(run),
      ok,
    });
    console.log(`load: ${describeRun(run)}`);

    expect(run.backend.device).toBe('wasm');
    // Every Enter reached the widget's message box.
    expect(run.entersSeen).toBe(MESSAGES);
    expect(run.settled).toBe(true);
    // None lost, none reordered, none duplicated: the turns are exactly what was sent.
    expect(run.lost).toBe(0);
    expect(run.reordered).toBe(0);
    expect(run.duplicated).toBe(0);
    expect(run.turns).toHaveLength(MESSAGES);
    expect(texts).toEqual(run.sent);
    // Each one answered: classified (its intent on the turn), or (a message read as the answer to
    // a tool's question for a missing argument) carrying that tool call on. No error, nothing left
    // waiting.
    expect(
      run.turns.filter((turn) => turn.outcome !== 'intent' && turn.outcome !== 'follow-up'),
    ).toEqual([]);
    expect(run.outcomes.intent).toBeGreaterThan(0);
    // A message is read as the answer to a tool's question only while an argument is still
    // missing: each answer fills at least one, so answers in a row never outnumber a tool's
    // arguments (a longer run means later messages were swallowed by an answered question).
    expect(run.longestFollowUpRun).toBeLessThanOrEqual(MOST_ARGUMENTS);
    // Sent faster than they are answered, messages wait their turn, marked as queued.
    expect(run.queuedSeen).toBeGreaterThan(0);
    // The page stamped each message's Enter and its answer (what `npm run load` reports).
    expect(run.latencyMs.n).toBe(MESSAGES);
    expect(run.pageErrors).toEqual([]);
    expect(run.foreignRequests).toEqual([]);
    expect(ok).toBe(true);
  }, 900_000);
});
