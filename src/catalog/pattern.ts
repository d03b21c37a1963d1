/**
 * A small regular-expression engine for tool-parameter patterns (`StringSchema.pattern`).
 *
 * Why not `RegExp`: decoding a value under a pattern needs to know, after every character,
 * whether *some continuation* of the text so far can still match (and how long that continuation
 * can be). `RegExp` only answers "does this whole string match". This engine compiles the pattern
 * to a Thompson NFA, prunes every state that cannot reach the accepting state, and runs it as a
 * lazily built DFA, so `canStillMatch` is exact and each character costs one map lookup once seen.
 *
 * The pattern always matches the *whole* value (as the tool schema documents), so `^` and `$` are
 * only allowed where they are no-ops: at the start and end of the pattern or of one of its
 * top-level alternatives. Supported syntax: literals, escapes (`\d \D \w \W \s \S \t \n \r \f \v
 * \0 \xHH \uHHHH \u{H…}`, `\p{…}`/`\P{…}` Unicode properties, an escaped punctuation character),
 * `.`, classes `[a-z0-9_]` and `[^…]`, groups `( … )` and `(?: … )` with `|`, and the quantifiers
 * `? * + {n} {n,} {n,m}` (a trailing lazy `?` is accepted; it does not change what matches a whole
 * value). Characters are Unicode code points, as in a `RegExp` with the `u` flag. Backreferences,
 * lookarounds, word boundaries and named groups are rejected with a `PatternSyntaxError`.
 */

/** A pattern uses syntax this engine does not support, or is malformed. */
export class PatternSyntaxError extends Error {
  /** Position in the source (UTF-16 index) where the problem was found. */
  readonly index: number;

  constructor(message: string, source: string, index: number) {
    super(`invalid pattern ${JSON.stringify(source)} at ${index}: ${message}`);
    this.name = 'PatternSyntaxError';
    this.index = index;
  }
}

const MAX_CODE_POINT = 0x10ffff;
/** Upper bound of `{n,m}` counts and of NFA size, so a typo cannot build a huge automaton. */
const MAX_REPEAT = 1000;
const MAX_STATES = 20_000;

/**
 * The longest string value fenliu decodes or extracts, in code points: the largest `minLength` and
 * `maxLength` a tool declaration may give (src/catalog/tool-declarations.ts rejects larger ones
 * when a catalog or model card is loaded), and the longest span slot filling considers.
 *
 * NOTE: why 1000. Length checks while decoding cost (NFA states × the bound) once per pattern and
 * bound, so the bound must be small; a whole tool call is at most 200 tokens
 * (`MAX_TOOL_CALL_TOKENS` in src/engine/classifier.ts), a few hundred characters, so no decoded
 * value can be longer anyway; and the values tools take from a chat (order numbers, addresses,
 * names) are tens of characters. It is also the largest `{n,m}` count, so a pattern and a length
 * bound reach equally far.
 */
export const MAX_STRING_LENGTH = MAX_REPEAT;

type Range = readonly [number, number];

/** A set of code points: sorted disjoint ranges plus Unicode-property tests, maybe negated. */
class CharSet {
  private readonly rangeIntersections = new Map<string, boolean>();

  constructor(
    readonly ranges: readonly Range[],
    readonly properties: readonly RegExp[],
    readonly negated: boolean,
  ) {}

  has(codePoint: number): boolean {
    return this.negated !== this.positiveHas(codePoint);
  }

  private positiveHas(codePoint: number): boolean {
    for (const [low, high] of this.ranges) {
      if (codePoint < low) break;
      if (codePoint <= high) return true;
    }
    return this.properties.some((property) => property.test(String.fromCodePoint(codePoint)));
  }

  /** Whether no code point is in the set (exact for range-only sets; property sets are assumed non-empty). */
  isEmpty(): boolean {
    if (this.properties.length > 0) return false;
    return this.negated ? coversAll(this.ranges, 0, MAX_CODE_POINT) : this.ranges.length === 0;
  }

