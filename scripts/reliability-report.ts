/**
 * Writes docs/reliability.md and docs/reliability.json (issue 7): runs every Node case itself —
 * the bad-input table (scripts/lib/bad-inputs.ts), random strings, the broken model folders
 * (scripts/lib/bad-files.ts) in the engine and the CLI — and adds the soak figures
 * (bench/reliability/soak.json, from `npm run soak`), the production audit
 * (bench/reliability/audit.json, from `npm run audit:prod`), the widget load figures
 * (bench/reliability/load.json, from `npm run load`) and the browser cases the e2e tests write to
 * test-results/reliability-e2e/*.json (one file per test file, see scripts/lib/reliability-log.ts),
 * when present.
 *
 *   npm run reliability    # about a minute; exits 1 when a case fails (known gaps excepted)
 */
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { IntentClassifier, MAX_INPUT_CHARS, prepareMessage } from '../src/engine/classifier';
import { InputError } from '../src/shared/errors';
import { configureRuntime } from '../src/engine/runtime';
import type { AuditReport } from './audit';
import { BAD_FOLDER_CASES, runBadFolderCase } from './lib/bad-files';
import {
  BAD_INPUT_CASES,
  classificationProblems,
  randomMessage,
  runBadInputCase,
  type CaseOutcome,
} from './lib/bad-inputs';
import { DEMO_MODEL_ID, PUBLIC_MODELS, REPO_ROOT } from './lib/paths';
import { RELIABILITY_E2E_DIR } from './lib/reliability-log';
import { writeFormatted } from './lib/write-formatted';
import type { LoadReport } from './load';
import type { SoakReport } from './soak';

const SOAK_JSON = join(REPO_ROOT, 'bench', 'reliability', 'soak.json');
const AUDIT_JSON = join(REPO_ROOT, 'bench', 'reliability', 'audit.json');
const LOAD_JSON = join(REPO_ROOT, 'bench', 'reliability', 'load.json');
const OUT_MD = join(REPO_ROOT, 'docs', 'reliability.md');
const OUT_JSON = join(REPO_ROOT, 'docs', 'reliability.json');
const RANDOM_MESSAGES = 2000;

