import { AutoTokenizer } from '@huggingface/transformers';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';
import { ModelLoadError } from '../../src/shared/errors';
import { checkTokenizerMatchesModel, onnxFramingProblem } from '../../src/engine/model-checks';
import { configureRuntime } from '../../src/engine/runtime';
import {
  BAD_FOLDER_CASES,
  buildBadFolder,
  cliProblems,
  loadBadFolder,
} from '../../scripts/lib/bad-files';
import { fenliu } from './fenliu-cli';

/**
 * Issue 7's bad files: broken copies of the demo model folder (scripts/lib/bad-files.ts, the
 * table the reliability report lists) fail with a typed ModelLoadError and a fix-it message in
 * the engine, and `fenliu classify --model <broken copy>` prints that one line and exits 1; bad
 * data files are reported as file:line. The CLI runs in-process (`main()`, ./fenliu-cli.ts); the
 * spawned binary is tested in fenliu.test.ts.
 */

/** `fenliu classify 你好 --model <dir> [--dtype …]`, what the report's `classifyWithCli` spawns. */
function classifyInProcess(dir: string, dtype?: string) {
  return fenliu(
    'classify',
    '你好',
    '--model',
    dir,
    ...(dtype === undefined ? [] : ['--dtype', dtype]),
  );
}

const scratch = mkdtempSync(join(tmpdir(), 'fenliu-bad-files-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('broken model folders', () => {
  it.each(BAD_FOLDER_CASES.map((testCase) => [testCase.name, testCase] as const))(
    '%s',
    async (_, testCase) => {
      const dir = buildBadFolder(scratch, testCase);
      const engine = await loadBadFolder(scratch, testCase);
      expect(engine.problem).toBeUndefined();
      expect(engine.error).toBeInstanceOf(ModelLoadError);
      expect((engine.error as ModelLoadError).code).toBe(testCase.code);

      const cli = await classifyInProcess(dir, testCase.dtype);
      expect(cliProblems(testCase, cli)).toEqual([]);
      expect(cli.status).toBe(1);
      expect(cli.stderr).not.toMatch(/\n\s+at /);
    },
  );

  it('still loads an unbroken copy (the checks pass a good folder)', async () => {
    const dir = buildBadFolder(scratch, {
      id: 'unbroken',
      name: 'unbroken',
      break: () => undefined,
      code: 'model-folder-invalid',
      message: /^$/,
    });
    const cli = await classifyInProcess(dir);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/^intent {6}\S+ \(\w+\)$/m);
  });

  it('checks ONNX framing: whole file, cut file, random bytes', () => {
    // field 1 (varint 8), field 7 (3 bytes): a minimal well-framed ModelProto.
    expect(onnxFramingProblem(Uint8Array.of(0x08, 0x08, 0x3a, 0x03, 1, 2, 3))).toBeNull();
    expect(onnxFramingProblem(Uint8Array.of(0x08, 0x08, 0x3a, 0x05, 1, 2, 3))).toMatch(
      /field 7 at byte 2 needs 5 bytes but the file ends after 3 \(truncated\?\)/,
    );
    expect(onnxFramingProblem(Uint8Array.of(0x08, 0x08))).toBe('it has no graph (field 7)');
    expect(onnxFramingProblem(Uint8Array.of(0x0f))).toMatch(/wire type 7/);
  });

  it('checks the loaded tokenizer against the model (the browser path)', async () => {
    configureRuntime({ modelRoot: PUBLIC_MODELS });
    const tokenizer = await AutoTokenizer.from_pretrained(DEMO_MODEL_ID);
    expect(() => {
      checkTokenizerMatchesModel(tokenizer, 151_936, DEMO_MODEL_ID);
    }).not.toThrow();
    expect(() => {
      checkTokenizerMatchesModel(tokenizer, 151_000, DEMO_MODEL_ID);
    }).toThrow(/its token ids go up to 151668 but the model's vocab_size is 151000\. Fix: /);
  });
});

describe('bad data files in the CLI', () => {
  it('calibrate reports malformed rows as file:line and writes nothing', async () => {
    const file = join(scratch, 'malformed.jsonl');
    writeFileSync(
      file,
      [
        '{"text": "我要退款", "label": "退款退货"}',
        '{"text": "坏行", "label": ',
        '["not", "an", "object"]',
        '{"text": "", "label": "查询订单"}',
        '{"text": "你好", "label": 3}',
      ].join('\n'),
    );
    const out = join(scratch, 'calibration.json');
    const run = await fenliu('calibrate', '--data', file, '--out', out);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe('fenliu calibrate: 4 bad row(s)');
    expect(lines.slice(1).map((line) => line.split(':').slice(0, 2).join(':'))).toEqual(
      [2, 3, 4, 5].map((line) => `${file}:${line}`),
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('eval reports a ShareGPT file with malformed conversations', async () => {
    const file = join(scratch, 'malformed.sharegpt.json');
    writeFileSync(
      file,
      JSON.stringify(
        [
          {
            conversations: [
              { from: 'user', value: '我要退款' },
              { from: 'assistant', value: '退款退货' },
            ],
          },
          { conversations: [{ from: 'user', value: '没有回答' }] },
          { messages: 'not a conversation' },
        ],
        null,
        2,
      ),
    );
    const run = await fenliu('eval', '--data', file, '--out', join(scratch, 'eval'));
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe('fenliu eval: 2 bad row(s)');
    expect(lines).toHaveLength(3);
    for (const line of lines.slice(1)) expect(line).toMatch(new RegExp(`^${file}:\\d+: \\S`));
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('eval reports tool-call rows the model card rejects as file:line, before scoring anything', async () => {
    // Rows 1, 7 and 8 are good: a valid call, a call leaving out a required argument (the user is
    // then asked), a row labelled with the intent's id. Row 9's label is unknown, its call unread.
    const file = join('test', 'fixtures', 'cli', 'bad-tool-calls.jsonl');
    const out = join(scratch, 'tool-calls');
    const run = await fenliu('eval', '--data', file, '--out', out);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const tools = 'lookup_order, track_shipment, change_address, request_refund, request_invoice';
    expect(run.stderr.trim().split('\n')).toEqual([
      'fenliu eval: 6 bad row(s)',
      `${file}:2: tool call "drop_tables" names no declared tool (declared: ${tools}, cancel_service)`,
      `${file}:3: lookup_order arguments: "order_id" does not match the pattern ^[0-9]{13}$`,
      `${file}:4: request_refund arguments: "bogus" is not a parameter of this tool`,
      `${file}:5: tool call "lookup_order" is not "track_shipment", the tool of intent "物流查询"`,
      `${file}:6: intent "问候闲聊" calls no tool, but the row has a tool call`,
      expect.stringMatching(
        new RegExp(`^${file}:9: label "订机票" is not one of the model's intents`),
      ),
    ]);
    expect(existsSync(out)).toBe(false);
    // calibrate reads the same rows the same way.
    const calibrate = await fenliu('calibrate', '--data', file, '--out', join(out, 'c.json'));
    expect(calibrate.status).toBe(1);
    expect(calibrate.stderr).toMatch(/^fenliu calibrate: 6 bad row\(s\)\n/);
  });
});
