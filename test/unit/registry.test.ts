import { describe, expect, it } from 'vitest';
import type { ToolSpec } from '../../src/catalog/types';
import { DataValidationError } from '../../src/shared/errors';
import { ToolRegistry, type ToolImplementation } from '../../src/tools/registry';

/**
 * Issue 18: host pages are plain JavaScript, so `tools` may hold anything. A registry built from
 * it names every tool whose code cannot run, and never fails with a TypeError of its own.
 */

function spec(name: string): ToolSpec {
  return {
    name,
    description: { zh: name, en: name },
    parameters: { type: 'object', properties: {}, required: [], additionalProperties: false },
    changesData: false,
    requiresConfirmation: false,
    timeoutMs: 1000,
  };
}

const works: ToolImplementation = () => Promise.resolve({ ok: true });

/** The reasons the registry gave, or fails the test if it was built. */
function reasonsFor(implementations: unknown, names = ['lookup_order']): string[] {
  let caught: unknown;
  try {
    new ToolRegistry(
      names.map(spec),
      implementations as Readonly<Record<string, ToolImplementation>>,
    );
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataValidationError);
  const error = caught as DataValidationError;
  expect(error.code).toBe('catalog-invalid');
  return error.issues.map((issue) => issue.reason);
}

describe('ToolRegistry: the host’s implementations', () => {
  it('names a tool whose implementation is not a function, and says what it got', () => {
    expect(reasonsFor({ lookup_order: {} })).toEqual([
      'tool "lookup_order": tools.lookup_order must be a function (args, { signal }) => Promise<object>, got an object',
    ]);
    expect(reasonsFor({ lookup_order: 'https://shop.example/api' })).toEqual([
      'tool "lookup_order": tools.lookup_order must be a function (args, { signal }) => Promise<object>, got a string',
    ]);
    expect(reasonsFor({ lookup_order: null })).toEqual([
      'tool "lookup_order": tools.lookup_order must be a function (args, { signal }) => Promise<object>, got null',
    ]);
    expect(reasonsFor({ lookup_order: [works] })).toEqual([
      'tool "lookup_order": tools.lookup_order must be a function (args, { signal }) => Promise<object>, got an array',
    ]);
  });

  it('lists every problem at once, each naming its tool', () => {
    expect(
      reasonsFor({ lookup_order: works, track_shipment: 42, refund: works }, [
        'lookup_order',
        'track_shipment',
        'change_address',
      ]),
    ).toEqual([
      'tool "track_shipment": tools.track_shipment must be a function (args, { signal }) => Promise<object>, got a number',
      'tool "change_address" is declared but has no implementation',
      'tool "refund" has an implementation but no declaration',
    ]);
  });

  it('refuses a tools value that is not an object of functions', () => {
    for (const [value, kind] of [
      ['lookup_order', 'a string'],
      [[works], 'an array'],
      [works, 'a function'],
      [null, 'null'],
    ] as const) {
      expect(reasonsFor(value)).toEqual([
        `"tools" must be an object of functions by tool name, got ${kind}`,
        'tool "lookup_order" is declared but has no implementation',
      ]);
    }
  });

  it('reports a map or an entry that throws when read, instead of throwing it', () => {
    const getterThrows = Object.defineProperty({}, 'lookup_order', {
      enumerable: true,
      get() {
        throw new Error('backend not configured');
      },
    });
    expect(reasonsFor(getterThrows)).toEqual([
      'tool "lookup_order": tools.lookup_order could not be read: backend not configured',
    ]);
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new TypeError('revoked');
        },
      },
    );
    expect(reasonsFor(proxy)).toEqual([
      '"tools" could not be read: revoked',
      'tool "lookup_order" is declared but has no implementation',
    ]);
  });

  it('builds when every declared tool has a function', () => {
    const registry = new ToolRegistry([spec('lookup_order')], { lookup_order: works });
    expect(registry.get('lookup_order')?.execute).toBe(works);
  });
});
