import { cachedPattern, type CompiledPattern, type PatternState } from '../catalog/pattern';
import { TOOL_CALL_CLOSE } from '../catalog/chat-template';
import type {
  NumberSchema,
  StringSchema,
  ToolArguments,
  ToolSpec,
  ValueSchema,
} from '../catalog/types';
import { valueProblem } from '../catalog/json-schema';

/**
 * The character-level grammar of what follows Qwen3's `<tool_call>` token for one bound tool:
 *
 *     \n{"name": "<tool>", "arguments": {<args>}}\n  </tool_call>  <|im_end|>
 *
 * `<args>` are `"key": value` pairs joined by `", "`, keys in the schema's `properties` order,
 * each at most once, any subset — a required key may be left out on purpose: the model must
 * never be forced to invent a value the user did not give; what is missing goes to slot filling.
 * Values follow their schema while they are written: strings respect `enum` (a prefix of some
 * value), `pattern` (some continuation can still match) and `minLength`/`maxLength` (code
 * points); numbers are JSON numbers without exponent that can still end inside
 * `minimum`/`maximum` (and be integers, or one of the `enum`); booleans are `true`/`false`. A
 * string is spelled the way `JSON.stringify` writes it (`toTemplateJson`): characters raw, only
 * `\" \\ \b \f \n \r \t` and `\u00xx` for other control characters escaped — one spelling, the
 * one the model was trained on.
 *
 * Every state this grammar reaches can still be completed: a character is accepted only if some
 * continuation of it leads to a complete call. That is what lets a decoder pick the best allowed
 * token at each step without ever getting stuck.
 *
 * The two special tokens after the JSON are not characters: `advanceSpecial` steps over them.
 * Text can also arrive as UTF-8 bytes (`advanceBytes`), possibly ending inside a multi-byte
 * character — as byte-level BPE tokens do; such a state is accepted when some completion of the
 * character would be.
 */

/** The special tokens that end a call, in order. */
export type ToolCallSpecial = typeof TOOL_CALL_CLOSE | '<|im_end|>';

type StringValue = {
  readonly kind: 'string';
  readonly opened: boolean;
  /** The decoded value so far (escapes resolved). */
  readonly text: string;
  /** Code points in `text`. */
  readonly chars: number;
  /** The pattern's state after `text` (patterns only). */
  readonly pattern: PatternState | null;
  /** A partly written escape: `''`, `'\'`, `'\u'`, `'\u0'`, `'\u00'` or `'\u00X'`. */
  readonly escape: string;
  /**
   * For an argument copied from the message (`ToolSpec.extract`): the indices in the message
   * where `text` occurs; null for other arguments.
   */
  readonly starts: readonly number[] | null;
};
type ValueState =
  | StringValue
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'boolean'; readonly text: string };

type Literal = 'header' | 'colon' | 'comma' | 'tail';

type Phase =
  | { readonly kind: 'literal'; readonly literal: Literal; readonly position: number }
  | { readonly kind: 'argumentsOpen' }
  | { readonly kind: 'key'; readonly prefix: string }
  | { readonly kind: 'value'; readonly key: number; readonly value: ValueState }
  | { readonly kind: 'afterValue' }
  | { readonly kind: 'special'; readonly expect: ToolCallSpecial }
  | { readonly kind: 'done' };

/** A point in the call; immutable, so one state can be extended with many candidate tokens. */
export interface ToolCallState {
  readonly phase: Phase;
  /** Index (in `properties` order) of the last key written, -1 before the first. */
  readonly lastKey: number;
  /** Arguments whose value is finished. */
  readonly done: readonly (readonly [string, string | number | boolean])[];
  /** Bytes of a UTF-8 character not finished yet (byte input only), and its full length. */
  readonly pendingBytes: readonly number[];
  readonly pendingLength: number;
}

interface StringRule {
  type: 'string';
  enumValues: string[] | undefined;
  pattern: CompiledPattern | undefined;
  minLength: number;
  maxLength: number | undefined;
  /** The value must be a span of the message (see `ToolSpec.extract`). */
  extract: boolean;
}
interface NumberRule {
  type: 'number' | 'integer';
  /** Canonical spellings of the enum values (those that fit the bounds). */
  enumTexts: string[] | undefined;
  minimum: number;
  maximum: number;
}
type ValueRule = StringRule | NumberRule | { type: 'boolean' };

interface KeyRule {
  name: string;
  /** The key as written between the quotes. */
  spelled: string;
  rule: ValueRule;
}

