/**
 * Size budgets of the built widget, run by `npm run check:size` after `vite build`:
 * - the classifier worker (transformers.js + onnxruntime-web) is its own chunk, and no other
 *   script carries the model runtime;
 * - the widget's JavaScript without the runtime stays under its gzip budget, in the demo, the
 *   script-tag bundle and the React component (which must leave React to the host);
 * - the headless router bundle stays under its own budget, carries no React, and has its worker
 *   chunk beside it;
 * - no stray copy of the 27 MB ORT wasm binary is emitted; the service worker is one file.
 * Prints a table, writes test-results/size.json, exits 1 when a budget is broken.
 *
 *   npx vite build && npx tsx scripts/check-size.ts
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ARTIFACTS, REPO_ROOT } from './lib/paths';

const DIST = join(REPO_ROOT, 'dist');
const KB = 1000;

/**
 * Gzip budgets in bytes. Raise one only with a reason in the commit message. (Issue 5 raised the
 * widget's three by 10 kB each: tool calls bring argument validation with its own regular-
 * expression engine, ~7 kB, the executor and the escalation client. Issue 7 raised the React
 * component's by 2 kB: the send queue, the worker's supervision and restart, the download retry
 * and the fault messages in two languages added ~2.4 kB. Issue 13 raised the demo widget's by
 * 7 kB, the script-tag bundle's by 6 kB and the React component's by 6 kB: the router session
 * (route table, agents streamed from an endpoint or a host function, hand-off to people, the
 * catalog/model check), the framework-free worker client, an event per session step, and the
 * demo's local agents. The headless router bundle's budget is ~10% above its first measurement,
 * 25.8 kB. Issue 18's hardening added ~5 kB gzip to each widget bundle and ~4 kB to the headless
 * router (the merge of tabs' conversations and the archive, the escalation caps and deadline, the
 * worker's liveness watch, the error boundary and the checks of a host's catalog, tools and
 * handlers): budgets raised to the demo widget 115, script tag 121, React component 44 and
 * headless router 31 kB.)
 */
// NOTE: issue 14's customer view (bubbles, launcher, readable tool cards and confirmations from
// the catalog's presentation, localized errors and hand-over texts) added ~10 kB gzip to each
// widget bundle and ~1.6 kB to the router (presentation and starters validation, reason codes);
// the operator's inspector is a chunk of its own, loaded only when `inspect` is on.
const BUDGETS = {
  /** Demo page: React + the widget, everything but the worker. */
  demoWidget: 125 * KB,
  /** dist/embed/fenliu-chat.js: React + the widget + the custom element. */
  scriptTag: 131 * KB,
  /** dist/embed/react/fenliu-react.js: the widget only (React is the host's). */
  reactComponent: 54 * KB,
  /** dist/embed/router/fenliu-router.js: the headless router session, no UI, no React. */
  headlessRouter: 33 * KB,
  /** The operator's inspector, a chunk loaded only when `inspect` is on (React build). */
  inspector: 14 * KB,
  /** The worker: transformers.js + onnxruntime-web's JS (the wasm binary is served apart). */
  worker: 200 * KB,
};

/** Strings only the model runtime contains: a script with one of them carries the runtime. */
const RUNTIME_MARKERS = ['InferenceSession', 'AutoModelForCausalLM', 'onnxruntime-web'];

function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

interface Row {
  what: string;
  files: string[];
  bytes: number;
  gzip: number;
  budget: number | null;
  ok: boolean;
}

const problems: string[] = [];
const rows: Row[] = [];

function measure(what: string, files: string[], budget: number | null): void {
  if (files.length === 0) problems.push(`${what}: no files found (run \`vite build\` first)`);
  const contents = files.map((file) => readFileSync(file));
  const bytes = contents.reduce((sum, content) => sum + content.length, 0);
  const gzip = contents.reduce((sum, content) => sum + gzipSync(content, { level: 9 }).length, 0);
  const ok = budget === null || gzip <= budget;
  if (!ok) problems.push(`${what}: ${gzip} B gzip is over its budget of ${budget} B`);
  rows.push({ what, files: files.map((file) => relative(DIST, file)), bytes, gzip, budget, ok });
}

/** The e2e tests' harness page and its fault-injecting worker: built beside the demo, never shipped. */
const isTestHarness = (file: string) =>
  /(test-harness|fault-injection\.worker)-[\w-]+\.js$/.test(file);
const all = filesUnder(DIST);
const scripts = all.filter((file) => file.endsWith('.js') && !isTestHarness(file));
const isWorker = (file: string) => /classifier\.worker-[\w-]+\.js$/.test(file);
const demoScripts = scripts.filter((file) => relative(DIST, file).startsWith('assets/'));
const workers = scripts.filter(isWorker);
const demoWorker = demoScripts.filter(isWorker);

