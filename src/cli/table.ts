/** Plain-text tables for the terminal, aligned for CJK labels (two columns per wide character). */
import { visible } from './terminal';

/** Columns a string takes in a terminal: East Asian wide and full-width characters count 2. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

/**
 * Formats rows under a header; columns whose header is in `right` are right-aligned. Cells are
 * data (labels, intent ids): their control characters are made visible (`visible`) before the
 * columns are measured, so an escape sequence or a newline in one neither reaches the terminal
 * nor breaks the alignment.
 *
 * @example
 * formatTable(['intent', 'F1'], [['查询订单', '0.960']], { right: ['F1'] });
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { right?: readonly string[] } = {},
): string {
  const cells = rows.map((row) => row.map(visible));
  const widths = header.map((title, column) =>
    Math.max(displayWidth(title), ...cells.map((row) => displayWidth(row[column] ?? ''))),
  );
  const right = new Set(options.right ?? []);
  const line = (row: readonly string[]) =>
    header
      .map((title, column) => {
        const cell = row[column] ?? '';
        const pad = ' '.repeat((widths[column] ?? 0) - displayWidth(cell));
        return right.has(title) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/** A ratio as a fixed-point number, or `-` when undefined (null or NaN). */
export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

/** A ratio as a percentage, or `-` when undefined. */
export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || Number.isNaN(value)
    ? '-'
    : `${(100 * value).toFixed(digits)}%`;
}
