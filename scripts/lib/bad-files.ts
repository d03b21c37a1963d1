import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntentClassifier } from '../../src/engine/classifier';
import { seededRandom } from '../../src/dataset/dataset';
import { errorMessage, ModelLoadError } from '../../src/shared/errors';
import { configureRuntime } from '../../src/engine/runtime';
import type { CaseOutcome } from './bad-inputs';
import { DEMO_MODEL_ID, PUBLIC_MODELS, REPO_ROOT } from './paths';

/**
 * Broken model folders, each built from a copy of public/models/fenliu-demo, shared by
 * test/cli/bad-files.test.ts and scripts/reliability-report.ts. Every case must fail to load
 * with a `ModelLoadError` of `code` whose message matches `message` and says how to fix it.
 */
export interface BadFolderCase {
  /** Folder name (also the model id) and the report's case name. */
  id: string;
  name: string;
  /** Breaks the copy at `dir`. */
  break: (dir: string) => void;
  code: 'model-folder-invalid' | 'model-load-failed';
  message: RegExp;
  /** Loaded at this precision (default: the card's first, int8). */
  dtype?: string;
  /**
   * Set when the error is typed but its message still lacks a "Fix:" hint, with where that is
   * to be added: the tests accept it, the report lists the case as not passed.
   */
  knownGap?: string;
}

/** The demo card's first dtype: the ONNX file a plain load reads. */
const ONNX = join('onnx', 'model_int8.onnx');

function editJson(path: string, edit: (value: Record<string, unknown>) => void): void {
  const value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(value);
  writeFileSync(path, JSON.stringify(value, null, 2));
}

/** The smallest BERT-style WordPiece tokenizer.json: a tokenizer of another family. */
const WORDPIECE_TOKENIZER = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  })),
  normalizer: { type: 'BertNormalizer', lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: null,
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, hello: 4, order: 5 },
  },
};

export const BAD_FOLDER_CASES: readonly BadFolderCase[] = [
  {
    id: 'missing-onnx',
    name: 'ONNX file missing',
    break: (dir) => {
      rmSync(join(dir, ONNX));
    },
    code: 'model-folder-invalid',
    message: /onnx\/model_int8\.onnx is missing.*Fix: /,
  },
  {
    id: 'empty-onnx',
    name: 'ONNX file empty (0 bytes)',
    break: (dir) => {
      writeFileSync(join(dir, ONNX), '');
    },
    code: 'model-folder-invalid',
    message: /model_int8\.onnx is not a complete ONNX model: it is empty\. Fix: /,
  },
  {
    id: 'truncated-onnx',
    name: 'ONNX file truncated (first 60 %)',
    break: (dir) => {
      const path = join(dir, ONNX);
      const bytes = readFileSync(path);
      writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    },
    code: 'model-folder-invalid',
    message: /model_int8\.onnx is not a complete ONNX model: .*\(truncated\?\)\. Fix: .*again/,
  },
  {
    id: 'corrupt-onnx',
    name: 'ONNX file corrupt (random bytes, same size)',
    break: (dir) => {
      const path = join(dir, ONNX);
      const random = seededRandom(1);
      const bytes = Uint8Array.from({ length: statSync(path).size }, () =>
        Math.floor(random() * 256),
      );
      writeFileSync(path, bytes);
    },
    code: 'model-folder-invalid',
    message:
      /model_int8\.onnx is not a complete ONNX model: .*Fix: the file is truncated or corrupt/,
  },
  {
    id: 'q4-missing',
    name: 'a precision the card lists but the folder lacks (--dtype q4)',
    break: (dir) => {
      rmSync(join(dir, 'onnx', 'model_q4.onnx'));
    },
    dtype: 'q4',
    code: 'model-folder-invalid',
    message: /onnx\/model_q4\.onnx is missing: the q4 weights.*Fix: /,
  },
  {
    id: 'llama-config',
    name: 'config.json of another architecture (llama)',
    break: (dir) => {
      editJson(join(dir, 'config.json'), (config) => {
        config.model_type = 'llama';
        config.architectures = ['LlamaForCausalLM'];
      });
    },
    code: 'model-folder-invalid',
    message:
      /config\.json describes a "llama" model \(LlamaForCausalLM\); fenliu runs qwen3.*Fix: /,
  },
  {
    id: 'bad-config-json',
    name: 'config.json not JSON',
    break: (dir) => {
      writeFileSync(join(dir, 'config.json'), '{"model_type": "qwen3",');
    },
    code: 'model-folder-invalid',
    message: /config\.json is not valid JSON\. Fix: /,
  },
  {
    id: 'no-config',
    name: 'config.json missing',
    break: (dir) => {
      rmSync(join(dir, 'config.json'));
    },
    code: 'model-folder-invalid',
    message: /has no readable config\.json\. Fix: /,
  },
  {
    id: 'tokenizer-too-large',
    name: "tokenizer vocabulary larger than the model's vocab_size",
    break: (dir) => {
      editJson(join(dir, 'tokenizer.json'), (tokenizer) => {
        (tokenizer.added_tokens as unknown[]).push({
          id: 160_000,
          content: '<|extra_token|>',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: false,
          special: true,
        });
      });
    },
    code: 'model-folder-invalid',
    message:
      /tokenizer\.json does not match the model: its token ids go up to 160000 but the model's vocab_size is 151936\. Fix: /,
  },
  {
    id: 'wordpiece-tokenizer',
    name: 'tokenizer.json of another family (BERT WordPiece)',
    break: (dir) => {
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(WORDPIECE_TOKENIZER));
    },
    code: 'model-folder-invalid',
    message:
      /tokenizer\.json does not match the model: it encodes <\|im_start\|> as \[[\d, ]*\], not \[151644\].*Fix: /,
  },
  {
    id: 'no-model-card',
    name: 'fenliu.json (the catalog the model was trained on) missing',
    break: (dir) => {
      rmSync(join(dir, 'fenliu.json'));
    },
    code: 'model-folder-invalid',
    message: /has no readable fenliu\.json\. Fix: /,
  },
  {
    id: 'bad-model-card',
    name: 'fenliu.json catalog invalid (fallback not an intent, undeclared tool)',
    break: (dir) => {
      editJson(join(dir, 'fenliu.json'), (card) => {
        card.fallbackIntent = 'nope';
        const intents = card.intents as { tool?: string }[];
        if (intents[0]) intents[0].tool = 'launch_rockets';
      });
    },
    code: 'model-folder-invalid',
    message:
      /fenliu\.json: .*"launch_rockets", which "tools" does not declare.*"fallbackIntent" must be one of the intent ids/,
  },
  {
    id: 'cut-model-card',
    name: 'fenliu.json cut short (not JSON)',
    break: (dir) => {
      const path = join(dir, 'fenliu.json');
      const text = readFileSync(path, 'utf8');
      writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
    },
    code: 'model-folder-invalid',
    message: /fenliu\.json is not valid JSON \(.+\)\. Fix: /,
  },
  {
    id: 'dtype-not-shipped',
    name: 'a precision the card does not list (--dtype fp16)',
    break: () => undefined,
    dtype: 'fp16',
    code: 'model-load-failed',
    message: /ships int8, q4, not fp16\. Fix: /,
  },
];

