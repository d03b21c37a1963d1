/**
 * Self-contained SVG charts for `fenliu eval`: the confusion matrix and the reliability diagram.
 * Pure string builders (no DOM), so they run in Node and in the browser alike; every piece of
 * text (labels come from model cards, titles from file names) is XML-escaped.
 */
import type { CalibrationReport, ConfusionMatrix } from './metrics';

/** Chinese labels need a CJK font; the list covers Linux, macOS and Windows viewers. */
const FONT =
  "system-ui, 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
const ACCENT = '#2563eb';
const GAP = '#dc2626';
const INK = '#111827';
const MUTED = '#6b7280';

/**
 * Escapes text for SVG/XML content and attribute values.
 *
 * @example
 * escapeXml('<a & "b">'); // '&lt;a &amp; &quot;b&quot;&gt;'
 */
export function escapeXml(text: string): string {
  return (
    text
      // NOTE: XML 1.0 forbids most control characters even as references; a label holding one
      // would make the whole SVG unreadable, so it is shown as U+FFFD.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** Rough rendered width of `text` in px: CJK and other wide characters count double. */
function textWidth(text: string, fontSize: number): number {
  let units = 0;
  for (const char of text) units += (char.codePointAt(0) ?? 0) > 0x2e80 ? 1 : 0.6;
  return units * fontSize;
}

function text(
  x: number,
  y: number,
  content: string,
  attributes: Record<string, string | number> = {},
): string {
  const extra = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`)
    .join('');
  return `<text x="${round(x)}" y="${round(y)}"${extra}>${escapeXml(content)}</text>`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function svgDocument(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${round(width)}" height="${round(height)}" ` +
      `viewBox="0 0 ${round(width)} ${round(height)}" font-family="${escapeXml(FONT)}" fill="${INK}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Mixes white and `ACCENT` by `share` (0–1) for a heat-map cell. */
function heat(share: number): string {
  const [r, g, b] = [0x25, 0x63, 0xeb];
  const mix = (channel: number) => Math.round(255 + (channel - 255) * share);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

/**
 * The confusion matrix as an SVG heat map: rows are the labelled intents, columns the routed
 * ones; each cell shows its count and is shaded by its share of the row (recall on the diagonal).
 *
 * @example
 * writeFileSync('confusion.svg', confusionMatrixSvg(metrics.confusion, { title: 'demo test' }));
 */
export function confusionMatrixSvg(
  confusion: ConfusionMatrix,
  options: { title?: string } = {},
): string {
  const cell = 40;
  const fontSize = 12;
  const labels = confusion.labels;
  const longest = Math.max(0, ...labels.map((label) => textWidth(label, fontSize)));
  const left = 40 + longest + 12;
  // Column labels are rotated 45°: their height is about their width / √2.
  const top = 64 + longest * Math.SQRT1_2 + 12;
  const size = cell * labels.length;
  const width = left + size + 24 + longest * Math.SQRT1_2;
  const height = top + size + 48;
  const body: string[] = [];
  body.push(
    text(16, 28, options.title ?? 'Confusion matrix', { 'font-size': 16, 'font-weight': 600 }),
  );
  body.push(
    text(left + size / 2, top - longest * Math.SQRT1_2 - 24, 'predicted (routed)', {
      'font-size': fontSize,
      'text-anchor': 'middle',
      fill: MUTED,
    }),
  );
  body.push(
    text(16, top + size / 2, 'expected', {
      'font-size': fontSize,
      'text-anchor': 'middle',
      fill: MUTED,
      transform: `rotate(-90 16 ${round(top + size / 2)})`,
    }),
  );
  labels.forEach((label, i) => {
    body.push(
      text(left - 8, top + i * cell + cell / 2 + fontSize / 3, label, {
        'font-size': fontSize,
        'text-anchor': 'end',
        class: 'row-label',
      }),
    );
    const x = left + i * cell + cell / 2;
    body.push(
      text(x, top - 8, label, {
        'font-size': fontSize,
        transform: `rotate(-45 ${round(x)} ${round(top - 8)})`,
        class: 'column-label',
      }),
    );
  });
  confusion.matrix.forEach((row, i) => {
    const rowTotal = row.reduce((sum, value) => sum + value, 0);
    row.forEach((count, j) => {
      const share = rowTotal === 0 ? 0 : count / rowTotal;
      const x = left + j * cell;
      const y = top + i * cell;
      const tip =
        `expected ${labels[i] ?? ''} → predicted ${labels[j] ?? ''}: ${count}` +
        (rowTotal === 0 ? '' : ` (${(100 * share).toFixed(0)}%)`);
      body.push(
        `<g class="cell"><title>${escapeXml(tip)}</title>` +
          `<rect x="${round(x)}" y="${round(y)}" width="${cell}" height="${cell}" ` +
          `fill="${heat(share)}" stroke="#e5e7eb"/>` +
          (count === 0
            ? ''
            : text(x + cell / 2, y + cell / 2 + fontSize / 3, String(count), {
                'font-size': fontSize,
                'text-anchor': 'middle',
                fill: share > 0.5 ? '#ffffff' : INK,
              })) +
          '</g>',
      );
    });
  });
  body.push(
    `<rect x="${round(left)}" y="${round(top)}" width="${size}" height="${size}" fill="none" stroke="${INK}"/>`,
  );
  body.push(
    text(left, top + size + 28, 'cell shade: share of the expected row', {
      'font-size': 11,
      fill: MUTED,
    }),
  );
  return svgDocument(width, height, body);
}

/**
 * A reliability diagram: per confidence bin, the accuracy of the top intent (bars) against the
 * mean confidence (the gap, shaded), with the diagonal of perfect calibration, the row count of
 * each bin and the ECE in the title.
 *
 * @example
 * writeFileSync('reliability.svg', reliabilityDiagramSvg(metrics.calibration, { title: 'demo test' }));
 */
export function reliabilityDiagramSvg(
  report: CalibrationReport,
  options: { title?: string } = {},
): string {
  const plot = 360;
  const left = 64;
  const top = 56;
  const width = left + plot + 32;
  const height = top + plot + 72;
  const x = (value: number) => left + value * plot;
  const y = (value: number) => top + (1 - value) * plot;
  const body: string[] = [];
  const ece = Number.isNaN(report.ece) ? 'n/a' : report.ece.toFixed(3);
  body.push(
    text(16, 28, `${options.title ?? 'Reliability diagram'} · ECE ${ece}`, {
      'font-size': 16,
      'font-weight': 600,
    }),
  );
  for (const tick of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    body.push(
      `<line x1="${x(0)}" y1="${round(y(tick))}" x2="${x(1)}" y2="${round(y(tick))}" stroke="#f3f4f6"/>`,
    );
    body.push(
      text(left - 8, y(tick) + 4, tick.toFixed(1), { 'font-size': 11, 'text-anchor': 'end' }),
    );
    body.push(
      text(x(tick), top + plot + 16, tick.toFixed(1), { 'font-size': 11, 'text-anchor': 'middle' }),
    );
  }
  for (const bin of report.bins) {
    if (bin.accuracy === null || bin.confidence === null) continue;
    const barX = x(bin.lower) + 1;
    const barWidth = x(bin.upper) - x(bin.lower) - 2;
    const tip =
      `confidence ${bin.lower.toFixed(1)}–${bin.upper.toFixed(1)}: ${bin.count} rows, ` +
      `accuracy ${bin.accuracy.toFixed(3)}, mean confidence ${bin.confidence.toFixed(3)}`;
    const gapTop = y(Math.max(bin.accuracy, bin.confidence));
    const gapBottom = y(Math.min(bin.accuracy, bin.confidence));
    body.push(
      `<g class="bin"><title>${escapeXml(tip)}</title>` +
        `<rect x="${round(barX)}" y="${round(y(bin.accuracy))}" width="${round(barWidth)}" ` +
        `height="${round(y(0) - y(bin.accuracy))}" fill="${ACCENT}" fill-opacity="0.85"/>` +
        `<rect x="${round(barX)}" y="${round(gapTop)}" width="${round(barWidth)}" ` +
        `height="${round(gapBottom - gapTop)}" fill="${GAP}" fill-opacity="0.35"/>` +
        text(barX + barWidth / 2, top + plot + 32, `n=${bin.count}`, {
          'font-size': 9,
          'text-anchor': 'middle',
          fill: MUTED,
        }) +
        '</g>',
    );
  }
  body.push(
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="${MUTED}" stroke-dasharray="4 4"/>`,
  );
  body.push(
    `<rect x="${left}" y="${top}" width="${plot}" height="${plot}" fill="none" stroke="${INK}"/>`,
  );
  body.push(
    text(left + plot / 2, top + plot + 52, 'confidence (top-intent probability)', {
      'font-size': 12,
      'text-anchor': 'middle',
    }),
  );
  body.push(
    text(18, top + plot / 2, 'accuracy', {
      'font-size': 12,
      'text-anchor': 'middle',
      transform: `rotate(-90 18 ${round(top + plot / 2)})`,
    }),
  );
  body.push(
    `<g font-size="11"><rect x="${left + 8}" y="${top + 8}" width="10" height="10" fill="${ACCENT}"/>` +
      text(left + 24, top + 17, 'accuracy') +
      `<rect x="${left + 88}" y="${top + 8}" width="10" height="10" fill="${GAP}" fill-opacity="0.35"/>` +
      text(left + 104, top + 17, 'gap to confidence') +
      '</g>',
  );
  return svgDocument(width, height, body);
}
