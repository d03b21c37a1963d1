import { cachedPattern, PatternSyntaxError, type CompiledPattern } from '../decoding/pattern';
import type {
  NumberSchema,
  ObjectSchema,
  StringSchema,
  ToolArguments,
  ValueSchema,
} from './tool-spec';

/**
 * The JSON Schema subset tool parameters use (see src/catalog/tool-spec.ts): validating a tool
 * declaration, checking arguments before a tool runs, and finding one missing argument in a
 * follow-up message (slot filling).
 */

/** One present argument that is wrong. */
export interface ArgumentProblem {
  /** The argument's key; `''` when the arguments as a whole are not an object. */
  key: string;
  /** A short English sentence, e.g. `does not match the pattern ^[0-9]{13}$`. */
  reason: string;
}

export interface ArgumentCheck {
  /** The valid arguments only: what may be passed on (or kept while asking for the rest). */
  arguments: ToolArguments;
  /** Required keys that are absent or invalid: what slot filling must ask for. */
  missing: string[];
  /** Present keys whose value is wrong (or unknown keys when `additionalProperties` is false). */
  problems: ArgumentProblem[];
}

const SURROGATE_PAIRS = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Code points, as JSON Schema's `minLength`/`maxLength` count them (not UTF-16 units). */
export function characterCount(text: string): number {
  return text.length - (text.match(SURROGATE_PAIRS)?.length ?? 0);
}

/** Why `value` does not satisfy `schema`, or `undefined` when it does. */
export function valueProblem(schema: ValueSchema, value: unknown): string | undefined {
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      return stringProblem(schema, value);
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      return numberProblem(schema, value);
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
  }
}

function stringProblem(schema: StringSchema, value: string): string | undefined {
  if (schema.enum && !schema.enum.includes(value)) {
    return `must be one of ${schema.enum.map((item) => JSON.stringify(item)).join(', ')}`;
  }
  const length = characterCount(value);
  if (schema.minLength !== undefined && length < schema.minLength) {
    return `must be at least ${schema.minLength} characters long`;
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    return `must be at most ${schema.maxLength} characters long`;
  }
  if (schema.pattern !== undefined && !cachedPattern(schema.pattern).run(value)?.accepting) {
    return `does not match the pattern ${schema.pattern}`;
  }
  return undefined;
}

