import { describe, expect, it } from 'vitest';
import {
  canEnd,
  canStillMatch,
  compilePattern,
  matches,
  MAX_STRING_LENGTH,
  PatternSyntaxError,
} from '../../src/catalog/pattern';

const ALPHABET = ['a', 'b', '0', '1', '-', '中', ' '];

/** Every string over ALPHABET of length 0…maxLength. */
function allStrings(maxLength: number): string[] {
  const result = [''];
  let layer = [''];
  for (let length = 1; length <= maxLength; length++) {
    layer = layer.flatMap((prefix) => ALPHABET.map((char) => prefix + char));
    result.push(...layer);
  }
  return result;
}

const STRINGS = allStrings(5);

// Patterns valid both here and as a JavaScript RegExp with the `u` flag.
const PATTERNS = [
  '^[0-9]{3}$',
  'a|b',
  'ab*',
  '(ab)+',
  'a?b?',
  '[^a]*',
  '.+',
  '\\d{2,3}',
  '(a|b){1,3}0',
  'a(b|)1',
  '[a-b0]*-?1',
  '(?:ab|a)(b)?',
  '\\w+',
  '\\s\\S',
  '[^\\d]{0,2}',
  '中+',
  '(a*)*b',
  'a{2,}',
  '(0|1(01*0)*1)*', // binary multiples of three
  '^a$|^b',
  '\\x61|\\u4e2d|\\u{62}',
  '\\p{Script=Han}+1?',
  '[\\p{L}\\d]?-',
  '[\\D]1|[\\W]0',
  'a+?b??',
  '[-a]|[b-]',
  '()',
  '[]|a',
  '[^]b',
];

describe('compilePattern: whole-value matching agrees with RegExp', () => {
  it.each(PATTERNS)('%s', (source) => {
    const pattern = compilePattern(source);
    const reference = new RegExp(`^(?:${source})$`, 'u');
    const disagreements = STRINGS.filter((text) => matches(pattern, text) !== reference.test(text));
    expect(disagreements).toEqual([]);
    for (const text of STRINGS.slice(0, 60))
      expect(canEnd(pattern, text)).toBe(matches(pattern, text));
  });
});

describe('canStillMatch is exact (states that cannot reach a match are pruned)', () => {
  it.each(PATTERNS)('%s', (source) => {
    const pattern = compilePattern(source);
    const reference = new RegExp(`^(?:${source})$`, 'u');
    // Every prefix (up to 2 characters) of a match of up to 5 characters; these patterns need
    // at most 3 more characters to complete any completable 2-character prefix.
    const completable = new Set<string>();
    for (const text of STRINGS) {
      if (!reference.test(text)) continue;
      const chars = Array.from(text);
      for (let end = 0; end <= Math.min(2, chars.length); end++) {
        completable.add(chars.slice(0, end).join(''));
      }
    }
    const prefixes = allStrings(2);
    const wrong = prefixes.filter(
      (prefix) => canStillMatch(pattern, prefix) !== completable.has(prefix),
    );
    expect(wrong).toEqual([]);
  });

  it('follows a 13-digit order id character by character', () => {
    const orderId = compilePattern('^[0-9]{13}$');
    expect(canStillMatch(orderId, '')).toBe(true);
    expect(canStillMatch(orderId, '2024')).toBe(true);
    expect(canStillMatch(orderId, '2024a')).toBe(false);
    expect(canStillMatch(orderId, '2024113012345')).toBe(true);
    expect(canStillMatch(orderId, '20241130123456')).toBe(false);
    expect(canEnd(orderId, '202411301234')).toBe(false);
    expect(canEnd(orderId, '2024113012345')).toBe(true);
  });

  it('knows a pattern that matches nothing', () => {
    const nothing = compilePattern('a[]b');
    expect(nothing.start).toBeNull();
    expect(canStillMatch(nothing, '')).toBe(false);
    expect(compilePattern('[^\\s\\S]').start).toBeNull();
  });
});

describe('fits: completions within length limits', () => {
  const bounds: [number, number][] = [
    [0, 3],
    [2, 4],
    [3, 5],
    [5, 5],
    [1, 1],
  ];
  it.each(PATTERNS)('%s', (source) => {
    const pattern = compilePattern(source);
    const reference = new RegExp(`^(?:${source})$`, 'u');
    const matching = STRINGS.filter((text) => reference.test(text)).map((text) => Array.from(text));
    for (const prefix of allStrings(2)) {
      const prefixChars = Array.from(prefix);
      const state = pattern.run(prefix);
      for (const [min, max] of bounds) {
        const expected = matching.some(
          (chars) =>
            chars.length >= min &&
            chars.length <= max &&
            prefixChars.every((char, index) => chars[index] === char),
        );
        const actual = pattern.fits(state, prefixChars.length, min, max);
        if (actual !== expected) {
          expect({ prefix, min, max, actual }).toEqual({ prefix, min, max, actual: expected });
        }
      }
    }
  });

  it('handles a minimum without a maximum through cycles', () => {
    const pattern = compilePattern('(ab)+');
    expect(pattern.fits(pattern.start, 0, 40)).toBe(true);
    const fixed = compilePattern('[0-9]{3}');
    expect(fixed.fits(fixed.start, 0, 4)).toBe(false);
    expect(fixed.fits(fixed.start, 0, 3)).toBe(true);
    expect(fixed.fits(fixed.run('12'), 2, 0, 2)).toBe(false);
  });
});

