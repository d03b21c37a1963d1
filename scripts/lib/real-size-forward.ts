/**
 * One forward pass (prefill with `num_logits_to_keep` 1, then one cached step) of a model folder
 * in transformers.js, in Node and in headless Chromium (onnxruntime-web WASM), with timings and
 * peak memory. Used by scripts/bench-real-size.ts for the real-size proof.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, dirname, extname, join, normalize } from 'node:path';
import { AutoModelForCausalLM, Tensor, type DataType } from '@huggingface/transformers';
import { encodePrompt } from '../../src/engine/prompt';
import { configureRuntime } from '../../src/engine/runtime';
import { launchChromium } from './browser';
import { REPO_ROOT } from './paths';
import { loadQwen3Tokenizer } from './tokenizer';

export interface ForwardResult {
  runtime: 'node' | 'chromium-wasm';
  dtype: string;
  load_ms?: number;
  prefill_ms?: number;
  step_ms?: number;
  prompt_tokens?: number;
  /** Argmax of the prefill's last logits (the model's first answer token). */
  next_token?: number;
  /** Shape of the prefill logits: [1, 1, vocab] when num_logits_to_keep works. */
  logits_dims?: number[];
  peak_memory_mb?: number;
  note?: string;
  error?: string;
}

/** The message every forward pass uses (the demo's acceptance message). */
export const REAL_SIZE_MESSAGE = '修改我的收货地址';

async function promptIds(): Promise<number[]> {
  return encodePrompt(await loadQwen3Tokenizer(), REAL_SIZE_MESSAGE, null);
}

function argmax(data: ArrayLike<number>, from: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++)
    if ((data[from + i] ?? -Infinity) > (data[from + best] ?? -Infinity)) best = i;
  return best;
}

const int64 = (values: number[], dims: number[]) =>
  new Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** Loads MODELDIR with onnxruntime-node and times a prefill and one cached step. */
