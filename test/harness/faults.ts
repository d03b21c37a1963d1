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
 * out-of-memory would) and never answers; `hang` spins the thread forever; `exit` calls
 * `self.close()` (as a worker killed for memory ends: no error event, no answer). `exit-idle`
 * closes the worker right after it loaded, with no message in flight, and hides Web Locks from it
 * (as a browser without them would), so only the client's heartbeat can notice.
 */
export type WorkerFault = 'crash' | 'hang' | 'exit' | 'exit-idle';

const WORKER_FAULTS: readonly WorkerFault[] = ['crash', 'hang', 'exit', 'exit-idle'];

export interface WorkerFaults {
  webgpu?: WebGpuFailure;
  fault?: WorkerFault;
}

export function parseWebGpuFailure(value: string | null): WebGpuFailure | undefined {
  return value === 'fail-creation' || value === 'lose-device' ? value : undefined;
}

export function parseWorkerFault(value: string | null): WorkerFault | undefined {
  return WORKER_FAULTS.find((fault) => fault === value);
}
