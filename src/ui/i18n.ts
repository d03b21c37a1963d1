/** UI languages the widget ships. */
import type { Language } from '../shared/language';

export { parseLanguage, type Language } from '../shared/language';

/** `auto` follows the system's light/dark preference. */
export type Theme = 'light' | 'dark' | 'auto';

const ZH = {
  assistantName: '客服助手',
  online: '在线',
  privacy: '消息只在本机处理',
  preparing: '正在准备助手…',
  loadFailed: '助手没能启动',
  typing: '正在输入…',
  greeting: '您好！有什么可以帮您？',
  startersLabel: '常见问题',
  youChose: '你选择了',
  sentAt: '发送于',
  openChat: '打开客服对话',
  minimise: '收起对话',
  unread: (count: number): string => `${count} 条新消息`,
  settings: '设置',
  closeSettings: '关闭设置',
  toolConfirmTitle: '请确认',
  toolDeclined: '好的，这项操作没有执行。',
  toolRunning: '正在办理…',
  toolFailed: '抱歉，这项服务暂时出了问题，请稍后再试。',
  toolContinued: '已收到补充的信息。',
  toolInterrupted: '页面关闭时操作被打断，结果未知；如需要请再问一次。',
  hostReceived: '收到，正在为您处理。',
  sendLabel: '发送消息',
  composerHint: 'Enter 发送，Shift+Enter 换行',
  placeholder: '输入消息…',
  messageLabel: '消息',
  send: '发送',
  stop: '停止',
  cancel: '取消',
  cancelled: '已取消加载',
  retry: '重试',
  turnCancelled: '已停止',
  language: 'English',
  languageLabel: '切换到英文界面',
  theme: { light: '浅色', dark: '深色', auto: '自动' },
  themeLabel: '切换配色',
  clear: '清空对话',
  empty: '试试：“取消我的订阅”或“修改我的收货地址”',
  conversation: '对话',
  you: '你',
  toolAskFallback: (key: string) => `请提供 ${key}。`,
  toolConfirm: '确认执行',
  toolDecline: '不用了',
  toolChoices: '可选',
  replyByModel: '由模型根据结果撰写',
  modelReplies: '模型撰写回复',
  escalation: {
    out_of_scope: '这个问题超出了我能处理的范围。',
    low_confidence: '抱歉，我不太确定您的意思。',
    intent: '您希望由人工客服来处理。',
  },
  routeReplyFailed: '抱歉，暂时无法回答这个问题，请稍后再试或转人工客服。',
  setupProblem: '客服助手正在维护中，暂时无法处理消息，请稍后再试。',
  escalationInterrupted: '页面关闭时转交被中断。',
  notPersisted: '浏览器未允许离线缓存模型，本次从内存运行',
  queued: '排队中，前面的消息处理完就轮到它',
  interrupted: '页面关闭时还没有处理，消息已保留',
  resend: '重新发送',
  notSaved: '存储空间不足，对话没能保存到本设备；在关闭页面之前它都还在。',
  restarted: '识别引擎出错后已重新启动',
  autoRetryOnline: '网络恢复后会自动重新下载',
  autoRetryIn: (seconds: string) => `${seconds} 秒后自动重试`,
  truncated: (kept: number, total: number) =>
    `消息很长（${total} 个字符），只识别了前 ${kept} 个字符；完整的消息保留在上面。`,
  errorByCode: {
    'input-invalid': '这条消息只有空白或控制字符，没有可以识别的内容。',
    'classifier-crashed': '识别引擎崩溃了，已自动重启；这条消息没有处理，可以重新发送。',
    'classifier-unresponsive': '识别引擎太久没有响应，已自动重启；这条消息没有处理，可以重新发送。',
    'model-download-failed': '模型下载中断（网络问题），未完成的文件不会被保存。',
    // A model folder that fails its load-time check: the customer cannot fix it; the shop can.
    'model-tokenizer-mismatch': '客服助手的模型文件有误，暂时无法使用，请稍后再试。',
    'model-labels-mismatch': '客服助手的模型文件有误，暂时无法使用，请稍后再试。',
    'model-output-mismatch': '客服助手的模型在本设备上计算有误，暂时无法使用，请稍后再试。',
    'model-folder-invalid': '客服助手的模型文件有误，暂时无法使用，请稍后再试。',
    'model-load-failed': '客服助手的模型没能加载，请稍后再试。',
  },
} as const;

type Widen<T> = T extends string
  ? string
  : T extends (...args: infer A) => string
    ? (...args: A) => string
    : { [K in keyof T]: Widen<T[K]> };

