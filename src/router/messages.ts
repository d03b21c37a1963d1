import type { Language } from '../shared/language';

/**
 * The few customer-facing lines the session writes itself (the widget's own strings are in
 * src/ui/i18n.ts): they land in turns and `reply` events, so headless hosts get them too.
 */
const REPLY_TEXT = {
  zh: {
    toolDone: (name: string) => `${name} 已完成。`,
    handedOff: '已为您转接人工客服，请稍候，我们会尽快回复。',
    cancelled: '已停止。',
    toolUnavailable: '这项服务暂时不可用，请稍后再试或转人工客服。',
  },
  en: {
    toolDone: (name: string) => `${name} finished.`,
    handedOff: 'You have been passed to our service team; someone will reply shortly.',
    cancelled: 'Stopped.',
    toolUnavailable:
      'This service is not available right now; please try again later or ask for a person.',
  },
} as const satisfies Record<Language, unknown>;

export function replyText(language: Language): (typeof REPLY_TEXT)[Language] {
  return REPLY_TEXT[language];
}