function numberProblem(schema: NumberSchema, value: number): string | undefined {
  if (schema.type === 'integer' && !Number.isInteger(value)) return 'must be an integer';
  if (schema.enum && !schema.enum.includes(value)) {
    return `must be one of ${schema.enum.join(', ')}`;
  }
  if (schema.minimum !== undefined && value < schema.minimum) {
    return `must be at least ${schema.minimum}`;
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    return `must be at most ${schema.maximum}`;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks decoded or typed arguments against a tool's parameter schema. Never throws: a wrong
 * value is a `problem` and its key counts as missing, so the caller asks for it again rather
 * than passing it on.
 *
 * @example
 * checkArguments(spec.parameters, { order_id: '123' });
 * // { arguments: {}, missing: ['order_id'],
 * //   problems: [{ key: 'order_id', reason: 'does not match the pattern ^[0-9]{13}$' }] }
 */
export function checkArguments(schema: ObjectSchema, value: unknown): ArgumentCheck {
  const valid: ToolArguments = {};
  const problems: ArgumentProblem[] = [];
  if (!isRecord(value)) {
    problems.push({ key: '', reason: 'the arguments must be a JSON object' });
  } else {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const property = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (!property) {
        if (schema.additionalProperties === false) {
          problems.push({ key, reason: 'is not a parameter of this tool' });
        } else if (['string', 'number', 'boolean'].includes(typeof item)) {
          valid[key] = item as string | number | boolean;
        } else {
          problems.push({ key, reason: 'must be a string, number or boolean' });
        }
        continue;
      }
      const reason = valueProblem(property, item);
      if (reason === undefined) valid[key] = item as string | number | boolean;
      else problems.push({ key, reason });
    }
  }
  return { arguments: valid, missing: missingKeys(schema, valid), problems };
}

/**
 * Required keys absent from `present`, then — when no `anyOf` alternative is complete — the further
 * keys of the alternative that needs the fewest of them.
 */
function missingKeys(schema: ObjectSchema, present: ToolArguments): string[] {
  const absent = (keys: readonly string[]) => keys.filter((key) => !Object.hasOwn(present, key));
  const missing = absent(schema.required ?? []);
  if (schema.anyOf && schema.anyOf.length > 0) {
    const gaps = schema.anyOf.map((alternative) => absent(alternative.required));
    if (!gaps.some((gap) => gap.length === 0)) {
      // Keys `required` already asks for cost nothing extra: the closest alternative is the one
      // that adds the fewest further questions (the first one on ties).
      const extra = gaps.map((gap) => gap.filter((key) => !missing.includes(key)));
      const closest = extra.reduce((best, gap) => (gap.length < best.length ? gap : best));
      missing.push(...closest);
    }
  }
  return missing;
}

const TOOL_NAME = /^[a-z][a-z0-9_]*$/;
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPEC_KEYS = [
  'name',
  'description',
  'parameters',
  'changesData',
  'requiresConfirmation',
  'timeoutMs',
  'ask',
  'extract',
];
const OBJECT_KEYS = ['type', 'properties', 'required', 'anyOf', 'additionalProperties'];
const KEYWORDS: Record<ValueSchema['type'], readonly string[]> = {
  string: ['type', 'description', 'enum', 'pattern', 'minLength', 'maxLength'],
  number: ['type', 'description', 'minimum', 'maximum', 'enum'],
  integer: ['type', 'description', 'minimum', 'maximum', 'enum'],
  boolean: ['type', 'description'],
};
const SUPPORTED_TYPES = 'a parameter must be of type "string", "number", "integer" or "boolean"';

/** Adds a problem unless `value` is `{zh, en}` with two non-empty strings (catalogs use it too). */
export function checkLocalizedText(value: unknown, where: string, problems: string[]): void {
  if (!isRecord(value)) {
    problems.push(`${where} must be an object with "zh" and "en" strings`);
    return;
  }
  for (const language of ['zh', 'en'] as const) {
    const text = value[language];
    if (typeof text !== 'string' || text.trim() === '') {
      problems.push(`${where}.${language} must be a non-empty string`);
    }
  }
}

function unknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
  what: string,
  problems: string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      problems.push(
        `${where} has unsupported keyword "${key}"; ${what} supports: ${allowed.join(', ')}`,
      );
    }
  }
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function checkProperty(value: unknown, where: string, problems: string[]): void {
  if (!isRecord(value)) {
    problems.push(`${where} must be a schema object`);
    return;
  }
  const type = value.type;
  if (type === 'object' || type === 'array') {
    problems.push(`${where}: nested objects and arrays are not supported; ${SUPPORTED_TYPES}`);
    return;
  }
  if (typeof type !== 'string' || !Object.hasOwn(KEYWORDS, type)) {
    problems.push(`${where}.type: ${SUPPORTED_TYPES}`);
    return;
  }
  const schemaType = type as ValueSchema['type'];
  unknownKeys(value, KEYWORDS[schemaType], where, `a ${schemaType} parameter`, problems);
  if (value.description !== undefined && typeof value.description !== 'string') {
    problems.push(`${where}.description must be a string`);
  }
  if (schemaType === 'string') checkStringSchema(value, where, problems);
  else if (schemaType !== 'boolean') checkNumberSchema(value, schemaType, where, problems);
}

function checkStringSchema(
  value: Record<string, unknown>,
  where: string,
  problems: string[],
): void {
  const { minLength, maxLength, pattern } = value;
  const before = problems.length;
  if (minLength !== undefined && !isNonNegativeInteger(minLength)) {
    problems.push(`${where}.minLength must be a non-negative integer`);
  }
  if (maxLength !== undefined && !isNonNegativeInteger(maxLength)) {
    problems.push(`${where}.maxLength must be a non-negative integer`);
  }
  if (isNonNegativeInteger(minLength) && isNonNegativeInteger(maxLength) && minLength > maxLength) {
    problems.push(`${where}.minLength must not be greater than maxLength`);
  }
  let compiled: CompiledPattern | undefined;
  if (pattern !== undefined) {
    if (typeof pattern !== 'string') {
      problems.push(`${where}.pattern must be a string`);
    } else {
      try {
        compiled = cachedPattern(pattern);
      } catch (error) {
        if (!(error instanceof PatternSyntaxError)) throw error;
        problems.push(`${where}.pattern: ${error.message}`);
      }
    }
  }
  if (problems.length > before) return;
  if (
    compiled &&
    !compiled.fits(
      compiled.start,
      0,
      (minLength as number | undefined) ?? 0,
      maxLength as number | undefined,
    )
  ) {
    problems.push(`${where}.pattern matches no string within the length limits`);
  }
  if (value.enum !== undefined) {
    const schema = value as unknown as StringSchema;
    checkEnum(value.enum, where, problems, (item) =>
      typeof item !== 'string'
        ? 'must be a string'
        : stringProblem({ ...schema, enum: undefined }, item),
    );
  }
}