  /** Whether some code point in `[low, high]` is in the set. */
  intersects(low: number, high: number): boolean {
    if (this.properties.length === 0) {
      if (this.negated) return !coversAll(this.ranges, low, high);
      return this.ranges.some(([from, to]) => from <= high && to >= low);
    }
    // NOTE: property sets are tested code point by code point, once per range: the ranges asked
    // for are the code points one partial UTF-8 sequence can still become (at most 2^18).
    const key = `${low}-${high}`;
    let answer = this.rangeIntersections.get(key);
    if (answer === undefined) {
      answer = false;
      for (let codePoint = low; codePoint <= high && !answer; codePoint++) {
        if (codePoint < 0xd800 || codePoint > 0xdfff) answer = this.has(codePoint);
      }
      this.rangeIntersections.set(key, answer);
    }
    return answer;
  }
}

function coversAll(ranges: readonly Range[], low: number, high: number): boolean {
  let next = low;
  for (const [from, to] of ranges) {
    if (from > next) break;
    if (to >= next) next = to + 1;
    if (next > high) return true;
  }
  return next > high;
}

function normaliseRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [low, high] of sorted) {
    const last = merged.at(-1);
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}

function complementRanges(ranges: readonly Range[]): Range[] {
  const result: Range[] = [];
  let next = 0;
  for (const [low, high] of normaliseRanges([...ranges])) {
    if (low > next) result.push([next, low - 1]);
    next = high + 1;
  }
  if (next <= MAX_CODE_POINT) result.push([next, MAX_CODE_POINT]);
  return result;
}

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
// JavaScript's \s: WhiteSpace and LineTerminator code points.
const SPACE: Range[] = normaliseRanges([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
// `.` matches everything but line terminators, as in JavaScript without the `s` flag.
const LINE_TERMINATORS: Range[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

type Node =
  | { kind: 'set'; set: CharSet }
  | { kind: 'sequence'; items: Node[] }
  | { kind: 'alternation'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number };

/** One class item or escape: ranges and properties that are unioned into a class. */
interface ClassPart {
  ranges: Range[];
  properties: RegExp[];
}

const SYNTAX_CHARACTERS = new Set('^$\\.*+?()[]{}|/-');

class Parser {
  private index = 0;

  constructor(private readonly source: string) {}

  parse(): Node {
    const node = this.parseAlternation(0);
    if (this.index < this.source.length) this.fail(`unexpected "${this.peek()}"`);
    return node;
  }

  private fail(message: string, at = this.index): never {
    throw new PatternSyntaxError(message, this.source, at);
  }

  private peek(offset = 0): string | undefined {
    const codePoint = this.source.codePointAt(this.index + offset);
    return codePoint === undefined ? undefined : String.fromCodePoint(codePoint);
  }

  private take(): string {
    const char = this.peek();
    if (char === undefined) this.fail('unexpected end of pattern');
    this.index += char.length;
    return char;
  }

  private parseAlternation(depth: number): Node {
    const options = [this.parseSequence(depth)];
    while (this.peek() === '|') {
      this.index++;
      options.push(this.parseSequence(depth));
    }
    return options.length === 1 ? (options[0] as Node) : { kind: 'alternation', options };
  }

  private parseSequence(depth: number): Node {
    const items: Node[] = [];
    if (this.peek() === '^') {
      if (depth > 0) this.fail('"^" is only supported at the start of the pattern');
      this.index++;
    }
    for (;;) {
      const char = this.peek();
      if (char === undefined || char === '|' || char === ')') break;
      if (char === '$') {
        const after = this.peek(1);
        if (depth > 0 || (after !== undefined && after !== '|')) {
          this.fail('"$" is only supported at the end of the pattern');
        }
        this.index++;
        break;
      }
      if (char === '^') this.fail('"^" is only supported at the start of the pattern');
      const atom = this.parseAtom(depth);
      items.push(this.parseQuantifier(atom));
    }
    return items.length === 1 ? (items[0] as Node) : { kind: 'sequence', items };
  }

  private parseQuantifier(atom: Node): Node {
    let node = atom;
    for (;;) {
      const start = this.index;
      const char = this.peek();
      let bounds: [number, number] | undefined;
      if (char === '*') bounds = [0, Infinity];
      else if (char === '+') bounds = [1, Infinity];
      else if (char === '?') bounds = [0, 1];
      if (bounds) this.index++;
      else if (char === '{') bounds = this.parseBraces();
      if (!bounds) return node;
      if (node !== atom) this.fail('a quantifier cannot follow another quantifier', start);
      if (this.peek() === '?') this.index++; // lazy: same set of whole-value matches
      node = { kind: 'repeat', node: atom, min: bounds[0], max: bounds[1] };
    }
  }

  private parseBraces(): [number, number] {
    const start = this.index;
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.index));
    if (!match) this.fail('"{" must start a quantifier {n}, {n,} or {n,m}; write \\{ for a brace');
    this.index += match[0].length;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
    if (min > max) this.fail('quantifier range out of order', start);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
      this.fail(`quantifier counts above ${MAX_REPEAT} are not supported`, start);
    }
    return [min, max];
  }

  private parseAtom(depth: number): Node {
    const start = this.index;
    const char = this.take();
    switch (char) {
      case '(': {
        if (this.peek() === '?') {
          if (this.peek(1) !== ':') {
            this.fail(
              'lookarounds and named groups are not supported; use ( … ) or (?: … )',
              start,
            );
          }
          this.index += 2;
        }
        const inner = this.parseAlternation(depth + 1);
        if (this.peek() !== ')') this.fail('missing ")"', start);
        this.index++;
        return inner;
      }
      case ')':
        return this.fail('unmatched ")"', start);
      case '[':
        return { kind: 'set', set: this.parseClass(start) };
      case '.':
        return { kind: 'set', set: new CharSet(LINE_TERMINATORS, [], true) };
      case '\\': {
        const part = this.parseEscape(false, start);
        return {
          kind: 'set',
          set: new CharSet(normaliseRanges(part.ranges), part.properties, false),
        };
      }
      case '*':
      case '+':
      case '?':
        return this.fail(`nothing to repeat before "${char}"`, start);
      case '{':
      case '}':
      case ']':
        return this.fail(`write \\${char} for a literal "${char}"`, start);
      default: {
        const codePoint = char.codePointAt(0) as number;
        return { kind: 'set', set: new CharSet([[codePoint, codePoint]], [], false) };
      }
    }
  }

  private parseClass(start: number): CharSet {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.index++;
    }
    const ranges: Range[] = [];
    const properties: RegExp[] = [];
    while (this.peek() !== ']') {
      if (this.peek() === undefined) this.fail('missing "]"', start);
      const itemStart = this.index;
      const low = this.parseClassItem();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.index++;
        const high = this.parseClassItem();
        const from = singleCodePoint(low);
        const to = singleCodePoint(high);
        if (from === undefined || to === undefined) {
          this.fail('a class range needs single characters at both ends', itemStart);
        }
        if (from > to) this.fail('class range out of order', itemStart);
        ranges.push([from, to]);
      } else {
        ranges.push(...low.ranges);
        properties.push(...low.properties);
      }
    }
    this.index++;
    return new CharSet(normaliseRanges(ranges), properties, negated);
  }

  private parseClassItem(): ClassPart {
    const start = this.index;
    const char = this.take();
    if (char === '\\') return this.parseEscape(true, start);
    if (char === '[') this.fail('nested classes are not supported; write \\[ for "["', start);
    const codePoint = char.codePointAt(0) as number;
    return { ranges: [[codePoint, codePoint]], properties: [] };
  }

  private parseEscape(inClass: boolean, start: number): ClassPart {
    const char = this.take();
    const literal = (codePoint: number): ClassPart => ({
      ranges: [[codePoint, codePoint]],
      properties: [],
    });
    switch (char) {
      case 'd':
        return { ranges: DIGIT, properties: [] };
      case 'D':
        return { ranges: complementRanges(DIGIT), properties: [] };
      case 'w':
        return { ranges: WORD, properties: [] };
      case 'W':
        return { ranges: complementRanges(WORD), properties: [] };
      case 's':
        return { ranges: SPACE, properties: [] };
      case 'S':
        return { ranges: complementRanges(SPACE), properties: [] };
      case 't':
        return literal(0x09);
      case 'n':
        return literal(0x0a);
      case 'v':
        return literal(0x0b);
      case 'f':
        return literal(0x0c);
      case 'r':
        return literal(0x0d);
      case '0':
        if (/[0-9]/.test(this.peek() ?? '')) this.fail('octal escapes are not supported', start);
        return literal(0);
      case 'b':
        if (inClass) return literal(0x08);
        return this.fail('word boundaries (\\b) are not supported', start);
      case 'B':
        return this.fail('word boundaries (\\B) are not supported', start);
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(this.source.slice(this.index));
        if (!hex) this.fail('\\x needs two hex digits', start);
        this.index += 2;
        return literal(parseInt(hex[0], 16));
      }
      case 'u': {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.source.slice(this.index));
        const plain = /^[0-9a-fA-F]{4}/.exec(this.source.slice(this.index));
        const digits = braced?.[1] ?? plain?.[0];
        if (digits === undefined) this.fail('\\u needs four hex digits or {hex}', start);
        const codePoint = parseInt(digits, 16);
        if (codePoint > MAX_CODE_POINT) this.fail('code point out of range', start);
        this.index += (braced ?? plain)?.[0].length ?? 0;
        return literal(codePoint);
      }
      case 'p':
      case 'P': {
        const name = /^\{([A-Za-z_=]+)\}/.exec(this.source.slice(this.index));
        if (!name) this.fail(`\\${char} needs a property name in braces`, start);
        let property: RegExp;
        try {
          property = new RegExp(`^\\${char}{${name[1]}}$`, 'u');
        } catch {
          return this.fail(`unknown Unicode property ${JSON.stringify(name[1])}`, start);
        }
        this.index += name[0].length;
        return { ranges: [], properties: [property] };
      }
      case 'k':
        return this.fail('backreferences are not supported', start);
      case 'c':
        return this.fail('control escapes (\\c) are not supported', start);
      default:
        if (/[1-9]/.test(char)) return this.fail('backreferences are not supported', start);
        if (SYNTAX_CHARACTERS.has(char)) return literal(char.codePointAt(0) as number);
        return this.fail(`unknown escape \\${char}`, start);
    }
  }
}

