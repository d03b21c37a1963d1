/**
 * The test harness page (dist/test/harness/): the demo page, with the fault switches the e2e
 * tests use and the product does not carry. `?simulate-webgpu-failure=fail-creation|lose-device`
 * and `?simulate-fault=crash|hang|exit|exit-idle` (see ./faults.ts) go to the first classifier
 * worker only (a replacement must work, or nothing could be tested); `?test-storage-quota=<bytes>`
 * replaces the storage estimate. Every other switch is the demo page's.
 * `<html data-workers-started>` counts the classifier workers started.
 */
import { startDemo } from '../../src/demo/app';
import { parseWebGpuFailure, parseWorkerFault, type WorkerFaults } from './faults';

const params = new URLSearchParams(location.search);
const firstWorkerFaults: WorkerFaults = {};
const webgpu = parseWebGpuFailure(params.get('simulate-webgpu-failure'));
const fault = parseWorkerFault(params.get('simulate-fault'));
if (webgpu) firstWorkerFaults.webgpu = webgpu;
if (fault) firstWorkerFaults.fault = fault;
const quota = Number(params.get('test-storage-quota') ?? NaN);
let workersStarted = 0;

void startDemo({
  createWorker: () => {
    workersStarted += 1;
    // For the tests: a replaced worker shows here as a count past 1.
    document.documentElement.dataset.workersStarted = String(workersStarted);
    const faults = workersStarted === 1 ? firstWorkerFaults : {};
    // NOTE: the worker's name carries the switches: Vite bundles a worker only from a literal
    // `new URL(…, import.meta.url)`, so the URL cannot carry a query.
    return new Worker(new URL('./fault-injection.worker.ts', import.meta.url), {
      type: 'module',
      name: JSON.stringify(faults),
    });
  },
  ...(Number.isFinite(quota) && { quotaForTest: quota }),
});
