/**
 * The public datasets the accuracy bench runs on, and how one becomes a fenliu catalog.
 * Pure except `readSplit`/`loadDataset`, which read `../shared/datasets/<name>/*.jsonl`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCatalog } from '../../src/catalog/catalog';
import type { Catalog } from '../../src/catalog/types';
import { parseDataset } from '../../src/dataset/dataset';

/** A labelled message as the bench uses it (no file/line bookkeeping). */
export interface Example {
  text: string;
  label: string;
}

export interface DatasetSpec {
  /** Folder name under the shared datasets root. */
  name: string;
  language: 'en' | 'zh';
  /** Files (without `.jsonl`) whose rows train every system. */
  train: string[];
  /** In-scope test file. */
  test: string;
  /** Out-of-scope test file, when the dataset has one (CLINC150). */
  oosTest?: string;
  /** The dataset's own out-of-scope label, trained as a class (CLINC150 `oos`). */
  oosLabel?: string;
  /**
   * Validation rows a confidence threshold is fitted on (CLINC150: in-scope and oos): every
   * `every`-th row of each file (the in-scope file is thinned to keep fenliu's scoring short).
   */
  tune?: { split: string; every: number }[];
}

/** Where the normalised public datasets live (see its README). */
export const SHARED_DATASETS = join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets');

export const DATASETS: readonly DatasetSpec[] = [
  { name: 'banking77', language: 'en', train: ['train'], test: 'test' },
  {
    name: 'clinc150',
    language: 'en',
    train: ['train', 'oos_train'],
    test: 'test',
    oosTest: 'oos_test',
    oosLabel: 'oos',
    tune: [
      { split: 'valid', every: 3 },
      { split: 'oos_valid', every: 1 },
    ],
  },
  { name: 'smp2019-ecdt', language: 'zh', train: ['train'], test: 'test' },
  { name: 'cais', language: 'zh', train: ['train'], test: 'test' },
];

/** What `npm run bench:accuracy` runs: BANKING77, CLINC150 and one Chinese set. */
export const DEFAULT_DATASETS = ['banking77', 'clinc150', 'smp2019-ecdt'];

/**
 * Id and label of the extra fallback intent a catalog needs when the dataset has no
 * out-of-scope label of its own: the catalog requires a fallback, and no dataset row uses it.
 */
export const NO_MATCH_INTENT = 'no_match';

export interface LoadedDataset {
  spec: DatasetSpec;
  train: Example[];
  test: Example[];
  oosTest: Example[];
  /** Rows to fit a confidence threshold on (empty unless the spec names `tune` files). */
  tune: Example[];
}

export function readSplit(root: string, dataset: string, split: string): Example[] {
  const file = join(root, dataset, `${split}.jsonl`);
  return parseDataset(readFileSync(file, 'utf8'), file).map(({ text, label }) => ({
    text,
    label,
  }));
}

export function loadDataset(spec: DatasetSpec, root = SHARED_DATASETS): LoadedDataset {
  return {
    spec,
    train: spec.train.flatMap((split) => readSplit(root, spec.name, split)),
    test: readSplit(root, spec.name, spec.test),
    oosTest: spec.oosTest ? readSplit(root, spec.name, spec.oosTest) : [],
    tune: (spec.tune ?? []).flatMap(({ split, every }) =>
      readSplit(root, spec.name, split).filter((_, index) => index % every === 0),
    ),
  };
}

/**
 * A catalog intent id for a dataset label: lower case, runs of anything but [a-z0-9] become `_`,
 * CamelCase is split (`PlayMusic` → `play_music`, `cookbook.QUERY` → `cookbook_query`,
 * `reverted_card_payment?` → `reverted_card_payment`).
 */
export function intentIdFor(label: string): string {
  const id = label
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[a-z]/.test(id) ? id : `intent_${id}`;
}

/**
 * The text the model answers with for a dataset label: its words, lower case, separated by
 * spaces (`card_arrival` → `card arrival`, `cookbook.QUERY` → `cookbook query`, `PlayMusic` →
 * `play music`). Whole words tokenize into fewer tokens than `card_arrival` (3.5 vs 4.0 on
 * BANKING77), so training and decoding do less work, and each answer token is a word that
 * messages contain too.
 */
export function answerTextFor(label: string): string {
  return intentIdFor(label).replace(/_/g, ' ');
}

/** Labels in order of first appearance. */
export function labelsOf(examples: readonly Example[]): string[] {
  return [...new Set(examples.map((example) => example.label))];
}

/**
 * A valid fenliu catalog whose intents are `labels`: each intent's id is `intentIdFor(label)`,
 * the text the model answers with is `answerTextFor(label)`, and its description names the
 * dataset label. The fallback is `oosLabel` when given (it must be one of `labels`); otherwise an
 * extra `no_match` intent that no training row uses, because a catalog needs a fallback.
 *
 * @example
 * catalogForLabels('clinc150', ['balance', 'oos'], 'oos').fallbackIntent; // 'oos'
 *
 * Two labels that normalise to one id or one answer make `validateCatalog` throw.
 */
export function catalogForLabels(
  id: string,
  labels: readonly string[],
  oosLabel?: string,
): Catalog {
  if (oosLabel !== undefined && !labels.includes(oosLabel)) {
    throw new Error(`${id}: the out-of-scope label "${oosLabel}" has no training rows`);
  }
  const all = oosLabel === undefined ? [...labels, NO_MATCH_INTENT] : [...labels];
  const intents = all.map((label) => ({
    id: intentIdFor(label),
    label: answerTextFor(label),
    name: { zh: answerTextFor(label), en: answerTextFor(label) },
    description: { zh: `数据集标签 ${label}`, en: `dataset label ${label}` },
  }));
  return validateCatalog(
    {
      version: 1,
      id,
      name: { zh: id, en: id },
      fallbackIntent: intentIdFor(oosLabel ?? NO_MATCH_INTENT),
      intents,
    },
    `${id} catalog`,
  );
}
