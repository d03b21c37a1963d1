/**
 * The classifier worker with fault switches (test harness only): the product's worker API
 * (workers/worker-api.ts) wrapped so that WebGPU fails for real and the worker crashes, hangs or
 * exits, as they do in the wild. The switches come in the worker's `name` (see ./main.tsx).
 */
import { env } from '@huggingface/transformers';
import { expose } from 'comlink';
import { installErrorTransfer } from '../../src/engine/worker-errors';
import type { ClassifierWorkerApi } from '../../src/engine/worker-protocol';
import { createWorkerApi } from '../../workers/worker-api';
import type { WorkerFaults } from './faults';

interface GpuLike {
  requestAdapter: () => Promise<unknown>;
}

function readFaults(): WorkerFaults {
  try {
    return JSON.parse(self.name) as WorkerFaults;
  } catch {
    return {};
  }
}

/** Grants the device probe its adapter, then refuses ORT's own request: session creation fails. */
function failWebGpuSessionCreation(): void {
  const gpu = (navigator as { gpu?: GpuLike }).gpu;
  if (!gpu) return;
  const granted = gpu.requestAdapter.bind(gpu);
  let requests = 0;
  gpu.requestAdapter = () => {
    requests += 1;
    return requests === 1 ? granted() : Promise.resolve(null);
  };
}

/** Destroys the very device ORT runs on, as a driver reset would. */
async function loseWebGpuDevice(): Promise<void> {
  const ort = env.backends.onnx as { webgpu?: { device?: Promise<{ destroy(): void }> } };
  (await ort.webgpu?.device)?.destroy();
}

/** Ends this worker as `self.close()` does: no error event, nothing answered again. */
function exit(): Promise<never> {
  self.close();
  return new Promise<never>(() => undefined);
}

/** Carries out a crash, hang or exit: never returns. */
function misbehave(fault: NonNullable<WorkerFaults['fault']>): Promise<never> {
  if (fault === 'exit' || fault === 'exit-idle') return exit();
  if (fault === 'hang') {
    const never = Number.POSITIVE_INFINITY;
    while (performance.now() < never) {
      // NOTE: spin without yielding, like a runaway kernel: only terminate() stops this thread.
    }
  }
  setTimeout(() => {
    throw new Error('Simulated crash: the engine aborted while classifying.');
  });
  return new Promise<never>(() => undefined);
}

installErrorTransfer();
const faults = readFaults();
if (faults.webgpu === 'fail-creation') failWebGpuSessionCreation();
if (faults.fault === 'exit-idle') {
  // NOTE: an own property shadows WorkerNavigator's getter: `holdLifeline` finds no Web Locks.
  Object.defineProperty(navigator, 'locks', { value: undefined });
}
const product = createWorkerApi();
let loseDeviceAfterNextMessage = faults.webgpu === 'lose-device';
let faultAfterLoad = false;

const api: ClassifierWorkerApi = {
  ...product,
  async load(request, onStatus) {
    const outcome = await product.load(request, onStatus);
    faultAfterLoad = faults.fault !== undefined;
    // NOTE: a task later, so the answer to `load` is sent first: the page sees a ready worker.
    if (faults.fault === 'exit-idle') setTimeout(() => void exit());
    return outcome;
  },
  async classify(text, requestId) {
    if (faultAfterLoad && faults.fault) return misbehave(faults.fault);
    const result = await product.classify(text, requestId);
    if (loseDeviceAfterNextMessage) {
      loseDeviceAfterNextMessage = false;
      await loseWebGpuDevice();
    }
    return result;
  },
};

expose(api);
