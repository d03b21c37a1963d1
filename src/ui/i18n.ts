export type Language = 'zh' | 'en';

const STRINGS = {
  zh: {
    title: '分流 · 意图识别',
    subtitle: '模型在你的浏览器里运行，消息不会离开本机。',
    placeholder: '输入消息，Enter 发送，Shift+Enter 换行',
    send: '发送',
    checkingDevice: '正在检测设备…',
    downloading: '正在下载模型',
    initializing: '正在初始化模型…',
    warmingUp: '正在预热…',
    ready: '就绪',
    error: '出错了',
    retry: '重试',
    intent: '意图',
    invalid: '模型回答不在目录中，已按兜底意图处理',
    latency: '耗时',
    language: 'English',
    empty: '试试：“取消我的订阅”或“修改我的收货地址”',
  },
  en: {
    title: 'fenliu · intent router',
    subtitle: 'The model runs in your browser: messages never leave this device.',
    placeholder: 'Type a message. Enter sends, Shift+Enter adds a line',
    send: 'Send',
    checkingDevice: 'Checking device…',
    downloading: 'Downloading model',
    initializing: 'Initializing model…',
    warmingUp: 'Warming up…',
    ready: 'Ready',
    error: 'Something went wrong',
    retry: 'Retry',
    intent: 'Intent',
    invalid: 'The answer was not a catalog label; the fallback intent was used',
    latency: 'took',
    language: '中文',
    empty: 'Try “取消我的订阅” or “修改我的收货地址”',
  },
} as const;

export type Strings = { [K in keyof (typeof STRINGS)['zh']]: string };

export function strings(language: Language): Strings {
  return STRINGS[language];
}
