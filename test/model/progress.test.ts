import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';
import type { ClassifierStatus } from '../../src/engine/lifecycle';
import { LocalClassifier } from '../../src/engine/local-classifier';
import { configureRuntime } from '../../src/engine/runtime';

/**
 * The download status of a load in Node (onnxruntime-node: no runtime files to fetch) over the
 * committed demo model: every file it reads, sized from the disk before the first byte.
 */

/** What transformers.js reads from the folder for the int8 weights. */
const FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'config.json',
  'generation_config.json',
  'onnx/model_int8.onnx',
];

const model = new LocalClassifier({ modelId: DEMO_MODEL_ID, device: 'cpu', dtype: 'int8' });
afterAll(async () => {
  await model.dispose();
});

describe('download progress in Node', () => {
  it('knows the total up front, climbs to exactly 100 at the last byte, then initializes', async () => {
    configureRuntime({ modelRoot: PUBLIC_MODELS });
    const statuses: ClassifierStatus[] = [];
    model.subscribe((state) => statuses.push(state.status));
    expect((await model.load()).state).toBe('ready');

    const bytes = FILES.map((file) => statSync(join(PUBLIC_MODELS, DEMO_MODEL_ID, file)).size);
    const total = bytes.reduce((sum, size) => sum + size, 0);
    const downloads = statuses.flatMap((status) =>
      status.state === 'downloading' ? [status] : [],
    );
    expect(downloads.length).toBeGreaterThan(1);
    // The total before the first byte is the total of the last one: every file planned and sized.
    expect(downloads.map((status) => status.total)).toEqual(downloads.map(() => total));
    const percents = downloads.map((status) => status.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.slice(0, -1).every((percent) => percent < 100)).toBe(true);
    const last = downloads.at(-1);
    expect(last).toMatchObject({ percent: 100, loaded: total, total });
    expect(
      Object.fromEntries((last?.files ?? []).map((file) => [file.file, [file.total, file.done]])),
    ).toEqual(Object.fromEntries(FILES.map((file, index) => [file, [bytes[index], true]])));
    expect(statuses[statuses.indexOf(last as ClassifierStatus) + 1]).toEqual({
      state: 'initializing',
      device: 'cpu',
    });
  });
});