function singleCodePoint(part: ClassPart): number | undefined {
  const only = part.ranges[0];
  if (part.properties.length > 0 || part.ranges.length !== 1 || !only || only[0] !== only[1]) {
    return undefined;
  }
  return only[0];
}

/**
 * One state of the lazily built DFA: the NFA states the text so far can be in, every one of them
 * able to reach the accepting state. Treat as opaque; compare with `===` (states are interned).
 */
export class PatternState {
  /** Transitions seen so far, by code point; `null` = no match is possible any more. */
  readonly transitions = new Map<number, PatternState | null>();

  constructor(
    /** Live NFA states (character-consuming states, or the accepting state). */
    readonly members: readonly number[],
    readonly accepting: boolean,
  ) {}
}

/** Remaining-length profile of one NFA state for one `limit` (see `CompiledPattern.fits`). */
interface LengthProfile {
  /**
   * `nearest[d]` = the smallest `d' ≥ d` (up to `limit`) such that exactly `d'` more characters
   * can lead to the accepting state, or `NO_LENGTH`; `undefined` when no length up to `limit` can.
   */
  nearest: Uint16Array | undefined;
  /** Whether more than `limit` characters can still lead to the accepting state. */
  beyond: boolean;
}

/** `LengthProfile.nearest` for "no such length" (above any limit, which is ≤ MAX_STRING_LENGTH). */
const NO_LENGTH = 0xffff;