describe('fits: length bounds past MAX_STRING_LENGTH (issue 18)', () => {
  // NOTE: a maxLength of 1e9 used to build a 1e9-entry table per state and loop 1e9 times.
  const open = compilePattern('[^<>]+');
  const longest = 'a'.repeat(MAX_STRING_LENGTH);

  it('counts a larger maxLength as MAX_STRING_LENGTH', () => {
    expect(open.fits(open.start, 0, 0, 1e9)).toBe(true);
    expect(open.fits(open.start, 0, 1, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(open.fits(open.run(longest), MAX_STRING_LENGTH, 0, 1e9)).toBe(true);
    // One more character would make the value longer than fenliu handles.
    expect(open.canStepInRange(open.run(longest), 0x61, 0x61, MAX_STRING_LENGTH, 0, 1e9)).toBe(
      false,
    );
    const orderId = compilePattern('^[0-9]{13}$');
    expect(orderId.fits(orderId.run('2024'), 4, 0, 1e9)).toBe(true);
  });

  it('fits nothing for a larger minLength', () => {
    expect(open.fits(open.start, 0, MAX_STRING_LENGTH + 1)).toBe(false);
    expect(open.fits(open.start, 0, 1e9, 2e9)).toBe(false);
  });

  it('decides lengths past the bound from the shape of the pattern, not by walking to them', () => {
    const triple = compilePattern('(a{400}){3}'); // exactly 1200 characters
    expect(triple.fits(triple.start, 0, 900)).toBe(true);
    expect(triple.fits(triple.start, 0, 0, MAX_STRING_LENGTH)).toBe(false);
    const pair = compilePattern('(a{400}){2}'); // exactly 800
    expect(pair.fits(pair.start, 0, 801)).toBe(false);
    expect(pair.fits(pair.start, 0, 800, MAX_STRING_LENGTH)).toBe(true);
    expect(pair.fits(pair.run('a'.repeat(10)), 10, 800, 800)).toBe(true);
    const cycle = compilePattern('(a{300})+'); // 300, 600, 900, 1200, …
    expect(cycle.fits(cycle.start, 0, 950)).toBe(true);
    expect(cycle.fits(cycle.start, 0, 601, 899)).toBe(false);
    expect(cycle.fits(cycle.start, 0, 601, 900)).toBe(true);
  });
});

describe('canStepInRange: a token that ends inside a multi-byte character', () => {
  it('checks the code points a partial UTF-8 sequence can still become', () => {
    const han = compilePattern('中+');
    // 中 is U+4E2D: E4 B8 AD. "E4 B8" can become U+4E00…U+4E3F.
    expect(han.canStepInRange(han.start, 0x4e00, 0x4e3f, 0)).toBe(true);
    expect(han.canStepInRange(han.start, 0x4e40, 0x4e7f, 0)).toBe(false);
    const digits = compilePattern('[0-9]+');
    expect(digits.canStepInRange(digits.start, 0x4000, 0x4fff, 0)).toBe(false);
    const script = compilePattern('\\p{Script=Han}{2}');
    expect(script.canStepInRange(script.start, 0x4000, 0x4fff, 0)).toBe(true);
    expect(script.canStepInRange(script.start, 0x0400, 0x043f, 0)).toBe(false); // Cyrillic
    expect(script.canStepInRange(script.start, 0x4e00, 0x4e3f, 0, 0, 1)).toBe(false); // too long
    const free = compilePattern('[^0-9]*');
    expect(free.canStepInRange(free.start, 0x4e00, 0x4e3f, 0)).toBe(true);
  });
});

describe('unsupported or malformed syntax', () => {
  it.each([
    ['(?=a)', 'lookarounds'],
    ['(?<=a)b', 'lookarounds'],
    ['(?<name>a)', 'named groups'],
    ['(a)\\1', 'backreferences'],
    ['\\k<x>', 'backreferences'],
    ['\\bfoo', 'word boundaries'],
    ['a{2,1}', 'out of order'],
    ['a{1001}', 'above 1000'],
    ['(a', 'missing ")"'],
    ['a)', 'unexpected ")"'],
    ['[a', 'missing "]"'],
    ['[z-a]', 'out of order'],
    ['*a', 'nothing to repeat'],
    ['a**', 'cannot follow another quantifier'],
    ['a^b', '"^" is only supported at the start'],
    ['a$b', '"$" is only supported at the end'],
    ['(^a)', '"^" is only supported at the start'],
    ['\\p{Nope}', 'unknown Unicode property'],
    ['a{', 'must start a quantifier'],
    ['\\q', 'unknown escape'],
  ])('%s', (source, message) => {
    let caught: unknown;
    try {
      compilePattern(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PatternSyntaxError);
    expect((caught as Error).message).toContain(message);
    expect((caught as Error).message).toContain(JSON.stringify(source));
  });
});