function checkNumberSchema(
  value: Record<string, unknown>,
  type: 'number' | 'integer',
  where: string,
  problems: string[],
): void {
  const { minimum, maximum } = value;
  const before = problems.length;
  for (const [name, bound] of [
    ['minimum', minimum],
    ['maximum', maximum],
  ] as const) {
    if (bound !== undefined && (typeof bound !== 'number' || !Number.isFinite(bound))) {
      problems.push(`${where}.${name} must be a finite number`);
    }
  }
  if (problems.length > before) return;
  const low = minimum as number | undefined;
  const high = maximum as number | undefined;
  if (low !== undefined && high !== undefined) {
    if (low > high) problems.push(`${where}.minimum must not be greater than maximum`);
    else if (type === 'integer' && Math.ceil(low) > Math.floor(high)) {
      problems.push(`${where}: no integer lies between minimum and maximum`);
    }
  }
  if (value.enum !== undefined) {
    const schema = value as unknown as NumberSchema;
    checkEnum(value.enum, where, problems, (item) =>
      typeof item !== 'number' || !Number.isFinite(item)
        ? 'must be a number'
        : numberProblem({ ...schema, enum: undefined }, item),
    );
  }
}

function checkEnum(
  values: unknown,
  where: string,
  problems: string[],
  itemProblem: (item: unknown) => string | undefined,
): void {
  if (!Array.isArray(values) || values.length === 0) {
    problems.push(`${where}.enum must be a non-empty array`);
    return;
  }
  const seen = new Set<unknown>();
  values.forEach((item: unknown, index) => {
    const reason = itemProblem(item);
    if (reason !== undefined) problems.push(`${where}.enum[${index}] ${reason}`);
    else if (seen.has(item)) problems.push(`${where}.enum[${index}] is listed twice`);
    seen.add(item);
  });
}

function checkKeyList(
  value: unknown,
  properties: Record<string, unknown>,
  where: string,
  problems: string[],
  nonEmpty: boolean,
): void {
  if (!Array.isArray(value) || (nonEmpty && value.length === 0)) {
    problems.push(`${where} must be ${nonEmpty ? 'a non-empty' : 'an'} array of parameter names`);
    return;
  }
  const seen = new Set<unknown>();
  value.forEach((key: unknown, index) => {
    if (typeof key !== 'string' || !Object.hasOwn(properties, key)) {
      problems.push(`${where}[${index}] ${JSON.stringify(key)} is not one of the properties`);
    } else if (seen.has(key)) {
      problems.push(`${where}[${index}] "${key}" is listed twice`);
    }
    seen.add(key);
  });
}

function checkParameters(value: unknown, where: string, problems: string[]): void {
  if (!isRecord(value)) {
    problems.push(`${where} must be a JSON Schema object ({"type": "object", "properties": …})`);
    return;
  }
  if (value.type !== 'object') problems.push(`${where}.type must be "object"`);
  unknownKeys(value, OBJECT_KEYS, where, 'the parameters object', problems);
  const properties = isRecord(value.properties) ? value.properties : {};
  if (!isRecord(value.properties)) {
    problems.push(`${where}.properties must be an object of parameter schemas`);
  }
  for (const [name, property] of Object.entries(properties)) {
    const at = `${where}.properties.${name}`;
    if (!PARAMETER_NAME.test(name)) {
      problems.push(`${at}: parameter names must match ${String(PARAMETER_NAME)}`);
    }
    checkProperty(property, at, problems);
  }
  if (value.required !== undefined) {
    checkKeyList(value.required, properties, `${where}.required`, problems, false);
  }
  if (value.anyOf !== undefined) {
    const anyOfForm = 'only "anyOf": [{"required": [names…]}, …] is supported';
    if (!Array.isArray(value.anyOf) || value.anyOf.length === 0) {
      problems.push(`${where}.anyOf: ${anyOfForm}`);
    } else {
      value.anyOf.forEach((alternative: unknown, index) => {
        const at = `${where}.anyOf[${index}]`;
        if (!isRecord(alternative) || Object.keys(alternative).some((key) => key !== 'required')) {
          problems.push(`${at}: ${anyOfForm}`);
          return;
        }
        checkKeyList(alternative.required, properties, `${at}.required`, problems, true);
      });
    }
  }
  if (value.additionalProperties !== undefined && value.additionalProperties !== false) {
    problems.push(`${where}.additionalProperties may only be false`);
  }
}

