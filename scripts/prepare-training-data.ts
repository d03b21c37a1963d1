/**
 * Turns labelled messages into the token ids training/train.py learns from, with the same prompt
 * code the runtime classifier uses (src/engine/prompt.ts), so training and serving cannot drift.
 *
 *   npx tsx scripts/prepare-training-data.ts --catalog data/demo/catalog.json \
 *     --train data/demo/train.jsonl --train data/demo/tool-calls.train.jsonl \
 *     --test data/demo/test.jsonl --tool-test data/demo/tool-calls.test.jsonl \
 *     --replies data/demo/tool-replies.train.jsonl --replies-test data/demo/tool-replies.test.jsonl \
 *     --out training/build/demo
 *
 * Input files: {"text","label"} JSON Lines (with "tool_call" for an intent bound to a tool) or
 * ShareGPT conversations (LLaMA-Factory's form too, with function_call/observation turns and
 * tools; see src/dataset/dataset.ts). --train, --valid, --test and the tool options may be given
 * more than once; the files of one split are joined. A row of a tool intent answers with its label
 * and the call (`encodeAnswer`); a row that gives no arguments calls the tool with none.
 *
 *   --tool-test FILE     held-out tool-call rows → tool_test.jsonl (label and call exact match)
 *   --replies FILE       reply-step rows {"text","label","tool_call","result","reply"}, added to
 *                        train.jsonl: prompt `encodeToolResultPrompt`, answer the reply
 *   --replies-test FILE  held-out reply rows → reply_test.jsonl
 *   --valid-fraction F   no --valid file: hold out F of --train as valid.jsonl, stratified by
 *                        label (copies of a message stay on one side), seeded by --seed (0)
 *   --skip-invalid       list unusable rows (file:line: reason) and go on without them
 *                        (default: stop on the first file with any)
 *   --report FILE        also write the data report (per-label counts, duplicates, conflicts) as JSON
 *
 * Writes OUT/train.jsonl (and valid.jsonl, test.jsonl, tool_test.jsonl, reply_test.jsonl) as
 * {"input_ids", "answer_start", "label"} rows — a tool-call row adds "label_tokens" (how many answer
 * tokens classification decides: the label, "\n" and <tool_call>), "arguments" (how many the call
 * has) and "arguments_at" (where they start), a reply row "kind": "reply" —,
 * OUT/meta.json (labels, intents with their tools, tools, system message, special token ids),
 * OUT/report.json and
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
  parseToolReplies,
  resolveToolCalls,
  stratifiedSplit,
  type DatasetReport,
  type LabelledExample,
  type ToolReplyExample,
} from '../src/dataset/dataset';
import { DataValidationError, formatIssue, type SourceIssue } from '../src/shared/errors';
import {
  encodeLabelAnswer,
  encodeToolReplyExample,
  encodeTrainingExample,
  type TrainingExample,
} from '../src/engine/prompt';
import { readCatalog } from './lib/data-files';
import { REPO_ROOT } from './lib/paths';
import { loadQwen3Tokenizer } from './lib/tokenizer';

const { values } = parseArgs({
  options: {
    catalog: { type: 'string' },
    train: { type: 'string', multiple: true },
    test: { type: 'string', multiple: true },
    valid: { type: 'string', multiple: true },
    'tool-test': { type: 'string', multiple: true },
    replies: { type: 'string', multiple: true },
    'replies-test': { type: 'string', multiple: true },
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
      '  [--test FILE] [--tool-test FILE] [--replies FILE] [--replies-test FILE] [--seed N]\n' +
      '  [--skip-invalid] [--report FILE] [--system TEXT] --out DIR',
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

/** The issues a check throws as a DataValidationError (other errors go on up). */
function issuesOf(check: () => unknown): readonly SourceIssue[] {
  try {
    check();
    return [];
  } catch (error) {
    if (!(error instanceof DataValidationError)) throw error;
    return error.issues;
  }
}

/**
 * The usable rows of a file, each tool intent's row with its call; unusable ones stop the run,
 * or are listed with --skip-invalid.
 */
function readRows(path: string): LabelledExample[] {
  const file = relative(REPO_ROOT, resolve(path));
  const { examples, issues } = parseDatasetRows(readFileSync(resolve(path), 'utf8'), file);
  const known = new Set(labels);
  const strays = examples.filter((example) => !known.has(example.label));
  const problems = [
    ...issues,
    ...issuesOf(() => {
      checkLabels(strays, labels);
    }),
  ];
  const callProblems = issuesOf(() => resolveToolCalls(examples, catalog));
  problems.push(...callProblems);
  problems.sort((a, b) => a.line - b.line);
  if (problems.length > 0 && !values['skip-invalid']) {
    throw new DataValidationError('dataset-invalid', problems);
  }
  skipped.push(...problems);
  const badLines = new Set(callProblems.map((issue) => issue.line));
  const usable = examples.filter(
    (example) => known.has(example.label) && !badLines.has(example.line),
  );
  return resolveToolCalls(usable, catalog);
}

