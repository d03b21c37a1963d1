import { DataValidationError, errorMessage, type SourceIssue } from './errors';

/** One labelled message, remembering where it came from so problems can be traced back. */
export interface LabelledExample {
  text: string;
  label: string;
  file: string;
  line: number;
}

/**
 * Reads labelled examples from either supported format and throws a `DataValidationError`
 * listing every unusable row as `file:line: reason` — rows are never skipped silently.
 *
 * - `{"text": "…", "label": "…"}` JSON Lines;
 * - the ShareGPT form, as a JSON array or as JSON Lines:
 *   `[{"conversations":[{"from":"user","value":"取消我的订阅"},{"from":"assistant","value":"取消服务"}]}]`.
 *
 * @example
 * const examples = parseDataset(readFileSync(path, 'utf8'), path);
 */
export function parseDataset(source: string, file: string): LabelledExample[] {
  const rows = source.trimStart().startsWith('[')
    ? jsonArrayRows(source, file)
    : jsonLinesRows(source, file);
  const examples: LabelledExample[] = [];
  const issues: SourceIssue[] = [...rows.issues];
  for (const row of rows.values) {
    const result = toExample(row.value);
    if (typeof result === 'string') {
      issues.push({ file, line: row.line, reason: result });
    } else {
      examples.push({ ...result, file, line: row.line });
    }
  }
  if (issues.length > 0) {
    issues.sort((a, b) => a.line - b.line);
    throw new DataValidationError('dataset-invalid', issues);
  }
  if (examples.length === 0) {
    throw new DataValidationError('dataset-invalid', [
      { file, line: 1, reason: 'the file holds no examples' },
    ]);
  }
  return examples;
}

/** Checks that every example's label is one of `labels`; throws listing each stray row. */
export function checkLabels(examples: readonly LabelledExample[], labels: Iterable<string>): void {
  const known = new Set(labels);
  const issues = examples
    .filter((example) => !known.has(example.label))
    .map((example) => ({
      file: example.file,
      line: example.line,
      reason: `label "${example.label}" is not in the catalog`,
    }));
  if (issues.length > 0) throw new DataValidationError('dataset-invalid', issues);
}

interface LocatedValue {
  line: number;
  value: unknown;
}

interface ParsedRows {
  values: LocatedValue[];
  issues: SourceIssue[];
}

function jsonLinesRows(source: string, file: string): ParsedRows {
  const values: LocatedValue[] = [];
  const issues: SourceIssue[] = [];
  source.split('\n').forEach((raw, index) => {
    const text = raw.trim();
    if (text === '') return;
    try {
      values.push({ line: index + 1, value: JSON.parse(text) });
    } catch (error) {
      issues.push({ file, line: index + 1, reason: `not valid JSON (${errorMessage(error)})` });
    }
  });
  return { values, issues };
}

function jsonArrayRows(source: string, file: string): ParsedRows {
  const values: LocatedValue[] = [];
  const issues: SourceIssue[] = [];
  // NOTE: each element is parsed on its own so one broken conversation is reported at its own
  // line (JSON.parse of the whole array gives no position) and the others are still checked.
  for (const element of topLevelElements(source)) {
    try {
      values.push({ line: element.line, value: JSON.parse(element.text) });
    } catch (error) {
      issues.push({ file, line: element.line, reason: `not valid JSON (${errorMessage(error)})` });
    }
  }
  return { values, issues };
}

/**
 * Splits the text of a top-level JSON array into its elements' source text and starting lines,
 * tracking nesting and strings. Tolerates broken elements: a stray bracket only affects the
 * element that holds it.
 */
function topLevelElements(source: string): { line: number; text: string }[] {
  const elements: { line: number; text: string }[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let start = -1;
  let startLine = 1;
  const finish = (end: number) => {
    if (start >= 0) elements.push({ line: startLine, text: source.slice(start, end) });
    start = -1;
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\n') line++;
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === ' ' || char === '\t' || char === '\r' || char === '\n') continue;
    if (depth === 1 && start < 0 && char !== ']' && char !== ',') {
      start = i;
      startLine = line;
    }
    if (char === '"') inString = true;
    else if (char === '[' || char === '{') depth++;
    else if (char === ']' || char === '}') {
      depth--;
      if (depth === 0) finish(i);
    } else if (char === ',' && depth === 1) finish(i);
  }
  finish(source.length);
  return elements;
}

const USER_ROLES = new Set(['user', 'human']);
const ASSISTANT_ROLES = new Set(['assistant', 'gpt']);

function toExample(value: unknown): { text: string; label: string } | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'expected a JSON object';
  }
  const row = value as Record<string, unknown>;
  if ('conversations' in row) return fromConversation(row.conversations);
  const { text, label } = row;
  if (typeof text !== 'string') return '"text" must be a string';
  if (text.trim() === '') return '"text" is empty';
  if (typeof label !== 'string' || label.trim() === '') return '"label" must be a non-empty string';
  return { text, label: label.trim() };
}

function fromConversation(turns: unknown): { text: string; label: string } | string {
  if (!Array.isArray(turns)) return '"conversations" must be an array of turns';
  const messages = turns.filter(
    (turn): turn is { from: string; value: string } =>
      typeof turn === 'object' &&
      turn !== null &&
      typeof (turn as Record<string, unknown>).from === 'string' &&
      typeof (turn as Record<string, unknown>).value === 'string',
  );
  if (messages.length !== turns.length) return 'every turn needs string "from" and "value"';
  const userIndex = messages.findIndex((turn) => USER_ROLES.has(turn.from));
  const user = messages[userIndex];
  if (!user) return 'no user turn ("from": "user" or "human")';
  const answer = messages.slice(userIndex + 1).find((turn) => ASSISTANT_ROLES.has(turn.from));
  if (!answer) return 'no assistant turn after the user turn';
  if (user.value.trim() === '') return 'the user turn is empty';
  if (answer.value.trim() === '') return 'the assistant turn is empty';
  return { text: user.value, label: answer.value.trim() };
}
