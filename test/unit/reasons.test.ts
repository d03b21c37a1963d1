import { describe, expect, it } from 'vitest';
import {
  ROUTE_REASON_CODES,
  type RouteReason,
  routeReasonEnglish,
} from '../../src/engine/classification';
import {
  DEVICE_REASON_CODES,
  type DeviceReason,
  deviceReasonEnglish,
  isWebGpuFailure,
} from '../../src/engine/device';
import type {
  ClassifierWorkerErrorCode,
  EscalationErrorCode,
  ToolErrorCode,
} from '../../src/shared/errors';
import type { Language } from '../../src/shared/language';
import {
  CUSTOMER_ERROR_CODES,
  customerErrorText,
  escalationText,
  type EscalationView,
} from '../../src/ui/reasons';
import { deviceReasonText, routeReasonText } from '../../src/ui/operator-reasons';

const LANGUAGES: readonly Language[] = ['zh', 'en'];

/** Latin words in a Chinese text, but the backend names the UI shows as they are. */
function latinWords(text: string): string[] {
  return (text.match(/[A-Za-z][A-Za-z0-9]*/g) ?? []).filter(
    (word) => !['WASM', 'WebGPU', 'GPU'].includes(word),
  );
}

const NAMES: Record<string, Record<Language, string>> = {
  order: { zh: '查询订单', en: 'Order status' },
  other: { zh: '其他', en: 'Something else' },
  human: { zh: '转人工', en: 'Talk to a person' },
};
const nameIn = (language: Language) => (intentId: string) =>
  NAMES[intentId]?.[language] ?? intentId;

/** One reason of each code, with numbers where the code has them. */
function routeReasonOf(code: RouteReason['code']): RouteReason {
  switch (code) {
    case 'fallback-intent':
      return { code, intentId: 'other' };
    case 'always-handed-over':
      return { code, intentId: 'human' };
    case 'below-out-of-scope':
      return { code, intentId: 'order', confidence: 0.41, threshold: 0.5 };
    case 'below-escalate':
      return { code, intentId: 'order', confidence: 0.62, threshold: 0.7 };
  }
}

function deviceReasonOf(code: DeviceReason['code']): DeviceReason {
  switch (code) {
    case 'webgpu-session-failed':
    case 'webgpu-output-mismatch':
    case 'webgpu-run-failed':
    case 'webgpu-device-lost':
      return { code, detail: 'destroyed: Device was destroyed.' };
    default:
      return { code };
  }
}

