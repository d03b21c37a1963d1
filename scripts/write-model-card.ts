/**
 * Writes fenliu.json into an exported model folder, from the prepared data's meta.json and the
 * training log, so the folder says what it answers with, which tools its intents call (with the
 * catalog's declarations) and how it was prompted.
 *
 *   npx tsx scripts/write-model-card.ts --data training/build/demo \
 *     --checkpoint training/build/demo/checkpoint --model public/models/fenliu-demo --dtypes int8
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseModelCard, type ModelCard } from '../src/engine/model-folder';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    checkpoint: { type: 'string' },
    model: { type: 'string' },
    dtypes: { type: 'string' },
  },
});
if (!values.data || !values.checkpoint || !values.model || !values.dtypes) {
  console.error('usage: write-model-card --data DIR --checkpoint DIR --model DIR --dtypes a,b');
  process.exit(2);
}
const modelDir = resolve(values.model);
const meta = JSON.parse(readFileSync(join(resolve(values.data), 'meta.json'), 'utf8')) as Pick<
  ModelCard,
  'labels' | 'intents' | 'fallbackIntent' | 'system' | 'tools'
> & { catalog: string };
const logPath = join(resolve(values.checkpoint), 'train_log.json');
const log = existsSync(logPath)
  ? (JSON.parse(readFileSync(logPath, 'utf8')) as Record<string, unknown>)
  : {};

/** Greedy exact match of the tool calls and replies, without the misses train.py lists. */
const generation = Object.fromEntries(
  Object.entries((log.generation ?? {}) as Record<string, Record<string, unknown>>).map(
    ([split, { exact, n, per_label }]) => [split, { exact, n, per_label }],
  ),
);

/**
 * The canaries training/export.py recorded in the folder's card (the runtime's load-time check,
 * src/engine/canary.ts): kept when they were recorded for these labels, so rewriting the card
 * never turns a verified model into an unverified one.
 */
function exportedCanaries(): Pick<ModelCard, 'canaries'> {
  const path = join(modelDir, 'fenliu.json');
  if (!existsSync(path)) return {};
  const exported = JSON.parse(readFileSync(path, 'utf8')) as Partial<ModelCard>;
  const { canaries } = exported;
  const sameLabels =
    canaries !== undefined && JSON.stringify(canaries.labels) === JSON.stringify(meta.labels);
  return sameLabels ? { canaries } : {};
}

const card: ModelCard = {
  format: 1,
  labels: meta.labels,
  intents: meta.intents,
  // Data prepared before tools existed has none.
  tools: meta.tools ?? [],
  fallbackIntent: meta.fallbackIntent,
  system: meta.system,
  dtypes: values.dtypes.split(','),
  training: {
    catalog: meta.catalog,
    args: log.args,
    wall_seconds: log.wall_seconds,
    accuracy: log.accuracy,
    ...(Object.keys(generation).length > 0 ? { generation } : {}),
  },
  ...exportedCanaries(),
};
const text = JSON.stringify(card, null, 2) + '\n';
parseModelCard(text, modelDir); // the runtime's own check: never write a card it would refuse
writeFileSync(join(modelDir, 'fenliu.json'), text);
console.log(`wrote ${join(modelDir, 'fenliu.json')}`);