export async function forwardInNode(modelDir: string, dtype: string): Promise<ForwardResult> {
  configureRuntime({ modelRoot: dirname(modelDir) });
  const ids = await promptIds();
  let t = performance.now();
  const model = await AutoModelForCausalLM.from_pretrained(basename(modelDir), {
    device: 'cpu',
    dtype: dtype as DataType,
  });
  const load_ms = performance.now() - t;
  try {
    t = performance.now();
    const prefill = (await model.forward({
      input_ids: int64(ids, [1, ids.length]),
      attention_mask: int64(
        ids.map(() => 1),
        [1, ids.length],
      ),
      num_logits_to_keep: int64([1], []),
    })) as Record<string, Tensor>;
    const prefill_ms = performance.now() - t;
    const logits = prefill.logits as Tensor;
    const vocab = logits.dims.at(-1) ?? 0;
    const next = argmax(logits.data as Float32Array, logits.data.length - vocab, vocab);
    const past: Record<string, Tensor> = {};
    for (const [name, tensor] of Object.entries(prefill)) {
      if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = tensor;
    }
    t = performance.now();
    await model.forward({
      input_ids: int64([next], [1, 1]),
      attention_mask: int64(
        [...ids, next].map(() => 1),
        [1, ids.length + 1],
      ),
      past_key_values: past,
      num_logits_to_keep: int64([1], []),
    });
    const step_ms = performance.now() - t;
    return {
      runtime: 'node',
      dtype,
      load_ms,
      prefill_ms,
      step_ms,
      prompt_tokens: ids.length,
      next_token: next,
      logits_dims: logits.dims,
      peak_memory_mb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await model.dispose();
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import * as T from '/tf/transformers.min.js';
T.env.allowRemoteModels = false;
T.env.allowLocalModels = true;
T.env.localModelPath = '/models/';
T.env.useBrowserCache = false;
T.env.backends.onnx.wasm.wasmPaths = {
  mjs: '/ort/ort-wasm-simd-threaded.asyncify.mjs',
  wasm: '/ort/ort-wasm-simd-threaded.asyncify.wasm',
};
T.env.backends.onnx.wasm.numThreads = self.crossOriginIsolated ? 2 : 1;
const int64 = (values, dims) => new T.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
window.forward = async (modelId, dtype, ids) => {
  let t = performance.now();
  const model = await T.AutoModelForCausalLM.from_pretrained(modelId, { device: 'wasm', dtype });
  const load_ms = performance.now() - t;
  t = performance.now();
  const prefill = await model.forward({
    input_ids: int64(ids, [1, ids.length]),
    attention_mask: int64(ids.map(() => 1), [1, ids.length]),
    num_logits_to_keep: int64([1], []),
  });
  const prefill_ms = performance.now() - t;
  const logits = prefill.logits;
  const vocab = logits.dims.at(-1);
  let next = 0;
  const data = logits.data, base = data.length - vocab;
  for (let i = 1; i < vocab; i++) if (data[base + i] > data[base + next]) next = i;
  const past = {};
  for (const [name, tensor] of Object.entries(prefill)) {
    if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = tensor;
  }
  t = performance.now();
  await model.forward({
    input_ids: int64([next], [1, 1]),
    attention_mask: int64([...ids, next].map(() => 1), [1, ids.length + 1]),
    past_key_values: past,
    num_logits_to_keep: int64([1], []),
  });
  const step_ms = performance.now() - t;
  await model.dispose();
  return { load_ms, prefill_ms, step_ms, next_token: next, logits_dims: logits.dims,
           threads: T.env.backends.onnx.wasm.numThreads, isolated: self.crossOriginIsolated };
};
window.ready = true;
</script>`;

/** Serves the page, transformers.js's browser bundle, ORT's WASM files and MODELDIR (as
 * /models/<its name>/) from one cross-origin-isolated loopback origin. */
function serve(modelDir: string): Promise<{ url: string; server: Server }> {
  const roots: [string, string][] = [
    ['/tf/', join(REPO_ROOT, 'node_modules', '@huggingface', 'transformers', 'dist')],
    ['/ort/', join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist')],
    [`/models/${basename(modelDir)}/`, modelDir],
  ];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (path === '/') {
      res.setHeader('Content-Type', 'text/html');
      res.end(PAGE);
      return;
    }
    for (const [prefix, root] of roots) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(root, path.slice(prefix.length)));
      if (file.startsWith(root) && existsSync(file) && statSync(file).isFile()) {
        res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
        res.setHeader('Content-Length', statSync(file).size);
        createReadStream(file).pipe(res);
        return;
      }
    }
    res.statusCode = 404;
    res.end();
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      done({ url: `http://127.0.0.1:${port}/`, server });
    });
  });
}

/** Peak RSS (VmHWM) summed over this process's descendants (Chromium's processes), in MB. */
function descendantsPeakMb(): number {
  const children = new Map<number, number[]>();
  const hwm = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      hwm.set(Number(entry), Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we read /proc
    }
  }
  let total = 0;
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop() ?? 0;
    total += hwm.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total / 1024;
}

/** Loads MODELDIR in headless Chromium (WASM backend) and times a prefill and one cached step. */
export async function forwardInChromium(modelDir: string, dtype: string): Promise<ForwardResult> {
  const ids = await promptIds();
  const { url, server } = await serve(modelDir);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(900_000);
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const result = await page.evaluate(
      async ([modelId, d, promptIds]) => {
        const w = window as unknown as {
          forward: (m: string, d: string, i: number[]) => Promise<Record<string, unknown>>;
        };
        return w.forward(modelId, d, promptIds);
      },
      [basename(modelDir), dtype, ids] as const,
    );
    const peak = descendantsPeakMb();
    return {
      runtime: 'chromium-wasm',
      dtype,
      load_ms: result.load_ms as number,
      prefill_ms: result.prefill_ms as number,
      step_ms: result.step_ms as number,
      prompt_tokens: ids.length,
      next_token: result.next_token as number,
      logits_dims: result.logits_dims as number[],
      peak_memory_mb: peak,
      note: `WASM, ${String(result.threads)} thread(s), cross-origin isolated ${String(result.isolated)}`,
    };
  } catch (error) {
    return { runtime: 'chromium-wasm', dtype, error: String(error).slice(0, 1000) };
  } finally {
    await browser.close();
    server.close();
  }
}
