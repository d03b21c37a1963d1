import { describe, expect, it } from 'vitest';
import {
  findCycles,
  importGraph,
  pythonImports,
  ruleViolations,
} from '../../scripts/check-import-cycles';

/** A tiny tree given as path → source, in the shapes the checker must see through. */
const fixture = new Map([
  ['src/catalog/a.ts', "import { b } from './b';\nexport const a = 1;"],
  ['src/catalog/b.ts', "export { c } from './c';\nexport const b = 2;"],
  ['src/catalog/c.ts', "import type { A } from './a';\nexport const c = 3;"],
  ['src/catalog/leaf.ts', "import { a } from './a';\nimport { join } from 'node:path';"],
  ['training/model.py', 'import json\n\ndef load():\n    from checkpoint import read\n'],
  [
    'training/checkpoint.py',
    '"""\n    from nowhere import x\n"""\nfrom model import Config  # noqa\n',
  ],
  ['training/tests/test_model.py', 'import model\nfrom helpers import tiny\n'],
  ['training/tests/helpers.py', 'import torch\n'],
]);

describe('the import checker', () => {
  it('reports a cycle through import, export … from and import type, with its path', () => {
    expect(findCycles(importGraph(fixture))).toContainEqual([
      'src/catalog/a.ts',
      'src/catalog/b.ts',
      'src/catalog/c.ts',
      'src/catalog/a.ts',
    ]);
  });

  it('reports a cycle between Python modules, imports inside functions included', () => {
    expect(findCycles(importGraph(fixture))).toContainEqual([
      'training/checkpoint.py',
      'training/model.py',
      'training/checkpoint.py',
    ]);
  });

  it('finds no cycle once the loop is cut', () => {
    const cut = new Map(fixture);
    cut.set('src/catalog/c.ts', 'export const c = 3;');
    cut.set('training/model.py', 'import json\n');
    expect(findCycles(importGraph(cut))).toEqual([]);
  });

  it('resolves sibling modules from training/tests up to training/, skipping strings', () => {
    const graph = importGraph(fixture);
    expect(graph.get('training/tests/test_model.py')).toEqual([
      'training/model.py',
      'training/tests/helpers.py',
    ]);
    expect(graph.get('training/tests/helpers.py')).toEqual([]);
    expect(pythonImports('import a.b as c, d\nfrom .e import f\nfrom . import g, h as i')).toEqual([
      'a',
      'd',
      'e',
      'g',
      'h',
    ]);
  });

  it('reports imports against the one-way rules and the layer table', () => {
    const graph = importGraph(
      new Map([
        ['src/ui/hook.ts', "import type { Api } from '../../workers/w';"],
        ['workers/w.ts', "import { x } from '../test/support/x';"],
        ['scripts/s.ts', "import { x } from '../test/support/x';"],
        ['test/support/x.ts', "import { c } from '../../src/catalog/c';"],
        ['src/catalog/c.ts', "import { e } from '../engine/e';"],
        ['src/engine/e.ts', "import type { C } from '../catalog/c';"],
      ]),
    );
    expect(ruleViolations(graph)).toEqual([
      'src/ui/hook.ts imports workers/w.ts: src/ui/ and src/router/ and src/client/ must not import from workers/',
      'workers/w.ts imports test/support/x.ts: src/ and workers/ must not import from scripts/, bench/, test/',
      'scripts/s.ts imports test/support/x.ts: scripts/ and bench/ must not import from test/',
      'src/catalog/c.ts imports src/engine/e.ts: src/catalog may import src/shared',
    ]);
  });
});
