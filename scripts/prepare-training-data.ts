/**
 * Turns labelled messages into the token ids training/train.py learns from, with the same prompt
 * code the runtime classifier uses (src/core/prompt.ts), so training and serving cannot drift.
 *
 *   npx tsx scripts/prepare-training-data.ts --catalog data/demo/catalog.json \
 *     --train data/demo/train.jsonl --test data/demo/test.jsonl --out training/build/demo
 *
 * Input files: {"text","label"} JSON Lines or ShareGPT conversations (LLaMA-Factory's form too,
 * with function_call/observation turns and tools; see src/core/dataset.ts).
 *
 *   --valid-fraction F   no --valid file: hold out F of --train as valid.jsonl, stratified by
 *                        label (copies of a message stay on one side), seeded by --seed (0)
 *   --skip-invalid       list unusable rows (file:line: reason) and go on without them
 *                        (default: stop on the first file with any)
 *   --report FILE        also write the data report (per-label counts, duplicates, conflicts) as JSON
 *
 * Writes OUT/train.jsonl (and valid.jsonl, test.jsonl) as {"input_ids", "answer_start", "label"}
 * rows, OUT/meta.json (labels, intents, system message, special token ids), OUT/report.json and
 * OUT/vocab.json (each token id's text, so training can relate tokens that share characters).
 * Prints, per split, the rows per label, the duplicates and the messages with conflicting labels.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkLabels,
  datasetReport,
  parseDatasetRows,
  stratifiedSplit,
  type DatasetReport,
  type LabelledExample,
} from '../src/core/dataset';
import { DataValidationError, formatIssue, type SourceIssue } from '../src/core/errors';
import { encodeTrainingExample } from '../src/core/prompt';
import { readCatalog } from './lib/data-files';
import { REPO_ROOT } from './lib/paths';
import { loadQwen3Tokenizer } from './lib/tokenizer';

const { values } = parseArgs({
  options: {
    catalog: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    valid: { type: 'string' },
    system: { type: 'string' },
    out: { type: 'string' },
    'valid-fraction': { type: 'string' },
    seed: { type: 'string', default: '0' },
    'skip-invalid': { type: 'boolean', default: false },
    report: { type: 'string' },
  },
});
if (!values.catalog || !values.train || !values.out) {
  console.error(
    'usage: prepare-training-data --catalog FILE --train FILE [--valid FILE | --valid-fraction F]\n' +
      '  [--test FILE] [--seed N] [--skip-invalid] [--report FILE] [--system TEXT] --out DIR',
  );
  process.exit(2);
}
const validFraction = values['valid-fraction'] === undefined ? 0 : Number(values['valid-fraction']);
if (!(validFraction >= 0 && validFraction < 1) || (validFraction > 0 && values.valid)) {
  console.error('--valid-fraction takes a number in [0, 1), and not together with --valid');
  process.exit(2);
}

const catalog = readCatalog(resolve(values.catalog));
const tokenizer = await loadQwen3Tokenizer();
const system = values.system ?? null;
const outDir = resolve(values.out);
mkdirSync(outDir, { recursive: true });

const labels = catalog.intents.map((intent) => intent.label);
const skipped: SourceIssue[] = [];

/** The usable rows of a file; unusable ones stop the run, or are listed with --skip-invalid. */
function readRows(path: string): LabelledExample[] {
  const file = relative(REPO_ROOT, resolve(path));
  const { examples, issues } = parseDatasetRows(readFileSync(resolve(path), 'utf8'), file);
  const known = new Set(labels);
  const strays = examples.filter((example) => !known.has(example.label));
  const problems = [...issues];
  try {
    checkLabels(strays, labels);
  } catch (error) {
    if (!(error instanceof DataValidationError)) throw error;
    problems.push(...error.issues);
  }
  problems.sort((a, b) => a.line - b.line);
  if (problems.length > 0 && !values['skip-invalid']) {
    throw new DataValidationError('dataset-invalid', problems);
  }
  skipped.push(...problems);
  return examples.filter((example) => known.has(example.label));
}

const splits: Record<string, LabelledExample[]> = { train: readRows(values.train) };
if (values.valid) splits.valid = readRows(values.valid);
if (values.test) splits.test = readRows(values.test);
if (validFraction > 0) {
  const { train, valid } = stratifiedSplit(splits.train ?? [], validFraction, Number(values.seed));
  splits.train = train;
  splits.valid = valid;
}
if (skipped.length > 0) {
  console.log(`skipped ${skipped.length} unusable row(s):`);
  for (const issue of skipped) console.log(`  ${formatIssue(issue)}`);
}

const reports: Record<string, DatasetReport> = {};
const ordered = ['train', 'valid', 'test'].flatMap((split) => {
  const examples = splits[split];
  return examples ? [[split, examples] as const] : [];
});
for (const [split, examples] of ordered) {
  const rows = examples.map((example) =>
    JSON.stringify(encodeTrainingExample(tokenizer, example.text, example.label, system)),
  );
  writeFileSync(join(outDir, `${split}.jsonl`), rows.join('\n') + '\n');
  console.log(`${split}: ${rows.length} examples → ${join(outDir, `${split}.jsonl`)}`);
  const report = datasetReport(examples);
  reports[split] = report;
  console.log(
    '  per label: ' + labels.map((label) => `${label} ${report.perLabel[label] ?? 0}`).join(', '),
  );
  const missing = labels.filter((label) => !report.perLabel[label]);
  if (missing.length > 0) console.log(`  no rows for: ${missing.join(', ')}`);
  console.log(
    `  ${report.duplicates.length} duplicated message(s), ${report.conflicts.length} with conflicting labels`,
  );
  for (const { text, at } of report.duplicates.slice(0, 5)) {
    console.log(`    duplicate ${JSON.stringify(text)}: ${at.join(', ')}`);
  }
  for (const { text, labels: given } of report.conflicts.slice(0, 10)) {
    const where = Object.entries(given).map(([label, at]) => `${label} at ${at.join(', ')}`);
    console.log(`    conflict ${JSON.stringify(text)}: ${where.join('; ')}`);
  }
}
const reportJson = JSON.stringify({ splits: reports, skipped }, null, 2) + '\n';
writeFileSync(join(outDir, 'report.json'), reportJson);
if (values.report) writeFileSync(resolve(values.report), reportJson);

const meta = {
  catalog: catalog.id,
  labels: catalog.intents.map((intent) => intent.label),
  intents: catalog.intents.map(({ id, label }) => ({ id, label })),
  fallbackIntent: catalog.fallbackIntent,
  system,
  vocab_size: 151936,
  bos_token_id: 151643,
  eos_token_id: [151645, 151643],
  pad_token_id: 151643,
};
writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');

// NOTE: decoded one id at a time; byte-level pieces of a multi-byte character decode to U+FFFD.
const tokenCount = [...tokenizer.get_vocab().values()].reduce((a, b) => Math.max(a, b), 0) + 1;
const vocabulary = Array.from({ length: tokenCount }, (_, id) => tokenizer.decode([id]));
writeFileSync(join(outDir, 'vocab.json'), JSON.stringify(vocabulary));
console.log(`vocab: ${vocabulary.length} token texts → ${join(outDir, 'vocab.json')}`);