const SHORT_ESCAPES = new Map<string, number>([
  ['"', 0x22],
  ['\\', 0x5c],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
]);
/** Control characters `JSON.stringify` writes as `\u00xx` (lowercase hex). */
const UNICODE_ESCAPES = Array.from({ length: 0x20 }, (_, code) => code).filter(
  (code) => ![0x08, 0x09, 0x0a, 0x0c, 0x0d].includes(code),
);
const ESCAPABLE = [...SHORT_ESCAPES.values(), ...UNICODE_ESCAPES];
/** `\u00xx` as `JSON.stringify` writes it. */
const unicodeEscape = (code: number): string => `\\u${code.toString(16).padStart(4, '0')}`;
const COMPLETE_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;
const NUMBER_PREFIX = /^-?((0|[1-9]\d*)(\.\d*)?)?$/;

const SPECIALS: readonly ToolCallSpecial[] = [TOOL_CALL_CLOSE, '<|im_end|>'];

function compileRule(schema: ValueSchema): ValueRule | undefined {
  switch (schema.type) {
    case 'string': {
      const rule: StringRule = {
        type: 'string',
        enumValues: undefined,
        pattern: schema.pattern === undefined ? undefined : cachedPattern(schema.pattern),
        minLength: schema.minLength ?? 0,
        maxLength: schema.maxLength,
        extract: false,
      };
      if (schema.enum) {
        // Only values that pass every other keyword can ever be accepted.
        const plain: StringSchema = { ...schema, enum: undefined };
        rule.enumValues = schema.enum.filter((value) => valueProblem(plain, value) === undefined);
        return rule.enumValues.length > 0 ? rule : undefined;
      }
      const possible = rule.pattern
        ? rule.pattern.fits(rule.pattern.start, 0, rule.minLength, rule.maxLength)
        : rule.maxLength === undefined || rule.minLength <= rule.maxLength;
      return possible ? rule : undefined;
    }
    case 'number':
    case 'integer': {
      const rule: NumberRule = {
        type: schema.type,
        enumTexts: undefined,
        minimum: schema.minimum ?? -Infinity,
        maximum: schema.maximum ?? Infinity,
      };
      if (schema.enum) {
        const plain: NumberSchema = { ...schema, enum: undefined };
        rule.enumTexts = schema.enum
          .filter((value) => valueProblem(plain, value) === undefined)
          .map((value) => JSON.stringify(value))
          .filter((text) => COMPLETE_NUMBER.test(text));
        return rule.enumTexts.length > 0 ? rule : undefined;
      }
      return numberPrefixFits('', rule) ? rule : undefined;
    }
    case 'boolean':
      return { type: 'boolean' };
  }
}

/**
 * Whether the JSON number prefix `text` can still be completed into a number in the rule's range
 * (an integer for `integer`). Exact: the values reachable from a prefix are a union of intervals
 * (more integer digits multiply the magnitude by ten; fraction digits refine it).
 */
function numberPrefixFits(text: string, rule: NumberRule): boolean {
  if (!NUMBER_PREFIX.test(text)) return false;
  if (rule.type === 'integer' && text.includes('.')) return false;
  if (rule.enumTexts) return rule.enumTexts.some((value) => value.startsWith(text));
  const negative = text.startsWith('-');
  // Nothing written yet: either sign may follow.
  if (text === '') return magnitudeFits(true, '', rule) || magnitudeFits(false, '', rule);
  return magnitudeFits(negative, negative ? text.slice(1) : text, rule);
}

/** Whether digits `body` (after the sign) can still become a number in range. */
function magnitudeFits(negative: boolean, body: string, rule: NumberRule): boolean {
  // Magnitudes m that give a value in range: m in [low, high].
  const low = negative ? Math.max(-rule.maximum, 0) : Math.max(rule.minimum, 0);
  const high = negative ? -rule.minimum : rule.maximum;
  if (low > high) return false;
  const integer = rule.type === 'integer';
  // Whether [from, to) (reals) or its integers meet [low, high].
  const meets = (from: number, to: number): boolean =>
    integer
      ? Math.max(from, Math.ceil(low)) <= Math.min(to - 1, Math.floor(high))
      : from <= high && to > low;
  if (body === '') return meets(0, Infinity);
  const dot = body.indexOf('.');
  if (dot >= 0) {
    const digits = body.length - dot - 1;
    const from = Number(body.slice(0, dot) + '.' + (body.slice(dot + 1) || '0'));
    return meets(from, from + 10 ** -digits);
  }
  if (body === '0') return meets(0, 1);
  const leading = Number(body);
  for (let scale = 1; scale < Infinity; scale *= 10) {
    const from = leading * scale;
    if (from > high) return false;
    if (meets(from, (leading + 1) * scale)) return true;
  }
  return false;
}

