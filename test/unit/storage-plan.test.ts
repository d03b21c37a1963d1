import { describe, expect, it } from 'vitest';
import { decideStoragePlan } from '../../src/sw/manifest';

describe('decideStoragePlan', () => {
  const model = 40e6;

  it('caches the model when the free quota holds it with 20 % headroom', () => {
    expect(
      decideStoragePlan({ persisted: true, quota: 10e9, usage: 1e9, modelBytes: model }),
    ).toEqual({ cacheModel: true, persisted: true, reason: 'persistent storage, 9000 MB free' });
    expect(
      decideStoragePlan({ persisted: false, quota: 48e6, usage: 0, modelBytes: model }).cacheModel,
    ).toBe(true);
  });

  it('refuses, with the numbers, when the quota is too small or unknown', () => {
    expect(
      decideStoragePlan({ persisted: false, quota: 47e6, usage: 0, modelBytes: model }),
    ).toEqual({
      cacheModel: false,
      persisted: false,
      reason: 'only 47 MB free of the 48 MB needed',
    });
    expect(
      decideStoragePlan({ persisted: false, quota: 100e6, usage: 90e6, modelBytes: model })
        .cacheModel,
    ).toBe(false);
    expect(
      decideStoragePlan({ persisted: false, quota: null, usage: null, modelBytes: model }),
    ).toEqual({
      cacheModel: false,
      persisted: false,
      reason: 'the browser reports no storage quota',
    });
  });
});