/**
 * A compiled pattern. The free functions below (`matches`, `canStillMatch`, `canEnd`) cover
 * whole strings; the methods step one code point at a time for decoding.
 */
export class CompiledPattern {
  /** The DFA state before any character, or `null` when the pattern matches no string at all. */
  readonly start: PatternState | null;
  private readonly sets: (CharSet | undefined)[];
  private readonly targets: Int32Array;
  /** Live closure of the state each character-consuming state leads to. */
  private readonly liveTargets: (readonly number[])[];
  private readonly accept: number;
  private readonly states = new Map<string, PatternState>();
  private readonly profiles = new Map<number, LengthProfile[]>();
  /** By state: the states whose character leads to it (the reverse of `liveTargets`). */
  private sources: (readonly number[])[] | undefined;
  /** By state: the most characters that can still lead to the accepting state (∞ on a cycle). */
  private longest: Float64Array | undefined;

  constructor(readonly source: string) {
    const ast = new Parser(source).parse();
    const sets: (CharSet | undefined)[] = [];
    const targets: number[] = [];
    const epsilons: number[][] = [];
    const add = (set?: CharSet, target = -1, epsilon: number[] = []): number => {
      if (sets.length >= MAX_STATES) {
        throw new PatternSyntaxError('the pattern is too large', source, 0);
      }
      sets.push(set);
      targets.push(target);
      epsilons.push(epsilon);
      return sets.length - 1;
    };
    this.accept = add();
    // Thompson construction, built back to front: each node is compiled knowing its successor.
    const build = (node: Node, next: number): number => {
      switch (node.kind) {
        case 'set':
          return add(node.set, next);
        case 'sequence':
          return node.items.reduceRight((successor, item) => build(item, successor), next);
        case 'alternation':
          return add(
            undefined,
            -1,
            node.options.map((option) => build(option, next)),
          );
        case 'repeat': {
          let entry: number;
          if (node.max === Infinity) {
            const loop = add();
            (epsilons[loop] as number[]).push(build(node.node, loop), next);
            entry = loop;
          } else {
            entry = next;
            for (let optional = node.max - node.min; optional > 0; optional--) {
              entry = add(undefined, -1, [build(node.node, entry), next]);
            }
          }
          for (let copy = 0; copy < node.min; copy++) entry = build(node.node, entry);
          return entry;
        }
      }
    };
    const startState = build(ast, this.accept);
    this.sets = sets;
    this.targets = Int32Array.from(targets);

    // Live states: those from which the accepting state is reachable (reverse reachability over
    // epsilon edges and non-empty character edges). Everything else is pruned, which is what
    // makes an empty DFA state mean "no continuation can match".
    const reverse: number[][] = sets.map(() => []);
    sets.forEach((set, state) => {
      const target = targets[state] as number;
      if (set && target >= 0 && !set.isEmpty()) reverse[target]?.push(state);
      for (const epsilon of epsilons[state] ?? []) reverse[epsilon]?.push(state);
    });
    const live = new Uint8Array(sets.length);
    const stack = [this.accept];
    live[this.accept] = 1;
    for (let state = stack.pop(); state !== undefined; state = stack.pop()) {
      for (const previous of reverse[state] ?? []) {
        if (!live[previous]) {
          live[previous] = 1;
          stack.push(previous);
        }
      }
    }
    const closures = new Map<number, readonly number[]>();
    const liveClosure = (from: number): readonly number[] => {
      const cached = closures.get(from);
      if (cached) return cached;
      const seen = new Set<number>();
      const members: number[] = [];
      const pending = [from];
      for (let state = pending.pop(); state !== undefined; state = pending.pop()) {
        if (seen.has(state) || !live[state]) continue;
        seen.add(state);
        if (sets[state] || state === this.accept) members.push(state);
        pending.push(...(epsilons[state] ?? []));
      }
      members.sort((a, b) => a - b);
      closures.set(from, members);
      return members;
    };
    this.liveTargets = sets.map((set, state) =>
      set && live[state] ? liveClosure(targets[state] as number) : [],
    );
    this.start = this.intern(liveClosure(startState));
  }

