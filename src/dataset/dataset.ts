import { checkArguments } from '../catalog/json-schema';
import type { ToolArguments, ToolCall, ToolSpec } from '../catalog/types';
import { DataValidationError, errorMessage, type SourceIssue } from '../shared/errors';
import { isRecord } from '../shared/validation';

/** One labelled message, remembering where it came from so problems can be traced back. */
export interface LabelledExample {
  text: string;
  label: string;
  /**
   * The call the answer makes, for an intent bound to a tool: from a JSON Lines row's
   * `tool_call` or a ShareGPT `function_call` turn. Only the arguments the message gives; see
   * `resolveToolCalls` for rows that give none.
   */
  toolCall?: ToolCall;
  file: string;
  line: number;
}

/**
 * Reads labelled examples from either supported format and throws a `DataValidationError`
 * listing every unusable row as `file:line: reason` — rows are never skipped silently.
 *
 * - `{"text": "…", "label": "…"}` JSON Lines, optionally with the answer's tool call:
 *   `"tool_call": {"name": "lookup_order", "arguments": {"order_id": "2024113012345"}}`;
 * - the ShareGPT form, as a JSON array or as JSON Lines:
 *   `[{"conversations":[{"from":"user","value":"取消我的订阅"},{"from":"assistant","value":"取消服务"}]}]`,
 *   also as LLaMA-Factory reads it: `human`/`gpt` roles, `function_call` and `observation` turns
 *   between the user turn and the answer, a top-level `system` string and a `tools` field (a JSON
 *   string or an array of tool descriptions). The message is the first user turn; the label is the
 *   first assistant (`gpt`) turn after it; the tool call is the first `function_call` turn between
 *   them (`{"name": …, "arguments": {…}}`, arguments as an object or a JSON string).
 *
 * @example
 * const examples = parseDataset(readFileSync(path, 'utf8'), path);
 */
export function parseDataset(source: string, file: string): LabelledExample[] {
  const { examples, issues } = parseDatasetRows(source, file);
  if (issues.length > 0) throw new DataValidationError('dataset-invalid', issues);
  return examples;
}

/**
 * Like `parseDataset`, but returns the usable rows and the unusable ones (as `file:line: reason`
 * issues, in line order) instead of throwing, so a caller can report the bad rows and go on.
 */
export function parseDatasetRows(
  source: string,
  file: string,
): { examples: LabelledExample[]; issues: SourceIssue[] } {
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
  issues.sort((a, b) => a.line - b.line);
  if (examples.length === 0 && issues.length === 0) {
    issues.push({ file, line: 1, reason: 'the file holds no examples' });
  }
  return { examples, issues };
}

/** What a dataset holds, for a person to check before training. */
export interface DatasetReport {
  total: number;
  /** Rows per label, in first-seen order. */
  perLabel: Record<string, number>;
  /** Messages that occur more than once with one label: every place they occur. */
  duplicates: { text: string; label: string; at: string[] }[];
  /** Messages that occur with different labels: each label and where it is given. */
  conflicts: { text: string; labels: Record<string, string[]> }[];
}