/** Copies the demo model to `root/<id>` and breaks it; returns the folder. */
export function buildBadFolder(root: string, testCase: BadFolderCase): string {
  const dir = join(root, testCase.id);
  cpSync(join(PUBLIC_MODELS, DEMO_MODEL_ID), dir, { recursive: true, dereference: true });
  testCase.break(dir);
  return dir;
}

/** Loads a broken folder in-process; the typed error it fails with, or the problem. */
export async function loadBadFolder(
  root: string,
  testCase: BadFolderCase,
): Promise<{ error?: unknown; problem?: string }> {
  configureRuntime({ modelRoot: root });
  try {
    const classifier = await IntentClassifier.load({
      modelId: testCase.id,
      device: 'cpu',
      ...(testCase.dtype !== undefined && { dtype: testCase.dtype as 'int8' }),
    });
    await classifier.dispose();
    return { problem: 'it loaded' };
  } catch (error) {
    if (!(error instanceof ModelLoadError)) {
      return { error, problem: `not a ModelLoadError: ${errorMessage(error)}` };
    }
    if (error.code !== testCase.code) return { error, problem: `code ${error.code}` };
    if (!testCase.message.test(error.message)) {
      return { error, problem: `message does not match: ${error.message}` };
    }
    if (testCase.knownGap === undefined && !error.message.includes('Fix: ')) {
      return { error, problem: `no "Fix:" hint: ${error.message}` };
    }
    return { error };
  }
}

/** `fenliu classify 你好 --model <dir>` (spawned like `npx fenliu`). */
export function classifyWithCli(
  dir: string,
  dtype?: string,
): { status: number | null; stdout: string; stderr: string } {
  const args = ['bin/fenliu.js', 'classify', '你好', '--model', dir];
  if (dtype !== undefined) args.push('--dtype', dtype);
  const result = spawnSync(process.execPath, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, FENLIU_DEBUG: '' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Problems with the CLI's answer to a broken folder (empty when it is a clean failure). */
export function cliProblems(
  testCase: BadFolderCase,
  run: { status: number | null; stdout: string; stderr: string },
): string[] {
  const problems: string[] = [];
  if (run.status !== 1) problems.push(`exit code ${run.status}`);
  if (run.stdout !== '') problems.push('printed to stdout');
  const lines = run.stderr.trim().split('\n');
  if (lines.length !== 1) problems.push(`${lines.length} stderr lines`);
  if (/\n\s+at /.test(run.stderr)) problems.push('stack trace');
  if (!lines[0]?.startsWith('fenliu classify: ')) problems.push('no "fenliu classify:" prefix');
  if (!testCase.message.test(run.stderr)) problems.push(`message: ${run.stderr.trim()}`);
  return problems;
}

/** Runs one case in the engine and the CLI, in the report's shape. */
export async function runBadFolderCase(
  root: string,
  testCase: BadFolderCase,
): Promise<CaseOutcome> {
  const dir = buildBadFolder(root, testCase);
  const engine = await loadBadFolder(root, testCase);
  const cli = classifyWithCli(dir, testCase.dtype);
  const problems = [
    ...(engine.problem === undefined ? [] : [`engine: ${engine.problem}`]),
    ...cliProblems(testCase, cli).map((problem) => `CLI: ${problem}`),
  ];
  const message = engine.error instanceof Error ? engine.error.message : '';
  const gap = testCase.knownGap === undefined ? '' : ` KNOWN GAP: ${testCase.knownGap}.`;
  const outcome =
    problems.length === 0
      ? `ModelLoadError (${testCase.code}) in the engine and CLI exit 1: "${message}"${gap}`
      : `PROBLEMS: ${problems.join('; ')}`;
  return {
    area: 'bad files',
    case: testCase.name,
    outcome,
    ok: problems.length === 0 && testCase.knownGap === undefined,
    ...(testCase.knownGap !== undefined && { gap: testCase.knownGap }),
  };
}
