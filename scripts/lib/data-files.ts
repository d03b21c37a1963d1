import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { validateCatalog } from '../../src/catalog/catalog';
import type { Catalog } from '../../src/catalog/types';
import { checkLabels, parseDataset, type LabelledExample } from '../../src/dataset/dataset';
import { REPO_ROOT } from './paths';

export function readCatalog(path: string): Catalog {
  return validateCatalog(JSON.parse(readFileSync(path, 'utf8')), relative(REPO_ROOT, path));
}

/** Reads a dataset file and checks its labels against the catalog; errors name file:line. */
export function readExamples(path: string, catalog: Catalog): LabelledExample[] {
  const examples = parseDataset(readFileSync(path, 'utf8'), relative(REPO_ROOT, path));
  checkLabels(
    examples,
    catalog.intents.map((intent) => intent.label),
  );
  return examples;
}
