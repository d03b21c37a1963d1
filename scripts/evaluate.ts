/**
 * The older entry point for scoring a model folder, kept for `scripts/train-demo.sh`: it runs
 * `fenliu eval` with the model given as an id under a root folder.
 *
 *   npx tsx scripts/evaluate.ts --model fenliu-demo --data data/demo/test.jsonl [--dtype int8] \
 *     [--root public/models] [--out DIR]
 *
 * Same as: npx fenliu eval --model public/models/fenliu-demo --data data/demo/test.jsonl
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DEMO_MODEL_ID, PUBLIC_MODELS, REPO_ROOT, TRAINING_BUILD } from './lib/paths';

const args = process.argv.slice(2);
const take = (flag: string): string | undefined => {
  const index = args.indexOf(flag);
  if (index < 0) return undefined;
  const [, value] = args.splice(index, 2);
  return value;
};
const modelId = take('--model') ?? DEMO_MODEL_ID;
const root = take('--root') ?? PUBLIC_MODELS;
const out = take('--out') ?? join(TRAINING_BUILD, 'eval', modelId);
const result = spawnSync(
  process.execPath,
  [
    join(REPO_ROOT, 'bin', 'fenliu.js'),
    'eval',
    '--model',
    join(root, modelId),
    '--out',
    out,
    ...args,
  ],
  { stdio: 'inherit' },
);
process.exitCode = result.status ?? 1;
