/**
 * Import rules, checked by `npm run check:imports` (part of `npm run check`):
 * - no import cycles, among the TypeScript of src/, workers/, scripts/, bench/, test/ and
 *   examples/ (relative specifiers, `import type` and `export … from` included) nor among the
 *   Python modules of training/ (a sibling module named by `import X` or `from X import`,
 *   inside functions too);
 * - dependencies point one way, test/ → scripts/ and bench/ → src/ and workers/; src/ui imports
 *   nothing from workers/ (the worker protocol lives in src/engine/worker-protocol.ts; spawning
 *   the worker with `new Worker(new URL(…))` is not an import);
 * - the folders of src/ import only the folders beneath them (`LAYERS`, and each folder's
 *   README.md says the same in words).
 * Prints every cycle with its path and every broken rule, and exits 1 when there is one.
 *
 *   npx tsx scripts/check-import-cycles.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { REPO_ROOT } from './lib/paths';

/** Repository-relative paths (forward slashes) of each file to the files it imports. */
export type ImportGraph = Map<string, string[]>;

const TS_ROOTS = ['src', 'workers', 'scripts', 'bench', 'test', 'examples'];
const PYTHON_ROOT = 'training';
const SKIPPED_FOLDERS = new Set(['node_modules', 'build', '__pycache__', '.venv']);

/**
 * What each folder of src/ (and workers/) may import besides itself: a folder, or one file of a
 * folder (`engine/classification.ts`: the result types and pure routing, not the model). A file
 * directly in src/ (`main.tsx`, the demo page's entry) may import anything in src/.
 */
/** What the router may import; every layer above it adds itself to what it may import. */
const BENEATH_ROUTER = [
  'src/client',
  'src/tools',
  'src/escalation',
  'src/engine',
  'src/catalog',
  'src/shared',
] as const;

export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  'src/shared': [],
  'src/catalog': ['src/shared'],
  'src/decoding': ['src/catalog', 'src/shared'],
  'src/engine': ['src/decoding', 'src/catalog', 'src/shared'],
  'src/dataset': ['src/catalog', 'src/shared'],
  'src/evaluation': ['src/engine/classification.ts', 'src/dataset', 'src/catalog', 'src/shared'],
  'src/tools': ['src/catalog', 'src/shared'],
  'src/escalation': ['src/engine/classification.ts', 'src/shared'],
  'src/client': ['src/engine', 'src/shared'],
  'src/router': BENEATH_ROUTER,
  'src/ui': ['src/router', ...BENEATH_ROUTER],
  'src/embed': ['src/ui', 'src/router', ...BENEATH_ROUTER],
  'src/demo': ['src/embed', 'src/ui', 'src/router', ...BENEATH_ROUTER, 'src/sw'],
  'src/cli': [
    'src/router/routing.ts',
    'src/evaluation',
    'src/dataset',
    'src/engine',
    'src/decoding',
    'src/catalog',
    'src/shared',
  ],
  'src/sw': [],
  workers: ['src/engine', 'src/decoding', 'src/catalog', 'src/shared'],
};

/** Imports that would point the wrong way, whatever the layer table says. */
export const ONE_WAY: readonly { from: readonly string[]; not: readonly string[] }[] = [
  { from: ['src/', 'workers/'], not: ['scripts/', 'bench/', 'test/'] },
  { from: ['scripts/', 'bench/'], not: ['test/'] },
  { from: ['src/ui/', 'src/router/', 'src/client/'], not: ['workers/'] },
];