function completeNumber(text: string, rule: NumberRule): number | undefined {
  if (!COMPLETE_NUMBER.test(text)) return undefined;
  if (rule.enumTexts) return rule.enumTexts.includes(text) ? Number(text) : undefined;
  const value = Number(text);
  if (rule.type === 'integer' && !Number.isInteger(value)) return undefined;
  return value >= rule.minimum && value <= rule.maximum ? value : undefined;
}

/**
 * The bytes UTF-8 allows after the lead byte `lead`: narrower than 0x80–0xbf after E0, ED, F0 and
 * F4, which would otherwise start overlong forms, surrogates or code points past U+10FFFF.
 */
function secondByteRange(lead: number): [low: number, high: number] {
  const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
  const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
  return [low, high];
}

function codePointRangeOfPrefix(bytes: readonly number[], length: number): [number, number] {
  const lead = bytes[0] as number;
  const [secondLow, secondHigh] = secondByteRange(lead);
  const fill = (high: boolean): number => {
    let codePoint = length === 2 ? lead & 0x1f : length === 3 ? lead & 0x0f : lead & 0x07;
    for (let index = 1; index < length; index++) {
      const byte =
        bytes[index] ?? (index === 1 ? (high ? secondHigh : secondLow) : high ? 0xbf : 0x80);
      codePoint = (codePoint << 6) | (byte & 0x3f);
    }
    return codePoint;
  };
  return [fill(false), fill(true)];
}

/** The grammar of one tool's call. Build once per tool; states are cheap immutable values. */
export class ToolCallGrammar {
  /** The text from `<tool_call>` up to the arguments' `{`, fixed for the tool. */
  readonly header: string;
  private readonly keys: KeyRule[];
  private readonly literals: Record<Literal, string>;
  /** Code-unit indices where the message's code points start (candidate starts of a span). */
  private readonly sourceStarts: readonly number[];