  private intern(members: readonly number[]): PatternState | null {
    if (members.length === 0) return null;
    const key = members.join(',');
    let state = this.states.get(key);
    if (!state) {
      state = new PatternState(members, members.includes(this.accept));
      this.states.set(key, state);
    }
    return state;
  }

  /** The state after one more code point, or `null` when no continuation can match any more. */
  step(state: PatternState | null, codePoint: number): PatternState | null {
    if (!state) return null;
    const known = state.transitions.get(codePoint);
    if (known !== undefined) return known;
    const next = new Set<number>();
    for (const member of state.members) {
      if (this.sets[member]?.has(codePoint)) {
        for (const target of this.liveTargets[member] ?? []) next.add(target);
      }
    }
    const result = this.intern([...next].sort((a, b) => a - b));
    state.transitions.set(codePoint, result);
    return result;
  }

  /** The state after a whole string, or `null`. */
  run(text: string, from: PatternState | null = this.start): PatternState | null {
    let state = from;
    for (const char of text) {
      state = this.step(state, char.codePointAt(0) as number);
      if (!state) return null;
    }
    return state;
  }

  /**
   * Whether a value in `state` after `consumed` characters can still be completed into a match
   * whose total length lies in `[minLength, maxLength]` (code points). Without bounds this is
   * `state !== null`.
   *
   * Lengths count up to `MAX_STRING_LENGTH`, so the work never grows with a bound's magnitude: a
   * larger `maxLength` counts as `MAX_STRING_LENGTH`, and a larger `minLength` fits nothing.
   */
  fits(state: PatternState | null, consumed: number, minLength = 0, maxLength?: number): boolean {
    if (!state) return false;
    return state.members.some((member) => this.memberFits(member, consumed, minLength, maxLength));
  }

