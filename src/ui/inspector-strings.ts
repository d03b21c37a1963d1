import type { RouteKind } from '../catalog/types';
import type { Route } from '../engine/classification';
import type { Language } from '../shared/language';

/**
 * The operator's words: the inspector (`TurnInspector`, src/ui/Inspector.tsx) and the export of
 * corrections (`CorrectionsExport`). Apart from the customer's strings (src/ui/i18n.ts) because
 * only operators read them. Names of things (WebGPU, WASM, JSONL, ShareGPT, a model id, an
 * argument key) stay as they are in both languages.
 */
export interface InspectorStrings {
  /** The accessible name of one turn's inspector. */
  region: string;
  intent: string;
  confidence: string;
  runnerUps: string;
  route: string;
  /** What each routing decision means. */
  routeName: Record<Route, string>;
  /** Where an intent's messages go (the catalog's route kinds). */
  routeKind: Record<RouteKind, string>;
  reason: string;
  timings: string;
  classification: (ms: number, tokens: number, steps: number) => string;
  argumentDecoding: (ms: number) => string;
  toolRan: (ms: number) => string;
  backend: string;
  /** The classifier has not (yet) said where it runs. */
  backendUnknown: string;
  /** Appended to the backend line when WebGPU failed and WASM runs instead. */
  fellBack: string;
  toolArguments: string;
  noArguments: string;
  missingArguments: (keys: string) => string;
  /** Decoded, but refused by the tool's schema (dropped from the call). */
  refusedArguments: string;
  /** Where in the message an argument's value was taken from. */
  fromMessage: string;
  wrongIntent: string;
  correctIntent: string;
  saveCorrection: string;
  cancel: string;
  correctedTo: (name: string) => string;
  undo: string;
  /** Storage refused the correction: it holds for this page only. */
  notKept: string;
  trainingData: string;
  corrections: (count: number) => string;
  /** The inspector bar's summary of the corrections export. */
  correctionsSummary: (count: number) => string;
  exportJsonl: string;
  exportShareGpt: string;
  clearCorrections: string;
  confirmClear: (count: number) => string;
  confirmClearYes: string;
  keepCorrections: string;
}

const ZH: InspectorStrings = {
  region: '运营视图',
  intent: '意图',
  confidence: '置信度',
  runnerUps: '其他候选意图',
  route: '路由',
  routeName: { intent: '按意图处理', out_of_scope: '超出服务范围', escalate: '转交升级' },
  routeKind: {
    reply: '模板回复',
    tool: '调用工具',
    agent: '智能体',
    human: '转人工',
    host: '交给宿主页面',
  },
  reason: '原因',
  timings: '耗时',
  classification: (ms, tokens, steps) => `识别 ${ms} 毫秒（${tokens} 个词元，${steps} 步）`,
  argumentDecoding: (ms) => `其中生成参数 ${ms} 毫秒`,
  toolRan: (ms) => `工具运行 ${ms} 毫秒`,
  backend: '运行环境',
  backendUnknown: '模型尚未就绪',
  fellBack: '（WebGPU 出错后改用）',
  toolArguments: '工具参数',
  noArguments: '没有参数',
  missingArguments: (keys) => `缺少：${keys}`,
  refusedArguments: '不合规被舍弃',
  fromMessage: '取自消息',
  wrongIntent: '意图不对？',
  correctIntent: '正确的意图',
  saveCorrection: '保存纠正',
  cancel: '取消',
  correctedTo: (name) => `已纠正为“${name}”`,
  undo: '撤销',
  notKept: '纠正没能存到本机，关闭页面后会丢失。',
  trainingData: '训练数据',
  corrections: (count) => `${count} 条纠正`,
  correctionsSummary: (count) => `纠正记录（${count}）· 导出训练数据`,
  exportJsonl: '导出 JSONL',
  exportShareGpt: '导出 ShareGPT',
  clearCorrections: '清除纠正',
  confirmClear: (count) => `确定清除全部 ${count} 条纠正吗？清除后无法恢复。`,
  confirmClearYes: '确定清除',
  keepCorrections: '保留',
};

const EN: InspectorStrings = {
  region: 'Operator view',
  intent: 'Intent',
  confidence: 'Confidence',
  runnerUps: 'Runner-up intents',
  route: 'Route',
  routeName: { intent: 'to the intent', out_of_scope: 'out of scope', escalate: 'escalated' },
  routeKind: {
    reply: 'template reply',
    tool: 'tool call',
    agent: 'agent',
    human: 'people',
    host: 'host page',
  },
  reason: 'Reason',
  timings: 'Timings',
  classification: (ms, tokens, steps) =>
    `classified in ${ms} ms (${tokens} ${tokens === 1 ? 'token' : 'tokens'}, ${steps} ${steps === 1 ? 'step' : 'steps'})`,
  argumentDecoding: (ms) => `of which arguments ${ms} ms`,
  toolRan: (ms) => `tool ran ${ms} ms`,
  backend: 'Backend',
  backendUnknown: 'model not ready yet',
  fellBack: ' (after WebGPU failed)',
  toolArguments: 'Tool arguments',
  noArguments: 'no arguments',
  missingArguments: (keys) => `missing: ${keys}`,
  refusedArguments: 'refused by the schema',
  fromMessage: 'from the message',
  wrongIntent: 'Wrong intent?',
  correctIntent: 'Correct intent',
  saveCorrection: 'Save correction',
  cancel: 'Cancel',
  correctedTo: (name) => `Corrected to “${name}”`,
  undo: 'Undo',
  notKept: 'The correction could not be stored on this device; it is lost when the page closes.',
  trainingData: 'Training data',
  corrections: (count) => `${count} ${count === 1 ? 'correction' : 'corrections'}`,
  correctionsSummary: (count) => `Corrections (${count}) · export as training data`,
  exportJsonl: 'Export JSONL',
  exportShareGpt: 'Export ShareGPT',
  clearCorrections: 'Clear corrections',
  confirmClear: (count) =>
    `Clear all ${count} ${count === 1 ? 'correction' : 'corrections'}? This cannot be undone.`,
  confirmClearYes: 'Clear them',
  keepCorrections: 'Keep them',
};

/** The operator's strings for `language`. */
export function inspectorStrings(language: Language): InspectorStrings {
  return language === 'zh' ? ZH : EN;
}
