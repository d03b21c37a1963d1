import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readCatalog, readExamples } from '../../scripts/lib/data-files';
import { DEMO_DATA } from '../../scripts/lib/paths';

const catalog = readCatalog(join(DEMO_DATA, 'catalog.json'));
const train = readExamples(join(DEMO_DATA, 'train.jsonl'), catalog);
const test = readExamples(join(DEMO_DATA, 'test.jsonl'), catalog);
/** Held out from training for calibration (`fenliu calibrate`); written after the model was trained. */
const valid = readExamples(join(DEMO_DATA, 'valid.jsonl'), catalog);

/** Same message up to case, spaces and punctuation. */
const normalise = (text: string) => text.toLowerCase().replace(/[\s\p{P}\p{S}]/gu, '');

describe('demo catalog and dataset', () => {
  it('has the 12 intents of the issue, in order', () => {
    expect(catalog.intents.map((intent) => `${intent.id}:${intent.label}`)).toEqual([
      'order_status:查询订单',
      'shipping:物流查询',
      'cancel_service:取消服务',
      'update_info:修改信息',
      'refund:退款退货',
      'payment:支付问题',
      'invoice:开具发票',
      'account:账户登录',
      'complaint:投诉建议',
      'human_agent:转人工',
      'greeting:问候闲聊',
      'out_of_scope:其他',
    ]);
    expect(catalog.fallbackIntent).toBe('out_of_scope');
  });

  it.each([
    { split: 'train', examples: train, minimum: 60 },
    { split: 'test', examples: test, minimum: 20 },
    { split: 'valid', examples: valid, minimum: 8 },
  ])('$split has at least $minimum examples per intent', ({ examples, minimum }) => {
    for (const intent of catalog.intents) {
      const count = examples.filter((example) => example.label === intent.label).length;
      expect(count, intent.label).toBeGreaterThanOrEqual(minimum);
    }
  });

  it('has no message twice, within or across splits', () => {
    const seen = new Map<string, string>();
    const repeats: string[] = [];
    for (const example of [...train, ...test, ...valid]) {
      const key = normalise(example.text);
      const first = seen.get(key);
      if (first) repeats.push(`${example.file}:${example.line} repeats ${first}`);
      else seen.set(key, `${example.file}:${example.line}`);
    }
    expect(repeats).toEqual([]);
  });
});