/** Message identity for duplicates: Unicode NFKC, trimmed, whitespace runs collapsed, lower case. */
export function normalizeMessage(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Counts per label, duplicate messages and messages given conflicting labels. */
export function datasetReport(examples: readonly LabelledExample[]): DatasetReport {
  const perLabel: Record<string, number> = {};
  const byText = new Map<string, LabelledExample[]>();
  for (const example of examples) {
    perLabel[example.label] = (perLabel[example.label] ?? 0) + 1;
    const key = normalizeMessage(example.text);
    byText.set(key, [...(byText.get(key) ?? []), example]);
  }
  const duplicates: DatasetReport['duplicates'] = [];
  const conflicts: DatasetReport['conflicts'] = [];
  for (const group of byText.values()) {
    if (group.length < 2) continue;
    const first = group[0] as LabelledExample;
    const labels: Record<string, string[]> = {};
    for (const example of group) {
      (labels[example.label] ??= []).push(`${example.file}:${example.line}`);
    }
    if (Object.keys(labels).length > 1) conflicts.push({ text: first.text, labels });
    else duplicates.push({ text: first.text, label: first.label, at: labels[first.label] ?? [] });
  }
  return { total: examples.length, perLabel, duplicates, conflicts };
}

/**
 * Splits examples into train and validation sets with each label's share preserved: per label,
 * round(count × validFraction) rows go to validation (none for a label with a single row).
 * Copies of one message stay together, so validation never scores a message seen in training.
 * Deterministic for a given seed.
 */
export function stratifiedSplit<T extends { text: string; label: string }>(
  examples: readonly T[],
  validFraction: number,
  seed = 0,
): { train: T[]; valid: T[] } {
  if (!(validFraction >= 0 && validFraction < 1)) {
    throw new RangeError(`validFraction must be in [0, 1), got ${validFraction}`);
  }
  const random = seededRandom(seed);
  const groupsByLabel = new Map<string, T[][]>();
  const groupOf = new Map<string, T[]>();
  for (const example of examples) {
    const key = `${example.label}\u0000${normalizeMessage(example.text)}`;
    let group = groupOf.get(key);
    if (!group) {
      group = [];
      groupOf.set(key, group);
      groupsByLabel.set(example.label, [...(groupsByLabel.get(example.label) ?? []), group]);
    }
    group.push(example);
  }
  const validSet = new Set<T>();
  for (const groups of groupsByLabel.values()) {
    const count = groups.reduce((n, g) => n + g.length, 0);
    const want = count < 2 ? 0 : Math.round(count * validFraction);
    // Fisher–Yates with the seeded generator.
    for (let i = groups.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [groups[i], groups[j]] = [groups[j] as T[], groups[i] as T[]];
    }
    let taken = 0;
    for (const group of groups) {
      if (taken >= want) break;
      if (taken + group.length > want && taken > 0) continue;
      group.forEach((example) => validSet.add(example));
      taken += group.length;
    }
  }
  return {
    train: examples.filter((example) => !validSet.has(example)),
    valid: examples.filter((example) => validSet.has(example)),
  };
}

/**
 * A small seeded PRNG (mulberry32) returning numbers in [0, 1): the same sequence on every
 * machine, for splits and generated data.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

/**
 * What checking a row's tool call needs of a catalog or a model card (`fenliu.json`): the tool
 * each intent calls and the tools' parameter schemas.
 */
export interface ToolBindings {
  intents: readonly { id: string; label: string; tool?: string }[];
  tools?: readonly Pick<ToolSpec, 'name' | 'parameters'>[];
}

/**
 * Gives every example of an intent bound to a tool its call, and checks the calls the data
 * gives: the name must be the intent's tool, and each argument must be a parameter of it with a
 * valid value (type, enum, pattern, length). Required arguments may be absent — a message
 * often leaves them out, and the model must then leave them out too (the user is asked) — so a
 * row of a tool intent without a call gets the call with no arguments. Examples of other intents
 * must not carry a call. Throws a `DataValidationError` listing every bad row; labels outside the
 * catalog are `checkLabels`'s concern and pass through unchanged.
 *
 * @example
 * const examples = resolveToolCalls(parseDataset(text, file), catalog);
 * // {text: '我要退货', label: '退款退货'} → toolCall {name: 'request_refund', arguments: {}}
 */
export function resolveToolCalls(
  examples: readonly LabelledExample[],
  catalog: ToolBindings,
): LabelledExample[] {
  const toolOf = new Map(catalog.intents.map((intent) => [intent.label, intent.tool]));
  const specs = toolSpecs(catalog);
  const issues: SourceIssue[] = [];
  const resolved = examples.map((example) => {
    if (!toolOf.has(example.label)) return example;
    const tool = toolOf.get(example.label);
    const reason = toolCallProblem(example, tool, specs);
    if (reason !== null) {
      issues.push({ file: example.file, line: example.line, reason });
      return example;
    }
    if (tool === undefined || example.toolCall) return example;
    return { ...example, toolCall: { name: tool, arguments: {} } };
  });
  if (issues.length > 0) throw new DataValidationError('dataset-invalid', issues);
  return resolved;
}

/**
 * Every row whose tool call the catalog or model card rejects, as `file:line: reason` issues in
 * the rows' order: a call naming a tool it does not declare, a call of another intent's tool, a
 * call on an intent that calls none, and arguments that break the tool's JSON Schema (a key that
 * is not a parameter, a wrong type, enum, pattern or length). Like `resolveToolCalls` it accepts
 * absent required arguments, but it gives rows no calls: a row without one is not a tool-call
 * row. Labels may be intent labels or ids, as `fenliu eval` takes them; rows with other labels
 * are skipped (the label check reports them).
 *
 * @example
 * const issues = toolCallIssues(examples, card);
 * if (issues.length > 0) throw new DataValidationError('dataset-invalid', issues);
 */
export function toolCallIssues(
  examples: readonly LabelledExample[],
  bindings: ToolBindings,
): SourceIssue[] {
  const toolOf = new Map<string, string | undefined>();
  for (const intent of bindings.intents) toolOf.set(intent.id, intent.tool);
  // Labels win over ids should an id happen to equal another intent's label (as in eval).
  for (const intent of bindings.intents) toolOf.set(intent.label, intent.tool);
  const specs = toolSpecs(bindings);
  return examples.flatMap((example) => {
    if (!example.toolCall || !toolOf.has(example.label)) return [];
    const reason = toolCallProblem(example, toolOf.get(example.label), specs);
    return reason === null ? [] : [{ file: example.file, line: example.line, reason }];
  });
}

type ToolSchemas = ReadonlyMap<string, Pick<ToolSpec, 'name' | 'parameters'>>;

function toolSpecs(bindings: ToolBindings): ToolSchemas {
  return new Map((bindings.tools ?? []).map((spec) => [spec.name, spec]));
}

/** Why a row's call does not fit its intent's `tool` and that tool's schema, or null. */
function toolCallProblem(
  example: LabelledExample,
  tool: string | undefined,
  specs: ToolSchemas,
): string | null {
  const call = example.toolCall;
  if (call && !specs.has(call.name)) {
    const declared = specs.size === 0 ? 'none' : [...specs.keys()].join(', ');
    return `tool call "${call.name}" names no declared tool (declared: ${declared})`;
  }
  if (tool === undefined) {
    return call ? `intent "${example.label}" calls no tool, but the row has a tool call` : null;
  }
  const spec = specs.get(tool);
  if (!spec) return `tool "${tool}" of intent "${example.label}" is not in the catalog`;
  if (!call) return null;
  if (call.name !== tool) {
    return `tool call "${call.name}" is not "${tool}", the tool of intent "${example.label}"`;
  }
  const check = checkArguments(spec.parameters, call.arguments);
  if (check.problems.length === 0) return null;
  const reasons = check.problems.map(({ key, reason }) => `"${key}" ${reason}`);
  return `${tool} arguments: ${reasons.join('; ')}`;
}

/** A training example of the reply step: a finished tool call, its result and the reply to it. */
export interface ToolReplyExample {
  text: string;
  label: string;
  toolCall: ToolCall;
  /** The tool's result, any JSON value. */
  result: unknown;
  reply: string;
  file: string;
  line: number;
}

/**
 * Reads reply-step examples, JSON Lines of
 * `{"text", "label", "tool_call": {"name", "arguments"}, "result": …, "reply": "…"}`, and throws a
 * `DataValidationError` listing every unusable row as `file:line: reason`.
 */
export function parseToolReplies(source: string, file: string): ToolReplyExample[] {
  const rows = jsonLinesRows(source, file);
  const issues = [...rows.issues];
  const examples: ToolReplyExample[] = [];
  for (const { line, value } of rows.values) {
    const base = toExample(value);
    const row = isRecord(value) ? value : {};
    let reason: string | null = null;
    if (typeof base === 'string') reason = base;
    else if ('conversations' in row)
      reason = 'expected {"text", "label", "tool_call", "result", "reply"}';
    else if (!base.toolCall) reason = '"tool_call" is missing';
    else if (row.result === undefined) reason = '"result" is missing';
    else if (typeof row.reply !== 'string' || row.reply.trim() === '') {
      reason = '"reply" must be a non-empty string';
    }
    if (reason !== null || typeof base === 'string' || !base.toolCall) {
      issues.push({ file, line, reason: reason ?? 'not a reply row' });
      continue;
    }
    const reply = row.reply as string;
    examples.push({ ...base, toolCall: base.toolCall, result: row.result, reply, file, line });
  }
  issues.sort((a, b) => a.line - b.line);
  if (examples.length === 0 && issues.length === 0) {
    issues.push({ file, line: 1, reason: 'the file holds no examples' });
  }
  if (issues.length > 0) throw new DataValidationError('dataset-invalid', issues);
  return examples;
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
// LLaMA-Factory's tool turns: a model's tool call, and the tool's result fed back.
const TOOL_ROLES = new Set(['function_call', 'observation']);
const KNOWN_ROLES = new Set([...USER_ROLES, ...ASSISTANT_ROLES, ...TOOL_ROLES, 'system']);

type ParsedExample = { text: string; label: string; toolCall?: ToolCall };

function toExample(value: unknown): ParsedExample | string {
  if (!isRecord(value)) return 'expected a JSON object';
  const row = value;
  if ('conversations' in row) {
    const tools = checkTools(row.tools);
    if (tools) return tools;
    if ('system' in row && typeof row.system !== 'string') return '"system" must be a string';
    return fromConversation(row.conversations);
  }
  const { text, label } = row;
  if (typeof text !== 'string') return '"text" must be a string';
  if (text.trim() === '') return '"text" is empty';
  if (typeof label !== 'string' || label.trim() === '') return '"label" must be a non-empty string';
  if (row.tool_call === undefined) return { text, label: label.trim() };
  const call = toToolCall(row.tool_call);
  if (typeof call === 'string') return `"tool_call" ${call}`;
  return { text, label: label.trim(), toolCall: call };
}

/**
 * A tool call as data files write it: `{"name": "…", "arguments": {…}}`, the arguments a flat
 * object of strings, numbers and booleans (or that object as a JSON string, as OpenAI-style
 * APIs send it; absent means none). Returns why it is not one, as a phrase.
 */
function toToolCall(value: unknown): ToolCall | string {
  if (!isRecord(value)) return 'must be an object {"name", "arguments"}';
  if (typeof value.name !== 'string' || value.name.trim() === '') {
    return 'needs a non-empty string "name"';
  }
  let args: unknown = value.arguments ?? {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args) as unknown;
    } catch {
      return '"arguments" is a string but not JSON';
    }
  }
  if (!isRecord(args)) return '"arguments" must be an object';
  const flat: ToolArguments = {};
  for (const [key, item] of Object.entries(args)) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      return `argument "${key}" must be a string, number or boolean`;
    }
    flat[key] = item;
  }
  return { name: value.name, arguments: flat };
}

