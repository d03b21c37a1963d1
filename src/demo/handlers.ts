import type { AgentRequest, RouteHandler } from '../router/types';
import KNOWLEDGE_EN from '../../data/demo/knowledge-en.json';

/**
 * The demo shop's route handlers (the catalog's `routes` name them): two local agents that answer
 * from their own route's knowledge text, and a service desk that takes complaints. Real shops
 * point agents at a chat-completions endpoint or their own service instead; these run offline so
 * the demo and its tests need no server.
 */

/** English words a customer may use, with the Chinese the demo's knowledge texts are written in. */
const ENGLISH_TERMS: readonly (readonly [RegExp, string])[] = [
  [/password/i, '密码'],
  [/lock/i, '锁定'],
  [/phone|number/i, '手机号'],
  [/code|sms/i, '验证码'],
  [/refund|money back/i, '退款'],
  [/charged|deduct|twice|double/i, '扣款'],
  [/twice|double|duplicate/i, '重复'],
  [/change|switch/i, '更换'],
  [/pay|payment/i, '支付'],
  [/card/i, '银行卡'],
  [/wechat/i, '微信'],
  [/alipay/i, '支付宝'],
  [/cancel|delete|close/i, '注销'],
];

/** Character pairs of a text (Chinese has no spaces; pairs are what overlap tells apart). */
function bigrams(text: string): Set<string> {
  const characters = Array.from(text.toLowerCase().replace(/\s+/g, ''));
  const pairs = new Set<string>();
  for (let index = 0; index + 1 < characters.length; index++) {
    pairs.add(`${characters[index] ?? ''}${characters[index + 1] ?? ''}`);
  }
  return pairs;
}

/**
 * The knowledge line that shares the most character pairs with the message (English terms
 * mapped to the knowledge's Chinese first), or null when none shares any.
 */
export function bestKnowledgeLine(message: string, knowledge: string): string | null {
  const terms = ENGLISH_TERMS.filter(([pattern]) => pattern.test(message)).map(([, zh]) => zh);
  const asked = bigrams(`${message} ${terms.join(' ')}`);
  let best: { line: string; score: number } | null = null;
  for (const line of knowledge.split('\n')) {
    const shared = [...bigrams(line)].filter((pair) => asked.has(pair)).length;
    if (shared > 0 && (!best || shared > best.score)) best = { line, score: shared };
  }
  return best?.line ?? null;
}

/**
 * The English form of a line of the demo catalog's knowledge (data/demo/knowledge-en.json, keyed
 * by the Chinese line), or null for a line it does not translate (a host's own knowledge).
 *
 * NOTE: the catalog's knowledge stays Chinese: the router hands it to agents as it is, and a
 * chat-completions agent answers in the customer's language from it; only these offline agents,
 * which quote a line, need the translation.
 */
export function englishKnowledgeLine(line: string): string | null {
  const table: Readonly<Record<string, string>> = KNOWLEDGE_EN;
  return Object.hasOwn(table, line) ? (table[line] ?? null) : null;
}

/** A local agent: the best knowledge line, or an honest "I don't know" that offers a person. */
function knowledgeAgent(name: { zh: string; en: string }): RouteHandler {
  return {
    kind: 'agent',
    respond: (request: AgentRequest) => {
      const line = bestKnowledgeLine(request.message, request.knowledge);
      if (request.language === 'zh') {
        return Promise.resolve(
          line ?? `${name.zh}暂时没有这方面的资料，您可以输入“转人工”联系客服。`,
        );
      }
      if (line === null) {
        return Promise.resolve(
          `${name.en} has no notes on this yet; type "talk to a person" to reach our staff.`,
        );
      }
      const english = englishKnowledgeLine(line);
      return Promise.resolve(
        english === null ? `${name.en} (our notes are in Chinese): ${line}` : english,
      );
    },
  };
}

/** The demo catalog's queue ids as a Chinese-speaking customer reads them. */
const QUEUE_NAMES_ZH: Readonly<Record<string, string>> = { complaints: '投诉' };

let ticketCounter = 0;

export function createDemoHandlers(): Record<string, RouteHandler> {
  return {
    billing: knowledgeAgent({ zh: '支付客服', en: 'Billing' }),
    accounts: knowledgeAgent({ zh: '账户客服', en: 'Accounts' }),
    service_desk: {
      kind: 'human',
      onHandoff: (request) => {
        ticketCounter += 1;
        const ticket = `C-${String(ticketCounter).padStart(4, '0')}`;
        return Promise.resolve({
          message:
            request.language === 'zh'
              ? `已记录您的意见（工单 ${ticket}，${QUEUE_NAMES_ZH[request.queue] ?? '客服'}队列），客服专员会在 24 小时内联系您。`
              : `Your feedback is logged (ticket ${ticket}, ${request.queue} queue); our staff will contact you within 24 hours.`,
        });
      },
    },
  };
}
