/**
 * Text from data made safe to print on a terminal. Labels, messages, file names and the error
 * messages quoting them come from files anyone can edit; printed raw, an escape sequence in one
 * (`\u001b[31m`, an OSC `\u001b]0;title\u0007`, a C1 `\u009b`) would recolour, retitle or rewrite
 * the user's terminal, and a bidirectional override would make a line read differently from what
 * it holds.
 */

// NOTE: \p{Cc} is C0, DEL and C1. The others are not controls but reorder or break what is shown:
// the bidirectional marks, embeddings, overrides and isolates (Trojan Source), and the line and
// paragraph separators. Everything else, CJK included, passes through unchanged.
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const UNSAFE_BUT_NEWLINE =
  /(?!\n)[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A character as a JSON escape: `\n`, `\r`, `\t`, otherwise `\uXXXX`. NOTE: JSON's own forms,
 * so the same pass over `--json` output leaves it valid JSON that parses to the same text
 * (JSON.stringify escapes C0 but not DEL, C1 or the bidirectional characters).
 */
function escapeCharacter(character: string): string {
  return NAMED[character] ?? `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/**
 * One piece of data (a label, a message, a table cell) with every control character made
 * visible, newlines included, so it stays on its line.
 *
 * @example
 * visible('退款\u001b[31m'); // '退款\\u001b[31m'
 */
export function visible(text: string): string {
  return text.replace(UNSAFE, escapeCharacter);
}

/**
 * Text the CLI writes, with every control character made visible except the newlines that
 * separate its lines: `main` passes every line to stdout and stderr through it, so nothing from
 * data reaches the terminal raw, whichever command printed it.
 *
 * @example
 * visibleLines('a\u001b]0;x\u0007\nb'); // 'a\\u001b]0;x\\u0007\nb'
 */
export function visibleLines(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, escapeCharacter);
}
