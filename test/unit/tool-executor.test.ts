import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateCatalog } from '../../src/catalog/catalog';
import { AbortError, DataValidationError, ToolError } from '../../src/shared/errors';
import type { ToolArguments, ToolSpec } from '../../src/catalog/types';
import { createDemoTools } from '../../src/tools/demo/tools';
import { MemoryShopStore } from '../../src/tools/demo/store';
import { MAX_RESULT_BYTES, runToolCall } from '../../src/tools/executor';
import { ToolRegistry, type ToolImplementation } from '../../src/tools/registry';

const lookup: ToolSpec = {
  name: 'lookup',
  description: { zh: '查订单', en: 'Look up an order' },
  parameters: {
    type: 'object',
    properties: { order_id: { type: 'string', pattern: '^[0-9]{13}$' } },
    required: ['order_id'],
    additionalProperties: false,
  },
  changesData: false,
  requiresConfirmation: false,
  timeoutMs: 1000,
};

const cancel: ToolSpec = {
  name: 'cancel',
  description: { zh: '取消', en: 'Cancel' },
  parameters: {
    type: 'object',
    properties: { plan: { type: 'string', enum: ['月度会员', '年度会员'] } },
    required: ['plan'],
    additionalProperties: false,
  },
  changesData: true,
  requiresConfirmation: true,
  timeoutMs: 1000,
};

const ORDER_ID = '2024113012345';

/** An implementation that records every call it receives and returns `result`. */
function recording(result: unknown) {
  const calls: ToolArguments[] = [];
  const execute: ToolImplementation = (args) => {
    calls.push(args);
    return Promise.resolve(result);
  };
  return { calls, execute };
}

function registryWith(spec: ToolSpec, execute: ToolImplementation): ToolRegistry {
  return new ToolRegistry([spec], { [spec.name]: execute });
}

