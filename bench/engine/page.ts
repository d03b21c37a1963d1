import * as ort from 'onnxruntime-web/webgpu';
import { configureRuntime } from '../../src/engine/runtime';
import { measureCeiling, type CeilingModel } from './ceiling';
import { runEngineCase, runNaiveCase, type BenchCase, type LabelledMessage } from './recipes';

/**
 * The browser half of `npm run bench`: the runner (run.ts) opens this page in Chromium and calls
 * `window.fenliuBench` with each case, so the same recipes run here as in Node.
 */
const params = new URLSearchParams(location.search);
const threads = crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1;
configureRuntime({
  modelRoot: params.get('modelRoot') ?? '/models/',
  wasmPaths: {
    mjs: '/ort/ort-wasm-simd-threaded.asyncify.mjs',
    wasm: '/ort/ort-wasm-simd-threaded.asyncify.wasm',
  },
  numThreads: threads,
});

const bench = {
  environment: () => ({ crossOriginIsolated, threads, userAgent: navigator.userAgent }),
  runNaive: (benchCase: BenchCase, messages: LabelledMessage[]) =>
    runNaiveCase(benchCase, messages),
  runEngine: (benchCase: BenchCase, messages: LabelledMessage[]) =>
    runEngineCase(benchCase, messages),
  async ceiling(model: CeilingModel) {
    const session = await ort.InferenceSession.create(`/bench-assets/${model}.onnx`, {
      executionProviders: ['wasm'],
    });
    try {
      return await measureCeiling(
        session,
        model,
        (data, dims) => new ort.Tensor('float32', data, dims),
      );
    } finally {
      await session.release();
    }
  },
};

declare global {
  interface Window {
    fenliuBench?: typeof bench;
  }
}
window.fenliuBench = bench;
const status = document.getElementById('status');
if (status) status.textContent = 'ready';