/** The module specifiers a TypeScript source imports or re-exports (static and `import()`). */
export function typescriptImports(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/**
 * The top-level module names a Python source imports (`import a, b.c as d` → a, b; `from x.y
 * import z` → x; `from . import z` → z; `from .x import z` → x), comments and strings ignored.
 */
export function pythonImports(source: string): string[] {
  const names: string[] = [];
  for (const statement of withoutStringsAndComments(source).split(/[\n;]/)) {
    const from = /^\s*from\s+(\.*)([\w.]*)\s+import\s+(.*)$/.exec(statement);
    const plain = /^\s*import\s+(.*)$/.exec(statement);
    if (from) {
      const [, dots = '', module = '', imported = ''] = from;
      if (module !== '') names.push(topLevel(module));
      else if (dots !== '') names.push(...importedNames(imported));
    } else if (plain) {
      names.push(...importedNames(plain[1] ?? ''));
    }
  }
  return names;
}

/** `a.b as c, d` (or `(a, b)`) → the top-level names a, d. */
function importedNames(list: string): string[] {
  return list
    .replace(/[()\\]/g, ' ')
    .split(',')
    .map((item) => item.trim().split(/\s+as\s+/)[0] ?? '')
    .filter((name) => /^[\w.]+$/.test(name))
    .map(topLevel);
}

function topLevel(module: string): string {
  return module.split('.')[0] ?? module;
}

/** The source with comments and string literals blanked out (line breaks kept). */
function withoutStringsAndComments(source: string): string {
  let out = '';
  let index = 0;
  while (index < source.length) {
    const char = source[index] as string;
    if (char === '#') {
      while (index < source.length && source[index] !== '\n') index++;
      continue;
    }
    if (char !== '"' && char !== "'") {
      out += char;
      index++;
      continue;
    }
    const quote = source.startsWith(char.repeat(3), index) ? char.repeat(3) : char;
    index += quote.length;
    while (index < source.length && !source.startsWith(quote, index)) {
      if (source[index] === '\\') index++;
      else if (source[index] === '\n') out += '\n';
      index++;
    }
    index += quote.length;
    out += '""';
  }
  return out;
}

const TS_EXTENSIONS = ['', '.ts', '.tsx', '.d.ts', '/index.ts', '/index.tsx'];

/** The file a relative TypeScript specifier names, among `files`; undefined when none does. */
function resolveTypescript(from: string, specifier: string, files: ReadonlySet<string>) {
  const target = posix.join(posix.dirname(from), specifier.replace(/[?#].*$/, ''));
  const candidates = TS_EXTENSIONS.map((extension) => target + extension);
  if (/\.js$/.test(target)) candidates.push(target.replace(/\.js$/, '.ts'));
  return candidates.find((candidate) => files.has(candidate)) ?? target;
}

/** A sibling module: the importing file's folder first, then each folder up to training/. */
function resolvePython(from: string, module: string, files: ReadonlySet<string>) {
  for (let folder = posix.dirname(from); ; folder = posix.dirname(folder)) {
    for (const candidate of [`${folder}/${module}.py`, `${folder}/${module}/__init__.py`]) {
      if (files.has(candidate)) return candidate;
    }
    if (folder === PYTHON_ROOT || !folder.includes('/')) return undefined;
  }
}

/**
 * The import graph of `sources` (repository-relative path → text): `.ts`/`.tsx` files by their
 * relative specifiers (a specifier naming no listed file still appears, as its path), `.py`
 * files by the sibling modules they import (others are libraries, left out).
 */
export function importGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const files = new Set(sources.keys());
  const graph: ImportGraph = new Map();
  for (const [file, source] of sources) {
    let targets: (string | undefined)[] = [];
    if (/\.tsx?$/.test(file)) {
      targets = typescriptImports(source)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => resolveTypescript(file, specifier, files));
    } else if (file.endsWith('.py')) {
      targets = pythonImports(source).map((module) => resolvePython(file, module, files));
    }
    const unique = new Set(targets.filter((target) => target !== undefined && target !== file));
    graph.set(file, [...unique] as string[]);
  }
  return graph;
}

/**
 * The import cycles of `graph`: for each strongly connected group of files, the shortest cycle
 * through each of them (each cycle once), as paths that end where they start.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  for (const group of stronglyConnected(graph)) {
    if (group.size < 2) continue;
    for (const start of [...group].sort()) {
      const cycle = shortestCycle(graph, start, group);
      if (!cycle) continue;
      const body = cycle.slice(0, -1);
      const first = body.indexOf([...body].sort()[0] as string);
      const key = [...body.slice(first), ...body.slice(0, first)].join('\n');
      if (!cycles.has(key)) cycles.set(key, cycle);
    }
  }
  return [...cycles.values()];
}

/** Tarjan's algorithm: the strongly connected components of `graph`. */
function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: Set<string>[] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group = new Set<string>();
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      group.add(member);
    } while (member !== node);
    groups.push(group);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return groups;
}

