import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateCatalog } from '../../src/catalog/catalog';
import { MAX_STRING_LENGTH } from '../../src/catalog/pattern';
import { MAX_ENUM_VALUES, MAX_PATTERN_LENGTH } from '../../src/catalog/tool-declarations';
import type { ToolSpec } from '../../src/catalog/types';
import { parseModelCard } from '../../src/engine/model-folder';
import { DataValidationError, ModelLoadError } from '../../src/shared/errors';
import { DEMO_DATA } from '../../scripts/lib/paths';

/**
 * Issue 18: a schema whose size alone freezes the page or the worker (a `maxLength` of 1e9, a huge
 * pattern or enum) is rejected when the catalog or the model card is loaded, naming the tool and
 * the parameter.
 */

const demoCatalog = JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')) as {
  tools: ToolSpec[];
};
const addressTool = demoCatalog.tools.findIndex((tool) => tool.name === 'change_address');
const where = `tools[${addressTool}].parameters.properties.address`;

const isEnum = (schema: unknown): boolean =>
  typeof schema === 'object' && schema !== null && 'enum' in schema;

/** The demo catalog with change_address's `address` parameter replaced by `schema`. */
function catalogWithAddress(schema: unknown): { tools: ToolSpec[] } {
  const tools = demoCatalog.tools.map((tool, index) => {
    if (index !== addressTool) return tool;
    const properties = { ...tool.parameters.properties, address: schema };
    // NOTE: an enum is chosen, not copied from the message, so it cannot stay in `extract`.
    const extract = tool.extract?.filter((key) => key !== 'address' || !isEnum(schema));
    return { ...tool, extract, parameters: { ...tool.parameters, properties } };
  });
  return { ...demoCatalog, tools } as { tools: ToolSpec[] };
}

function catalogIssues(catalog: unknown): string[] {
  try {
    validateCatalog(catalog, 'catalog.json');
  } catch (error) {
    if (error instanceof DataValidationError) return error.issues.map((issue) => issue.reason);
    throw error;
  }
  return [];
}

const tooLong = (name: string) =>
  `${where}.${name} must be at most ${MAX_STRING_LENGTH}: fenliu decodes and extracts values of at most ${MAX_STRING_LENGTH} characters`;

describe('schema limits: validateCatalog', () => {
  it('keeps accepting the demo catalog', () => {
    expect(catalogIssues(demoCatalog)).toEqual([]);
  });

  it.each([
    ['maxLength 1e9 with an open pattern', { pattern: '[^<>]+', maxLength: 1e9 }, ['maxLength']],
    [
      'maxLength 1e9 with a fixed pattern',
      { pattern: '^[0-9]{13}$', maxLength: 1e9 },
      ['maxLength'],
    ],
    ['maxLength one past the cap', { maxLength: MAX_STRING_LENGTH + 1 }, ['maxLength']],
    ['minLength 1e9', { minLength: 1e9 }, ['minLength']],
    ['both bounds past the cap', { minLength: 5000, maxLength: 6000 }, ['minLength', 'maxLength']],
  ])('rejects %s, naming the tool and the parameter', (_case, bounds, names) => {
    expect(catalogIssues(catalogWithAddress({ type: 'string', ...bounds }))).toEqual(
      names.map(tooLong),
    );
  });

  it('accepts bounds at the cap', () => {
    const schema = {
      type: 'string',
      pattern: '[^<>]+',
      minLength: 0,
      maxLength: MAX_STRING_LENGTH,
    };
    expect(catalogIssues(catalogWithAddress(schema))).toEqual([]);
  });

  it('rejects a pattern longer than the cap', () => {
    const atCap = `[a-z]${'x'.repeat(MAX_PATTERN_LENGTH - 5)}`;
    expect(atCap).toHaveLength(MAX_PATTERN_LENGTH);
    expect(catalogIssues(catalogWithAddress({ type: 'string', pattern: atCap }))).toEqual([]);
    expect(catalogIssues(catalogWithAddress({ type: 'string', pattern: `${atCap}y` }))).toEqual([
      `${where}.pattern must be at most ${MAX_PATTERN_LENGTH} characters long`,
    ]);
  });

  it('rejects an enum with more values than the cap', () => {
    const values = Array.from({ length: MAX_ENUM_VALUES + 1 }, (_, index) => `v${index}`);
    const enumOf = (list: string[]) => catalogWithAddress({ type: 'string', enum: list });
    expect(catalogIssues(enumOf(values.slice(0, MAX_ENUM_VALUES)))).toEqual([]);
    expect(catalogIssues(enumOf(values))).toEqual([
      `${where}.enum must list at most ${MAX_ENUM_VALUES} values`,
    ]);
  });

  it('holds enum values without a maxLength to the longest value fenliu handles', () => {
    const schema = { type: 'string', enum: ['short', 'x'.repeat(MAX_STRING_LENGTH + 1)] };
    expect(catalogIssues(catalogWithAddress(schema))).toEqual([
      `${where}.enum[1] must be at most ${MAX_STRING_LENGTH} characters long`,
    ]);
  });
});

describe('schema limits: a model card loaded in the worker', () => {
  const card = (tool: unknown) =>
    JSON.stringify({
      format: 1,
      labels: ['改地址', '其他'],
      intents: [
        { id: 'change_address', label: '改地址', tool: 'change_address' },
        { id: 'out_of_scope', label: '其他' },
      ],
      tools: [tool],
      fallbackIntent: 'out_of_scope',
      system: null,
      dtypes: ['int8'],
    });

  it('is held to the same limits as a catalog', () => {
    const { tools } = catalogWithAddress({ type: 'string', pattern: '[^<>]+', maxLength: 1e9 });
    let message = '';
    try {
      parseModelCard(card(tools[addressTool]), 'm');
    } catch (error) {
      if (!(error instanceof ModelLoadError)) throw error;
      message = error.message;
    }
    expect(message).toContain(
      `"tools"[0].parameters.properties.address.maxLength must be at most ${MAX_STRING_LENGTH}`,
    );
    expect(parseModelCard(card(demoCatalog.tools[addressTool]), 'm').tools).toHaveLength(1);
  });
});
