/**
 * Turns labelled messages into the token ids training/train.py learns from, with the same prompt
 * code the runtime classifier uses (src/core/prompt.ts), so training and serving cannot drift.
 *
 *   npx tsx scripts/prepare-training-data.ts --catalog data/demo/catalog.json \
 *     --train data/demo/train.jsonl --test data/demo/test.jsonl --out training/build/demo
 *
 * Writes OUT/train.jsonl (and test.jsonl) as {"input_ids", "answer_start", "label"} rows,
 * OUT/meta.json (labels, intents, system message, special token ids) and OUT/vocab.json (each
 * token id's text, so training can relate tokens that share characters).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeTrainingExample } from '../src/core/prompt';
import { readCatalog, readExamples } from './lib/data-files';
import { loadQwen3Tokenizer } from './lib/tokenizer';

const { values } = parseArgs({
  options: {
    catalog: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    valid: { type: 'string' },
    system: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.catalog || !values.train || !values.out) {
  console.error('usage: prepare-training-data --catalog FILE --train FILE [--test FILE] --out DIR');
  process.exit(2);
}

const catalog = readCatalog(resolve(values.catalog));
const tokenizer = await loadQwen3Tokenizer();
const system = values.system ?? null;
const outDir = resolve(values.out);
mkdirSync(outDir, { recursive: true });

const splits = { train: values.train, valid: values.valid, test: values.test };
for (const [split, path] of Object.entries(splits)) {
  if (!path) continue;
  const examples = readExamples(resolve(path), catalog);
  const rows = examples.map((example) =>
    JSON.stringify(encodeTrainingExample(tokenizer, example.text, example.label, system)),
  );
  writeFileSync(join(outDir, `${split}.jsonl`), rows.join('\n') + '\n');
  console.log(`${split}: ${rows.length} examples → ${join(outDir, `${split}.jsonl`)}`);
}

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