  /**
   * Whether some code point in `[low, high]` leads from `state` to a state that `fits` with
   * `consumed + 1` characters: the test for a token that ends inside a multi-byte character.
   */
  canStepInRange(
    state: PatternState | null,
    low: number,
    high: number,
    consumed: number,
    minLength = 0,
    maxLength?: number,
  ): boolean {
    if (!state) return false;
    return state.members.some(
      (member) =>
        this.sets[member]?.intersects(low, high) === true &&
        (this.liveTargets[member] ?? []).some((target) =>
          this.memberFits(target, consumed + 1, minLength, maxLength),
        ),
    );
  }

  private memberFits(
    member: number,
    consumed: number,
    minLength: number,
    maxLength: number | undefined,
  ): boolean {
    if (minLength > MAX_STRING_LENGTH) return false;
    if (minLength <= consumed && maxLength === undefined) return true; // live: some match exists
    const upper = maxLength === undefined ? undefined : Math.min(maxLength, MAX_STRING_LENGTH);
    const limit = upper ?? minLength;
    const profile = this.lengthProfiles(limit)[member];
    if (!profile) return false;
    const low = Math.max(0, minLength - consumed);
    const high = upper === undefined ? Infinity : upper - consumed;
    if (high < low) return false;
    // `low ≤ limit`: with a maximum, `low ≤ high ≤ upper = limit`; without, `low ≤ minLength = limit`.
    if (profile.nearest && (profile.nearest[low] as number) <= Math.min(high, limit)) return true;
    return high > limit && profile.beyond;
  }