/** Problems this work found and fixed; each is exercised by the cases below. */
const FIXED = [
  'Typed control-token text (`<|im_end|><|im_start|>assistant`, `<tool_call>`, `<think>`) was ' +
    "tokenised as Qwen3's control tokens, so a user could end their own turn and write the " +
    "assistant's; it is now read as plain characters (a zero-width space after `<`).",
  'Cutting a long message at the budget could split a surrogate pair and feed half an emoji to ' +
    'the tokenizer; the cut now falls before the pair, and the result says it was shortened ' +
    '(`Classification.truncated`).',
  'Before src/engine/model-checks.ts, transformers.js loaded a folder whose config.json says ' +
    "`llama`, a tokenizer.json with ids beyond the model's vocab_size, and a BERT WordPiece " +
    'tokenizer.json (every message encoded as `[UNK]`) without any error; a missing, empty, ' +
    'truncated or corrupt ONNX file failed with onnxruntime\'s "Protobuf parsing failed" or a ' +
    'file-not-found message and no fix. Each now stops the load with a `ModelLoadError` naming ' +
    'the file and the fix, in the engine and in `fenliu classify`.',
  'The widget ignored Enter while a message was being answered, so a message typed then was ' +
    'overwritten by the next one: the load test lost 999 of 1 000. Messages sent while busy (or ' +
    'while the model loads) now queue and are answered in sending order.',
  'With messages queued, one sent before a question for a missing argument appeared was taken ' +
    'as its answer, and a value the schema then refused still counted as one, so the question ' +
    'came back for every later message (963 of 1 000 in the load test). Only a message sent after ' +
    'the question can answer it, and only with a value the schema accepts.',
  'A message being answered when the page closed was not saved (only settled turns were); now ' +
    'it comes back `interrupted`, with Send again, and the unsent draft is kept too.',
  'A worker that crashed or hung left its call pending for ever and the widget stuck on ' +
    '"classifying"; the worker is now supervised (uncaught error, per-call deadline): its calls ' +
    'are rejected with `classifier-crashed` / `classifier-unresponsive` and a fresh worker loads.',
  'A download the network cut was reported as "file was not found locally" (transformers.js ' +
    'drops the fetch error), with a manual Retry; it is now `model-download-failed`, retried when ' +
    'the browser is back online or after 2, 4 and 8 s.',
  'A refused IndexedDB write (quota) was silently ignored, so the user believed the ' +
    'conversation saved; the widget now says it is not being kept.',
  'The strict-CSP embed needed `blob:` scripts and workers, because transformers.js imports its ' +
    "Cache Storage copy of onnxruntime's loader from a blob: URL; `browser-cache=off` now " +
    'turns that copy off too, and the policy needs no `blob:`.',
  'A download cut mid-way left the page on "downloading" for ever in 4 of 6 tries (and in CI): ' +
    'transformers.js fetches files in parallel, and one finishing after the load had failed ' +
    "reported progress over the error. The worker now ignores a settled load's progress; a " +
    'download whose bytes stop coming for 30 s, or that is under way when the browser goes ' +
    'offline, fails (`watchedFetch`); the probe telling a cut from a missing file times out.',
  "The q8 model and q4's 8-bit head gave wrong logits (up to 2.5 off) in Node on x86 CPUs with " +
    "AVX2 but no VNNI: onnxruntime's uint8 × int8 integer kernel saturates there. The exporter " +
    'now stores those weights as uint8 with zero point 128, which every kernel computes exactly.',
  // Issue 18 (an outside review's findings), each with the test that shows it fixed:
  'A string parameter with `maxLength: 1e9` froze the page and `fenliu classify` (the pattern ' +
    "engine's length table looped maxLength times per state), and a 60 000-character follow-up " +
    'against an open pattern took 40 s (the span search ran past maxLength, quadratic): string ' +
    'bounds are capped at 1000, patterns at 500 characters and enums at 100 values when a catalog ' +
    'or model card loads, lengths are decided without walking to the bound, and the span search ' +
    'stops at maxLength with a step budget (test/unit/schema-limits, pattern and slot-values tests).',
  "Two tabs on one IndexedDB: the last to save wiped the other's messages; more than 200 " +
    'unanswered messages lost the oldest on reload. Saves now merge by turn id in one IndexedDB ' +
    'transaction and tabs tell each other on a BroadcastChannel; no cap drops an unanswered ' +
    'message and answered turns past 200 go to an archive key (test/e2e/persistence: two tabs, ' +
    'a 300-message burst before ready).',
  'A demo URL switch sent the conversation to any origin, and a 307 from the escalation endpoint ' +
    're-POSTed it to another origin: the switch is gone, redirects are refused, and the widget ' +
    'names where a hand-over goes (test/e2e/egress, test/unit/escalation).',
  'A 10 MB escalation reply was kept, shown, saved and re-sent as history, and a server dripping ' +
    'a byte a second never timed out: replies are capped at 16 KiB, history sent at 32 KiB, and ' +
    '`timeoutMs` bounds the whole call (test/unit/escalation).',
  'Timeouts above 2^31-1 ms fired at once (setTimeout overflow): a catalog tool timeout above it ' +
    'is a load-time problem, and call and tool deadlines cap at it (test/e2e/faults).',
  'An invalid `catalog` property unmounted the widget and a non-function tool showed a raw ' +
    'TypeError: the property is validated like a fetched catalog, tools and handlers are checked ' +
    'when set, and an error boundary keeps the host page working (test/e2e/host-input).',
  'A tokenizer.json without its merges loaded and answered at 8 % accuracy, and a card listing 6 ' +
    'of 12 labels misrouted silently: the card records canary messages with their token ids and ' +
    'label distributions, checked at load (`model-tokenizer-mismatch`, `model-labels-mismatch`, ' +
    '`model-output-mismatch`; on WebGPU a wrong output falls back to WASM) (test/model/canary).',
  'A worker that exited without an error event (`self.close()`, killed for memory) left the turn ' +
    'on classifying for two minutes: a Web Lock the worker holds for its lifetime tells at once, ' +
    'and a heartbeat catches an idle worker gone silent (test/e2e/faults).',
  'The CLI printed terminal escapes from labels raw, `calibrate` wrote a degenerate calibration ' +
    'from 1 row or out-of-scope rows only, and tool-call rows naming unknown tools were scored: ' +
    'control characters are shown escaped, calibrate refuses data that cannot support a fit, and ' +
    'bad tool-call rows are `file:line` errors (test/cli/terminal, fenliu and bad-files tests).',
];

