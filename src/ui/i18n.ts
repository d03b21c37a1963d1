/** UI languages the widget ships. */
export type Language = 'zh' | 'en';

/** `auto` follows the system's light/dark preference. */
export type Theme = 'light' | 'dark' | 'auto';

const ZH = {
  title: '分流 · 意图识别',
  subtitle: '模型在你的浏览器里运行，消息不会离开本机。',
  placeholder: '输入消息，Enter 发送，Shift+Enter 换行',
  messageLabel: '消息',
  send: '发送',
  stop: '停止',
  cancel: '取消',
  checkingDevice: '正在检测设备…',
  downloading: '正在下载模型',
  initializing: '正在初始化模型…',
  initializingOn: (device: string) => `正在 ${device} 上初始化模型…`,
  warmingUp: '正在预热…',
  ready: '就绪',
  error: '出错了',
  cancelled: '已取消加载',
  retry: '重试',
  confidence: '置信度',
  runnerUps: '其他候选意图',
  latency: '耗时',
  escalate: '建议转交人工或更大的模型',
  outOfScope: '超出本助手的服务范围',
  classifying: '正在识别…',
  turnCancelled: '已停止',
  language: 'English',
  languageLabel: '切换到英文界面',
  theme: { light: '浅色', dark: '深色', auto: '自动' },
  themeLabel: '切换配色',
  clear: '清空对话',
  empty: '试试：“取消我的订阅”或“修改我的收货地址”',
  conversation: '对话',
  you: '你',
  toolCall: '工具调用',
  toolArguments: '参数',
  toolResult: '结果',
  toolStatus: {
    pending: '等待中',
    'needs-confirmation': '待确认',
    running: '运行中',
    done: '完成',
    error: '失败',
    declined: '已拒绝',
  },
  fellBack: '已切换到 WASM',
  notPersisted: '浏览器未允许离线缓存模型，本次从内存运行',
} as const;

type Widen<T> = T extends string
  ? string
  : T extends (...args: infer A) => string
    ? (...args: A) => string
    : { [K in keyof T]: Widen<T[K]> };

/** Every UI string, in one language. */
export type Strings = Widen<typeof ZH>;

const EN: Strings = {
  title: 'fenliu · intent router',
  subtitle: 'The model runs in your browser: messages never leave this device.',
  placeholder: 'Type a message. Enter sends, Shift+Enter adds a line',
  messageLabel: 'Message',
  send: 'Send',
  stop: 'Stop',
  cancel: 'Cancel',
  checkingDevice: 'Checking device…',
  downloading: 'Downloading model',
  initializing: 'Initializing model…',
  initializingOn: (device) => `Initializing model on ${device}…`,
  warmingUp: 'Warming up…',
  ready: 'Ready',
  error: 'Something went wrong',
  cancelled: 'Loading cancelled',
  retry: 'Retry',
  confidence: 'confidence',
  runnerUps: 'Other candidate intents',
  latency: 'took',
  escalate: 'Suggest handing over to a person or a larger model',
  outOfScope: 'Outside what this assistant handles',
  classifying: 'Classifying…',
  turnCancelled: 'Stopped',
  language: '中文',
  languageLabel: 'Switch to the Chinese interface',
  theme: { light: 'Light', dark: 'Dark', auto: 'Auto' },
  themeLabel: 'Change colour theme',
  clear: 'Clear conversation',
  empty: 'Try “取消我的订阅” or “修改我的收货地址”',
  conversation: 'Conversation',
  you: 'You',
  toolCall: 'Tool call',
  toolArguments: 'Arguments',
  toolResult: 'Result',
  toolStatus: {
    pending: 'Pending',
    'needs-confirmation': 'Needs confirmation',
    running: 'Running',
    done: 'Done',
    error: 'Failed',
    declined: 'Declined',
  },
  fellBack: 'switched to WASM',
  notPersisted: 'The browser refused to cache the model offline; running from memory this time',
};

/** The UI strings for `language`. */
export function strings(language: Language): Strings {
  return language === 'zh' ? ZH : EN;
}

/** Parses a `lang` attribute or URL parameter (`zh`, `zh-CN`, `en`, `en-US`…); default Chinese. */
export function parseLanguage(value: string | null | undefined): Language {
  return value?.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

/** Parses a `theme` attribute or URL parameter; anything else is `auto`. */
export function parseTheme(value: string | null | undefined): Theme {
  return value === 'light' || value === 'dark' ? value : 'auto';
}

/** Bytes for people: `812 kB`, `10.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`;
}

/** A probability as a whole percent, never showing 100 % for less than 1 nor 0 % for more than 0. */
export function formatPercent(probability: number): string {
  const percent = probability * 100;
  if (percent >= 99.5 && probability < 1) return '>99%';
  if (percent < 0.5 && probability > 0) return '<1%';
  return `${percent.toFixed(0)}%`;
}
