import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseDevice, chooseDtype } from '../../src/engine/device';

// NOTE: the decision logic only; the real adapters (none, and SwiftShader's fallback adapter)
// are exercised in Chromium by test/e2e.
function withAdapter(adapter: unknown) {
  vi.stubGlobal('navigator', { gpu: { requestAdapter: () => Promise.resolve(adapter) } });
}
const features = (...names: string[]) => ({ has: (name: string) => names.includes(name) });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('chooseDevice', () => {
  it('uses WASM when no navigator.gpu exists or no adapter is granted', async () => {
    vi.stubGlobal('navigator', {});
    expect((await chooseDevice('auto')).reasonCode).toEqual({ code: 'no-adapter' });
    withAdapter(null);
    expect(await chooseDevice('auto')).toEqual({
      device: 'wasm',
      reasonCode: { code: 'no-adapter' },
      shaderF16: false,
    });
  });

  it('uses WASM when requestAdapter throws', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: () => Promise.reject(new Error('x')) } });
    expect((await chooseDevice('auto')).device).toBe('wasm');
  });

  it('prefers WASM over a software fallback adapter unless WebGPU is forced', async () => {
    withAdapter({ info: { isFallbackAdapter: true }, features: features() });
    expect(await chooseDevice('auto')).toEqual({
      device: 'wasm',
      reasonCode: { code: 'software-adapter-slower' },
      shaderF16: false,
    });
    expect(await chooseDevice('webgpu')).toEqual({
      device: 'webgpu',
      reasonCode: { code: 'webgpu-requested-software' },
      shaderF16: false,
    });
  });

  it('uses WebGPU with a real adapter, reports shader-f16, and WASM when asked', async () => {
    withAdapter({ info: { isFallbackAdapter: false }, features: features('shader-f16') });
    expect(await chooseDevice('auto')).toEqual({
      device: 'webgpu',
      reasonCode: { code: 'adapter-granted' },
      shaderF16: true,
    });
    expect(await chooseDevice('webgpu')).toMatchObject({
      reasonCode: { code: 'webgpu-requested' },
    });
    expect(await chooseDevice('wasm')).toEqual({
      device: 'wasm',
      reasonCode: { code: 'wasm-requested' },
      shaderF16: false,
    });
    withAdapter({ info: { isFallbackAdapter: false }, features: features('timestamp-query') });
    expect((await chooseDevice('auto')).shaderF16).toBe(false);
  });
});

describe('chooseDtype', () => {
  const f16 = { device: 'webgpu', shaderF16: true } as const;
  const gpu = { device: 'webgpu', shaderF16: false } as const;
  const wasm = { device: 'wasm', shaderF16: false } as const;

  it('takes q4f16 on WebGPU with shader-f16, never on WASM or without f16 shaders', () => {
    const shipped = ['fp32', 'int8', 'q4', 'q4f16'];
    expect(chooseDtype(f16, shipped)).toBe('q4f16');
    expect(chooseDtype(gpu, shipped)).toBe('q4');
    expect(chooseDtype(wasm, shipped)).toBe('int8');
  });

  it('falls back through the shipped precisions and returns null when none runs', () => {
    expect(chooseDtype(wasm, ['fp32', 'q4'])).toBe('q4');
    expect(chooseDtype(wasm, ['fp32'])).toBe('fp32');
    expect(chooseDtype(f16, ['int8'])).toBe('int8');
    expect(chooseDtype(wasm, ['q4f16', 'fp16'])).toBeNull();
  });
});
