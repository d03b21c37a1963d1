import { describe, expect, it } from 'vitest';
import { CompiledPattern, MAX_STRING_LENGTH } from '../../src/catalog/pattern';
import type { StringSchema } from '../../src/catalog/types';
import { extractSlotValue, PATTERN_SEARCH_STEPS } from '../../src/router/slot-values';
import { demoTool } from '../support/demo-tools';

describe('extractSlotValue', () => {
  const orderId = demoTool('lookup_order').parameters.properties.order_id;
  const plan = demoTool('cancel_service').parameters.properties.plan;
  const address = demoTool('change_address').parameters.properties.address;
  if (!orderId || !plan || !address) throw new Error('demo schema changed');

  it.each([
    ['订单号是 2024113012345 谢谢', '2024113012345'],
    ['2024113012345', '2024113012345'],
    ['订单2024113012345，麻烦了', '2024113012345'],
    ['my order number is 2024113012345.', '2024113012345'],
    ['２０２４１１３０１２３４５', '2024113012345'], // full-width digits
    ['单号 20241130123456', undefined], // 14 digits: not an order id cut out of it
    ['123 和 2024113012345', '2024113012345'],
    ['我不记得了', undefined],
  ])('pattern: %s', (text, expected) => {
    expect(extractSlotValue(orderId, text)).toBe(expected);
  });

  it.each([
    ['取消年度会员吧', '年度会员'],
    ['我要关掉自动续费', '自动续费'],
    ['会员', undefined],
  ])('enum: %s', (text, expected) => {
    expect(extractSlotValue(plan, text)).toBe(expected);
  });

  it('prefers the longest enum value the text contains', () => {
    const size = { type: 'string', enum: ['L', 'XL', 'XXL'] } as const;
    expect(extractSlotValue({ ...size, enum: [...size.enum] }, 'size xxl please')).toBe('XXL');
  });

  it('takes free text whole when its length fits', () => {
    expect(extractSlotValue(address, '  上海市浦东新区世纪大道 100 号  ')).toBe(
      '上海市浦东新区世纪大道 100 号',
    );
    expect(extractSlotValue(address, '上海')).toBeUndefined(); // minLength 6
    expect(extractSlotValue(address, '路'.repeat(61))).toBeUndefined(); // maxLength 60
    expect(extractSlotValue({ type: 'string' }, '   ')).toBeUndefined();
  });

  it('finds the first number in range', () => {
    const quantity = { type: 'integer', minimum: 1, maximum: 9 } as const;
    expect(extractSlotValue(quantity, '要 3 件')).toBe(3);
    expect(extractSlotValue(quantity, '20 件太多了，还是 2 件吧')).toBe(2);
    expect(extractSlotValue(quantity, '１件')).toBe(1);
    expect(extractSlotValue(quantity, 'version abc123')).toBeUndefined();
    expect(extractSlotValue(quantity, '2.5')).toBeUndefined();
    expect(extractSlotValue({ type: 'number', minimum: -10 }, 'about -2.5 degrees')).toBe(-2.5);
    expect(extractSlotValue({ type: 'number' }, 'no idea')).toBeUndefined();
  });

  it.each([
    ['是的', true],
    ['好的，确认', true],
    ['Yes please', true],
    ['ok', true],
    ['不要了', false],
    ['不是', false],
    ['no thanks', false],
    ["I don't want it", false],
    ['随便吧', undefined],
    ['nothing', undefined],
  ])('boolean: %s', (text, expected) => {
    expect(extractSlotValue({ type: 'boolean' }, text)).toBe(expected);
  });
});

describe('extractSlotValue: a long follow-up against an open pattern (issue 18)', () => {
  /** Far above any linear search of the messages below, far below a quadratic one (~1.8e9). */
  const STEP_CEILING = 5_000_000;

  /**
   * `extractSlotValue` with every pattern step counted (the engine's unit of work); throws past
   * STEP_CEILING, so a search that has gone quadratic fails at once instead of freezing the run.
   */
  function extractCountingSteps(
    schema: StringSchema,
    text: string,
  ): { value: unknown; steps: number } {
    const step = Object.getOwnPropertyDescriptor(CompiledPattern.prototype, 'step')
      ?.value as CompiledPattern['step'];
    let steps = 0;
    CompiledPattern.prototype.step = function (this: CompiledPattern, state, codePoint) {
      steps++;
      if (steps > STEP_CEILING) throw new Error(`more than ${STEP_CEILING} pattern steps`);
      return step.call(this, state, codePoint);
    };
    try {
      return { value: extractSlotValue(schema, text), steps };
    } finally {
      CompiledPattern.prototype.step = step;
    }
  }

  const note: StringSchema = { type: 'string', pattern: '[^<>]+', maxLength: 60 };
  const length = 60_000;

  it('reads no span longer than maxLength', () => {
    // Every span matches: the first start, cut at 60 characters, is the answer.
    expect(extractCountingSteps(note, '路'.repeat(length))).toEqual({
      value: '路'.repeat(60),
      steps: 60,
    });
  });

  it('skips starts inside a run of letters and digits', () => {
    // Any span would split the run; only its first character can start one, and only for 60.
    expect(extractCountingSteps(note, 'a'.repeat(length))).toEqual({ value: undefined, steps: 60 });
  });

  it('stays linear when the answer comes at the end', () => {
    const address = '上海市浦东新区世纪大道 100 号';
    const { value, steps } = extractCountingSteps(note, `${'<'.repeat(length)}${address}`);
    expect(value).toBe(address);
    // One step to see that no span starts at each "<", then the address once.
    expect(steps).toBe(length + address.length);
  });

  it('stops at MAX_STRING_LENGTH without a maxLength', () => {
    const open: StringSchema = { type: 'string', pattern: '[^<>]+' };
    expect(extractCountingSteps(open, '路'.repeat(length))).toEqual({
      value: '路'.repeat(MAX_STRING_LENGTH),
      steps: MAX_STRING_LENGTH,
    });
  });

  it('gives up after PATTERN_SEARCH_STEPS when no span can match', () => {
    // No "!" anywhere: every start is read for maxLength characters in vain (3.6 million steps).
    const exclaimed: StringSchema = { type: 'string', pattern: '[^<>]+!', maxLength: 60 };
    expect(extractCountingSteps(exclaimed, '路'.repeat(length))).toEqual({
      value: undefined,
      steps: PATTERN_SEARCH_STEPS,
    });
  });
});
