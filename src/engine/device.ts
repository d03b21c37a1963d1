import type { Device } from './classifier';

/** What the caller asks for: `auto` probes; the others force a backend (tests, power users). */
export type DevicePreference = 'auto' | 'wasm' | 'webgpu';

/**
 * Why the model runs where it runs, as serialisable data (it crosses the worker in the ready
 * status and in `fallbackFrom`); the widget words it in the user's language (src/ui/reasons.ts),
 * `deviceReasonEnglish` in English for logs and the status event.
 *
 * The probe's answers: `wasm-requested`, `webgpu-requested` (`-software`: on a software adapter),
 * `no-adapter` (no `navigator.gpu`, or no adapter granted), `software-adapter-slower` (`auto` with
 * only a software adapter: WASM is faster), `adapter-granted`; `node-cpu` is onnxruntime-node.
 * The fallbacks to WASM after WebGPU failed, with the error's own words in `detail`:
 * `webgpu-session-failed` and `webgpu-output-mismatch` (the canaries) at load,
 * `webgpu-run-failed` and `webgpu-device-lost` later.
 */
export type DeviceReason =
  | {
      code:
        | 'wasm-requested'
        | 'webgpu-requested'
        | 'webgpu-requested-software'
        | 'no-adapter'
        | 'software-adapter-slower'
        | 'adapter-granted'
        | 'node-cpu';
    }
  | { code: WebGpuFailureCode; detail: string };

/** How WebGPU failed, each followed by a switch to WASM (`fellBack`). */
export type WebGpuFailureCode =
  'webgpu-session-failed' | 'webgpu-output-mismatch' | 'webgpu-run-failed' | 'webgpu-device-lost';

/** Every `DeviceReason` code (for exhaustive tests). */
export const DEVICE_REASON_CODES = [
  'wasm-requested',
  'webgpu-requested',
  'webgpu-requested-software',
  'no-adapter',
  'software-adapter-slower',
  'adapter-granted',
  'node-cpu',
  'webgpu-session-failed',
  'webgpu-output-mismatch',
  'webgpu-run-failed',
  'webgpu-device-lost',
] as const satisfies readonly DeviceReason['code'][];

/** Whether the reason is a failed WebGPU and the model runs on WASM instead. */
export function isWebGpuFailure(
  reason: DeviceReason,
): reason is Extract<DeviceReason, { detail: string }> {
  return 'detail' in reason;
}

/**
 * A device reason in English words, as `Backend.reason` carries it (logs, the `fenliu-status`
 * event). A load-time failure reads "…; using WASM", a later one "…; switched to WASM".
 *
 * @example
 * deviceReasonEnglish({ code: 'no-adapter' }); // 'no WebGPU adapter granted'
 * deviceReasonEnglish({ code: 'webgpu-device-lost', detail: 'destroyed: Device was destroyed.' });
 * // 'WebGPU device lost (destroyed: Device was destroyed.); switched to WASM'
 */
export function deviceReasonEnglish(reason: DeviceReason): string {
  switch (reason.code) {
    case 'wasm-requested':
      return 'WASM requested';
    case 'webgpu-requested':
      return 'WebGPU requested';
    case 'webgpu-requested-software':
      return 'WebGPU requested (software adapter)';
    case 'no-adapter':
      return 'no WebGPU adapter granted';
    case 'software-adapter-slower':
      return 'only a software WebGPU adapter: WASM is faster';
    case 'adapter-granted':
      return 'WebGPU adapter granted';
    case 'node-cpu':
      return 'onnxruntime-node';
    case 'webgpu-session-failed':
      return `WebGPU failed at session creation (${reason.detail}); using WASM`;
    case 'webgpu-output-mismatch':
      return `WebGPU computed wrong outputs: the model's canary check failed (${reason.detail}); using WASM`;
    case 'webgpu-run-failed':
      return `WebGPU failed while running (${reason.detail}); switched to WASM`;
    case 'webgpu-device-lost':
      return `WebGPU device lost (${reason.detail}); switched to WASM`;
  }
}

export interface DeviceChoice {
  device: Extract<Device, 'wasm' | 'webgpu'>;
  /** Why this device was chosen (`deviceReasonEnglish` words it). */
  reasonCode: DeviceReason;
  /** The adapter supports `shader-f16` (half-precision shaders), which q4f16/fp16 models need. */
  shaderF16: boolean;
}

interface GpuAdapterLike {
  info?: { isFallbackAdapter?: boolean };
  features?: { has(feature: string): boolean };
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}

/**
 * Picks WebGPU only when an adapter is really granted: `navigator.gpu` can exist with no adapter
 * behind it. A software fallback adapter (e.g. SwiftShader) is far slower than WASM, so `auto`
 * prefers WASM over it; forcing `webgpu` still uses it (that is how tests cover the WebGPU path).
 */
export async function chooseDevice(preference: DevicePreference): Promise<DeviceChoice> {
  if (preference === 'wasm') {
    return { device: 'wasm', reasonCode: { code: 'wasm-requested' }, shaderF16: false };
  }
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (!adapter) return { device: 'wasm', reasonCode: { code: 'no-adapter' }, shaderF16: false };
  const fallbackAdapter = adapter.info?.isFallbackAdapter === true;
  const shaderF16 = adapter.features?.has('shader-f16') === true;
  if (preference === 'webgpu') {
    return {
      device: 'webgpu',
      reasonCode: { code: fallbackAdapter ? 'webgpu-requested-software' : 'webgpu-requested' },
      shaderF16,
    };
  }
  if (fallbackAdapter) {
    return {
      device: 'wasm',
      reasonCode: { code: 'software-adapter-slower' },
      shaderF16: false,
    };
  }
  return { device: 'webgpu', reasonCode: { code: 'adapter-granted' }, shaderF16 };
}

/**
 * Precisions by preference on each backend, best first. WebGPU with `shader-f16` runs 4-bit
 * weights with half-precision activations (q4f16) fastest; without it f16 shaders do not compile,
 * so 4-bit/8-bit weights with fp32 activations come next. WASM has no fast f16 kernels: 8-bit
 * weights are smallest among the fast ones, then 4-bit, then fp32.
 */
const DTYPE_PREFERENCE = {
  webgpuF16: ['q4f16', 'fp16', 'q4', 'int8', 'q8', 'uint8', 'fp32'],
  webgpu: ['q4', 'int8', 'q8', 'uint8', 'fp32'],
  wasm: ['int8', 'q8', 'uint8', 'q4', 'fp32'],
} as const;

/**
 * The best precision a model folder ships for a device, from the model card's `dtypes`. Returns
 * null when none of the shipped precisions can run there (e.g. only q4f16 on WASM).
 *
 * @example
 * chooseDtype({ device: 'webgpu', shaderF16: true }, ['int8', 'q4f16']); // 'q4f16'
 * chooseDtype({ device: 'wasm', shaderF16: false }, ['int8', 'q4f16']); // 'int8'
 */
export function chooseDtype(
  choice: Pick<DeviceChoice, 'device' | 'shaderF16'>,
  shipped: readonly string[],
): string | null {
  const order =
    choice.device === 'wasm'
      ? DTYPE_PREFERENCE.wasm
      : choice.shaderF16
        ? DTYPE_PREFERENCE.webgpuF16
        : DTYPE_PREFERENCE.webgpu;
  return order.find((dtype) => shipped.includes(dtype)) ?? null;
}