/** Reply-step rows; a bad row stops the run (these files are generated, not hand-written). */
function readReplies(path: string): ToolReplyExample[] {
  const file = relative(REPO_ROOT, resolve(path));
  const replies = parseToolReplies(readFileSync(resolve(path), 'utf8'), file);
  resolveToolCalls(
    replies.map(({ text, label, toolCall, file: from, line }) => ({
      text,
      label,
      toolCall,
      file: from,
      line,
    })),
    catalog,
  );
  return replies;
}

const readAll = (paths: readonly string[] | undefined) => (paths ?? []).flatMap(readRows);
const splits: Record<string, LabelledExample[]> = { train: readAll(values.train) };
if (values.valid) splits.valid = readAll(values.valid);
if (values.test) splits.test = readAll(values.test);
if (values['tool-test']) splits.tool_test = readAll(values['tool-test']);
const replySplits: Record<string, ToolReplyExample[]> = {};
if (values.replies) replySplits.train = values.replies.flatMap(readReplies);
if (values['replies-test']) replySplits.reply_test = values['replies-test'].flatMap(readReplies);
if (validFraction > 0) {
  const { train, valid } = stratifiedSplit(splits.train ?? [], validFraction, Number(values.seed));
  splits.train = train;
  splits.valid = valid;
}
if (skipped.length > 0) {
  console.log(`skipped ${skipped.length} unusable row(s):`);
  for (const issue of skipped) console.log(`  ${formatIssue(issue)}`);
}

/** How many answer tokens classification decides, for each label bound to a tool. */
const labelTokens = new Map(
  catalog.intents.flatMap((intent) =>
    intent.tool ? [[intent.label, encodeLabelAnswer(tokenizer, intent.label, true).length]] : [],
  ),
);

/**
 * A row's token ids; a tool-call row also says how many answer tokens the label part is
 * (`label_tokens`) and how many precede the arguments object (`arguments_at`: the label part and
 * `{"name": "…", "arguments":`, all fixed once the intent is known), so training can score the
 * arguments the way constrained decoding produces them.
 */
function encodeRow(
  example: LabelledExample,
): TrainingExample & { label_tokens?: number; arguments?: number; arguments_at?: number } {
  const { text, label, toolCall } = example;
  const row = encodeTrainingExample(tokenizer, text, label, system, toolCall);
  const decided = toolCall ? labelTokens.get(label) : undefined;
  if (!toolCall || decided === undefined) return row;
  const fixed = tokenizer.encode(
    `${label}\n<tool_call>\n{"name": ${JSON.stringify(toolCall.name)}, "arguments":`,
    { add_special_tokens: false },
  );
  const answer = row.input_ids.slice(row.answer_start);
  const isPrefix = fixed.every((id, index) => answer[index] === id);
  return {
    ...row,
    label_tokens: decided,
    arguments: Object.keys(toolCall.arguments).length,
    ...(isPrefix ? { arguments_at: fixed.length } : {}),
  };
}

function encodeReply(example: ToolReplyExample): TrainingExample & { kind: 'reply' } {
  const turn = {
    text: example.text,
    label: example.label,
    call: example.toolCall,
    result: example.result,
  };
  return { ...encodeToolReplyExample(tokenizer, turn, example.reply, system), kind: 'reply' };
}

const reports: Record<string, DatasetReport> = {};
const ordered = ['train', 'valid', 'test', 'tool_test'].flatMap((split) => {
  const examples = splits[split];
  return examples ? [[split, examples] as const] : [];
});
for (const [split, examples] of ordered) {
  const replies = replySplits[split] ?? [];
  const rows = [
    ...examples.map((example) => JSON.stringify(encodeRow(example))),
    ...replies.map((example) => JSON.stringify(encodeReply(example))),
  ];
  writeFileSync(join(outDir, `${split}.jsonl`), rows.join('\n') + '\n');
  const withArguments = examples.filter(
    (example) => Object.keys(example.toolCall?.arguments ?? {}).length > 0,
  ).length;
  const replyNote = replies.length > 0 ? ` and ${replies.length} tool replies` : '';
  console.log(
    `${split}: ${examples.length} examples (${withArguments} calls with arguments)${replyNote} → ${join(outDir, `${split}.jsonl`)}`,
  );
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
for (const [split, replies] of Object.entries(replySplits)) {
  if (split === 'train') continue;
  const rows = replies.map((example) => JSON.stringify(encodeReply(example)));
  writeFileSync(join(outDir, `${split}.jsonl`), rows.join('\n') + '\n');
  console.log(`${split}: ${rows.length} tool replies → ${join(outDir, `${split}.jsonl`)}`);
}
const reportJson = JSON.stringify({ splits: reports, skipped }, null, 2) + '\n';
writeFileSync(join(outDir, 'report.json'), reportJson);
if (values.report) writeFileSync(resolve(values.report), reportJson);

const meta = {
  catalog: catalog.id,
  labels: catalog.intents.map((intent) => intent.label),
  intents: catalog.intents.map(({ id, label, tool, escalate }) => ({
    id,
    label,
    ...(tool === undefined ? {} : { tool }),
    ...(escalate === undefined ? {} : { escalate }),
  })),
  tools: catalog.tools ?? [],
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