  /**
   * For every NFA state, which remaining lengths (0…limit, and "more than limit") can end in the
   * accepting state. Callers keep `limit ≤ MAX_STRING_LENGTH`: the work is at most `limit + 1`
   * rounds over the transitions, and each query after it is one lookup.
   */
  private lengthProfiles(limit: number): LengthProfile[] {
    const cached = this.profiles.get(limit);
    if (cached) return cached;
    const sources = this.transitionSources();
    const longest = this.longestRemaining();
    const profiles: LengthProfile[] = Array.from(longest, (most) => ({
      nearest: undefined,
      beyond: most > limit,
    }));
    // Breadth-first backwards from the accepting state: `current` holds the states `distance`
    // characters away from it. The round stops early once no state is that far.
    let current = [this.accept];
    const round = new Int32Array(longest.length).fill(-1); // the round a state was last queued in
    for (let distance = 0; distance <= limit && current.length > 0; distance++) {
      const next: number[] = [];
      for (const state of current) {
        const profile = profiles[state] as LengthProfile;
        profile.nearest ??= new Uint16Array(limit + 1).fill(NO_LENGTH);
        profile.nearest[distance] = distance;
        for (const source of sources[state] ?? []) {
          if (round[source] === distance) continue;
          round[source] = distance;
          next.push(source);
        }
      }
      current = next;
    }
    for (const { nearest } of profiles) {
      for (let distance = limit - 1; nearest && distance >= 0; distance--) {
        if (nearest[distance] === NO_LENGTH) nearest[distance] = nearest[distance + 1] as number;
      }
    }
    this.profiles.set(limit, profiles);
    return profiles;
  }

  private transitionSources(): (readonly number[])[] {
    if (!this.sources) {
      const sources: number[][] = this.sets.map(() => []);
      this.liveTargets.forEach((targets, state) => {
        for (const target of targets) sources[target]?.push(state);
      });
      this.sources = sources;
    }
    return this.sources;
  }

  /**
   * By state, the longest path to the accepting state in characters, ∞ when a cycle lies on the
   * way (every state here can reach the accepting state, so a reachable cycle means any length).
   * One depth-first pass, independent of any length bound.
   */
  private longestRemaining(): Float64Array {
    if (this.longest) return this.longest;
    const longest = new Float64Array(this.sets.length);
    const visit = new Uint8Array(this.sets.length); // 0 unseen, 1 on the path, 2 finished
    for (let root = 0; root < this.sets.length; root++) {
      if (visit[root]) continue;
      // Iterative depth-first search (a pattern can have 20 000 states): each frame is a state and
      // the index of its next target to look at.
      const stack: [number, number][] = [[root, 0]];
      visit[root] = 1;
      while (stack.length > 0) {
        const frame = stack[stack.length - 1] as [number, number];
        const [state, index] = frame;
        const targets = this.liveTargets[state] ?? [];
        if (index < targets.length) {
          frame[1]++;
          const target = targets[index] as number;
          if (visit[target] === 1) longest[state] = Infinity;
          else if (visit[target] === 0) {
            visit[target] = 1;
            stack.push([target, 0]);
          }
          continue;
        }
        for (const target of targets) {
          longest[state] = Math.max(longest[state] as number, 1 + (longest[target] as number));
        }
        visit[state] = 2;
        stack.pop();
      }
    }
    this.longest = longest;
    return longest;
  }
}

/**
 * Compiles a pattern; throws `PatternSyntaxError` (with the position) for malformed or
 * unsupported syntax.
 *
 * @example
 * const orderId = compilePattern('^[0-9]{13}$');
 * matches(orderId, '2024113012345'); // true
 * canStillMatch(orderId, '2024'); // true
 * canStillMatch(orderId, '2024a'); // false
 */
export function compilePattern(source: string): CompiledPattern {
  return new CompiledPattern(source);
}

/** Whether the whole of `text` matches. */
export function matches(pattern: CompiledPattern, text: string): boolean {
  return pattern.run(text)?.accepting ?? false;
}

/** Whether some continuation of `prefix` (possibly the empty one) matches. */
export function canStillMatch(pattern: CompiledPattern, prefix: string): boolean {
  return pattern.run(prefix) !== null;
}

/** Whether `prefix` itself is a match, i.e. a value may end here. */
export function canEnd(pattern: CompiledPattern, prefix: string): boolean {
  return matches(pattern, prefix);
}

const compiled = new Map<string, CompiledPattern>();

/** `compilePattern` with a cache: schemas are checked and decoded many times. */
export function cachedPattern(source: string): CompiledPattern {
  let pattern = compiled.get(source);
  if (!pattern) {
    pattern = compilePattern(source);
    compiled.set(source, pattern);
  }
  return pattern;
}
