import { describe, expect, it } from 'vitest';
import { confusionMatrixSvg, escapeXml, reliabilityDiagramSvg } from '../../src/evaluation/charts';
import { calibrationReport, confusionMatrix } from '../../src/evaluation/metrics';

const intents = [
  { id: 'order', label: '查询订单' },
  { id: 'refund', label: '退款退货' },
  { id: 'odd', label: '<b>&"x"' },
];

/** Every tag opened is closed, in order (the SVGs hold no comments or CDATA). */
function isBalanced(svg: string): boolean {
  const stack: string[] = [];
  for (const [tag] of svg.matchAll(/<\/?[a-zA-Z][^>]*>/g)) {
    if (tag.endsWith('/>')) continue;
    const name = /^<\/?([a-zA-Z]+)/.exec(tag)?.[1] ?? '';
    if (tag.startsWith('</')) {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0;
}

describe('escapeXml', () => {
  it('shows control characters XML cannot hold as U+FFFD, keeping tabs and newlines', () => {
    expect(escapeXml('red\u001b[31m label\u0007\tnext\nline')).toBe(
      'red\ufffd[31m label\ufffd\tnext\nline',
    );
  });

  it('escapes the five XML special characters', () => {
    expect(escapeXml(`<a href='x'>"&"</a>`)).toBe(
      '&lt;a href=&apos;x&apos;&gt;&quot;&amp;&quot;&lt;/a&gt;',
    );
  });
});

describe('confusionMatrixSvg', () => {
  const confusion = confusionMatrix(
    [
      { expected: 'order', predicted: 'order' },
      { expected: 'order', predicted: 'order' },
      { expected: 'order', predicted: 'refund' },
      { expected: 'refund', predicted: 'refund' },
    ],
    intents,
  );
  const svg = confusionMatrixSvg(confusion, { title: 'demo <test>' });

  it('draws one cell per pair with its count and every label on both axes', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(isBalanced(svg)).toBe(true);
    expect(svg.match(/<g class="cell">/g)).toHaveLength(9);
    expect(svg.match(/class="row-label">查询订单</g)).toHaveLength(1);
    expect(svg.match(/class="column-label">退款退货</g)).toHaveLength(1);
    expect(svg).toContain('<title>expected 查询订单 → predicted 查询订单: 2 (67%)</title>');
    expect(svg).toContain('<title>expected 查询订单 → predicted 退款退货: 1 (33%)</title>');
    // Counts are drawn only for non-empty cells.
    expect(svg.match(/>2<\/text>/g)).toHaveLength(1);
    expect(svg.match(/>1<\/text>/g)).toHaveLength(2);
  });

  it('escapes labels and titles', () => {
    expect(svg).toContain('demo &lt;test&gt;');
    expect(svg).toContain('&lt;b&gt;&amp;&quot;x&quot;');
    expect(svg).not.toContain('<b>');
  });
});

describe('reliabilityDiagramSvg', () => {
  it('draws a bar per non-empty bin with its size, and the ECE in the title', () => {
    const report = calibrationReport([0.95, 0.95, 0.55, 0.15], [true, false, true, false], 10);
    const svg = reliabilityDiagramSvg(report, { title: 'test & <split>' });
    expect(isBalanced(svg)).toBe(true);
    expect(svg).toContain(`test &amp; &lt;split&gt; · ECE ${report.ece.toFixed(3)}`);
    expect(svg.match(/<g class="bin">/g)).toHaveLength(3);
    expect(svg).toContain('>n=2</text>');
    expect(svg).toContain(
      '<title>confidence 0.9–1.0: 2 rows, accuracy 0.500, mean confidence 0.950</title>',
    );
  });

  it('says n/a for an empty report', () => {
    expect(reliabilityDiagramSvg(calibrationReport([], []))).toContain('ECE n/a');
  });
});