describe('routeReasonText', () => {
  it('words each route reason with the intent name and its numbers', () => {
    const text = (reason: RouteReason, language: Language) =>
      routeReasonText(reason, language, nameIn(language));
    expect(text(routeReasonOf('below-escalate'), 'zh')).toBe(
      '“查询订单”的置信度 62% 低于转交阈值 70%',
    );
    expect(text(routeReasonOf('below-escalate'), 'en')).toBe(
      'Confidence 62% for Order status is below its hand-over threshold 70%',
    );
    expect(text(routeReasonOf('below-out-of-scope'), 'zh')).toBe(
      '“查询订单”的置信度 41% 低于超出范围阈值 50%',
    );
    expect(text(routeReasonOf('below-out-of-scope'), 'en')).toBe(
      'Confidence 41% for Order status is below its out-of-scope threshold 50%',
    );
    expect(text(routeReasonOf('fallback-intent'), 'zh')).toBe('模型判断这条消息属于“其他”');
    expect(text(routeReasonOf('fallback-intent'), 'en')).toBe('The model chose Something else');
    expect(text(routeReasonOf('always-handed-over'), 'zh')).toBe('“转人工”总是转交处理');
    expect(text(routeReasonOf('always-handed-over'), 'en')).toBe(
      'Talk to a person is always handed over',
    );
  });

  it('never shows a confidence equal to the threshold it fell below', () => {
    const below = (confidence: number, threshold: number) =>
      routeReasonText(
        { code: 'below-escalate', intentId: 'order', confidence, threshold },
        'zh',
        nameIn('zh'),
      );
    // Rounded, 0.6996 would read 70% against 70%.
    expect(below(0.6996, 0.7)).toBe('“查询订单”的置信度 69% 低于转交阈值 70%');
    // 0.29 × 100 is 28.999999999999996 in binary: still 29.
    expect(below(0.29, 0.3)).toBe('“查询订单”的置信度 29% 低于转交阈值 30%');
    // A threshold between two whole percents is shown as it is, the confidence to match.
    expect(below(0.7, 0.705)).toBe('“查询订单”的置信度 70.0% 低于转交阈值 70.5%');
    expect(below(0.61, 0.61234)).toBe('“查询订单”的置信度 61.00% 低于转交阈值 61.23%');
    // Two decimals that would read equal get a third.
    expect(below(0.6123, 0.61234)).toBe('“查询订单”的置信度 61.230% 低于转交阈值 61.234%');
  });

  it('has both languages for every code, and no Latin words in Chinese', () => {
    for (const code of ROUTE_REASON_CODES) {
      const zh = routeReasonText(routeReasonOf(code), 'zh', nameIn('zh'));
      const en = routeReasonText(routeReasonOf(code), 'en', nameIn('en'));
      expect(zh, code).not.toBe('');
      expect(en, code).not.toBe(zh);
      expect(latinWords(zh), `${code}: ${zh}`).toEqual([]);
    }
  });

  it('keeps the English words the CLI prints', () => {
    const labelOf = (intentId: string) => (intentId === 'other' ? '其他' : '查询订单');
    expect(routeReasonEnglish(routeReasonOf('below-escalate'), labelOf)).toBe(
      'confidence 0.62 for 查询订单 is below its escalation threshold 0.70',
    );
    expect(routeReasonEnglish(routeReasonOf('fallback-intent'), labelOf)).toBe(
      'the model chose 其他',
    );
  });
});

describe('deviceReasonText', () => {
  it('says why the model runs where it runs', () => {
    expect(deviceReasonText({ code: 'wasm-requested' }, 'zh')).toBe('按要求使用 WASM 运行');
    expect(deviceReasonText({ code: 'no-adapter' }, 'zh')).toBe(
      '没有可用的 WebGPU 适配器，使用 WASM 运行',
    );
    expect(deviceReasonText({ code: 'no-adapter' }, 'en')).toBe(
      'No WebGPU adapter is available: running on WASM',
    );
    expect(deviceReasonText({ code: 'adapter-granted' }, 'zh')).toBe(
      '已获得 WebGPU 适配器，使用 WebGPU 运行',
    );
  });

  it("leaves a failure's detail (the browser's English) out of both languages", () => {
    const lost = deviceReasonOf('webgpu-device-lost');
    expect(deviceReasonText(lost, 'zh')).toBe('WebGPU 设备丢失，已切换到 WASM');
    expect(deviceReasonText(lost, 'en')).toBe('The WebGPU device was lost: switched to WASM');
    expect(deviceReasonEnglish(lost)).toBe(
      'WebGPU device lost (destroyed: Device was destroyed.); switched to WASM',
    );
    expect(isWebGpuFailure(lost)).toBe(true);
    expect(isWebGpuFailure({ code: 'no-adapter' })).toBe(false);
  });

  it('has both languages for every code, distinct, and no Latin words in Chinese', () => {
    for (const language of LANGUAGES) {
      const texts = DEVICE_REASON_CODES.map((code) =>
        deviceReasonText(deviceReasonOf(code), language),
      );
      expect(new Set(texts).size, language).toBe(DEVICE_REASON_CODES.length);
    }
    for (const code of DEVICE_REASON_CODES) {
      const zh = deviceReasonText(deviceReasonOf(code), 'zh');
      expect(zh, code).not.toBe('');
      expect(deviceReasonText(deviceReasonOf(code), 'en'), code).not.toBe(zh);
      expect(latinWords(zh), `${code}: ${zh}`).toEqual([]);
      expect(zh, code).not.toContain('destroyed');
    }
  });

  it('keeps the English reasons of the status event', () => {
    expect(deviceReasonEnglish({ code: 'no-adapter' })).toBe('no WebGPU adapter granted');
    expect(deviceReasonEnglish({ code: 'webgpu-session-failed', detail: 'x' })).toBe(
      'WebGPU failed at session creation (x); using WASM',
    );
    expect(deviceReasonEnglish({ code: 'webgpu-run-failed', detail: 'x' })).toBe(
      'WebGPU failed while running (x); switched to WASM',
    );
  });
});

