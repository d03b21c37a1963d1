import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelLoadError } from '../../src/shared/errors';
import { parseModelCard } from '../../src/engine/model-folder';
import { readCatalog } from '../../scripts/lib/data-files';
import { DEMO_DATA, DEMO_MODEL_ID, PUBLIC_MODELS } from '../../scripts/lib/paths';

const catalog = readCatalog(join(DEMO_DATA, 'catalog.json'));
const lookupOrder = catalog.tools?.find((tool) => tool.name === 'lookup_order');

const card = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    format: 1,
    labels: ['查询订单', '其他'],
    intents: [
      { id: 'order_status', label: '查询订单' },
      { id: 'out_of_scope', label: '其他' },
    ],
    fallbackIntent: 'out_of_scope',
    system: null,
    dtypes: ['int8'],
    ...extra,
  });

function problemOf(text: string): string {
  try {
    parseModelCard(text, 'm');
  } catch (error) {
    if (error instanceof ModelLoadError) return error.message;
    throw error;
  }
  throw new Error('expected a ModelLoadError');
}

describe('parseModelCard', () => {
  it('gives a card written before tools existed no tools', () => {
    expect(parseModelCard(card(), 'm').tools).toEqual([]);
  });

  it('reads intents bound to tools and escalation, with the tools declared', () => {
    const parsed = parseModelCard(
      card({
        intents: [
          { id: 'order_status', label: '查询订单', tool: 'lookup_order' },
          { id: 'out_of_scope', label: '其他', escalate: true },
        ],
        tools: [lookupOrder],
      }),
      'm',
    );
    expect(parsed.intents[0]?.tool).toBe('lookup_order');
    expect(parsed.intents[1]?.escalate).toBe(true);
    expect(parsed.tools).toEqual([lookupOrder]);
  });

  it('names a tool no declaration gives, a bad declaration and a bad escalate flag', () => {
    const message = problemOf(
      card({
        intents: [
          { id: 'order_status', label: '查询订单', tool: 'launch_rockets' },
          { id: 'out_of_scope', label: '其他', escalate: 'yes' },
        ],
        tools: [{ ...lookupOrder, timeoutMs: -1 }],
      }),
    );
    expect(message).toContain('"tools"[0].timeoutMs must be a positive number of milliseconds');
    expect(message).toContain(
      'intent "order_status" calls tool "launch_rockets", which "tools" does not declare',
    );
    expect(message).toContain('intent "out_of_scope": "escalate" must be true or false');
    expect(problemOf(card({ tools: {} }))).toContain(
      '"tools" must be an array of tool declarations',
    );
  });

  it('reads canaries and names what is wrong with malformed ones', () => {
    const canaries = {
      labels: ['查询订单', '其他'],
      messages: [{ text: '看看订单', ids: [151644, 872, 198, 101997, 151645] }],
      references: {
        int8: { computedBy: 'onnxruntime-node', tolerance: 2e-3, probabilities: [[0.75, 0.25]] },
      },
    };
    expect(parseModelCard(card({ canaries }), 'm').canaries).toEqual(canaries);
    expect(parseModelCard(card(), 'm').canaries).toBeUndefined();
    const message = problemOf(
      card({
        canaries: {
          labels: ['查询订单'],
          messages: [{ text: '', ids: [1.5] }],
          references: {
            int8: { tolerance: 0, probabilities: [[0.5, 0.4]] },
            q4: 'nope',
          },
        },
      }),
    );
    expect(message).toContain('"canaries".labels must list at least two strings');
    expect(message).toContain('"canaries".messages[0] must be {text: a non-empty string, ids');
    expect(message).toContain('"canaries".references.int8.computedBy must say what computed it');
    expect(message).toContain('"canaries".references.int8.tolerance must be a number between 0');
    expect(message).toContain(
      '"canaries".references.int8.probabilities must give, for each message, a probability per label summing to 1',
    );
    expect(message).toContain('"canaries".references.q4 must be {computedBy, tolerance');
    expect(problemOf(card({ canaries: { ...canaries, references: {} } }))).toContain(
      '"canaries".references must map at least one dtype to its reference',
    );
  });

  it('gives the committed demo canaries over its labels, with a reference per shipped dtype', () => {
    const path = join(PUBLIC_MODELS, DEMO_MODEL_ID, 'fenliu.json');
    const demo = parseModelCard(readFileSync(path, 'utf8'), DEMO_MODEL_ID);
    expect(demo.canaries?.labels).toEqual(demo.labels);
    expect(demo.canaries?.messages).toHaveLength(6);
    expect(Object.keys(demo.canaries?.references ?? {})).toEqual(demo.dtypes);
    for (const reference of Object.values(demo.canaries?.references ?? {})) {
      expect(reference.computedBy).toMatch(/^onnxruntime-node .*scripts\/record-canaries\.ts$/);
      expect(reference.tolerance).toBe(2e-3);
    }
  });

  it("accepts the committed demo card, whose tools are the catalog's", () => {
    const path = join(PUBLIC_MODELS, DEMO_MODEL_ID, 'fenliu.json');
    const demo = parseModelCard(readFileSync(path, 'utf8'), DEMO_MODEL_ID);
    // NOTE: the catalog's `presentation` blocks are customer-facing text added after training;
    // they never reach the model, so the card's declarations are the catalog's without them.
    const declared = catalog.tools?.map((spec) => {
      const copy = { ...spec };
      delete copy.presentation;
      return copy;
    });
    expect(demo.tools).toEqual(declared);
    expect(demo.intents.map(({ id, tool, escalate }) => ({ id, tool, escalate }))).toEqual(
      catalog.intents.map(({ id, tool, escalate }) => ({ id, tool, escalate })),
    );
  });
});
