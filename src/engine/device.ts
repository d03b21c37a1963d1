import type { Device } from './classifier';

/** What the caller asks for: `auto` probes; the others force a backend (tests, power users). */
export type DevicePreference = 'auto' | 'wasm' | 'webgpu';

export interface DeviceChoice {
  device: Extract<Device, 'wasm' | 'webgpu'>;
  /** Why this device was chosen, in words shown to the user. */
  reason: string;
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
  if (preference === 'wasm') return { device: 'wasm', reason: 'WASM requested', shaderF16: false };
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (!adapter) return { device: 'wasm', reason: 'no WebGPU adapter granted', shaderF16: false };
  const fallbackAdapter = adapter.info?.isFallbackAdapter === true;
  const shaderF16 = adapter.features?.has('shader-f16') === true;
  if (preference === 'webgpu') {
    return {
      device: 'webgpu',
      reason: fallbackAdapter ? 'WebGPU requested (software adapter)' : 'WebGPU requested',
      shaderF16,
    };
  }
  if (fallbackAdapter) {
    return {
      device: 'wasm',
      reason: 'only a software WebGPU adapter: WASM is faster',
      shaderF16: false,
    };
  }
  return { device: 'webgpu', reason: 'WebGPU adapter granted', shaderF16 };
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