function fromConversation(turns: unknown): ParsedExample | string {
  if (!Array.isArray(turns)) return '"conversations" must be an array of turns';
  const messages = turns.filter(
    (turn): turn is { from: string; value: string } =>
      isRecord(turn) && typeof turn.from === 'string' && typeof turn.value === 'string',
  );
  if (messages.length !== turns.length) return 'every turn needs string "from" and "value"';
  const unknown = messages.find((turn) => !KNOWN_ROLES.has(turn.from));
  if (unknown) {
    return `unknown role "${unknown.from}" (expected human/user, gpt/assistant, system, function_call or observation)`;
  }
  const calls: ToolCall[] = [];
  for (const turn of messages) {
    if (turn.from !== 'function_call') continue;
    const call = parseFunctionCall(turn.value);
    if (typeof call === 'string') return `a function_call turn ${call}`;
    calls.push(call);
  }
  const userIndex = messages.findIndex((turn) => USER_ROLES.has(turn.from));
  const user = messages[userIndex];
  if (!user) return 'no user turn ("from": "user" or "human")';
  const answerIndex = messages.findIndex(
    (turn, index) => index > userIndex && ASSISTANT_ROLES.has(turn.from),
  );
  const answer = messages[answerIndex];
  if (!answer) {
    return messages.slice(userIndex + 1).some((turn) => TOOL_ROLES.has(turn.from))
      ? 'no assistant turn after the user turn (function_call/observation turns are not an answer)'
      : 'no assistant turn after the user turn';
  }
  if (user.value.trim() === '') return 'the user turn is empty';
  if (answer.value.trim() === '') return 'the assistant turn is empty';
  const callTurn = messages.findIndex(
    (turn, index) => index > userIndex && index < answerIndex && turn.from === 'function_call',
  );
  const example = { text: user.value, label: answer.value.trim() };
  const call = callTurn < 0 ? undefined : parseFunctionCall(messages[callTurn]?.value ?? '');
  return typeof call === 'object' ? { ...example, toolCall: call } : example;
}

function parseFunctionCall(value: string): ToolCall | string {
  let call: unknown;
  try {
    call = JSON.parse(value) as unknown;
  } catch {
    return 'must hold JSON with a string "name"';
  }
  if (!isRecord(call) || typeof call.name !== 'string')
    return 'must hold JSON with a string "name"';
  const parsed = toToolCall(call);
  return typeof parsed === 'string' ? `has bad arguments (${parsed})` : parsed;
}

/** LLaMA-Factory's `tools`: a JSON string of an array of tool descriptions (or the array). */
function checkTools(tools: unknown): string | null {
  if (tools === undefined || tools === null) return null;
  let value: unknown = tools;
  if (typeof tools === 'string') {
    if (tools.trim() === '') return null;
    try {
      value = JSON.parse(tools) as unknown;
    } catch {
      return '"tools" is a string but not JSON';
    }
  }
  const list = Array.isArray(value) ? value : [value];
  const named = list.every(
    (tool) =>
      isRecord(tool) &&
      typeof (tool.name ?? (isRecord(tool.function) ? tool.function.name : undefined)) === 'string',
  );
  return named ? null : '"tools" must describe each tool with a string "name"';
}
