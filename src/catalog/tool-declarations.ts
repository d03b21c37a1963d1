import {
  cachedPattern,
  type CompiledPattern,
  MAX_STRING_LENGTH,
  PatternSyntaxError,
} from './pattern';
import { numberProblem, stringProblem } from './json-schema';
import type { NumberSchema, StringSchema, ValueSchema } from './types';
import { isRecord, MAX_TIMEOUT_MS } from '../shared/validation';

/**
 * Checking tool declarations as a catalog or a model card gives them: the structure, the
 * supported JSON Schema subset, pattern syntax, and the references between keys.
 */

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
  // NOTE: customer-facing text only, never part of a prompt; the catalog check reads it
  // (presentationProblems in src/catalog/catalog.ts). A model card keeps the block as training
  // copied it from the catalog, and nothing reads it there.
  'presentation',
];
const OBJECT_KEYS = ['type', 'properties', 'required', 'anyOf', 'additionalProperties'];
const KEYWORDS: Record<ValueSchema['type'], readonly string[]> = {
  string: ['type', 'description', 'enum', 'pattern', 'minLength', 'maxLength'],
  number: ['type', 'description', 'minimum', 'maximum', 'enum'],
  integer: ['type', 'description', 'minimum', 'maximum', 'enum'],
  boolean: ['type', 'description'],
};
const SUPPORTED_TYPES = 'a parameter must be of type "string", "number", "integer" or "boolean"';

/*
 * Limits on what a declaration may ask for, checked when a catalog or a model card is loaded (both
 * come through `toolListProblems`), so nothing later — the decoder in the worker, slot filling on
 * the page — meets a schema whose size alone makes it freeze. String lengths are capped by
 * `MAX_STRING_LENGTH` (src/catalog/pattern.ts says why 1000).
 */

/**
 * The longest `pattern` source, in UTF-16 units.
 *
 * NOTE: the pattern is compiled on the page and in the worker, and written into the prompt's tool
 * declaration; identifier, phone and e-mail patterns are well under 200 characters.
 */
export const MAX_PATTERN_LENGTH = 500;

/**
 * The most values an `enum` may list.
 *
 * NOTE: every value is written into the prompt's tool declaration and tested as a prefix for each
 * character decoded; a choice a user makes in a chat is among a handful, not hundreds.
 */
export const MAX_ENUM_VALUES = 100;

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

/** Whether `value` is a length bound fenliu supports: an integer in `[0, MAX_STRING_LENGTH]`. */
function isLengthBound(value: unknown): value is number {
  return isNonNegativeInteger(value) && value <= MAX_STRING_LENGTH;
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
  for (const [name, bound] of [
    ['minLength', minLength],
    ['maxLength', maxLength],
  ] as const) {
    if (bound === undefined) continue;
    if (!isNonNegativeInteger(bound)) {
      problems.push(`${where}.${name} must be a non-negative integer`);
    } else if (bound > MAX_STRING_LENGTH) {
      problems.push(
        `${where}.${name} must be at most ${MAX_STRING_LENGTH}: fenliu decodes and extracts values of at most ${MAX_STRING_LENGTH} characters`,
      );
    }
  }
  if (isLengthBound(minLength) && isLengthBound(maxLength) && minLength > maxLength) {
    problems.push(`${where}.minLength must not be greater than maxLength`);
  }
  let compiled: CompiledPattern | undefined;
  if (pattern !== undefined) {
    if (typeof pattern !== 'string') {
      problems.push(`${where}.pattern must be a string`);
    } else if (pattern.length > MAX_PATTERN_LENGTH) {
      problems.push(`${where}.pattern must be at most ${MAX_PATTERN_LENGTH} characters long`);
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
    // NOTE: without a maxLength of its own, an enum value is still held to the longest value fenliu
    // decodes or extracts.
    const schema: StringSchema = {
      ...(value as unknown as StringSchema),
      enum: undefined,
      maxLength: (maxLength as number | undefined) ?? MAX_STRING_LENGTH,
    };
    checkEnum(value.enum, where, problems, (item) =>
      typeof item !== 'string' ? 'must be a string' : stringProblem(schema, item),
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
  if (values.length > MAX_ENUM_VALUES) {
    problems.push(`${where}.enum must list at most ${MAX_ENUM_VALUES} values`);
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
  } else if (timeoutMs > MAX_TIMEOUT_MS) {
    problems.push(
      `${where}.timeoutMs must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days): a longer timer fires at once`,
    );
  }
  const parameters = isRecord(spec.parameters) ? spec.parameters : {};
  const properties = isRecord(parameters.properties) ? parameters.properties : {};
  if (spec.ask !== undefined) {
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

/**
 * Every problem of a list of tool declarations (`list` names it in messages: `tools` in a
 * catalog, `"tools"` in a model card): each declaration's problems, then names used twice.
 * Also returns the names declared, for checking the intents bound to them.
 */
export function toolListProblems(
  tools: unknown,
  list: string,
): { problems: string[]; names: Set<string> } {
  const problems: string[] = [];
  const names = new Set<string>();
  if (tools === undefined) return { problems, names };
  if (!Array.isArray(tools)) {
    return { problems: ['"tools" must be an array of tool declarations'], names };
  }
  tools.forEach((tool: unknown, index) => {
    const where = `${list}[${index}]`;
    problems.push(...toolSpecProblems(tool, where));
    const name = isRecord(tool) ? tool.name : undefined;
    if (typeof name !== 'string') return;
    if (names.has(name)) problems.push(`${where}.name "${name}" is used twice`);
    names.add(name);
  });
  return { problems, names };
}
