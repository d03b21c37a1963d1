/**
 * The fault switches of the test harness page, shared by the page (which reads them from its
 * URL) and the fault-injecting worker (which gets them through the worker's `name`).
 */

/**
 * `fail-creation`: WebGPU session creation fails (ORT gets no adapter) after the device probe
 * granted one; `lose-device`: the WebGPU device is destroyed after the first message.
 */
export type WebGpuFailure = 'fail-creation' | 'lose-device';

/**
 * On the first message after loading, `crash` throws outside any call (as an engine abort or
 * out-of-memory would) and never answers; `hang` spins the thread forever.
 */
export type WorkerFault = 'crash' | 'hang';

export interface WorkerFaults {
  webgpu?: WebGpuFailure;
  fault?: WorkerFault;
}

export function parseWebGpuFailure(value: string | null): WebGpuFailure | undefined {
  return value === 'fail-creation' || value === 'lose-device' ? value : undefined;
}

export function parseWorkerFault(value: string | null): WorkerFault | undefined {
  return value === 'crash' || value === 'hang' ? value : undefined;
}