/**
 * The problem of a tool that changes data without asking first, naming the tool and the fix
 * (shared by the catalog check and the tool registry).
 */
export function unconfirmedChangeProblem(name: unknown): string {
  const tool = typeof name === 'string' ? `tool "${name}"` : 'the tool';
  return `${tool} changes data but does not require confirmation; set "requiresConfirmation": true (a tool that changes data always asks the user first), or "changesData": false if it only reads`;
}

/**
 * Every problem of a tool declaration (structure, the supported schema subset, pattern syntax,
 * cross-references), each prefixed with `where` (e.g. `tools[0]`); empty when it is valid.
 */
export function toolSpecProblems(spec: unknown, where: string): string[] {
  const problems: string[] = [];
  if (!isRecord(spec)) return [`${where} must be an object`];
  unknownKeys(spec, SPEC_KEYS, where, 'a tool', problems);
  if (typeof spec.name !== 'string' || !TOOL_NAME.test(spec.name)) {
    problems.push(`${where}.name must match ${String(TOOL_NAME)}`);
  }
  checkLocalizedText(spec.description, `${where}.description`, problems);
  checkParameters(spec.parameters, `${where}.parameters`, problems);
  if (typeof spec.changesData !== 'boolean') {
    problems.push(
      `${where}.changesData must be true or false (true when a call creates, updates or deletes data)`,
    );
  }
  if (typeof spec.requiresConfirmation !== 'boolean') {
    problems.push(`${where}.requiresConfirmation must be true or false`);
  }
  if (spec.changesData === true && spec.requiresConfirmation === false) {
    problems.push(`${where}: ${unconfirmedChangeProblem(spec.name)}`);
  }
  const { timeoutMs } = spec;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    problems.push(`${where}.timeoutMs must be a positive number of milliseconds`);
  }
  if (spec.ask !== undefined) {
    const parameters = isRecord(spec.parameters) ? spec.parameters : {};
    const properties = isRecord(parameters.properties) ? parameters.properties : {};
    if (!isRecord(spec.ask)) {
      problems.push(`${where}.ask must be an object of questions by parameter name`);
    } else {
      for (const [key, question] of Object.entries(spec.ask)) {
        if (!Object.hasOwn(properties, key)) {
          problems.push(`${where}.ask.${key}: "${key}" is not one of the properties`);
        }
        checkLocalizedText(question, `${where}.ask.${key}`, problems);
      }
    }
  }
  if (spec.extract !== undefined) {
    const parameters = isRecord(spec.parameters) ? spec.parameters : {};
    const properties = isRecord(parameters.properties) ? parameters.properties : {};
    if (!Array.isArray(spec.extract)) {
      problems.push(`${where}.extract must be a list of string parameter names`);
    } else {
      for (const key of spec.extract) {
        const schema = typeof key === 'string' ? properties[key] : undefined;
        if (!isRecord(schema) || schema.type !== 'string' || schema.enum !== undefined) {
          problems.push(
            `${where}.extract: ${JSON.stringify(key)} must name a string parameter without "enum" (values copied from the message)`,
          );
        }
      }
    }
  }
  return problems;
}

const YES_WORDS = [
  '是的',
  '是',
  '对的',
  '对',
  '好的',
  '好',
  '可以',
  '行',
  '确认',
  '确定',
  '需要',
  '要',
  '嗯',
];
const NO_WORDS = [
  '不是',
  '不要',
  '不用',
  '不需要',
  '不行',
  '不',
  '否',
  '没有',
  '取消',
  '算了',
  '别',
];
const YES_ENGLISH = ['yes', 'y', 'yeah', 'yep', 'sure', 'ok', 'okay', 'true', 'confirm', 'correct'];
const NO_ENGLISH = ['no', 'n', 'nope', 'false', 'cancel', "don't", 'dont', 'not'];