interface ReliabilityJson {
  date: string;
  model: string;
  cases: CaseOutcome[];
  soak: SoakReport | null;
  audit: AuditReport | null;
  load: LoadReport | null;
  /** The e2e tests' cases and the files they came from (null: no e2e file has written any). */
  browser: { files: string[]; cases: CaseOutcome[] } | null;
}

function readJson(path: string): unknown {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as unknown) : null;
}

function isCaseOutcome(value: unknown): value is CaseOutcome {
  if (typeof value !== 'object' || value === null) return false;
  const { area, case: name, outcome, ok } = value as Record<string, unknown>;
  return (
    typeof area === 'string' &&
    typeof name === 'string' &&
    typeof outcome === 'string' &&
    typeof ok === 'boolean'
  );
}

/**
 * The cases every e2e test file wrote to test-results/reliability-e2e/<name>.json, in file-name
 * order. A file that cannot be read as `{cases: CaseOutcome[]}` is itself a failed case, so a
 * broken log never passes silently.
 */
function browserCases(): ReliabilityJson['browser'] {
  if (!existsSync(RELIABILITY_E2E_DIR)) return null;
  const names = readdirSync(RELIABILITY_E2E_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
  if (names.length === 0) return null;
  const files: string[] = [];
  const cases: CaseOutcome[] = [];
  for (const name of names) {
    const path = join(RELIABILITY_E2E_DIR, name);
    const file = relative(REPO_ROOT, path);
    files.push(file);
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      value = error;
    }
    const listed = (value as { cases?: unknown } | null)?.cases;
    if (Array.isArray(listed) && listed.every(isCaseOutcome)) {
      cases.push(...listed);
    } else {
      cases.push({
        area: 'report',
        case: file,
        outcome: 'unreadable: not {"cases": [{area, case, outcome, ok}, …]}',
        ok: false,
      });
    }
  }
  return { files, cases };
}

async function inputCases(): Promise<CaseOutcome[]> {
  configureRuntime({ modelRoot: PUBLIC_MODELS });
  const classifier = await IntentClassifier.load({ modelId: DEMO_MODEL_ID, device: 'cpu' });
  try {
    const outcomes: CaseOutcome[] = [];
    for (const testCase of BAD_INPUT_CASES) {
      const { area, case: name, outcome, ok } = await runBadInputCase(classifier, testCase);
      outcomes.push({ area, case: name, outcome, ok });
    }
    // The property test's generator, a fixed sample.
    const texts = fc.sample(randomMessage, { numRuns: RANDOM_MESSAGES, seed: 11 });
    const accepted = texts.filter((text) => {
      try {
        prepareMessage(text);
        return true;
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        return false;
      }
    });
    const results = await classifier.classifyBatch(accepted, { batchSize: 8 });
    const invalid = results.filter(
      (result) => classificationProblems(result, classifier.info).length > 0,
    ).length;
    const intents = new Set(results.map((result) => result.intentId)).size;
    outcomes.push({
      area: 'bad input',
      case: `${RANDOM_MESSAGES} random strings (fast-check: any UTF-16, graphemes, zh/en/digits/emoji/HTML/control-token mixes)`,
      outcome:
        `${texts.length - accepted.length} refused with InputError (only whitespace/control ` +
        `characters), ${results.length} classified, ${invalid} invalid, ${intents} distinct intents`,
      ok: results.length === accepted.length && invalid === 0,
    });
    return outcomes;
  } finally {
    await classifier.dispose();
  }
}

