import type { RouteReason } from '../engine/classification';
import type { DeviceReason } from '../engine/device';
import type { Language } from '../shared/language';

/**
 * The engine's routing and device reasons in the operator's language, for the inspector (loaded
 * only when an operator turns it on; the customer's texts are in ./reasons.ts). The engine records
 * them as data (`Classification.reasonCode`, `Backend.reasonCode`) and keeps English words for the
 * CLI and logs. Chinese texts use no Latin words but WASM, WebGPU and GPU.
 */

type Texts<Code extends string, Text> = Readonly<Record<Code, Readonly<Record<Language, Text>>>>;

/**
 * A confidence and the threshold it fell below, as percents with the fewest decimals that show
 * the threshold as it is (70%, 70.5%; at most two unless more are needed) and the confidence under
 * it: the confidence is rounded down, so 0.6996 under 0.7 reads 69%, never "70% below 70%".
 */
function percents(confidence: number, threshold: number): [string, string] {
  for (let digits = 0; ; digits++) {
    const scale = 10 ** digits;
    const exact = threshold * 100 * scale;
    const limit = Math.round(exact) / scale;
    // NOTE: 1e-9 absorbs binary fractions (0.29 * 100 = 28.999999999999996).
    const shown = Math.floor(confidence * 100 * scale + 1e-9) / scale;
    const faithful = Math.abs(exact - Math.round(exact)) < 1e-6 || digits >= 2;
    if ((faithful && shown < limit) || digits >= 4) {
      return [shown.toFixed(digits), limit.toFixed(digits)];
    }
  }
}

/**
 * Why a message did not go to its top intent, in `language`. `nameOf` names an intent for the
 * customer (the catalog's `name[language]`).
 *
 * @example
 * routeReasonText({ code: 'below-escalate', intentId: 'order', confidence: 0.62, threshold: 0.7 },
 *   'zh', () => '查询订单'); // '“查询订单”的置信度 62% 低于转交阈值 70%'
 */
export function routeReasonText(
  reason: RouteReason,
  language: Language,
  nameOf: (intentId: string) => string,
): string {
  const name = nameOf(reason.intentId);
  const zh = language === 'zh';
  switch (reason.code) {
    case 'fallback-intent':
      return zh ? `模型判断这条消息属于“${name}”` : `The model chose ${name}`;
    case 'always-handed-over':
      return zh ? `“${name}”总是转交处理` : `${name} is always handed over`;
    case 'below-out-of-scope': {
      const [shown, limit] = percents(reason.confidence, reason.threshold);
      return zh
        ? `“${name}”的置信度 ${shown}% 低于超出范围阈值 ${limit}%`
        : `Confidence ${shown}% for ${name} is below its out-of-scope threshold ${limit}%`;
    }
    case 'below-escalate': {
      const [shown, limit] = percents(reason.confidence, reason.threshold);
      return zh
        ? `“${name}”的置信度 ${shown}% 低于转交阈值 ${limit}%`
        : `Confidence ${shown}% for ${name} is below its hand-over threshold ${limit}%`;
    }
  }
}

const DEVICE_TEXT: Texts<DeviceReason['code'], string> = {
  'wasm-requested': { zh: '按要求使用 WASM 运行', en: 'Running on WASM, as requested' },
  'webgpu-requested': { zh: '按要求使用 WebGPU 运行', en: 'Running on WebGPU, as requested' },
  'webgpu-requested-software': {
    zh: '按要求使用 WebGPU 运行（软件模拟的适配器，较慢）',
    en: 'Running on WebGPU, as requested (a software adapter, which is slow)',
  },
  'no-adapter': {
    zh: '没有可用的 WebGPU 适配器，使用 WASM 运行',
    en: 'No WebGPU adapter is available: running on WASM',
  },
  'software-adapter-slower': {
    zh: '只有软件模拟的 WebGPU 适配器，比 WASM 慢，因此使用 WASM 运行',
    en: 'Only a software WebGPU adapter, which is slower than WASM: running on WASM',
  },
  'adapter-granted': {
    zh: '已获得 WebGPU 适配器，使用 WebGPU 运行',
    en: 'WebGPU adapter granted: running on WebGPU',
  },
  'node-cpu': {
    zh: '在本机处理器上运行（命令行环境）',
    en: 'Running on the CPU (onnxruntime-node)',
  },
  'webgpu-session-failed': {
    zh: 'WebGPU 启动失败，已改用 WASM 运行',
    en: 'WebGPU failed to start: running on WASM instead',
  },
  'webgpu-output-mismatch': {
    zh: 'WebGPU 在本设备上的计算结果有误，已改用 WASM 运行',
    en: 'WebGPU computed wrong results on this device: running on WASM instead',
  },
  'webgpu-run-failed': {
    zh: 'WebGPU 运行时出错，已切换到 WASM',
    en: 'WebGPU failed while running: switched to WASM',
  },
  'webgpu-device-lost': {
    zh: 'WebGPU 设备丢失，已切换到 WASM',
    en: 'The WebGPU device was lost: switched to WASM',
  },
};

/**
 * Why the model runs where it runs, in `language`. A failure's `detail` (the browser's or the
 * runtime's own words, in English) is left out: show it apart (a tooltip, the console) if at all.
 *
 * @example
 * deviceReasonText({ code: 'no-adapter' }, 'zh'); // '没有可用的 WebGPU 适配器，使用 WASM 运行'
 */
export function deviceReasonText(reason: DeviceReason, language: Language): string {
  return DEVICE_TEXT[reason.code][language];
}
