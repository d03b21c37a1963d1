import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseDevice } from '../../src/core/device';

// NOTE: the decision logic only; the real adapters (none, and SwiftShader's fallback adapter)
// are exercised in Chromium by test/e2e.
function withAdapter(adapter: unknown) {
  vi.stubGlobal('navigator', { gpu: { requestAdapter: () => Promise.resolve(adapter) } });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('chooseDevice', () => {
  it('uses WASM when no navigator.gpu exists or no adapter is granted', async () => {
    vi.stubGlobal('navigator', {});
    expect((await chooseDevice('auto')).device).toBe('wasm');
    withAdapter(null);
    expect(await chooseDevice('auto')).toEqual({
      device: 'wasm',
      reason: 'no WebGPU adapter granted',
    });
  });

  it('uses WASM when requestAdapter throws', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: () => Promise.reject(new Error('x')) } });
    expect((await chooseDevice('auto')).device).toBe('wasm');
  });

  it('prefers WASM over a software fallback adapter unless WebGPU is forced', async () => {
    withAdapter({ info: { isFallbackAdapter: true } });
    expect((await chooseDevice('auto')).device).toBe('wasm');
    expect(await chooseDevice('webgpu')).toEqual({
      device: 'webgpu',
      reason: 'WebGPU requested (software adapter)',
    });
  });

  it('uses WebGPU with a real adapter, and WASM when asked', async () => {
    withAdapter({ info: { isFallbackAdapter: false } });
    expect(await chooseDevice('auto')).toEqual({
      device: 'webgpu',
      reason: 'WebGPU adapter granted',
    });
    expect((await chooseDevice('wasm')).device).toBe('wasm');
  });
});