async function folderCases(): Promise<CaseOutcome[]> {
  const root = mkdtempSync(join(tmpdir(), 'fenliu-reliability-'));
  try {
    const outcomes: CaseOutcome[] = [];
    for (const testCase of BAD_FOLDER_CASES) outcomes.push(await runBadFolderCase(root, testCase));
    return outcomes;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A Markdown table cell: no pipes or newlines, long text shortened. */
function cell(text: string, max = 400): string {
  const flat = text.replace(/\s+/g, ' ').replaceAll('|', '\\|');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function caseTable(cases: readonly CaseOutcome[]): string[] {
  return [
    '| area | case | outcome | ok |',
    '| --- | --- | --- | --- |',
    ...cases.map(
      (c) =>
        `| ${c.area} | ${cell(c.case)} | ${cell(c.outcome)} | ${c.ok ? 'yes' : c.gap === undefined ? '**no**' : 'gap'} |`,
    ),
  ];
}

function soakSection(soak: SoakReport | null): string[] {
  if (!soak) return ['Not run yet: `npm run soak` writes bench/reliability/soak.json.'];
  const mb = (value: number) => value.toFixed(1);
  const { before, after, samples } = soak.memory;
  const peakHeap = Math.max(
    before.heapUsedMB,
    after.heapUsedMB,
    ...samples.map((s) => s.heapUsedMB),
  );
  const peakRss = Math.max(before.rssMB, after.rssMB, ...samples.map((s) => s.rssMB));
  return [
    `\`${soak.command}\` (${soak.date.slice(0, 10)}, Node ${soak.node}, ${soak.model.id} ${soak.model.dtype} on ${soak.model.device}${soak.model.calibrated ? ', calibrated' : ''}): ` +
      `${soak.messages} classifications, one at a time through one \`IntentClassifier\`, of ` +
      `${soak.distinctMessages} distinct messages (demo test split and the accepted bad inputs, ` +
      'in a seeded shuffled repeating order), each checked against its own single-shot result. ' +
      "Latency is per `classify()` call; the tail (p99, max) is the bad-input table's " +
      "2 000-character messages, and wall time depends on the machine's other load.",
    '',
    '| messages | results | lost | wrong or reordered | p50 ms | p95 ms | p99 ms | max ms | wall s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${soak.messages} | ${soak.results} | ${soak.lost} | ${soak.mismatched} | ${soak.latencyMs.p50.toFixed(2)} | ${soak.latencyMs.p95.toFixed(2)} | ${soak.latencyMs.p99.toFixed(2)} | ${soak.latencyMs.max.toFixed(1)} | ${soak.wallSeconds.toFixed(0)} |`,
    '',
    `Memory${soak.gcExposed ? ' (before and after: after a full GC, `--expose-gc`)' : ' (no GC exposed: samples without a collection)'}:`,
    '',
    '| when | messages | JS heap MB | RSS MB | external MB |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| before | 0 | ${mb(before.heapUsedMB)} | ${mb(before.rssMB)} | ${mb(before.externalMB)} |`,
    ...samples.map(
      (s) => `| during | ${s.done} | ${mb(s.heapUsedMB)} | ${mb(s.rssMB)} | ${mb(s.externalMB)} |`,
    ),
    `| after | ${soak.messages} | ${mb(after.heapUsedMB)} | ${mb(after.rssMB)} | ${mb(after.externalMB)} |`,
    '',
    `JS heap ${mb(before.heapUsedMB)} → ${mb(after.heapUsedMB)} MB (peak sampled ${mb(peakHeap)}), ` +
      `RSS ${mb(before.rssMB)} → ${mb(after.rssMB)} MB (peak sampled ${mb(peakRss)}).`,
  ];
}

function loadSection(load: LoadReport | null): string[] {
  if (!load) {
    return ['Not run yet: `npm run build && npm run load` writes bench/reliability/load.json.'];
  }
  const mb = (value: number) => value.toFixed(1);
  const { before, after } = load.memory;
  const worker = (point: typeof before) => (point.worker ? mb(point.worker.usedMB) : '-');
  const { latencyMs: latency, outcomes } = load;
  const turns = load.messages - load.lost + load.duplicated + load.unexpected;
  return [
    `\`${load.command}\` (${load.date.slice(0, 10)}, ${load.browser}, ${load.backend.device ?? '?'} ${load.backend.dtype ?? '?'}): ` +
      `${load.messages} distinct messages (the demo test split with a numbered suffix) typed into ` +
      "the built demo's message box and sent with Enter as queued keyboard input, none waiting " +
      'for an answer; every turn checked against what was sent. Latency is Enter → outcome on ' +
      'screen, stamped in the page (keydown listener and MutationObserver); heaps are after a ' +
      'forced GC (CDP), the page and the classifier worker. test/e2e/load.test.ts runs the same ' +
      'code and asserts the behaviour.',
    '',
    '| messages | turns | answered | lost | reordered | duplicated | errors | ever queued | p50 ms | p95 ms | p99 ms | max ms | answered/s | wall s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${load.messages} | ${turns} | ${load.answered} | ${load.lost} | ${load.reordered} | ${load.duplicated} | ${outcomes.error} | ${load.queuedSeen} | ${latency.p50.toFixed(0)} | ${latency.p95.toFixed(0)} | ${latency.p99.toFixed(0)} | ${latency.max.toFixed(0)} | ${load.messagesPerSecond.toFixed(1)} | ${load.wallSeconds.toFixed(0)} |`,
    '',
    `Answered: ${outcomes.intent} with an intent chip, ${outcomes['follow-up']} read as the answer ` +
      "to a tool's question for a missing argument (at most " +
      `${load.longestFollowUpRun} in a row). Typing all messages took ` +
      `${load.sendSeconds.toFixed(0)} s.`,
    '',
    '| when (after GC) | page JS heap MB | worker JS heap MB | DOM nodes | widget elements |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| before | ${mb(before.page.usedMB)} | ${worker(before)} | ${before.domNodes} | ${before.widgetElements} |`,
    `| after | ${mb(after.page.usedMB)} | ${worker(after)} | ${after.domNodes} | ${after.widgetElements} |`,
    ...(load.workerHeapNote ? ['', load.workerHeapNote] : []),
  ];
}

function auditSection(audit: AuditReport | null): string[] {
  if (!audit) return ['Not run yet: `npm run audit:prod` writes bench/reliability/audit.json.'];
  const when = `\`${audit.command}\` (${audit.date.slice(0, 10)})`;
  if (audit.status === 'clean') {
    return [`${when}: no high or critical advisory (${JSON.stringify(audit.counts)}).`];
  }
  if (audit.status === 'vulnerable') {
    return [
      `${when}: high or critical advisories:`,
      '',
      ...audit.findings.map((f) => `- ${f.name} (${f.severity}): ${f.via.join('; ')}`),
    ];
  }
  return [
    `${when}: **not run** — ${audit.reason ?? 'no reason given'}. Production dependencies are ` +
      'therefore not verified here; run `npm run audit:prod` where the npm advisory endpoint ' +
      'is reachable.',
  ];
}

function render(report: ReliabilityJson): string {
  const all = [...report.cases, ...(report.browser?.cases ?? [])];
  const passed = all.filter((c) => c.ok).length;
  const gaps = all.filter((c) => !c.ok && c.gap !== undefined);
  return [
    '# Reliability',
    '',
    '<!-- Generated by scripts/reliability-report.ts (`npm run reliability`); do not edit. -->',
    '',
    `Generated ${report.date.slice(0, 10)} on ${report.model}. ${all.length} cases tried, ` +
      `${passed} passed, ${gaps.length} known gap(s), ${all.length - passed - gaps.length} failed.`,
    '',
    '## Input handling',
    '',
    'What the engine gives the model for a typed message (`prepareMessage` in',
    'src/engine/classifier.ts); the caller keeps the message exactly as typed:',
    '',
    '- control characters (C0 except tab, newline and CR; DEL; C1) become spaces;',
    '- lone UTF-16 surrogates become U+FFFD;',
    '- the message is trimmed; nothing left (empty, whitespace or control characters only) is an',
    '  `InputError` (`input-invalid`);',
    `- more than ${MAX_INPUT_CHARS} UTF-16 units are cut there, never inside a surrogate pair, and`,
    '  the classification carries `truncated: {originalChars, keptChars}` for a notice;',
    "- text spelling one of Qwen3's control tokens gets a zero-width space after its `<`, so it is",
    '  read as the characters it looks like, never as a turn boundary or a tool call.',
    '',
    'Every classification, whatever the input, is one of the catalog intents with a distribution',
    'over all of them that sums to 1 (label-trie decoding makes anything else impossible), and a',
    'tool call only ever names the tool the intent is bound to, with arguments that pass its',
    'schema.',
    '',
    '## Failures found and fixed',
    '',
    ...FIXED.map((text) => `- ${text}`),
    ...(gaps.length > 0
      ? ['', 'Known gaps:', '', ...gaps.map((c) => `- ${c.case}: ${c.gap ?? ''}`)]
      : []),
    '',
    '## Cases (Node)',
    '',
    'Bad inputs run on the demo model with its calibration (test/model/bad-input.test.ts runs the',
    'same table); each broken model folder is a copy of public/models/fenliu-demo, loaded in the',
    'engine and with `fenliu classify --model` (test/cli/bad-files.test.ts).',
    '',
    ...caseTable(report.cases),
    '',
    '## Cases (browser)',
    '',
    ...(report.browser
      ? [
          `From the e2e tests: ${report.browser.files.map((file) => `\`${file}\``).join(', ')}.`,
          '',
          ...caseTable(report.browser.cases),
        ]
      : [
          'Not run: test-results/reliability-e2e/ has no case files (the browser e2e tests write',
          'them).',
        ]),
    '',
    '## Load (browser)',
    '',
    ...loadSection(report.load),
    '',
    '## Soak (Node)',
    '',
    ...soakSection(report.soak),
    '',
    '## Production dependencies',
    '',
    ...auditSection(report.audit),
    '',
  ].join('\n');
}

const started = performance.now();
const cases = [...(await inputCases()), ...(await folderCases())];
const browser = browserCases();
const report: ReliabilityJson = {
  date: new Date().toISOString(),
  model: `${DEMO_MODEL_ID} (Node, onnxruntime-node, cpu)`,
  cases,
  soak: readJson(SOAK_JSON) as SoakReport | null,
  audit: readJson(AUDIT_JSON) as AuditReport | null,
  load: readJson(LOAD_JSON) as LoadReport | null,
  browser,
};
await writeFormatted(OUT_JSON, JSON.stringify(report, null, 2));
await writeFormatted(OUT_MD, render(report));
const failed = [...cases, ...(browser?.cases ?? [])].filter((c) => !c.ok && c.gap === undefined);
for (const c of cases)
  console.log(`${c.ok ? 'ok  ' : c.gap ? 'gap ' : 'FAIL'} ${c.area} · ${c.case}`);
console.log(
  `${cases.length} Node cases, ${browser?.cases.length ?? 0} browser cases, ${failed.length} failed · wrote ${OUT_MD} and ${OUT_JSON} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
if (failed.length > 0) process.exitCode = 1;