/** Breadth-first: the shortest path from `start` back to itself inside `group`. */
function shortestCycle(
  graph: ReadonlyMap<string, readonly string[]>,
  start: string,
  group: ReadonlySet<string>,
): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as string;
    for (const next of graph.get(node) ?? []) {
      if (!group.has(next)) continue;
      if (next === start) {
        const path: string[] = [];
        for (let at = node; at !== start; at = cameFrom.get(at) as string) path.unshift(at);
        return [start, ...path, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** The `LAYERS` entry a file belongs to, or undefined (outside src/, or directly in src/). */
function layerOf(file: string): string | undefined {
  return Object.keys(LAYERS).find((layer) => file.startsWith(`${layer}/`));
}

/** Every import that breaks `ONE_WAY` or `LAYERS`, as a sentence naming both files. */
export function ruleViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const broken = ONE_WAY.find(
        (rule) =>
          rule.from.some((folder) => file.startsWith(folder)) &&
          rule.not.some((folder) => target.startsWith(folder)),
      );
      if (broken) {
        const folders = `${broken.from.join(' and ')} must not import from ${broken.not.join(', ')}`;
        problems.push(`${file} imports ${target}: ${folders}`);
        continue;
      }
      const layer = layerOf(file);
      const targetLayer = layerOf(target);
      if (!layer || !targetLayer || targetLayer === layer) continue;
      const allowed = LAYERS[layer] ?? [];
      if (!allowed.some((entry) => target === entry || target.startsWith(`${entry}/`))) {
        const may = allowed.length > 0 ? allowed.join(', ') : 'nothing outside itself';
        problems.push(`${file} imports ${target}: ${layer} may import ${may}`);
      }
    }
  }
  return problems;
}

function listFiles(folder: string, extensions: RegExp): string[] {
  const found: string[] = [];
  let entries;
  try {
    entries = readdirSync(join(REPO_ROOT, folder), { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) {
      found.push(...listFiles(path, extensions));
    } else if (entry.isFile() && extensions.test(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

/** The repository's sources, keyed by repository-relative path. */
export function repositorySources(): Map<string, string> {
  const files = [
    ...TS_ROOTS.flatMap((root) => listFiles(root, /\.tsx?$/)),
    ...listFiles(PYTHON_ROOT, /\.py$/),
  ];
  return new Map(files.map((file) => [file, readFileSync(join(REPO_ROOT, file), 'utf8')]));
}

function main(): void {
  const graph = importGraph(repositorySources());
  const cycles = findCycles(graph);
  const violations = ruleViolations(graph);
  for (const cycle of cycles) console.log(`import cycle: ${cycle.join(' → ')}`);
  for (const violation of violations) console.log(`wrong-way import: ${violation}`);
  const imports = [...graph.values()].reduce((sum, targets) => sum + targets.length, 0);
  const summary = `${graph.size} files, ${imports} imports`;
  if (cycles.length + violations.length > 0) {
    console.log(`${summary}: ${cycles.length} cycle(s), ${violations.length} wrong-way import(s).`);
    process.exitCode = 1;
  } else {
    console.log(`${summary}: no cycles, every import points the allowed way.`);
  }
}

const invoked = process.argv[1];
if (invoked && import.meta.url === pathToFileURL(invoked).href) main();
