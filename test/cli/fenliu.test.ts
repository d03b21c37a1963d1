import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  calibrationProblems,
  type Calibration,
  type Classification,
} from '../../src/engine/classification';
import { DEMO_MODEL_ID, PUBLIC_MODELS, REPO_ROOT } from '../../scripts/lib/paths';
import { USAGE } from '../../src/cli/options';
import { fenliu, fenliuWith, spawnFenliu } from './fenliu-cli';

/**
 * `fenliu` on fixture files. Most tests call `main()` in-process (./fenliu-cli.ts); one test per
 * command, and one for the usage text, spawns `bin/fenliu.js` to prove the binary works end to end.
 */

const MODEL = join('public', 'models', DEMO_MODEL_ID);
const FIXTURES = join('test', 'fixtures', 'cli');
const EVAL_DATA = join(FIXTURES, 'eval.jsonl');
const VALID_DATA = join(FIXTURES, 'valid.sharegpt.json');
const LABELS = [
  '查询订单',
  '物流查询',
  '取消服务',
  '修改信息',
  '退款退货',
  '支付问题',
  '开具发票',
  '账户登录',
  '投诉建议',
  '转人工',
  '问候闲聊',
  '其他',
];

const scratch = mkdtempSync(join(tmpdir(), 'fenliu-cli-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** `eval` of the fixture rows in batches of 8: both eval runs, so their figures compare. */
function evalInBatches(model: string, out: string): string[] {
  return ['eval', '--model', model, '--data', EVAL_DATA, '--out', out, '--batch-size', '8'];
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

interface EvalJson {
  model: { id: string; dtype: string; calibrated: boolean; temperature: number };
  data: { file: string; rows: number };
  accuracy: number;
  macroF1: number;
  perIntent: { intentId: string; label: string; support: number; f1: number | null }[];
  confusion: { labels: string[]; matrix: number[][] };
  outOfScope: {
    intentId: string;
    support: number;
    precision: number | null;
    recall: number | null;
  };
  routes: { intent: number; out_of_scope: number; escalate: number };
  ece: number;
  eceUncalibrated: number;
  reliability: { count: number }[];
  latencyMs: { p50: number; p95: number };
  mistakes: { file: string; line: number; expected: string; predicted: string }[];
}

describe('fenliu', () => {
  it('prints the usage and exits 2 without a command (spawned binary)', () => {
    const { status, stdout, stderr } = spawnFenliu();
    expect(status).toBe(2);
    expect(stdout).toBe(`${USAGE.main}\n`);
    expect(stderr).toBe('');
  });

  it('takes its directory, environment and Ctrl-C signal from the caller', async () => {
    // Relative paths resolve from the given directory, not the process's.
    const fixtures = join(REPO_ROOT, FIXTURES);
    const moved = await fenliuWith({ cwd: fixtures }, 'eval', '--data', 'bad-rows.jsonl');
    expect(moved.status).toBe(1);
    expect(moved.stderr).toMatch(/^fenliu eval: 2 bad row\(s\)\nbad-rows\.jsonl:3: /);
    const debug = await fenliuWith({ env: { FENLIU_DEBUG: '1' } }, 'eval');
    expect(debug.status).toBe(2);
    expect(debug.stderr).toMatch(/^UsageError: --data is required\n\s+at /);
    const controller = new AbortController();
    controller.abort();
    const stopped = await fenliuWith({ signal: controller.signal }, 'classify', '你好');
    expect(stopped).toEqual({ status: 130, stdout: '', stderr: 'fenliu classify: interrupted\n' });
  });
});

describe('fenliu route', () => {
  const CATALOG = join('data', 'demo', 'catalog.json');

  it('prints where each message goes under the catalog route table, without running anything (spawned binary)', () => {
    const { status, stdout, stderr } = spawnFenliu(
      'route',
      '你好',
      '我要退款',
      '支付失败了会扣钱吗',
      '我要投诉',
      '转人工',
      '--catalog',
      CATALOG,
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const blocks = stdout.trim().split('\n\n');
    expect(blocks).toHaveLength(5);
    expect(blocks[0]).toMatch(
      /^message {5}你好\nintent {6}问候闲聊 \(greeting\), confidence 0\.\d{3}\nroute {7}reply\nreply {7}您好！我是分流小助手/,
    );
    expect(blocks[1]).toContain(
      'route       tool → request_refund\ncall        request_refund {}; asks for order_id',
    );
    expect(blocks[2]).toContain('route       agent → billing');
    expect(blocks[3]).toContain('route       human → service_desk (queue complaints)');
    expect(blocks[4]).toContain('route       escalation (intent)');
  });

  it('prints the decisions as JSON, template replies in --lang', async () => {
    const { status, stdout } = await fenliu(
      'route',
      '你好',
      '--catalog',
      CATALOG,
      '--lang',
      'en',
      '--json',
    );
    expect(status).toBe(0);
    const routed = JSON.parse(stdout) as Record<string, unknown>;
    expect(routed).toMatchObject({
      message: '你好',
      intentId: 'greeting',
      route: { kind: 'reply', intentId: 'greeting' },
    });
    expect(routed.reply).toMatch(/^Hello! I can look up orders/);
  });

  it('without a catalog: tool intents to their tools, the rest to the host', async () => {
    const { stdout } = await fenliu('route', '支付失败了会扣钱吗', '--json');
    expect(JSON.parse(stdout)).toMatchObject({ route: { kind: 'host', intentId: 'payment' } });
  });

  it('refuses a catalog that does not match the model, naming the intent (exit 1)', async () => {
    const catalog = JSON.parse(readFileSync(CATALOG, 'utf8')) as {
      intents: { id: string; label: string }[];
    };
    const complaint = catalog.intents.find((intent) => intent.id === 'complaint');
    if (complaint) complaint.label = '投诉';
    const path = join(scratch, 'renamed-catalog.json');
    writeFileSync(path, JSON.stringify(catalog));
    const { status, stdout, stderr } = await fenliu('route', '你好', '--catalog', path);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('fenliu route: The catalog does not match model "fenliu-demo"');
    expect(stderr).toContain(
      '- intent "complaint": label "投诉" in the catalog, "投诉建议" in the model',
    );
  });
});

describe('fenliu classify', () => {
  it('prints the intent, route, confidence, margin and top 3 (spawned binary)', () => {
    const { status, stdout, stderr } = spawnFenliu(
      'classify',
      '修改我的收货地址',
      '--model',
      MODEL,
    );
    expect(status).toBe(0);
    expect(stderr).toBe(`model ${DEMO_MODEL_ID} (int8, cpu, calibrated)\n`);
    expect(stdout).toContain('intent      修改信息 (update_info)');
    expect(stdout).toMatch(/^route {7}intent$/m);
    expect(stdout).toMatch(/^confidence {2}0\.\d{3}$/m);
    expect(stdout).toMatch(/^margin {6}0\.\d{3}$/m);
    expect(stdout).toMatch(/^1 {2}修改信息 {2}update_info +0\.\d{3}$/m);
    expect(stdout).toMatch(/^3 {2}\S+/m);
  });

  it('prints JSON with the whole distribution', async () => {
    const { status, stdout } = await fenliu(
      'classify',
      '取消我的订阅',
      '--json',
      '--calibration',
      'none',
    );
    expect(status).toBe(0);
    const result = JSON.parse(stdout) as {
      label: string;
      route: string;
      reason: string | null;
      confidence: number;
      scores: { label: string; probability: number }[];
    };
    expect(result).toMatchObject({ label: '取消服务', route: 'intent', reason: null });
    expect(result.scores.map((score) => score.label).sort()).toEqual([...LABELS].sort());
    const total = result.scores.reduce((sum, score) => sum + score.probability, 0);
    expect(total).toBeCloseTo(1, 6);
    expect(result.confidence).toBe(result.scores[0]?.probability);
  });
});

describe('fenliu eval', () => {
  const out = join(scratch, 'eval');

  it('prints the scores and writes eval.json, confusion.svg and reliability.svg (spawned binary)', () => {
    // Without the demo folder's calibration.json: the raw model, compared with below.
    const { status, stdout, stderr } = spawnFenliu(
      ...evalInBatches(MODEL, out),
      '--calibration',
      'none',
    );
    expect(status).toBe(0);
    // Not a terminal: plain progress lines, ending at 100 %.
    expect(stderr).toContain('classifying 24/24 (100%)');
    expect(stderr).toContain(`wrote ${join(out, 'eval.json')}`);
    expect(stdout).toMatch(/^accuracy \d+\.\d% \(\d+\/24\) · top-1 .* · macro-F1 0\.\d{3}$/m);
    expect(stdout).toMatch(/^out of scope \(其他\): precision .* recall .*$/m);
    expect(stdout).toMatch(/^latency p50 \d+\.\d ms, p95 \d+\.\d ms \(batch time \/ 8\)$/m);
    expect(stdout).toMatch(/^update_info +修改信息 +2 +\d+ /m);

    const report = readJson(join(out, 'eval.json')) as EvalJson;
    expect(report.model).toMatchObject({ id: DEMO_MODEL_ID, dtype: 'int8', calibrated: false });
    expect(report.data).toEqual({ file: EVAL_DATA, rows: 24 });
    // Two rows per intent; the matrix counts each row once.
    expect(report.perIntent.map((intent) => intent.support)).toEqual(LABELS.map(() => 2));
    expect(report.confusion.labels).toEqual(LABELS);
    expect(report.confusion.matrix.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(
      LABELS.map(() => 2),
    );
    const diagonal = report.confusion.matrix.reduce((sum, row, i) => sum + (row[i] ?? 0), 0);
    expect(report.accuracy).toBe(diagonal / 24);
    // The slice holds rows the demo model gets right and some it got wrong (91 % on the whole
    // split); chance is 1/12.
    expect(report.accuracy).toBeGreaterThan(0.5);
    expect(report.accuracy).toBeLessThan(1);
    expect(report.mistakes).toHaveLength(24 - diagonal);
    for (const mistake of report.mistakes) {
      expect(mistake.file).toBe(EVAL_DATA);
      expect(mistake.line).toBeGreaterThanOrEqual(1);
      expect(mistake.line).toBeLessThanOrEqual(24);
      expect(mistake.expected).not.toBe(mistake.predicted);
    }
    const f1s = report.perIntent.flatMap((intent) => (intent.f1 === null ? [] : [intent.f1]));
    expect(report.macroF1).toBeCloseTo(f1s.reduce((a, b) => a + b, 0) / f1s.length, 12);
    expect(report.outOfScope).toMatchObject({ intentId: 'out_of_scope', support: 2 });
    expect(report.routes.intent + report.routes.out_of_scope + report.routes.escalate).toBe(24);
    // Uncalibrated, only 转人工 (an escalating intent) goes to escalation: each row predicted so.
    const toPerson = LABELS.indexOf('转人工');
    const predictedToPerson = report.confusion.matrix.reduce(
      (sum, row) => sum + (row[toPerson] ?? 0),
      0,
    );
    expect(report.routes.escalate).toBe(predictedToPerson);
    expect(report.ece).toBeGreaterThanOrEqual(0);
    expect(report.ece).toBeCloseTo(report.eceUncalibrated, 12);
    expect(report.reliability.reduce((sum, bin) => sum + bin.count, 0)).toBe(24);
    expect(report.latencyMs.p95).toBeGreaterThanOrEqual(report.latencyMs.p50);

    const confusion = readFileSync(join(out, 'confusion.svg'), 'utf8');
    expect(confusion.startsWith('<svg')).toBe(true);
    for (const label of LABELS) {
      expect(confusion).toContain(`class="row-label">${label}</text>`);
      expect(confusion).toContain(`class="column-label">${label}</text>`);
    }
    const reliability = readFileSync(join(out, 'reliability.svg'), 'utf8');
    expect(reliability).toContain(`fenliu-demo · eval.jsonl · ECE ${report.ece.toFixed(3)}`);
  });

  it('reports bad rows as file:line and exits 1 before loading the model', async () => {
    const bad = join(FIXTURES, 'bad-rows.jsonl');
    const { status, stdout, stderr } = await fenliu(
      'eval',
      '--data',
      bad,
      '--out',
      join(scratch, 'x'),
    );
    expect(status).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toBe('fenliu eval: 2 bad row(s)');
    expect(lines[1]).toMatch(new RegExp(`^${bad}:3: not valid JSON \\(`));
    expect(lines[2]).toBe(`${bad}:4: "text" must be a string`);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(scratch, 'x'))).toBe(false);
  });

  it("reports labels outside the model's intents as file:line", async () => {
    const file = join(FIXTURES, 'unknown-label.jsonl');
    const { status, stderr } = await fenliu('eval', '--data', file);
    expect(status).toBe(1);
    // Line 3 is labelled with the fallback intent's id, which is accepted.
    expect(stderr.trim().split('\n')).toEqual([
      'fenliu eval: 1 bad row(s)',
      `${file}:2: label "订机票" is not one of the model's intents (${LABELS.join(', ')})`,
    ]);
  });

  it('exits 2 with a hint on usage mistakes and 1 on a missing model folder', async () => {
    const noData = await fenliu('eval');
    expect(noData.status).toBe(2);
    expect(noData.stderr).toBe(
      'fenliu eval: --data is required\nRun `fenliu eval --help` for usage.\n',
    );
    const unknown = await fenliu('eval', '--data', EVAL_DATA, '--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    const missing = await fenliu('eval', '--data', EVAL_DATA, '--model', 'no/such/model');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('fenliu eval: --model no/such/model: no such folder\n');
    expect((await fenliu('frobnicate')).status).toBe(2);
    const help = await fenliu('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('fenliu calibrate --data FILE');
  });
});

describe('fenliu calibrate', () => {
  // A copy of the demo model, so --write never touches the committed folder.
  const folder = join(scratch, 'models', DEMO_MODEL_ID);
  cpSync(join(PUBLIC_MODELS, DEMO_MODEL_ID), folder, { recursive: true, dereference: true });

  it('fits on a ShareGPT validation file, prints ECE before and after, writes calibration.json (spawned binary)', () => {
    const { status, stdout, stderr } = spawnFenliu(
      'calibrate',
      '--model',
      folder,
      '--data',
      VALID_DATA,
      '--write',
    );
    expect(status).toBe(0);
    expect(stdout).toContain(
      `calibrated ${DEMO_MODEL_ID} on ${VALID_DATA}: 48 rows, 4 out of scope`,
    );
    expect(stdout).toMatch(
      /^temperature \d+\.\d{3} · NLL \d\.\d{3} → \d\.\d{3} · ECE \d\.\d{3} → \d\.\d{3}$/m,
    );
    expect(stdout).toMatch(/^\(default\) +\d\.\d{3} +\d\.\d{3}$/m);
    const written = join(folder, 'calibration.json');
    expect(stderr).toContain(`wrote ${written}`);

    const calibration = readJson(written) as Calibration;
    expect(calibrationProblems(calibration)).toEqual([]);
    const fitted = calibration.fitted as {
      data: string;
      rows: number;
      nll: { before: number; after: number };
      ece: { before: number; after: number };
    };
    expect(fitted).toMatchObject({ data: VALID_DATA, rows: 48 });
    // The temperature minimises NLL on this split, so it cannot make it worse.
    expect(fitted.nll.after).toBeLessThanOrEqual(fitted.nll.before);
    expect(stdout).toContain(
      `ECE ${fitted.ece.before.toFixed(3)} → ${fitted.ece.after.toFixed(3)}`,
    );
  });

  it('is picked up from the model folder by eval, which reports ECE before and after', async () => {
    const calibration = readJson(join(folder, 'calibration.json')) as Calibration;
    const out = join(scratch, 'eval-calibrated');
    const { status, stdout } = await fenliu(...evalInBatches(folder, out));
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ECE \d\.\d{3} \(uncalibrated \d\.\d{3}\)$/m);
    const report = readJson(join(out, 'eval.json')) as EvalJson;
    expect(report.model).toMatchObject({ calibrated: true, temperature: calibration.temperature });
    // Same model, same batches: the uncalibrated ECE is the one the plain run measured.
    const plain = readJson(join(scratch, 'eval', 'eval.json')) as EvalJson;
    expect(report.eceUncalibrated).toBeCloseTo(plain.ece, 6);
    expect(report.routes.intent + report.routes.out_of_scope + report.routes.escalate).toBe(24);
  });

  it('routes low confidence out of scope, with the reason, under a calibration file', async () => {
    // Temperature 100 flattens the distribution far below the 0.5 out-of-scope threshold.
    const flat: Calibration = {
      format: 1,
      temperature: 100,
      thresholds: { update_info: { outOfScope: 0.5, escalate: 0.9 } },
      defaultThresholds: { outOfScope: 0, escalate: 0 },
    };
    const path = join(scratch, 'flat.json');
    writeFileSync(path, JSON.stringify(flat));
    const { status, stdout } = await fenliu(
      'classify',
      '修改我的收货地址',
      '--json',
      '--calibration',
      path,
    );
    expect(status).toBe(0);
    const result = JSON.parse(stdout) as Classification;
    expect(result).toMatchObject({
      route: 'out_of_scope',
      intentId: 'out_of_scope',
      label: '其他',
    });
    expect(result.top.label).toBe('修改信息');
    expect(result.confidence).toBeLessThan(0.5);
    expect(result.reason).toBe(
      `confidence ${result.confidence.toFixed(2)} for 修改信息 is below its out-of-scope threshold 0.50`,
    );
    // The same as data, which the widget words in the user's language.
    expect(result.reasonCode).toEqual({
      code: 'below-out-of-scope',
      intentId: 'update_info',
      confidence: result.confidence,
      threshold: 0.5,
    });
  });

  it('refuses too few in-scope rows, or out-of-scope rows only, with what to add, before the model runs', async () => {
    const write = (name: string, rows: { text: string; label: string }[]) => {
      const path = join(scratch, name);
      writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n'));
      return path;
    };
    const one = write('one-row.jsonl', [{ text: '我要退款', label: '退款退货' }]);
    const out = join(scratch, 'refused.json');
    const single = await fenliu('calibrate', '--model', folder, '--data', one, '--out', out);
    expect(single).toEqual({
      status: 1,
      stdout: '',
      stderr:
        `fenliu calibrate: ${one}: 1 row (1 in scope over 1 intent, 0 out of scope) is too few ` +
        "to calibrate on. Fix: give at least 20 rows labelled with the model's intents, over at " +
        'least 2 intents (1 in-scope row so far, 1 intent so far), plus rows labelled "其他" for ' +
        'the out-of-scope threshold\n',
    });
    const outOfScope = write('out-of-scope.jsonl', [
      { text: '今天天气怎么样', label: '其他' },
      { text: '讲个笑话', label: 'out_of_scope' },
    ]);
    const only = await fenliu('calibrate', '--model', folder, '--data', outOfScope, '--json');
    expect(only.status).toBe(1);
    expect(only.stdout).toBe('');
    expect(only.stderr).toMatch(
      new RegExp(
        `^fenliu calibrate: ${outOfScope}: 2 rows \\(0 in scope over 0 intents, 2 out of scope\\): ` +
          'only out-of-scope rows, .*Fix: give at least 20 rows labelled with the model.s intents',
      ),
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a fit that lands on a boundary and leaves calibration.json as it was', async () => {
    // 22 in-scope rows over 11 intents, every one answered right by the demo model: the likelihood
    // keeps improving as the temperature falls, which would end at the search's bound (0.05) with
    // every probability 1.0.
    const written = join(folder, 'calibration.json');
    const before = readFileSync(written, 'utf8');
    const data = join(FIXTURES, 'all-right.jsonl');
    const { status, stdout, stderr } = await fenliu(
      'calibrate',
      '--model',
      folder,
      '--data',
      data,
      '--write',
    );
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      new RegExp(
        `^fenliu calibrate: ${data}: nothing written: the temperature ran to the bound of its ` +
          'search \\(0\\.050, searched 0\\.05–20\\): on these 22 rows a sharper distribution ' +
          'always fits better .* Fix: calibrate on a larger validation split',
        'm',
      ),
    );
    expect(stderr).not.toContain('wrote');
    expect(readFileSync(written, 'utf8')).toBe(before);
  });

  it('rejects an invalid calibration file with one line and exit 1', async () => {
    const path = join(scratch, 'broken.json');
    writeFileSync(path, JSON.stringify({ format: 1, temperature: -1 }));
    const { status, stderr } = await fenliu('classify', '你好', '--calibration', path);
    expect(status).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`^fenliu classify: ${path}: "temperature" must be a positive number; `),
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
