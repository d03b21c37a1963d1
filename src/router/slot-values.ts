import { cachedPattern, MAX_STRING_LENGTH } from '../catalog/pattern';
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
 *   run of letters/digits ("订单号是 2024113012345 谢谢" → "2024113012345"; 14 digits give nothing).
 *   Only spans up to `maxLength` (at most `MAX_STRING_LENGTH`) are read, and at most
 *   `PATTERN_SEARCH_STEPS` characters in all, so a long paste cannot freeze the page;
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

/**
 * The most pattern steps (characters fed to the pattern) one search for a pattern value in a
 * message may take; past it the search gives up and finds nothing, as for a message without one.
 *
 * NOTE: each start is read on for at most `maxLength` (≤ `MAX_STRING_LENGTH`) characters, so a
 * search costs at most (message length × maxLength) steps; this caps the product for a pasted
 * novel. A million steps is a few tens of milliseconds, and covers every start of a message of a
 * thousand characters even at the longest `maxLength`.
 */
export const PATTERN_SEARCH_STEPS = 1_000_000;

/**
 * The first span (leftmost start, then longest) that matches the pattern whole, fits the length
 * bounds and does not split a run of ASCII letters/digits.
 */
function findPatternMatch(schema: StringSchema, text: string): string | undefined {
  const pattern = cachedPattern(schema.pattern as string);
  const minLength = schema.minLength ?? 0;
  // NOTE: a span longer than the schema allows can never be the answer, so reading stops there;
  // without a maxLength, at the longest value fenliu handles at all.
  const longest = Math.min(schema.maxLength ?? MAX_STRING_LENGTH, MAX_STRING_LENGTH);
  const chars = Array.from(text);
  let stepsLeft = PATTERN_SEARCH_STEPS;
  for (let start = 0; start < chars.length; start++) {
    if (splitsRun(chars, start)) continue;
    let state = pattern.start;
    let best: number | undefined;
    const stop = Math.min(chars.length, start + longest);
    for (let end = start; end < stop && state; end++) {
      if (stepsLeft-- === 0) return undefined;
      state = pattern.step(state, (chars[end] as string).codePointAt(0) as number);
      // The same test as `stringProblem` for a schema without `enum`: the pattern matches the span
      // whole (an accepting state) and its length is within the bounds (`end + 1 - start ≤ longest`).
      if (state?.accepting && end + 1 - start >= minLength && !splitsRun(chars, end + 1)) {
        best = end + 1;
      }
    }
    if (best !== undefined) return chars.slice(start, best).join('');
  }
  return undefined;
}

/**
 * Whether a span may not start or end at `index`: it would split a run of ASCII letters/digits
 * (13 of 14 digits is not an order id).
 */
function splitsRun(chars: readonly string[], index: number): boolean {
  const before = chars[index - 1];
  const after = chars[index];
  return (
    before !== undefined &&
    after !== undefined &&
    ALPHANUMERIC.test(before) &&
    ALPHANUMERIC.test(after)
  );
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
