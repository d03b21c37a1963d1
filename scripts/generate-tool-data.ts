/**
 * Writes the demo model's tool data into data/demo/ from templates and a seed, and annotates the
 * hand-written splits with the tool calls their messages give (see scripts/lib/tool-data.ts):
 *
 *   npx tsx scripts/generate-tool-data.ts            (writes the files)
 *   npx tsx scripts/generate-tool-data.ts --check    (exit 1 if a file differs from what it writes)
 *
 * - tool-calls.{train,valid,test}.jsonl: {"text","label","tool_call"} rows for the six tool
 *   intents (with and without arguments), and rows of other intents that mention an order id;
 *   valid and test use order ids and addresses that training never shows;
 * - tool-replies.{train,test}.jsonl: {"text","label","tool_call","result","reply"} rows for the
 *   reply step, the reply being the zh template (src/tools/demo/replies.ts);
 * - train/valid/test.jsonl keep their rows and order; rows whose message gives arguments gain
 *   "tool_call".
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDataset } from '../src/dataset/dataset';
import { toTemplateJson } from '../src/catalog/chat-template';
import { readCatalog } from './lib/data-files';
import { DEMO_DATA, REPO_ROOT } from './lib/paths';
import { annotateRow, generateToolData } from './lib/tool-data';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '5' },
    check: { type: 'boolean', default: false },
  },
});

const catalog = readCatalog(join(DEMO_DATA, 'catalog.json'));
const files = new Map<string, string>();
const existingTexts: string[] = [];

/** One row per line in the data files' JSON style (`", "` and `": "`, as Python writes it). */
const jsonLines = (rows: readonly object[]) =>
  rows.map((row) => toTemplateJson(row)).join('\n') + '\n';

for (const split of ['train', 'valid', 'test']) {
  const path = join(DEMO_DATA, `${split}.jsonl`);
  const rows = parseDataset(readFileSync(path, 'utf8'), relative(REPO_ROOT, path));
  existingTexts.push(...rows.map((row) => row.text));
  files.set(path, jsonLines(rows.map((row) => annotateRow(catalog, row))));
}

const data = generateToolData(catalog, { seed: Number(values.seed), existingTexts });
files.set(join(DEMO_DATA, 'tool-calls.train.jsonl'), jsonLines(data.callsTrain));
files.set(join(DEMO_DATA, 'tool-calls.valid.jsonl'), jsonLines(data.callsValid));
files.set(join(DEMO_DATA, 'tool-calls.test.jsonl'), jsonLines(data.callsTest));
files.set(join(DEMO_DATA, 'tool-replies.train.jsonl'), jsonLines(data.repliesTrain));
files.set(join(DEMO_DATA, 'tool-replies.test.jsonl'), jsonLines(data.repliesTest));

let stale = 0;
for (const [path, text] of files) {
  const name = relative(REPO_ROOT, path);
  const lines = text.split('\n').length - 1;
  const calls = text.split('\n').filter((line) => line.includes('"tool_call"')).length;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (values.check) {
    if (current !== text) {
      console.log(`${name}: differs from what the generator writes`);
      stale++;
    }
    continue;
  }
  if (current !== text) writeFileSync(path, text);
  console.log(
    `${name}: ${lines} rows, ${calls} with a tool call${current === text ? ' (unchanged)' : ''}`,
  );
}
if (stale > 0) process.exit(1);