async function toolErrorOf(promise: Promise<unknown>): Promise<ToolError> {
  const error: unknown = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

describe('ToolRegistry', () => {
  it('joins declarations with implementations and finds the tool bound to an intent', () => {
    const { execute } = recording({ ok: true });
    const registry = new ToolRegistry([lookup, cancel], { lookup: execute, cancel: execute });
    expect(registry.specs.map((spec) => spec.name)).toEqual(['lookup', 'cancel']);
    expect(registry.get('cancel')?.spec.requiresConfirmation).toBe(true);
    expect(registry.get('nothing')).toBeUndefined();
    expect(registry.forIntent({ id: 'order_status', tool: 'lookup' })?.spec.name).toBe('lookup');
    expect(registry.forIntent({ id: 'greeting' })).toBeUndefined();
    expect(() => registry.forIntent({ id: 'refund', tool: 'refund_order' })).toThrow(
      expect.objectContaining({ code: 'tool-unknown', tool: 'refund_order' }),
    );
  });

  it('names every declaration without code and code without declaration', () => {
    const { execute } = recording({ ok: true });
    let caught: unknown;
    try {
      new ToolRegistry([lookup, cancel], { lookup: execute, refund: execute });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DataValidationError);
    expect((caught as DataValidationError).issues.map((issue) => issue.reason)).toEqual([
      'tool "cancel" is declared but has no implementation',
      'tool "refund" has an implementation but no declaration',
    ]);
  });

  it('accepts overrides towards safety only', () => {
    const { execute } = recording({ ok: true });
    const safer = new ToolRegistry(
      [lookup, cancel],
      { lookup: execute, cancel: execute },
      {
        overrides: { lookup: { timeoutMs: 9000, requiresConfirmation: true } },
      },
    );
    expect(safer.get('lookup')?.spec).toMatchObject({
      timeoutMs: 9000,
      requiresConfirmation: true,
    });
    // The catalog's own declaration is left as it was.
    expect(lookup.timeoutMs).toBe(1000);

    let caught: unknown;
    try {
      new ToolRegistry(
        [lookup, cancel],
        { lookup: execute, cancel: execute },
        {
          overrides: { lookup: { timeoutMs: 10 }, cancel: { requiresConfirmation: false } },
        },
      );
    } catch (error) {
      caught = error;
    }
    expect((caught as DataValidationError).issues.map((issue) => issue.reason)).toEqual([
      'tool "lookup": the timeout override 10 ms must be a number of at least the declared 1000 ms',
      'tool "cancel" changes data; a host cannot switch its confirmation off',
    ]);
  });

  it('refuses a tool that changes data without confirmation, even one built in code', () => {
    const { execute } = recording({ ok: true });
    const unasked: ToolSpec = { ...cancel, requiresConfirmation: false };
    expect(() => new ToolRegistry([unasked], { cancel: execute })).toThrow(
      expect.objectContaining({
        code: 'catalog-invalid',
        issues: [
          {
            file: 'catalog',
            line: 1,
            reason:
              'tool "cancel" changes data but does not require confirmation; set "requiresConfirmation": true (a tool that changes data always asks the user first), or "changesData": false if it only reads',
          },
        ],
      }),
    );
  });

  it('builds from the demo catalog with the demo tools', () => {
    const catalog = validateCatalog(
      JSON.parse(readFileSync('data/demo/catalog.json', 'utf8')),
      'data/demo/catalog.json',
    );
    const registry = new ToolRegistry(catalog.tools ?? [], createDemoTools(new MemoryShopStore()));
    const bound = catalog.intents.flatMap((intent) => {
      const tool = registry.forIntent(intent);
      return tool === undefined ? [] : [`${intent.id}→${tool.spec.name}`];
    });
    expect(bound).toEqual([
      'order_status→lookup_order',
      'shipping→track_shipment',
      'cancel_service→cancel_service',
      'update_info→change_address',
      'refund→request_refund',
      'invoice→request_invoice',
    ]);
  });
});

describe('runToolCall', () => {
  it('runs a valid call and keeps its arguments, a copy of its result and its timing', async () => {
    const returned = { order_id: ORDER_ID, status: '已发货', amount: 299 };
    const { calls, execute } = recording(returned);
    const times = [1000, 1042];
    const run = await runToolCall(
      registryWith(lookup, execute),
      { name: 'lookup', arguments: { order_id: ORDER_ID } },
      { confirmed: false, now: () => times.shift() ?? Number.NaN },
    );
    expect(run).toEqual({
      name: 'lookup',
      arguments: { order_id: ORDER_ID },
      result: { order_id: ORDER_ID, status: '已发货', amount: 299 },
      startedAt: 1000,
      durationMs: 42,
    });
    expect(run.result).not.toBe(returned);
    expect(calls).toEqual([{ order_id: ORDER_ID }]);
  });

  it('rejects an unknown tool', async () => {
    const { execute } = recording({ ok: true });
    const error = await toolErrorOf(
      runToolCall(
        registryWith(lookup, execute),
        { name: 'refund', arguments: {} },
        {
          confirmed: true,
        },
      ),
    );
    expect(error).toMatchObject({ code: 'tool-unknown', tool: 'refund' });
  });

  it.each<[string, ToolArguments, RegExp]>([
    ['missing', {}, /missing order_id/],
    ['pattern', { order_id: '12345' }, /order_id/],
    ['type', { order_id: 2024113012345 }, /order_id/],
    ['extra key', { order_id: ORDER_ID, coupon: 'FREE' }, /coupon/],
  ])('never passes invalid arguments to execute (%s)', async (_, args, message) => {
    const { calls, execute } = recording({ ok: true });
    const error = await toolErrorOf(
      runToolCall(
        registryWith(lookup, execute),
        { name: 'lookup', arguments: args },
        {
          confirmed: true,
        },
      ),
    );
    expect(error).toMatchObject({ code: 'tool-invalid-arguments', tool: 'lookup' });
    expect(error.message).toMatch(message);
    expect(calls).toHaveLength(0);
  });

  it('checks arguments before asking for confirmation', async () => {
    const { calls, execute } = recording({ ok: true });
    const error = await toolErrorOf(
      runToolCall(
        registryWith(cancel, execute),
        { name: 'cancel', arguments: {} },
        {
          confirmed: false,
        },
      ),
    );
    expect(error.code).toBe('tool-invalid-arguments');
    expect(calls).toHaveLength(0);
  });

  it('never runs a tool that changes data without confirmed: true, whatever its spec says', async () => {
    const { calls, execute } = recording({ cancelled: true });
    const registry = registryWith({ ...cancel }, execute);
    // Reach past the registry's check, as a bug or a hostile host would: the executor still asks.
    const spec = registry.get('cancel')?.spec;
    if (!spec) throw new Error('cancel is registered');
    spec.requiresConfirmation = false;
    const call = { name: 'cancel', arguments: { plan: '月度会员' } };
    for (const confirmed of [false, undefined, 'yes', 1]) {
      const options = { confirmed } as unknown as { confirmed: boolean };
      const error = await toolErrorOf(runToolCall(registry, call, options));
      expect(error).toMatchObject({ code: 'tool-not-confirmed', tool: 'cancel' });
      expect(error.message).toBe('cancel changes data and runs only after the user confirms it.');
    }
    expect(calls).toEqual([]);
    await runToolCall(registry, call, { confirmed: true });
    expect(calls).toEqual([{ plan: '月度会员' }]);
  });

  it('runs a tool that declares confirmation only once the user confirmed', async () => {
    const { calls, execute } = recording({ cancelled: '月度会员', effective: '立即' });
    const registry = registryWith(cancel, execute);
    const call = { name: 'cancel', arguments: { plan: '月度会员' } };
    const error = await toolErrorOf(runToolCall(registry, call, { confirmed: false }));
    expect(error).toMatchObject({ code: 'tool-not-confirmed', tool: 'cancel' });
    expect(calls).toHaveLength(0);

    const run = await runToolCall(registry, call, { confirmed: true });
    expect(run.result).toEqual({ cancelled: '月度会员', effective: '立即' });
    expect(calls).toEqual([{ plan: '月度会员' }]);
  });

  it('a timeout past what setTimeout holds (3e9 ms) waits for the tool instead of firing at once', async () => {
    const slow: ToolImplementation = () =>
      new Promise((resolve) => {
        setTimeout(() => {
          resolve({ status: 'shipped' });
        }, 30);
      });
    const run = await runToolCall(
      registryWith({ ...lookup, timeoutMs: 3e9 }, slow),
      { name: 'lookup', arguments: { order_id: ORDER_ID } },
      { confirmed: false },
    );
    expect(run.result).toEqual({ status: 'shipped' });
  });

  it('settles with tool-timeout when execute ignores its signal and never finishes', async () => {
    let seenSignal: AbortSignal | undefined;
    const hang: ToolImplementation = (_, { signal }) => {
      seenSignal = signal;
      return new Promise(() => undefined);
    };
    const error = await toolErrorOf(
      runToolCall(
        registryWith({ ...lookup, timeoutMs: 20 }, hang),
        { name: 'lookup', arguments: { order_id: ORDER_ID } },
        { confirmed: false },
      ),
    );
    expect(error).toMatchObject({ code: 'tool-timeout', tool: 'lookup' });
    expect(error.message).toContain('20 ms');
    // The tool was told to stop, too.
    expect(seenSignal?.aborted).toBe(true);
  });

  it('reports the timeout, not the tool’s reaction to its aborted signal', async () => {
    const honours: ToolImplementation = (_, { signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(new Error('request cancelled'));
        });
      });
    const error = await toolErrorOf(
      runToolCall(
        registryWith({ ...lookup, timeoutMs: 20 }, honours),
        { name: 'lookup', arguments: { order_id: ORDER_ID } },
        { confirmed: false },
      ),
    );
    expect(error.code).toBe('tool-timeout');
  });

  it('rejects with AbortError when the caller aborts, even if execute hangs', async () => {
    const controller = new AbortController();
    let seenSignal: AbortSignal | undefined;
    const hang: ToolImplementation = (_, { signal }) => {
      seenSignal = signal;
      controller.abort();
      return new Promise(() => undefined);
    };
    const running = runToolCall(
      registryWith(lookup, hang),
      { name: 'lookup', arguments: { order_id: ORDER_ID } },
      { confirmed: false, signal: controller.signal },
    );
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expect(seenSignal?.aborted).toBe(true);
  });

  it('never starts a call whose signal is already aborted', async () => {
    const { calls, execute } = recording({ ok: true });
    const running = runToolCall(
      registryWith(lookup, execute),
      { name: 'lookup', arguments: { order_id: ORDER_ID } },
      { confirmed: false, signal: AbortSignal.abort() },
    );
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expect(calls).toHaveLength(0);
  });

  it('turns anything execute throws into tool-failed with its message and no stack', async () => {
    const throws: ToolImplementation = () => {
      throw new TypeError('backend answered 503');
    };
    const error = await toolErrorOf(
      runToolCall(
        registryWith(lookup, throws),
        { name: 'lookup', arguments: { order_id: ORDER_ID } },
        { confirmed: false },
      ),
    );
    expect(error).toMatchObject({
      code: 'tool-failed',
      tool: 'lookup',
      message: 'backend answered 503',
    });
    expect(error.message).not.toContain(' at ');

    const rejectsText: ToolImplementation = () => Promise.reject(new Error('库存服务不可用'));
    const second = await toolErrorOf(
      runToolCall(
        registryWith(lookup, rejectsText),
        { name: 'lookup', arguments: { order_id: ORDER_ID } },
        { confirmed: false },
      ),
    );
    expect(second).toMatchObject({ code: 'tool-failed', message: '库存服务不可用' });
  });

  it('passes a ToolError from execute through unchanged', async () => {
    const original = new ToolError('tool-failed', 'lookup', `没有找到订单 ${ORDER_ID}。`);
    const refuses: ToolImplementation = () => Promise.reject(original);
    const error = await toolErrorOf(
      runToolCall(
        registryWith(lookup, refuses),
        { name: 'lookup', arguments: { order_id: ORDER_ID } },
        { confirmed: false },
      ),
    );
    expect(error).toBe(original);
  });

  const cyclic: Record<string, unknown> = { order_id: ORDER_ID };
  cyclic.self = cyclic;
  const shared = { city: '上海' };

  it.each<[string, unknown, RegExp]>([
    ['a method', { order_id: ORDER_ID, format: () => 'x' }, /result\.format is a function/],
    ['a cycle', cyclic, /result\.self refers back to itself/],
    ['a BigInt', { amount: 299n }, /result\.amount is a bigint/],
    ['undefined', { eta: undefined }, /result\.eta is undefined/],
    ['NaN', { amount: Number.NaN }, /result\.amount is NaN/],
    ['a Date', { placed_at: new Date(0) }, /instance of Date/],
    ['a Map', { items: new Map() }, /instance of Map/],
    ['an array', [1, 2], /expected a plain object, got an array/],
    ['a string', 'done', /expected a plain object, got a string/],
    ['a function', () => ({}), /expected a plain object, got a function/],
    ['nothing', undefined, /expected a plain object, got undefined/],
    ['over 64 KB', { text: 'x'.repeat(MAX_RESULT_BYTES) }, /more than 65536/],
    ['over 64 KB of UTF-8', { text: '订'.repeat(22_000) }, /66\d{3} bytes of JSON/],
  ])('refuses a result with %s', async (_, result, message) => {
    const { execute } = recording(result);
    const error = await toolErrorOf(
      runToolCall(
        registryWith(lookup, execute),
        { name: 'lookup', arguments: { order_id: ORDER_ID } },
        { confirmed: false },
      ),
    );
    expect(error).toMatchObject({ code: 'tool-bad-result', tool: 'lookup' });
    expect(error.message).toMatch(message);
  });

  it('accepts nested plain JSON, shared (not cyclic) references and null prototypes', async () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.note = '无';
    const { execute } = recording({ from: shared, to: shared, list: [1, 'a', null, true], bare });
    const run = await runToolCall(
      registryWith(lookup, execute),
      { name: 'lookup', arguments: { order_id: ORDER_ID } },
      { confirmed: false },
    );
    expect(run.result).toEqual({
      from: { city: '上海' },
      to: { city: '上海' },
      list: [1, 'a', null, true],
      bare: { note: '无' },
    });
  });
});
