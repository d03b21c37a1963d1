import { CatalogMismatchError } from '../shared/errors';
import type { Catalog } from './types';

/**
 * A fine-tuned model answers with the labels, tool calls and escalations of the catalog it was
 * trained on. Loaded with a different catalog, its answers would go to the wrong intent (a label
 * renamed), to none (an intent added), or call a tool the catalog does not bind; so a catalog and
 * a model are compared intent by intent before they are used together.
 */

/** What a model says it was trained on: its `fenliu.json`'s intents and fallback intent. */
export interface TrainedIntents {
  intents: readonly { id: string; label: string; tool?: string; escalate?: boolean }[];
  fallbackIntent: string;
}

/** How one intent differs between a catalog and a model. */
export type ModelMismatchProblem =
  'missing-in-model' | 'missing-in-catalog' | 'label' | 'tool' | 'escalate' | 'fallback';

/**
 * One difference between a catalog and a model. `catalog` and `model` hold each side's value (a
 * label, a tool name, `'true'`/`'false'` for `escalate`, the fallback intent's id), absent where
 * that side has none.
 */
export interface ModelMismatch {
  intentId: string;
  problem: ModelMismatchProblem;
  catalog?: string;
  model?: string;
}

/**
 * Every difference between a catalog's intents and a model's, compared by intent id: an intent
 * on one side only, a different label, tool binding or escalate flag, a different fallback
 * intent. In catalog order, then the model's own intents, then the fallback; empty when they
 * match.
 *
 * @example
 * catalogModelDifferences(catalog, card);
 * // [{ intentId: 'payment', problem: 'label', catalog: '支付问题', model: '付款问题' }]
 */
export function catalogModelDifferences(
  catalog: Pick<Catalog, 'intents' | 'fallbackIntent'>,
  model: TrainedIntents,
): ModelMismatch[] {
  const modelIntents = new Map(model.intents.map((intent) => [intent.id, intent]));
  const catalogIds = new Set(catalog.intents.map((intent) => intent.id));
  const differences: ModelMismatch[] = [];
  for (const intent of catalog.intents) {
    const intentId = intent.id;
    const trained = modelIntents.get(intentId);
    if (!trained) {
      differences.push(mismatch(intentId, 'missing-in-model', intent.label, undefined));
      continue;
    }
    if (intent.label !== trained.label) {
      differences.push(mismatch(intentId, 'label', intent.label, trained.label));
    }
    if (intent.tool !== trained.tool) {
      differences.push(mismatch(intentId, 'tool', intent.tool, trained.tool));
    }
    // NOTE: an absent flag means "does not escalate" on both sides.
    const escalates = intent.escalate === true;
    const trainedEscalates = trained.escalate === true;
    if (escalates !== trainedEscalates) {
      differences.push(mismatch(intentId, 'escalate', String(escalates), String(trainedEscalates)));
    }
  }
  for (const trained of model.intents) {
    if (!catalogIds.has(trained.id)) {
      differences.push(mismatch(trained.id, 'missing-in-catalog', undefined, trained.label));
    }
  }
  if (catalog.fallbackIntent !== model.fallbackIntent) {
    differences.push(
      mismatch(catalog.fallbackIntent, 'fallback', catalog.fallbackIntent, model.fallbackIntent),
    );
  }
  return differences;
}

/**
 * One difference, without the key of a side that has no value (an intent that calls no tool), so
 * it compares and serializes like one written by hand.
 */
function mismatch(
  intentId: string,
  problem: ModelMismatchProblem,
  catalog: string | undefined,
  model: string | undefined,
): ModelMismatch {
  const difference: ModelMismatch = { intentId, problem };
  if (catalog !== undefined) difference.catalog = catalog;
  if (model !== undefined) difference.model = model;
  return difference;
}

const FIX =
  'Fix: retrain the model on this catalog (npm run train:demo, or training/README.md), or load ' +
  'the catalog the model was trained with (its fenliu.json lists the intents).';

/** A side's value for a message: quoted, or `none`. */
function quoted(value: string | undefined): string {
  return value === undefined ? 'none' : `"${value}"`;
}

function escalation(flag: string | undefined): string {
  return flag === 'true' ? 'escalates' : 'does not escalate';
}

function describeOne(difference: ModelMismatch): string {
  const { intentId, catalog, model } = difference;
  switch (difference.problem) {
    case 'missing-in-model':
      return `intent "${intentId}" (label ${quoted(catalog)}) is in the catalog but not in the model`;
    case 'missing-in-catalog':
      return `intent "${intentId}" (label ${quoted(model)}) is in the model but not in the catalog`;
    case 'label':
      return `intent "${intentId}": label ${quoted(catalog)} in the catalog, ${quoted(model)} in the model`;
    case 'tool':
      return `intent "${intentId}": tool ${quoted(catalog)} in the catalog, ${quoted(model)} in the model`;
    case 'escalate':
      return `intent "${intentId}": ${escalation(catalog)} in the catalog, ${escalation(model)} in the model`;
    case 'fallback':
      return `fallback intent: ${quoted(catalog)} in the catalog, ${quoted(model)} in the model`;
  }
}

/**
 * A developer's message for `differences`: one line per differing intent, then the fix.
 *
 * @example
 * describeMismatch(catalogModelDifferences(catalog, card), 'fenliu-demo');
 */
export function describeMismatch(differences: readonly ModelMismatch[], modelId: string): string {
  const lines = differences.map((difference) => `- ${describeOne(difference)}`);
  return [
    `The catalog does not match model "${modelId}", which answers with the intents it was trained on:`,
    ...lines,
    FIX,
  ].join('\n');
}

/**
 * Throws a `CatalogMismatchError` (code `catalog-model-mismatch`) listing every difference when
 * `catalog` does not match the intents `model` was trained on; returns quietly when it does.
 */
export function checkCatalogMatchesModel(
  catalog: Pick<Catalog, 'intents' | 'fallbackIntent'>,
  model: TrainedIntents,
  modelId: string,
): void {
  const differences = catalogModelDifferences(catalog, model);
  if (differences.length > 0) {
    throw new CatalogMismatchError(differences, describeMismatch(differences, modelId));
  }
}
