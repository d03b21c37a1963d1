import type { EscalationState } from '../router/conversation';
import type {
  ClassifierWorkerErrorCode,
  EscalationErrorCode,
  ToolErrorCode,
} from '../shared/errors';
import type { Language } from '../shared/language';

/**
 * The router's error codes and hand-over outcomes in the customer's language. The engine and the
 * router record them as data (error `code`s, `EscalationState`) and keep English words for the
 * CLI and logs; everything the customer reads goes through here, so the Chinese UI shows no
 * English (the operator's routing and device reasons are in ./operator-reasons.ts). Chinese texts
 * use no Latin words but WASM, WebGPU and GPU (and a host name, which is data).
 */

type Texts<Code extends string, Text> = Readonly<Record<Code, Readonly<Record<Language, Text>>>>;

/**
 * Every error code a customer can meet on a turn, but `tool-failed` (see `customerErrorText`):
 *
 * - `turn.error`: `input-invalid`, `classifier-not-ready`, `classifier-crashed`,
 *   `classifier-unresponsive`, `internal` (the session's last resort);
 * - `turn.tool.error`: the `ToolErrorCode`s and `aborted`;
 * - `turn.reply.error` (agent, people and host routes): the `EscalationErrorCode`s (an agent's
 *   chat-completions endpoint, a people hand-off), `catalog-invalid` (the route's handler is
 *   missing), `aborted`, `internal` (the host's handler threw);
 * - `turn.escalation.error`: the `EscalationErrorCode`s and `aborted`.
 */
export type CustomerErrorCode =
  | 'input-invalid'
  | 'classifier-not-ready'
  | ClassifierWorkerErrorCode
  | Exclude<ToolErrorCode, 'tool-failed'>
  | EscalationErrorCode
  | 'catalog-invalid'
  | 'aborted'
  | 'internal';

const CUSTOMER_ERROR_TEXT: Texts<CustomerErrorCode, string> = {
  'input-invalid': {
    zh: '这条消息里没有文字内容，请重新输入。',
    en: 'This message has no words in it. Please type your question again.',
  },
  'classifier-not-ready': {
    zh: '助手还没有准备好，请稍等片刻后重新发送。',
    en: 'The assistant is not ready yet. Please wait a moment and send it again.',
  },
  'classifier-crashed': {
    zh: '抱歉，助手刚才出了问题，已重新启动；这条消息没有处理，请重新发送。',
    en: 'Sorry, the assistant ran into a problem and restarted. This message was not answered; please send it again.',
  },
  'classifier-unresponsive': {
    zh: '抱歉，助手太久没有响应，已重新启动；这条消息没有处理，请重新发送。',
    en: 'Sorry, the assistant took too long and restarted. This message was not answered; please send it again.',
  },
  'tool-unknown': {
    zh: '抱歉，这项服务暂时不可用，请稍后再试或转人工客服。',
    en: 'Sorry, this service is not available right now. Please try again later or ask for a person.',
  },
  'tool-invalid-arguments': {
    zh: '提供的信息不完整或格式不对，请检查后再试一次。',
    en: 'Some details are missing or not in the right form. Please check them and try again.',
  },
  'tool-not-confirmed': {
    zh: '这项操作需要您确认后才会办理，目前没有办理。',
    en: 'This needs your confirmation first, so nothing was done.',
  },
  // NOTE: a call past its timeout may still complete at the shop's side (src/tools/registry.ts):
  // the outcome is unknown, and trying again at once could do it twice.
  'tool-timeout': {
    zh: '抱歉，这项服务响应超时，暂时不知道是否已办理；请稍后确认后再决定是否重试。',
    en: 'Sorry, this service took too long, so whether it went through is unknown. Please check later before trying again.',
  },
  // NOTE: the tool ran; only its answer could not be read, so it may have changed something.
  'tool-bad-result': {
    zh: '抱歉，没能读取这项服务的结果，暂时不知道是否已办理；请稍后确认后再决定是否重试。',
    en: "Sorry, this service's answer could not be read, so whether it went through is unknown. Please check later before trying again.",
  },
  'escalation-unavailable': {
    zh: '这条消息没有转交出去，没有发送给任何人或任何服务。请换个说法再试，或通过其他渠道联系人工客服。',
    en: 'This message was not handed over: it was not sent to anyone or any service. Try rephrasing it, or reach a person another way.',
  },
  'escalation-handoff-failed': {
    zh: '抱歉，没能为您转接人工客服，请稍后再试。',
    en: 'Sorry, we could not pass you to a person. Please try again later.',
  },
  'escalation-http': {
    zh: '抱歉，回答服务暂时出了问题，请稍后再试。',
    en: 'Sorry, the answering service has a problem right now. Please try again later.',
  },
  'escalation-timeout': {
    zh: '抱歉，回答服务太久没有回复，请稍后再试。',
    en: 'Sorry, the answering service took too long to reply. Please try again later.',
  },
  'escalation-bad-stream': {
    zh: '抱歉，回答服务的回复不完整，请稍后再试。',
    en: 'Sorry, the reply from the answering service was incomplete. Please try again later.',
  },
  'escalation-network': {
    zh: '抱歉，暂时连不上回答服务，请稍后再试。',
    en: 'Sorry, the answering service cannot be reached right now. Please try again later.',
  },
  'catalog-invalid': {
    zh: '抱歉，暂时无法回答这个问题，请稍后再试或转人工客服。',
    en: 'Sorry, this question cannot be answered right now. Please try again later or ask for a person.',
  },
  aborted: { zh: '已停止。', en: 'Stopped.' },
  internal: {
    zh: '抱歉，出了点问题，请稍后再试。',
    en: 'Sorry, something went wrong. Please try again later.',
  },
};

