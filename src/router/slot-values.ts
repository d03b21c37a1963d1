import { cachedPattern } from '../catalog/pattern';
import { stringProblem, valueProblem } from '../catalog/json-schema';
import type { StringSchema, ValueSchema } from '../catalog/types';

/**
 * Slot filling: the value of one missing tool argument, read out of the user's answer to the
 * widget's question ("订单号是 2024113012345", "是的", "the premium plan").
 */

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