/**
 * Finds the value of one missing argument in the user's follow-up message (the answer to the
 * widget's question), or `undefined` when nothing in it fits — never a guess that does not
 * satisfy the schema.
 *
 * - `pattern`: the first substring that matches the pattern whole and is not cut out of a longer
 *   run of letters/digits ("订单号是 2024113012345 谢谢" → "2024113012345"; 14 digits give nothing);
 * - `enum`: the enum value the text contains (the longest when several do);
 * - free text: the trimmed message, if its length fits `minLength`/`maxLength`;
 * - number/integer: the first number in the text that fits the schema;
 * - boolean: yes/no words in Chinese or English (a "no" word wins over a "yes" word it contains).
 *
 * Full-width digits and letters are read as ASCII for patterns, enums and numbers (NFKC).
 */
export function extractSlotValue(
  schema: ValueSchema,
  text: string,
): string | number | boolean | undefined {
  switch (schema.type) {
    case 'string':
      return extractString(schema, text);
    case 'number':
    case 'integer': {
      // Numbers standing alone: not the digits of an identifier like "abc123" or "v2.1".
      for (const match of text.normalize('NFKC').matchAll(NUMBER_IN_TEXT)) {
        const value = Number(match[0]);
        if (valueProblem(schema, value) === undefined) return value;
      }
      return undefined;
    }
    case 'boolean':
      return extractBoolean(text);
  }
}

function extractString(schema: StringSchema, text: string): string | undefined {
  const normalised = text.normalize('NFKC');
  if (schema.enum) {
    const lower = normalised.toLowerCase();
    let best: string | undefined;
    for (const value of schema.enum) {
      const found = normalised.includes(value) || lower.includes(value.toLowerCase());
      if (found && (best === undefined || value.length > best.length)) best = value;
    }
    return best !== undefined && stringProblem(schema, best) === undefined ? best : undefined;
  }
  if (schema.pattern !== undefined) return findPatternMatch(schema, normalised);
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return stringProblem(schema, trimmed) === undefined ? trimmed : undefined;
}

const ALPHANUMERIC = /^[A-Za-z0-9]$/;
const NUMBER_IN_TEXT = /(?<![0-9A-Za-z.])-?\d+(?:\.\d+)?(?![0-9A-Za-z])/g;

function findPatternMatch(schema: StringSchema, text: string): string | undefined {
  const pattern = cachedPattern(schema.pattern as string);
  const chars = Array.from(text);
  for (let start = 0; start < chars.length; start++) {
    let state = pattern.start;
    let best: number | undefined;
    for (let end = start; end < chars.length && state; end++) {
      state = pattern.step(state, (chars[end] as string).codePointAt(0) as number);
      if (state?.accepting && boundedAt(chars, start, end + 1)) {
        const candidate = chars.slice(start, end + 1).join('');
        if (stringProblem(schema, candidate) === undefined) best = end + 1;
      }
    }
    if (best !== undefined) return chars.slice(start, best).join('');
  }
  return undefined;
}

/** A match must not split a run of ASCII letters/digits (13 of 14 digits is not an order id). */
function boundedAt(chars: readonly string[], start: number, end: number): boolean {
  const joins = (a: string | undefined, b: string | undefined) =>
    a !== undefined && b !== undefined && ALPHANUMERIC.test(a) && ALPHANUMERIC.test(b);
  return !joins(chars[start - 1], chars[start]) && !joins(chars[end - 1], chars[end]);
}

function extractBoolean(text: string): boolean | undefined {
  const lower = text.normalize('NFKC').toLowerCase();
  const words = new Set(lower.match(/[a-z']+/g) ?? []);
  if (NO_WORDS.some((word) => lower.includes(word)) || NO_ENGLISH.some((w) => words.has(w))) {
    return false;
  }
  if (YES_WORDS.some((word) => lower.includes(word)) || YES_ENGLISH.some((w) => words.has(w))) {
    return true;
  }
  return undefined;
}