/** The codes `customerErrorText` words (for tests and hosts). */
export const CUSTOMER_ERROR_CODES = Object.keys(CUSTOMER_ERROR_TEXT) as CustomerErrorCode[];

/**
 * A short, polite line for the customer about a turn's error (`turn.error`, `turn.tool.error`,
 * `turn.reply.error`, `turn.escalation.error`): no ids, no internals. Null for a code it does not
 * know, and for `tool-failed`, whose message is the tool's own words for the customer (a
 * business rule saying no, e.g. 没有找到订单 …): show `error.message` for that one.
 *
 * @example
 * customerErrorText('tool-timeout', 'en');
 * // 'Sorry, this service took too long, so whether it went through is unknown. …'
 * customerErrorText('tool-failed', 'zh'); // null: show the tool's message
 */
export function customerErrorText(code: string, language: Language): string | null {
  return Object.hasOwn(CUSTOMER_ERROR_TEXT, code)
    ? CUSTOMER_ERROR_TEXT[code as CustomerErrorCode][language]
    : null;
}

/** What `escalationText` reads of a turn's escalation. */
export type EscalationView = Pick<EscalationState, 'status' | 'handler' | 'endpointHost' | 'text'> &
  Partial<Pick<EscalationState, 'error'>>;

/**
 * What happened to a turn handed over, truthfully, in `language`: where it is going or went (the
 * shop's staff, or a larger model at the recorded host — the message left the device), that it
 * went nowhere (no handler configured, the offline demo; or refused before sending), that it was
 * stopped, interrupted, or failed (with why, from `customerErrorText`). The reply itself
 * (`escalation.text`) is shown apart. Host names are data and appear as they are.
 *
 * @example
 * escalationText({ status: 'unavailable', text: '' }, 'zh');
 * // '这个页面没有配置转交渠道（离线），消息没有发送给任何人或任何服务。'
 * escalationText({ status: 'done', handler: 'chat-completions', endpointHost: 'api.example.com',
 *   text: '…' }, 'en');
 * // 'This answer comes from a larger model at api.example.com; your message was sent there.'
 */
export function escalationText(escalation: EscalationView, language: Language): string {
  const zh = language === 'zh';
  const host = escalation.endpointHost ?? '';
  // NOTE: a space between Chinese and a host name, none where there is no host.
  const model = zh
    ? host === ''
      ? '更大的模型'
      : ` ${host} 上的更大模型`
    : host === ''
      ? 'a larger model'
      : `a larger model at ${host}`;
  const { handler } = escalation;
  switch (escalation.status) {
    case 'streaming':
      if (handler === 'handoff') return zh ? '正在为您转接人工客服…' : 'Passing you to a person…';
      if (handler === 'chat-completions') {
        return zh ? `正在把消息发送给${model}…` : `Sending your message to ${model}…`;
      }
      return zh ? '正在转交…' : 'Handing over…';
    case 'done':
      if (handler === 'handoff') {
        return zh ? '已转交给本店的客服人员，请稍候。' : "Handed to the shop's staff: please wait.";
      }
      if (handler === 'chat-completions') {
        return zh
          ? `这条回答来自${model}，您的消息已发送到那里。`
          : `This answer comes from ${model}; your message was sent there.`;
      }
      return zh ? '已转交。' : 'Handed over.';
    case 'unavailable':
      return zh
        ? '这个页面没有配置转交渠道（离线），消息没有发送给任何人或任何服务。'
        : 'This page has no hand-over configured (offline): your message was not sent to anyone or any service.';
    case 'interrupted':
      if (escalation.text === '') {
        return zh
          ? '页面关闭时转交被中断，没有收到回复。'
          : 'The hand-over was interrupted when the page closed; no reply arrived.';
      }
      return zh
        ? '页面关闭时转交被中断，回复可能不完整。'
        : 'The hand-over was interrupted when the page closed; the reply may be incomplete.';
    case 'error': {
      const code = escalation.error?.code ?? '';
      // Refused before sending: misconfigured, or the message alone over the size cap.
      if (code === 'escalation-unavailable') return CUSTOMER_ERROR_TEXT[code][language];
      if (code === 'aborted') {
        return zh
          ? '已停止转交，不再等待回复。'
          : 'Hand-over stopped: no longer waiting for a reply.';
      }
      const why =
        customerErrorText(code, language) ??
        (zh
          ? '抱歉，转交没有成功，请稍后再试。'
          : 'Sorry, the hand-over failed. Please try again later.');
      if (handler !== 'chat-completions') return why;
      return zh ? `转交给${model}没有成功。${why}` : `The hand-over to ${model} failed. ${why}`;
    }
  }
}
