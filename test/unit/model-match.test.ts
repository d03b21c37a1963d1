import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  catalogModelDifferences,
  checkCatalogMatchesModel,
  describeMismatch,
  type TrainedIntents,
} from '../../src/catalog/model-match';
import type { Catalog } from '../../src/catalog/types';
import { parseModelCard } from '../../src/engine/model-folder';
import {
  CatalogMismatchError,
  deserializeError,
  FenliuError,
  serializeError,
} from '../../src/shared/errors';
import { readCatalog } from '../../scripts/lib/data-files';
import { DEMO_DATA, DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';

const text = { zh: '文', en: 'text' };
const catalog: Pick<Catalog, 'intents' | 'fallbackIntent'> = {
  fallbackIntent: 'out_of_scope',
  intents: [
    { id: 'refund', label: '退款退货', name: text, description: text, tool: 'request_refund' },
    { id: 'human_agent', label: '转人工', name: text, description: text, escalate: true },
    { id: 'out_of_scope', label: '其他', name: text, description: text },
  ],
};
/** The model `catalog` describes, exactly. */
const model: TrainedIntents = {
  fallbackIntent: 'out_of_scope',
  intents: [
    { id: 'refund', label: '退款退货', tool: 'request_refund' },
    { id: 'human_agent', label: '转人工', escalate: true },
    { id: 'out_of_scope', label: '其他' },
  ],
};

/** `model` with its intent `id` changed by `change`. */
function modelWith(id: string, change: Partial<TrainedIntents['intents'][number]>) {
  return {
    ...model,
    intents: model.intents.map((intent) => (intent.id === id ? { ...intent, ...change } : intent)),
  };
}

describe('catalogModelDifferences', () => {
  it('finds none when the model was trained on the catalog', () => {
    expect(catalogModelDifferences(catalog, model)).toEqual([]);
  });

  it('finds none between the demo catalog and the demo model', () => {
    const demo = readCatalog(join(DEMO_DATA, 'catalog.json'));
    const card = parseModelCard(
      readFileSync(join(PUBLIC_MODELS, DEMO_MODEL_ID, 'fenliu.json'), 'utf8'),
      DEMO_MODEL_ID,
    );
    expect(catalogModelDifferences(demo, card)).toEqual([]);
  });

  it('finds an intent the model lacks, and one only the model has', () => {
    expect(
      catalogModelDifferences(catalog, {
        ...model,
        intents: [...model.intents.slice(1), { id: 'chitchat', label: '闲聊' }],
      }),
    ).toEqual([
      { intentId: 'refund', problem: 'missing-in-model', catalog: '退款退货' },
      { intentId: 'chitchat', problem: 'missing-in-catalog', model: '闲聊' },
    ]);
  });

  it('finds a different label', () => {
    expect(catalogModelDifferences(catalog, modelWith('refund', { label: '退货' }))).toEqual([
      { intentId: 'refund', problem: 'label', catalog: '退款退货', model: '退货' },
    ]);
  });

  it('finds a different tool binding, absent on one side', () => {
    expect(catalogModelDifferences(catalog, modelWith('refund', { tool: 'refund_v2' }))).toEqual([
      { intentId: 'refund', problem: 'tool', catalog: 'request_refund', model: 'refund_v2' },
    ]);
    expect(
      catalogModelDifferences(catalog, modelWith('refund', { tool: undefined })),
    ).toStrictEqual([{ intentId: 'refund', problem: 'tool', catalog: 'request_refund' }]);
  });

  it('finds a different escalate flag, taking an absent flag as false', () => {
    expect(
      catalogModelDifferences(catalog, modelWith('human_agent', { escalate: undefined })),
    ).toEqual([{ intentId: 'human_agent', problem: 'escalate', catalog: 'true', model: 'false' }]);
    expect(
      catalogModelDifferences(catalog, modelWith('out_of_scope', { escalate: false })),
    ).toEqual([]);
  });

  it('finds a different fallback intent, named by the catalog', () => {
    expect(catalogModelDifferences(catalog, { ...model, fallbackIntent: 'human_agent' })).toEqual([
      {
        intentId: 'out_of_scope',
        problem: 'fallback',
        catalog: 'out_of_scope',
        model: 'human_agent',
      },
    ]);
  });

  it('lists catalog intents in catalog order, then the model only intents, then the fallback', () => {
    const differences = catalogModelDifferences(catalog, {
      fallbackIntent: 'other',
      intents: [
        { id: 'other', label: '别的' },
        { id: 'out_of_scope', label: '范围外' },
        { id: 'refund', label: '退款' },
      ],
    });
    expect(differences.map((d) => [d.intentId, d.problem])).toEqual([
      ['refund', 'label'],
      ['refund', 'tool'],
      ['human_agent', 'missing-in-model'],
      ['out_of_scope', 'label'],
      ['other', 'missing-in-catalog'],
      ['out_of_scope', 'fallback'],
    ]);
  });
});

describe('describeMismatch', () => {
  it('names each differing intent on its own line, then the fix', () => {
    const differences = catalogModelDifferences(catalog, {
      fallbackIntent: 'other',
      intents: [
        { id: 'refund', label: '退货' },
        { id: 'human_agent', label: '转人工' },
        { id: 'chitchat', label: '闲聊' },
      ],
    });
    expect(describeMismatch(differences, 'shop-model').split('\n')).toEqual([
      'The catalog does not match model "shop-model", which answers with the intents it was trained on:',
      '- intent "refund": label "退款退货" in the catalog, "退货" in the model',
      '- intent "refund": tool "request_refund" in the catalog, none in the model',
      '- intent "human_agent": escalates in the catalog, does not escalate in the model',
      '- intent "out_of_scope" (label "其他") is in the catalog but not in the model',
      '- intent "chitchat" (label "闲聊") is in the model but not in the catalog',
      '- fallback intent: "out_of_scope" in the catalog, "other" in the model',
      'Fix: retrain the model on this catalog (npm run train:demo, or training/README.md), or load the catalog the model was trained with (its fenliu.json lists the intents).',
    ]);
  });
});

describe('checkCatalogMatchesModel', () => {
  it('returns quietly when they match', () => {
    expect(() => {
      checkCatalogMatchesModel(catalog, model, 'shop-model');
    }).not.toThrow();
  });

  it('throws a CatalogMismatchError that survives a worker boundary', () => {
    const changed = modelWith('refund', { label: '退货' });
    let thrown: unknown;
    try {
      checkCatalogMatchesModel(catalog, changed, 'shop-model');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CatalogMismatchError);
    const error = thrown as CatalogMismatchError;
    expect(error.code).toBe('catalog-model-mismatch');
    expect(error.message).toBe(
      describeMismatch(catalogModelDifferences(catalog, changed), 'shop-model'),
    );

    // structuredClone is what postMessage does to the serialized form.
    const rebuilt = deserializeError(structuredClone(serializeError(error)));
    expect(rebuilt).toBeInstanceOf(CatalogMismatchError);
    expect(rebuilt).toBeInstanceOf(FenliuError);
    expect(rebuilt).toMatchObject({
      name: 'CatalogMismatchError',
      code: 'catalog-model-mismatch',
      message: error.message,
      differences: [{ intentId: 'refund', problem: 'label', catalog: '退款退货', model: '退货' }],
    });
  });
});
