import { describe, expect, it } from 'vitest';
import { intentsByLabel, validateCatalog } from '../../src/core/catalog';
import { DataValidationError } from '../../src/core/errors';

const text = { zh: '文', en: 'text' };
const intent = (id: string, label: string) => ({ id, label, name: text, description: text });
const valid = {
  version: 1,
  id: 'shop',
  name: text,
  fallbackIntent: 'other',
  intents: [intent('refund', '退款退货'), intent('other', '其他')],
};

describe('validateCatalog', () => {
  it('accepts a well-formed catalog and indexes it by label', () => {
    const catalog = validateCatalog(valid);
    expect(intentsByLabel(catalog).get('退款退货')?.id).toBe('refund');
  });

  it('lists every problem at once', () => {
    const broken = {
      ...valid,
      fallbackIntent: 'missing',
      intents: [intent('refund', '退款退货'), intent('refund', ' 其他'), { id: 'Bad' }],
    };
    let issues: string[] = [];
    try {
      validateCatalog(broken, 'cat.json');
    } catch (error) {
      if (!(error instanceof DataValidationError)) throw error;
      expect(error.code).toBe('catalog-invalid');
      issues = error.issues.map((i) => i.reason);
    }
    expect(issues).toEqual([
      'intents[1].id "refund" is used twice',
      'intents[1].label must be a non-empty string without surrounding spaces',
      'intents[2].id must match /^[a-z][a-z0-9_]*$/',
      'intents[2].label must be a non-empty string without surrounding spaces',
      'intents[2].name must be an object with "zh" and "en" strings',
      'intents[2].description must be an object with "zh" and "en" strings',
      '"fallbackIntent" must be the id of one of the intents',
    ]);
  });
});
