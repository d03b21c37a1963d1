import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTable } from '../../src/cli/table';
import { visible, visibleLines } from '../../src/cli/terminal';
import { REPO_ROOT } from '../../scripts/lib/paths';
import { fenliu } from './fenliu-cli';

/**
 * Issue 18: text from data (labels, messages, catalog replies, file names, error messages quoting
 * them) never reaches the terminal raw. An escape sequence in a label would recolour the
 * terminal (CSI), retitle it (OSC) or clear it; a bidirectional override would make a line read
 * differently from what it holds. Every line the CLI prints shows them as `\u001b`-style escapes.
 */

/** What must never reach a terminal raw: C0 (bar the newlines between lines), DEL, C1, bidi. */
const UNSAFE = /(?!\n)[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const CSI = '\u001b[31m';
const OSC = '\u001b]0;pwned\u0007';
const C1_CSI = '\u009b2J';
const BIDI = '\u202e';

const scratch = mkdtempSync(join(tmpdir(), 'fenliu-terminal-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('visible', () => {
  it('shows control characters as JSON escapes and leaves other text alone', () => {
    expect(visible(`退款${CSI}`)).toBe('退款\\u001b[31m');
    expect(visible(OSC)).toBe('\\u001b]0;pwned\\u0007');
    expect(visible(`${C1_CSI}${BIDI}\u007f`)).toBe('\\u009b2J\\u202e\\u007f');
    expect(visible('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
    expect(visible('查询订单 order_status ✓')).toBe('查询订单 order_status ✓');
    // Only newlines survive in whole lines of output.
    expect(visibleLines(`a${CSI}\nb\tc`)).toBe('a\\u001b[31m\nb\\tc');
  });

  it('keeps --json output valid JSON that parses to the same text', () => {
    const value = { message: `看看${CSI}${OSC}${C1_CSI}${BIDI}\u2028\u007f` };
    const printed = visibleLines(JSON.stringify(value, null, 2));
    expect(printed).not.toMatch(UNSAFE);
    expect(JSON.parse(printed)).toEqual(value);
  });

  it('aligns table columns on the visible form of each cell', () => {
    const table = formatTable(
      ['intent', 'label', 'F1'],
      [
        ['refund', `退款${CSI}`, '0.900'],
        ['order', '查询\n订单', '1.000'],
      ],
      { right: ['F1'] },
    );
    expect(table).not.toMatch(UNSAFE);
    expect(table.split('\n')).toEqual([
      'intent  label              F1',
      '------  --------------  -----',
      'refund  退款\\u001b[31m  0.900',
      'order   查询\\n订单      1.000',
    ]);
  });
});

describe('the CLI prints data with its control characters visible', () => {
  it('eval: labels quoted in file:line errors, one line per bad row', async () => {
    const file = join(scratch, 'escapes.jsonl');
    writeFileSync(
      file,
      [
        { text: '看看订单', label: `查询订单${CSI}` },
        { text: '你好', label: `${OSC}${C1_CSI}` },
        { text: '退款', label: `退款${BIDI}货退` },
        { text: '发票', label: '开具\n发票' },
      ]
        .map((row) => JSON.stringify(row))
        .join('\n'),
    );
    const run = await fenliu('eval', '--data', file, '--out', join(scratch, 'eval'));
    expect(run.status).toBe(1);
    expect(run.stderr).not.toMatch(UNSAFE);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe('fenliu eval: 4 bad row(s)');
    expect(lines.slice(1).map((line) => line.slice(0, line.indexOf(' is not one of')))).toEqual([
      `${file}:1: label "查询订单\\u001b[31m"`,
      `${file}:2: label "\\u001b]0;pwned\\u0007\\u009b2J"`,
      `${file}:3: label "退款\\u202e货退"`,
      `${file}:4: label "开具\\n发票"`,
    ]);
  });

  it('error messages quoting a path or a command name', async () => {
    const model = await fenliu('classify', '你好', '--model', `no/such${OSC}`);
    expect(model).toEqual({
      status: 1,
      stdout: '',
      stderr: 'fenliu classify: --model no/such\\u001b]0;pwned\\u0007: no such folder\n',
    });
    const command = await fenliu(`eval${CSI}`);
    expect(command.status).toBe(2);
    expect(command.stderr).not.toMatch(UNSAFE);
    expect(command.stderr).toMatch(/^fenliu: unknown command "eval\\u001b\[31m"\n/);
  });

  it('classify: the message and its classification', async () => {
    const run = await fenliu('classify', `修改我的收货地址${CSI}${BIDI}`);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toMatch(UNSAFE);
    expect(run.stdout).toMatch(/^message {5}修改我的收货地址\\u001b\[31m\\u202e$/m);
  });

  it("route: a catalog's reply text, and --json that parses back to the message", async () => {
    const catalog = JSON.parse(
      readFileSync(join(REPO_ROOT, 'data', 'demo', 'catalog.json'), 'utf8'),
    ) as {
      routes: Record<string, { text: { zh: string } }>;
    };
    const greeting = catalog.routes.greeting;
    if (!greeting) throw new Error('the demo catalog has no greeting route');
    greeting.text.zh = `您好${OSC}${CSI}`;
    const path = join(scratch, 'catalog.json');
    writeFileSync(path, JSON.stringify(catalog));
    const text = await fenliu('route', '你好', '--catalog', path);
    expect(text.status).toBe(0);
    expect(text.stdout).not.toMatch(UNSAFE);
    expect(text.stdout).toContain('reply       您好\\u001b]0;pwned\\u0007\\u001b[31m');

    const message = `你好${CSI}${C1_CSI}${BIDI}`;
    const json = await fenliu('route', message, '--catalog', path, '--json');
    expect(json.status).toBe(0);
    expect(json.stdout).not.toMatch(UNSAFE);
    expect((JSON.parse(json.stdout) as { message: string }).message).toBe(message);
  });
});
