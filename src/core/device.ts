import type { Device } from './classifier';

/** What the caller asks for: `auto` probes; the others force a backend (tests, power users). */
export type DevicePreference = 'auto' | 'wasm' | 'webgpu';

export interface DeviceChoice {
  device: Extract<Device, 'wasm' | 'webgpu'>;
  /** Why this device was chosen, in words shown to the user. */
  reason: string;
}

interface GpuAdapterLike {
  info?: { isFallbackAdapter?: boolean };
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
  if (preference === 'wasm') return { device: 'wasm', reason: 'WASM requested' };
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = gpu ? await gpu.requestAdapter() : null;
  } catch {
    adapter = null;
  }
  if (!adapter) return { device: 'wasm', reason: 'no WebGPU adapter granted' };
  const fallbackAdapter = adapter.info?.isFallbackAdapter === true;
  if (preference === 'webgpu') {
    return {
      device: 'webgpu',
      reason: fallbackAdapter ? 'WebGPU requested (software adapter)' : 'WebGPU requested',
    };
  }
  if (fallbackAdapter) {
    return { device: 'wasm', reason: 'only a software WebGPU adapter: WASM is faster' };
  }
  return { device: 'webgpu', reason: 'WebGPU adapter granted' };
}