  /**
   * @param source The user's message as the model read it. With it, the arguments the spec
   *   lists in `extract` can only be spans of the message: the model chooses where a value starts
   *   and ends, but cannot write an order number or an address the user did not type. Without
   *   it, `extract` is not enforced.
   */
  constructor(
    readonly spec: ToolSpec,
    private readonly source?: string,
  ) {
    this.header = `\n{"name": ${JSON.stringify(spec.name)}, "arguments": {`;
    this.literals = { header: this.header, colon: ': ', comma: ', "', tail: '}}\n' };
    const extract = new Set(source === undefined ? [] : (spec.extract ?? []));
    // Keys whose value no string could satisfy are left out: the model can never start them.
    this.keys = Object.entries(spec.parameters.properties).flatMap(([name, schema]) => {
      const compiled = compileRule(schema);
      if (!compiled) return [];
      const rule =
        compiled.type === 'string' && extract.has(name) && !compiled.enumValues
          ? { ...compiled, extract: true }
          : compiled;
      return [{ name, spelled: JSON.stringify(name).slice(1, -1), rule }];
    });
    const starts: number[] = [];
    for (let index = 0; index < (source ?? '').length;) {
      starts.push(index);
      index += (source?.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
    }
    this.sourceStarts = starts;
  }

  start(): ToolCallState {
    return {
      phase: { kind: 'literal', literal: 'header', position: 0 },
      lastKey: -1,
      done: [],
      pendingBytes: [],
      pendingLength: 0,
    };
  }

  /** The state after `text` (characters; no special tokens), or `null` if it breaks the grammar. */
  advance(state: ToolCallState | null, text: string): ToolCallState | null {
    let current = state;
    if (current && current.pendingLength > 0) return null;
    for (const char of text) {
      if (!current) return null;
      current = this.step(current, char);
    }
    return current;
  }

  /**
   * The state after UTF-8 `bytes`, which may start or end inside a character; `null` if they
   * break the grammar (or are not UTF-8).
   */
  advanceBytes(state: ToolCallState | null, bytes: ArrayLike<number>): ToolCallState | null {
    let current = state;
    for (let index = 0; index < bytes.length && current; index++) {
      const byte = bytes[index] as number;
      if (current.pendingLength === 0) {
        if (byte < 0x80) {
          current = this.step(current, String.fromCharCode(byte));
          continue;
        }
        const length = byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : 0;
        const fullLength = length || (byte >= 0xf0 && byte <= 0xf4 ? 4 : 0);
        if (fullLength === 0) return null;
        current = this.withPending(current, [byte], fullLength);
        continue;
      }
      const pending = current.pendingBytes;
      const [low, high] =
        pending.length === 1 ? secondByteRange(pending[0] as number) : [0x80, 0xbf];
      if (byte < low || byte > high) return null;
      const collected = [...pending, byte];
      if (collected.length < current.pendingLength) {
        current = this.withPending(current, collected, current.pendingLength);
      } else {
        const [codePoint] = codePointRangeOfPrefix(collected, collected.length);
        const char = String.fromCodePoint(codePoint);
        current = this.step({ ...current, pendingBytes: [], pendingLength: 0 }, char);
      }
    }
    return current;
  }

  /** The state after one of the special tokens that close the call, or `null` if not its turn. */
  advanceSpecial(state: ToolCallState | null, token: string): ToolCallState | null {
    if (!state || state.phase.kind !== 'special' || state.phase.expect !== token) return null;
    const index = SPECIALS.indexOf(token);
    const next = SPECIALS[index + 1];
    return {
      ...state,
      phase: next === undefined ? { kind: 'done' } : { kind: 'special', expect: next },
    };
  }

  /** The special token that must come next (the JSON is finished), if any. */
  expectedSpecial(state: ToolCallState): ToolCallSpecial | undefined {
    return state.phase.kind === 'special' ? state.phase.expect : undefined;
  }

  /** Whether the call is finished, `<|im_end|>` included. */
  isComplete(state: ToolCallState): boolean {
    return state.phase.kind === 'done';
  }

  /**
   * The arguments finished so far. A value still being written is left out (as missing), except
   * a boolean that is already spelled out in full: nothing else could follow it.
   */
  argumentsOf(state: ToolCallState): ToolArguments {
    const result: ToolArguments = Object.fromEntries(state.done);
    const { phase } = state;
    if (phase.kind === 'value' && phase.value.kind === 'boolean') {
      const key = this.keys[phase.key] as KeyRule;
      if (phase.value.text === 'true' || phase.value.text === 'false') {
        result[key.name] = phase.value.text === 'true';
      }
    }
    return result;
  }

  private withPending(state: ToolCallState, bytes: number[], length: number): ToolCallState | null {
    const [low, high] = codePointRangeOfPrefix(bytes, length);
    return this.allowsCodePointIn(state, low, high)
      ? { ...state, pendingBytes: bytes, pendingLength: length }
      : null;
  }

  /** Whether some code point in `[low, high]` (all ≥ 0x80) is a valid next character. */
  private allowsCodePointIn(state: ToolCallState, low: number, high: number): boolean {
    const inRange = (char: string | undefined): boolean => {
      const codePoint = char?.codePointAt(0);
      return codePoint !== undefined && codePoint >= low && codePoint <= high;
    };
    const { phase } = state;
    switch (phase.kind) {
      case 'literal':
        return inRange(
          String.fromCodePoint(this.literals[phase.literal].codePointAt(phase.position) ?? 0),
        );
      case 'key':
        return this.allowedKeys(state).some((key) =>
          inRange(Array.from(key.spelled)[Array.from(phase.prefix).length]),
        );
      case 'value': {
        const { value } = phase;
        const rule = (this.keys[phase.key] as KeyRule).rule;
        if (value.kind !== 'string' || !value.opened || value.escape !== '') return false;
        if (rule.type !== 'string') return false;
        if (value.starts && !this.spanGoesOnInRange(value, low, high)) return false;
        if (rule.enumValues) {
          return rule.enumValues.some(
            (candidate) =>
              candidate.startsWith(value.text) && inRange(Array.from(candidate)[value.chars]),
          );
        }
        if (rule.pattern) {
          return rule.pattern.canStepInRange(
            value.pattern,
            low,
            high,
            value.chars,
            rule.minLength,
            rule.maxLength,
          );
        }
        return rule.maxLength === undefined || value.chars < rule.maxLength;
      }
      default:
        return false;
    }
  }

  /** Keys that may start next: after the last one written, in `properties` order. */
  private allowedKeys(state: ToolCallState): KeyRule[] {
    return this.keys.slice(state.lastKey + 1);
  }

  private step(state: ToolCallState, char: string): ToolCallState | null {
    if (state.pendingLength > 0) return null;
    const { phase } = state;
    switch (phase.kind) {
      case 'literal': {
        const text = this.literals[phase.literal];
        if (!text.startsWith(char, phase.position)) return null;
        const position = phase.position + char.length;
        if (position < text.length) return { ...state, phase: { ...phase, position } };
        return { ...state, phase: this.afterLiteral(phase.literal, state) };
      }
      case 'argumentsOpen':
        if (char === '"' && this.allowedKeys(state).length > 0) {
          return { ...state, phase: { kind: 'key', prefix: '' } };
        }
        return char === '}' ? this.closeArguments(state) : null;
      case 'afterValue':
        if (char === ',' && this.allowedKeys(state).length > 0) {
          return { ...state, phase: { kind: 'literal', literal: 'comma', position: 1 } };
        }
        return char === '}' ? this.closeArguments(state) : null;
      case 'key': {
        const keys = this.allowedKeys(state);
        if (char === '"') {
          const index = keys.findIndex((key) => key.spelled === phase.prefix);
          if (index < 0) return null;
          return {
            ...state,
            lastKey: state.lastKey + 1 + index,
            phase: { kind: 'literal', literal: 'colon', position: 0 },
          };
        }
        const prefix = phase.prefix + char;
        return keys.some((key) => key.spelled.startsWith(prefix))
          ? { ...state, phase: { kind: 'key', prefix } }
          : null;
      }
      case 'value':
        return this.stepValue(state, phase.key, phase.value, char);
      case 'special':
      case 'done':
        return null;
    }
  }

  private afterLiteral(literal: Literal, state: ToolCallState): Phase {
    switch (literal) {
      case 'header':
        return { kind: 'argumentsOpen' };
      case 'colon': {
        const rule = (this.keys[state.lastKey] as KeyRule).rule;
        const value: ValueState =
          rule.type === 'string'
            ? {
                kind: 'string',
                opened: false,
                text: '',
                chars: 0,
                pattern: rule.pattern?.start ?? null,
                escape: '',
                starts: rule.extract ? this.sourceStarts : null,
              }
            : { kind: rule.type === 'boolean' ? 'boolean' : 'number', text: '' };
        return { kind: 'value', key: state.lastKey, value };
      }
      case 'comma':
        return { kind: 'key', prefix: '' };
      case 'tail':
        return { kind: 'special', expect: TOOL_CALL_CLOSE };
    }
  }

  private closeArguments(state: ToolCallState): ToolCallState {
    return { ...state, phase: { kind: 'literal', literal: 'tail', position: 1 } };
  }

  private finish(
    state: ToolCallState,
    key: number,
    value: string | number | boolean,
  ): ToolCallState {
    const name = (this.keys[key] as KeyRule).name;
    return { ...state, done: [...state.done, [name, value]], phase: { kind: 'afterValue' } };
  }

  private stepValue(
    state: ToolCallState,
    key: number,
    value: ValueState,
    char: string,
  ): ToolCallState | null {
    const rule = (this.keys[key] as KeyRule).rule;
    const withValue = (next: ValueState | null): ToolCallState | null =>
      next ? { ...state, phase: { kind: 'value', key, value: next } } : null;
    if (value.kind === 'string') {
      if (rule.type !== 'string') return null;
      if (!value.opened) return char === '"' ? withValue({ ...value, opened: true }) : null;
      if (value.escape !== '') return withValue(this.stepEscape(rule, value, char));
      if (char === '"')
        return this.canEndString(rule, value) ? this.finish(state, key, value.text) : null;
      if (char === '\\') {
        return ESCAPABLE.some((code) => this.acceptsChar(rule, value, code))
          ? withValue({ ...value, escape: '\\' })
          : null;
      }
      const codePoint = char.codePointAt(0) as number;
      if (codePoint < 0x20) return null;
      return withValue(this.acceptsChar(rule, value, codePoint));
    }
    // Numbers and booleans have no closing quote: the next structural character ends them.
    if (char === ',' || char === '}') {
      let finished: number | boolean | undefined;
      if (value.kind === 'boolean') {
        finished = value.text === 'true' ? true : value.text === 'false' ? false : undefined;
      } else if (rule.type === 'number' || rule.type === 'integer') {
        finished = completeNumber(value.text, rule);
      }
      if (finished === undefined) return null;
      return this.step(this.finish(state, key, finished), char);
    }
    const text = value.text + char;
    if (value.kind === 'boolean') {
      return 'true'.startsWith(text) || 'false'.startsWith(text)
        ? withValue({ kind: 'boolean', text })
        : null;
    }
    if (rule.type !== 'number' && rule.type !== 'integer') return null;
    return numberPrefixFits(text, rule) ? withValue({ kind: 'number', text }) : null;
  }

  private stepEscape(rule: StringRule, value: StringValue, char: string): StringValue | null {
    const escape = value.escape + char;
    if (value.escape === '\\') {
      const code = SHORT_ESCAPES.get(char);
      if (code !== undefined) return this.acceptsChar(rule, { ...value, escape: '' }, code);
      if (char !== 'u') return null;
    }
    if (escape.length === 6) {
      const code = parseInt(escape.slice(2), 16);
      if (!UNICODE_ESCAPES.includes(code) || escape !== unicodeEscape(code)) return null;
      return this.acceptsChar(rule, { ...value, escape: '' }, code);
    }
    // `\u`, `\u0`, `\u00`, `\u00X`: go on if some control character spelled this way fits.
    const fits = UNICODE_ESCAPES.some(
      (code) =>
        unicodeEscape(code).startsWith(escape) && this.acceptsChar(rule, value, code) !== null,
    );
    return fits ? { ...value, escape } : null;
  }

  /** The string value after one more decoded character, if the value can still be completed. */
  private acceptsChar(rule: StringRule, value: StringValue, codePoint: number): StringValue | null {
    const next = this.acceptsCharInSchema(rule, value, codePoint);
    if (!next || !value.starts) return next;
    const source = this.source ?? '';
    const offset = value.text.length;
    const char = String.fromCodePoint(codePoint);
    const starts = value.starts.filter((start) => source.startsWith(char, start + offset));
    const spanned = { ...next, starts };
    return starts.some((start) => this.spanCanEnd(rule, spanned, start)) ? spanned : null;
  }

  /** Whether the message, read on from `start + value`, reaches a point where the value may end. */
  private spanCanEnd(rule: StringRule, value: StringValue, start: number): boolean {
    const source = this.source ?? '';
    let current: StringValue | null = value;
    let index = start + value.text.length;
    for (;;) {
      if (current.chars >= 1 && this.canEndString(rule, current)) return true;
      const codePoint = source.codePointAt(index);
      if (codePoint === undefined) return false;
      current = this.acceptsCharInSchema(rule, current, codePoint);
      if (!current) return false;
      index += codePoint > 0xffff ? 2 : 1;
    }
  }

  /** Whether some span of the message continues `value` with a code point in `[low, high]`. */
  private spanGoesOnInRange(value: StringValue, low: number, high: number): boolean {
    const source = this.source ?? '';
    return (value.starts ?? []).some((start) => {
      const codePoint = source.codePointAt(start + value.text.length);
      return codePoint !== undefined && codePoint >= low && codePoint <= high;
    });
  }

  /** `acceptsChar` without the span condition: the schema's own keywords. */
  private acceptsCharInSchema(
    rule: StringRule,
    value: StringValue,
    codePoint: number,
  ): StringValue | null {
    const char = String.fromCodePoint(codePoint);
    const text = value.text + char;
    const chars = value.chars + 1;
    if (rule.enumValues) {
      return rule.enumValues.some((candidate) => candidate.startsWith(text))
        ? { ...value, text, chars, escape: '' }
        : null;
    }
    if (rule.pattern) {
      const pattern = rule.pattern.step(value.pattern, codePoint);
      return rule.pattern.fits(pattern, chars, rule.minLength, rule.maxLength)
        ? { ...value, text, chars, pattern, escape: '' }
        : null;
    }
    if (rule.maxLength !== undefined && chars > rule.maxLength) return null;
    return { ...value, text, chars, escape: '' };
  }

  private canEndString(rule: StringRule, value: StringValue): boolean {
    if (rule.enumValues) return rule.enumValues.includes(value.text);
    // An empty span copies nothing from the message.
    if (value.starts && value.chars === 0) return false;
    if (value.chars < rule.minLength) return false;
    if (rule.maxLength !== undefined && value.chars > rule.maxLength) return false;
    return rule.pattern ? (value.pattern?.accepting ?? false) : true;
  }
}