describe('customerErrorText', () => {
  it('words every code a customer can meet on a turn', () => {
    // Typed as records so that a new code in src/shared/errors.ts fails to compile here until
    // it is decided whether customers can see it.
    const tool: Record<ToolErrorCode, boolean> = {
      'tool-unknown': true,
      'tool-invalid-arguments': true,
      'tool-not-confirmed': true,
      'tool-timeout': true,
      'tool-failed': false,
      'tool-bad-result': true,
    };
    const escalation: Record<EscalationErrorCode, true> = {
      'escalation-unavailable': true,
      'escalation-handoff-failed': true,
      'escalation-http': true,
      'escalation-timeout': true,
      'escalation-bad-stream': true,
      'escalation-network': true,
    };
    const worker: Record<ClassifierWorkerErrorCode, true> = {
      'classifier-crashed': true,
      'classifier-unresponsive': true,
    };
    const turn = [
      'input-invalid',
      'classifier-not-ready',
      'catalog-invalid',
      'aborted',
      'internal',
    ];
    const worded = [
      ...Object.keys(tool).filter((code) => tool[code as ToolErrorCode]),
      ...Object.keys(escalation),
      ...Object.keys(worker),
      ...turn,
    ];
    expect([...CUSTOMER_ERROR_CODES].sort()).toEqual(worded.sort());
  });

  it('gives short, polite lines without codes, ids or internals', () => {
    expect(customerErrorText('tool-timeout', 'zh')).toBe(
      '抱歉，这项服务响应超时，暂时不知道是否已办理；请稍后确认后再决定是否重试。',
    );
    expect(customerErrorText('escalation-network', 'en')).toBe(
      'Sorry, the answering service cannot be reached right now. Please try again later.',
    );
    expect(customerErrorText('aborted', 'zh')).toBe('已停止。');
    for (const code of CUSTOMER_ERROR_CODES) {
      const zh = customerErrorText(code, 'zh') ?? '';
      const en = customerErrorText(code, 'en') ?? '';
      expect(zh, code).not.toBe('');
      expect(en, code).not.toBe('');
      expect(latinWords(zh), `${code}: ${zh}`).toEqual([]);
      // No code (tool-timeout), id, URL or number in either language.
      for (const text of [zh, en]) {
        expect(text, code).not.toMatch(/[a-z]+-[a-z]+|[0-9]|https?:|\//);
        expect(text.length, code).toBeLessThan(140);
      }
    }
  });

  it('is null for an unknown code, and for tool-failed, whose message is for the customer', () => {
    expect(customerErrorText('tool-failed', 'zh')).toBeNull();
    expect(customerErrorText('no-such-code', 'en')).toBeNull();
    expect(customerErrorText('toString', 'en')).toBeNull();
  });
});

describe('escalationText', () => {
  const host = 'api.example.com';
  const cases: { escalation: EscalationView; zh: string; en: string }[] = [
    {
      escalation: { status: 'unavailable', text: '' },
      zh: '这个页面没有配置转交渠道（离线），消息没有发送给任何人或任何服务。',
      en: 'This page has no hand-over configured (offline): your message was not sent to anyone or any service.',
    },
    {
      escalation: { status: 'done', handler: 'handoff', text: '' },
      zh: '已转交给本店的客服人员，请稍候。',
      en: "Handed to the shop's staff: please wait.",
    },
    {
      escalation: { status: 'done', handler: 'chat-completions', endpointHost: host, text: '好的' },
      zh: '这条回答来自 api.example.com 上的更大模型，您的消息已发送到那里。',
      en: 'This answer comes from a larger model at api.example.com; your message was sent there.',
    },
    {
      // Saved by a release that did not record the host.
      escalation: { status: 'done', handler: 'chat-completions', text: '好的' },
      zh: '这条回答来自更大的模型，您的消息已发送到那里。',
      en: 'This answer comes from a larger model; your message was sent there.',
    },
    {
      escalation: {
        status: 'streaming',
        handler: 'chat-completions',
        endpointHost: host,
        text: '',
      },
      zh: '正在把消息发送给 api.example.com 上的更大模型…',
      en: 'Sending your message to a larger model at api.example.com…',
    },
    {
      escalation: { status: 'streaming', handler: 'handoff', text: '' },
      zh: '正在为您转接人工客服…',
      en: 'Passing you to a person…',
    },
    {
      escalation: {
        status: 'error',
        handler: 'chat-completions',
        endpointHost: host,
        text: '',
        error: { code: 'escalation-timeout', message: 'The escalation endpoint … 60000 ms.' },
      },
      zh: '转交给 api.example.com 上的更大模型没有成功。抱歉，回答服务太久没有回复，请稍后再试。',
      en: 'The hand-over to a larger model at api.example.com failed. Sorry, the answering service took too long to reply. Please try again later.',
    },
    {
      escalation: {
        status: 'error',
        handler: 'handoff',
        text: '',
        error: { code: 'escalation-handoff-failed', message: 'crm down' },
      },
      zh: '抱歉，没能为您转接人工客服，请稍后再试。',
      en: 'Sorry, we could not pass you to a person. Please try again later.',
    },
    {
      // Refused before sending (misconfigured, or the message alone over the size cap).
      escalation: {
        status: 'error',
        handler: 'chat-completions',
        endpointHost: host,
        text: '',
        error: { code: 'escalation-unavailable', message: 'This message is 40000 bytes long…' },
      },
      zh: '这条消息没有转交出去，没有发送给任何人或任何服务。请换个说法再试，或通过其他渠道联系人工客服。',
      en: 'This message was not handed over: it was not sent to anyone or any service. Try rephrasing it, or reach a person another way.',
    },
    {
      escalation: {
        status: 'error',
        handler: 'chat-completions',
        text: '',
        error: { code: 'aborted', message: '已停止。' },
      },
      zh: '已停止转交，不再等待回复。',
      en: 'Hand-over stopped: no longer waiting for a reply.',
    },
    {
      escalation: {
        status: 'error',
        handler: 'handoff',
        text: '',
        error: { code: 'something-new', message: 'x' },
      },
      zh: '抱歉，转交没有成功，请稍后再试。',
      en: 'Sorry, the hand-over failed. Please try again later.',
    },
    {
      escalation: { status: 'interrupted', handler: 'chat-completions', text: '' },
      zh: '页面关闭时转交被中断，没有收到回复。',
      en: 'The hand-over was interrupted when the page closed; no reply arrived.',
    },
    {
      escalation: { status: 'interrupted', handler: 'chat-completions', text: '您好，关于' },
      zh: '页面关闭时转交被中断，回复可能不完整。',
      en: 'The hand-over was interrupted when the page closed; the reply may be incomplete.',
    },
  ];

  it('tells where each turn went, or that it went nowhere, in both languages', () => {
    for (const { escalation, zh, en } of cases) {
      expect(escalationText(escalation, 'zh')).toBe(zh);
      expect(escalationText(escalation, 'en')).toBe(en);
      // The host is data; nothing else in Chinese is Latin.
      expect(latinWords(zh.replace(host, '')), zh).toEqual([]);
      // The error's own (English, developer) message is never shown.
      if (escalation.error) expect(en).not.toContain(escalation.error.message);
    }
  });

  it('says a message went nowhere only when nothing was sent', () => {
    const nowhere = /没有发送给任何人/;
    for (const { escalation, zh } of cases) {
      const sentNowhere =
        escalation.status === 'unavailable' || escalation.error?.code === 'escalation-unavailable';
      expect(nowhere.test(zh), zh).toBe(sentNowhere);
    }
  });
});
