import { cachedPattern } from './pattern';
import type { NumberSchema, ObjectSchema, StringSchema, ToolArguments, ValueSchema } from './types';
import { isRecord } from '../shared/validation';

/**
 * Values against the JSON Schema subset tool parameters use (see `ToolSpec` in
 * src/catalog/types.ts): one value against its schema, and a call's arguments before the tool
 * runs. Checking the declarations themselves is src/catalog/tool-declarations.ts.
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

export function stringProblem(schema: StringSchema, value: string): string | undefined {
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

export function numberProblem(schema: NumberSchema, value: number): string | undefined {
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