/** Every UI string, in one language. */
export type Strings = Widen<typeof ZH>;

const EN: Strings = {
  assistantName: 'Assistant',
  online: 'Online',
  privacy: 'Messages stay on this device',
  preparing: 'Getting the assistant ready…',
  loadFailed: 'The assistant could not start',
  typing: 'Typing…',
  greeting: 'Hello! How can I help you?',
  startersLabel: 'Common questions',
  youChose: 'You chose',
  sentAt: 'Sent at',
  openChat: 'Open the chat',
  minimise: 'Minimise the chat',
  unread: (count) => `${count} new ${count === 1 ? 'message' : 'messages'}`,
  settings: 'Settings',
  closeSettings: 'Close settings',
  toolConfirmTitle: 'Please confirm',
  toolDeclined: 'OK, nothing was changed.',
  toolRunning: 'Working on it…',
  toolFailed: 'Sorry, this service has a problem right now. Please try again later.',
  toolContinued: 'Thanks, got the details.',
  toolInterrupted:
    'This was interrupted when the page closed and its outcome is unknown; ask again if needed.',
  hostReceived: 'Got it, we are on it.',
  sendLabel: 'Send message',
  composerHint: 'Enter sends, Shift+Enter adds a line',
  placeholder: 'Type a message…',
  messageLabel: 'Message',
  send: 'Send',
  stop: 'Stop',
  cancel: 'Cancel',
  cancelled: 'Loading cancelled',
  retry: 'Retry',
  turnCancelled: 'Stopped',
  language: '中文',
  languageLabel: 'Switch to the Chinese interface',
  theme: { light: 'Light', dark: 'Dark', auto: 'Auto' },
  themeLabel: 'Change colour theme',
  clear: 'Clear conversation',
  empty: 'Try “取消我的订阅” or “修改我的收货地址”',
  conversation: 'Conversation',
  you: 'You',
  toolAskFallback: (key) => `Please give ${key}.`,
  toolConfirm: 'Confirm',
  toolDecline: 'No thanks',
  toolChoices: 'Choices',
  replyByModel: 'Written by the model from the result',
  modelReplies: 'Model-written replies',
  escalation: {
    out_of_scope: 'This is outside what I can help with.',
    low_confidence: "Sorry, I'm not sure what you mean.",
    intent: 'You asked for a person.',
  },
  routeReplyFailed:
    'Sorry, this question cannot be answered right now. Please try again later or ask for a person.',
  setupProblem: 'The assistant is being set up and cannot answer yet. Please try again later.',
  escalationInterrupted: 'The hand-over was interrupted when the page closed.',
  notPersisted: 'The browser refused to cache the model offline; running from memory this time',
  queued: 'Queued: it is next once the messages before it are answered',
  interrupted: 'Not answered before the page closed; the message is kept',
  resend: 'Send again',
  notSaved:
    'Storage is full: the conversation could not be saved on this device. It stays here until the page closes.',
  restarted: 'The classifier failed and was restarted',
  autoRetryOnline: 'The download starts again when the connection is back',
  autoRetryIn: (seconds) => `Retrying in ${seconds} s`,
  truncated: (kept, total) =>
    `A long message (${total} characters): only its first ${kept} were classified; the whole message is kept above.`,
  errorByCode: {
    'input-invalid': 'This message holds only blanks or control characters: nothing to classify.',
    'classifier-crashed':
      'The classifier crashed and was restarted; this message was not answered, send it again.',
    'classifier-unresponsive':
      'The classifier stopped responding and was restarted; this message was not answered, send it again.',
    'model-download-failed':
      'The model download was interrupted (network); no partial file was kept.',
    'model-tokenizer-mismatch':
      "The assistant's model files are wrong, so it cannot answer now. Please try again later.",
    'model-labels-mismatch':
      "The assistant's model files are wrong, so it cannot answer now. Please try again later.",
    'model-output-mismatch':
      'The assistant computes wrong results on this device, so it cannot answer now. Please try again later.',
    'model-folder-invalid':
      "The assistant's model files are wrong, so it cannot answer now. Please try again later.",
    'model-load-failed': "The assistant's model could not be loaded. Please try again later.",
  },
};

/**
 * The words for an error with a stable code the UI knows, else the error's own message (a tool's
 * or an endpoint's message is meant for the user as it is).
 */
export function errorText(error: { code: string; message: string }, t: Strings): string {
  const known = t.errorByCode as Readonly<Record<string, string | undefined>>;
  return known[error.code] ?? error.message;
}

/** The UI strings for `language`. */
export function strings(language: Language): Strings {
  return language === 'zh' ? ZH : EN;
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
