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

const done = (file: string) => ({ status: 'done', name: 'm', file }) as const;
const started = (file: string) => ({ status: 'download', name: 'm', file }) as const;

const WASM = 'https://shop.example/ort/ort-wasm-simd-threaded.asyncify.wasm';

describe('DownloadProgress', () => {
  it('knows the total before the first byte and reaches 100 only when the last file is done', () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([
      { file: WASM, bytes: 600, required: true },
      { file: 'tokenizer.json', bytes: 300, required: true },
      { file: 'onnx/model_int8.onnx', bytes: 100, required: true },
    ]);
    expect(aggregate.current()).toMatchObject({ loaded: 0, total: 1000, percent: 0 });
    const seen = [
      aggregate.update(progress(WASM, 600, 600)),
      aggregate.update(done(WASM)),
      aggregate.update(progress('tokenizer.json', 300, 300)),
      aggregate.update(done('tokenizer.json')),
      aggregate.update(progress('onnx/model_int8.onnx', 99, 100)),
      aggregate.update(progress('onnx/model_int8.onnx', 100, 100)),
    ].map((p) => [p?.percent, p?.total]);
    // Every byte but the last: 99.9 % of them, shown as 99 (a display rounding 99.9 says 100).
    expect(seen).toEqual([
      [60, 1000],
      [60, 1000],
      [90, 1000],
      [90, 1000],
      [99, 1000],
      [99, 1000],
    ]);
    expect(aggregate.complete).toBe(false);
    expect(aggregate.update(done('onnx/model_int8.onnx'))).toMatchObject({
      loaded: 1000,
      total: 1000,
      percent: 100,
    });
    expect(aggregate.complete).toBe(true);
  });

  it('never goes back when a size becomes known late, and waits for a required unsized file', () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([
      { file: 'config.json', bytes: 100, required: true },
      { file: 'onnx/model_int8.onnx', bytes: null, required: true },
    ]);
    const percents = [
      aggregate.update(progress('config.json', 50, 100)),
      aggregate.update(progress('config.json', 100, 100)),
      aggregate.update(done('config.json')),
      // The weights' size arrives with their response: the raw ratio drops, the reported one not.
      aggregate.update(progress('onnx/model_int8.onnx', 0, 900)),
      aggregate.update(progress('onnx/model_int8.onnx', 450, 900)),
      aggregate.update(progress('onnx/model_int8.onnx', 900, 900)),
      aggregate.update(done('onnx/model_int8.onnx')),
    ].map((p) => p?.percent);
    expect(percents).toEqual([50, 99, 99, 99, 99, 99, 100]);
  });

  it('adds a file nobody planned when its download starts', () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([{ file: 'config.json', bytes: 100, required: true }]);
    aggregate.update(started('onnx/model_int8.onnx_data'));
    aggregate.update(progress('config.json', 100, 100));
    expect(aggregate.update(done('config.json'))).toMatchObject({ total: 100, percent: 99 });
    expect(aggregate.update(progress('onnx/model_int8.onnx_data', 100, 300))).toMatchObject({
      loaded: 200,
      total: 400,
      percent: 99,
    });
    expect(aggregate.update(done('onnx/model_int8.onnx_data'))?.percent).toBe(100);
  });

  it('counts an optional file while it may come, and drops it once everything else is in', () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([
      { file: 'config.json', bytes: 100, required: true },
      { file: 'generation_config.json', bytes: 100, required: false },
      { file: 'unsized-optional.json', bytes: null, required: false },
    ]);
    expect(aggregate.update(progress('config.json', 100, 100))).toMatchObject({
      loaded: 100,
      total: 200,
      percent: 50,
    });
    expect(aggregate.update(done('config.json'))).toMatchObject({
      loaded: 100,
      total: 100,
      percent: 100,
      files: [{ file: 'config.json', loaded: 100, total: 100, done: true }],
    });
  });

  it("takes a file's size from its own response when its planned size was wrong", () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([{ file: 'tokenizer.json', bytes: 500, required: true }]);
    aggregate.update(progress('tokenizer.json', 400, 400));
    expect(aggregate.update(done('tokenizer.json'))).toMatchObject({
      loaded: 400,
      total: 400,
      percent: 100,
    });
  });

  it('keeps a finished file whole when it is read again (from a cache)', () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([
      { file: 'tokenizer_config.json', bytes: 10, required: true },
      { file: 'tokenizer.json', bytes: 90, required: true },
    ]);
    aggregate.update(progress('tokenizer_config.json', 10, 10));
    aggregate.update(done('tokenizer_config.json'));
    expect(aggregate.update(progress('tokenizer_config.json', 5, 10))?.loaded).toBe(10);
  });

  it('finish() ends a download whose plan named a file the load never fetched', () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([
      { file: 'config.json', bytes: 100, required: true },
      { file: 'never-fetched.json', bytes: 50, required: true },
    ]);
    aggregate.update(progress('config.json', 100, 100));
    expect(aggregate.update(done('config.json'))?.percent).toBe(66.66666666666667);
    expect(aggregate.complete).toBe(false);
    expect(aggregate.finish()).toMatchObject({ loaded: 100, total: 100, percent: 100 });
    expect(aggregate.complete).toBe(true);
  });

  it('ignores events that carry no bytes', () => {
    const aggregate = new DownloadProgress();
    expect(aggregate.update({ status: 'initiate', name: 'm', file: 'x' })).toBeNull();
    expect(aggregate.current()).toEqual({ loaded: 0, total: 0, percent: 0, files: [] });
  });

  it('is plain data (structured clone keeps it whole)', () => {
    const aggregate = new DownloadProgress();
    aggregate.plan([{ file: WASM, bytes: 10, required: true }]);
    const bytes = aggregate.update(progress(WASM, 4, 10));
    expect(structuredClone(bytes)).toEqual(bytes);
  });
});

describe('DownloadProgress.bytesOf', () => {
  it('sums the sizes of the selected files (the model size on the status line)', () => {
    const aggregate = new DownloadProgress();
    expect(aggregate.bytesOf((file) => file.endsWith('.onnx'))).toBeNull();
    aggregate.plan([{ file: 'onnx/model_int8.onnx', bytes: 900, required: true }]);
    aggregate.update(progress('config.json', 10, 100));
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
