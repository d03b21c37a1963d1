/**
 * The benchmark chart: for each configuration, the naive recipe's and the engine's median time to
 * intent as horizontal bars on a logarithmic axis (the two differ by orders of magnitude).
 */
export interface ChartRow {
  label: string;
  naiveMs: number;
  engineMs: number;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderBenchmarkChart(rows: readonly ChartRow[]): string {
  const labelWidth = 360;
  const plotWidth = 520;
  const rowHeight = 44;
  const top = 40;
  const height = top + rows.length * rowHeight + 40;
  const values = rows.flatMap((row) => [row.naiveMs, row.engineMs]).filter((v) => v > 0);
  const minLog = Math.floor(Math.log10(Math.min(...values, 1)));
  const maxLog = Math.ceil(Math.log10(Math.max(...values, 10)));
  const x = (ms: number) =>
    labelWidth +
    ((Math.log10(Math.max(ms, 10 ** minLog)) - minLog) / (maxLog - minLog)) * plotWidth;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 40}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Median time to intent (ms, log scale): naive recipe vs engine</text>`,
  ];
  for (let power = minLog; power <= maxLog; power++) {
    const at = x(10 ** power);
    parts.push(
      `<line x1="${at}" y1="${top - 6}" x2="${at}" y2="${height - 30}" stroke="#ddd"/>`,
      `<text x="${at}" y="${height - 14}" text-anchor="middle">${10 ** power}</text>`,
    );
  }
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    parts.push(`<text x="10" y="${y + 20}">${escapeXml(row.label)}</text>`);
    for (const [offset, value, colour, name] of [
      [2, row.naiveMs, '#d9534f', 'naive'],
      [20, row.engineMs, '#2e7d32', 'engine'],
    ] as const) {
      parts.push(
        `<rect x="${labelWidth}" y="${y + offset}" width="${Math.max(1, x(value) - labelWidth)}" height="16" fill="${colour}"/>`,
        `<text x="${x(value) + 4}" y="${y + offset + 12}">${name} ${value.toFixed(value >= 100 ? 0 : 1)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