/** A static `import … from "./x.js"` (or `import "./x.js"`); never a dynamic `import("./x.js")`. */
const STATIC_IMPORT =
  /\b(?:import|export)\s*(?:[^"'();]*?\bfrom\s*)?["'](\.{1,2}\/[^"']+\.js)["']/g;

/**
 * `entry` and every chunk it imports statically, transitively: what a page loads before the
 * widget can render. Chunks only imported dynamically (the operator's inspector) are left out;
 * they are measured on their own.
 */
function staticClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      visit(join(dirname(file), match[1] ?? ''));
    }
  };
  visit(entry);
  return [...seen];
}

/** The demo page's entry script, from dist/index.html. */
function demoEntry(): string[] {
  const page = join(DIST, 'index.html');
  if (!existsSync(page)) return [];
  const src = /<script type="module"[^>]*\ssrc="\/?([^"]+)"/.exec(readFileSync(page, 'utf8'))?.[1];
  return src ? [join(DIST, src)] : [];
}

const demoWidget = demoEntry().flatMap(staticClosure);
const scriptTag = scripts
  .filter((file) => file.endsWith(join('embed', 'fenliu-chat.js')))
  .flatMap(staticClosure);
const reactComponent = scripts.filter((file) => file.endsWith('fenliu-react.js'));
const reactClosure = reactComponent.flatMap(staticClosure);
const inspector = scripts.filter((file) =>
  /embed\/react\/InspectorPanel-[\w-]+\.js$/.test(relative(DIST, file).replaceAll('\\', '/')),
);
const headlessRouter = scripts.filter((file) =>
  file.endsWith(join('embed', 'router', 'fenliu-router.js')),
);

measure('demo widget (no runtime)', demoWidget, BUDGETS.demoWidget);
measure('script-tag bundle', scriptTag, BUDGETS.scriptTag);
measure('React component', reactClosure, BUDGETS.reactComponent);
measure('inspector (on demand)', inspector, BUDGETS.inspector);
measure('headless router bundle', headlessRouter, BUDGETS.headlessRouter);
measure('classifier worker', demoWorker, BUDGETS.worker);

if (demoWorker.length !== 1)
  problems.push(`expected one demo worker chunk, found ${demoWorker.length}`);
for (const file of scripts.filter((script) => !isWorker(script))) {
  const code = readFileSync(file, 'utf8');
  const marker = RUNTIME_MARKERS.find((text) => code.includes(text));
  if (marker) problems.push(`${relative(DIST, file)} carries the model runtime ("${marker}")`);
}
for (const file of workers) {
  const code = readFileSync(file, 'utf8');
  if (!RUNTIME_MARKERS.some((text) => code.includes(text))) {
    problems.push(`${relative(DIST, file)} does not look like the runtime worker`);
  }
}
const react = reactComponent[0] ? readFileSync(reactComponent[0], 'utf8') : '';
if (!/from ?"react"/.test(react) || react.includes('react.production')) {
  problems.push('the React component must import React from the host, not bundle it');
}
// NOTE: the headless bundle is for hosts without React: neither an import of it nor a copy.
const router = headlessRouter[0] ? readFileSync(headlessRouter[0], 'utf8') : '';
if (
  /from ?["']react/.test(router) ||
  /react\.(production|development|transitional|element)/.test(router)
) {
  problems.push('the headless router bundle must not import or carry React');
}
if (!workers.some((file) => relative(DIST, file).startsWith(join('embed', 'router', 'assets')))) {
  problems.push('the headless router bundle has no classifier worker chunk beside it');
}
for (const file of all.filter((path) => path.endsWith('.wasm'))) {
  if (!relative(DIST, file).startsWith('ort/')) {
    problems.push(`${relative(DIST, file)}: a stray wasm copy (ORT files are served from /ort/)`);
  }
}
const sw = join(DIST, 'sw.js');
if (!existsSync(sw)) problems.push('dist/sw.js is missing');
else if (/^\s*import[\s{]/m.test(readFileSync(sw, 'utf8'))) problems.push('sw.js imports chunks');

const pad = (text: string, width: number) => text.padEnd(width);
console.log(`${pad('bundle', 28)}${pad('bytes', 10)}${pad('gzip', 10)}${pad('budget', 10)}ok`);
for (const row of rows) {
  const budget = row.budget === null ? '-' : String(row.budget);
  console.log(
    `${pad(row.what, 28)}${pad(String(row.bytes), 10)}${pad(String(row.gzip), 10)}${pad(budget, 10)}${row.ok ? 'yes' : 'NO'}`,
  );
}
mkdirSync(ARTIFACTS, { recursive: true });
writeFileSync(join(ARTIFACTS, 'size.json'), `${JSON.stringify({ rows, problems }, null, 2)}\n`);
if (problems.length > 0) {
  console.error(`\nsize check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('\nsize check passed (test-results/size.json)');
