import { describe, expect, it } from 'vitest';
import { DownloadProgress, downloadRetryPlan } from '../../src/engine/lifecycle';

const progress = (file: string, loaded: number, total: number) =>
  ({
    status: 'progress',
    name: 'm',
    file,
    loaded,
    total,
    progress: (100 * loaded) / total,
  }) as const;

describe('DownloadProgress', () => {
  it('sums bytes across files, never goes back, and ends at 100', () => {
    const aggregate = new DownloadProgress();
    const seen = [
      aggregate.update(progress('config.json', 50, 100)),
      aggregate.update(progress('config.json', 100, 100)),
      // A large file's size becomes known late: the raw ratio drops, the reported one must not.
      aggregate.update(progress('onnx/model_int8.onnx', 0, 900)),
      aggregate.update(progress('onnx/model_int8.onnx', 450, 900)),
      aggregate.update({ status: 'done', name: 'm', file: 'onnx/model_int8.onnx' }),
    ].map((p) => p?.percent);
    expect(seen).toEqual([50, 100, 100, 100, 100]);
    expect(aggregate.update({ status: 'initiate', name: 'm', file: 'x' })).toBeNull();
  });

  it('reports loaded and total bytes', () => {
    const aggregate = new DownloadProgress();
    aggregate.update(progress('a', 10, 40));
    expect(aggregate.update(progress('b', 30, 60))).toEqual({
      loaded: 40,
      total: 100,
      percent: 40,
    });
  });
});

describe('DownloadProgress.bytesOf', () => {
  it('sums the totals of the selected files (the model size on the status line)', () => {
    const aggregate = new DownloadProgress();
    expect(aggregate.bytesOf((file) => file.endsWith('.onnx'))).toBeNull();
    aggregate.update(progress('config.json', 10, 100));
    aggregate.update(progress('onnx/model_int8.onnx', 5, 900));
    expect(aggregate.bytesOf((file) => file.endsWith('.onnx'))).toBe(900);
  });
});

describe('downloadRetryPlan', () => {
  it('waits for the connection while offline, however often it failed', () => {
    expect(downloadRetryPlan(0, false)).toBe('when-online');
    expect(downloadRetryPlan(10, false)).toBe('when-online');
  });

  it('backs off 2, 4, 8 s online, then leaves it to the Retry button', () => {
    expect([0, 1, 2, 3].map((failures) => downloadRetryPlan(failures, true))).toEqual([
      2000,
      4000,
      8000,
      null,
    ]);
  });
});
