import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DATA } from '../../scripts/lib/paths';
import type { ToolSpec } from '../../src/catalog/types';

/** The tools data/demo/catalog.json declares, as the tests read them. */
export const demoTools = (
  JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')) as { tools: ToolSpec[] }
).tools;

/** The demo catalog's tool `name`; throws if the catalog has none of that name. */
export function demoTool(name: string): ToolSpec {
  const tool = demoTools.find((spec) => spec.name === name);
  if (!tool) throw new Error(`no demo tool ${name}`);
  return tool;
}
