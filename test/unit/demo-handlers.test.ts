import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DATA } from '../../scripts/lib/paths';
import { validateCatalog } from '../../src/catalog/catalog';
import type { IntentRoute } from '../../src/catalog/types';
import {
  bestKnowledgeLine,
  createDemoHandlers,
  englishKnowledgeLine,
} from '../../src/demo/handlers';
import type { AgentRequest, RouteHandler } from '../../src/router/types';

const catalog = validateCatalog(
  JSON.parse(readFileSync(join(DEMO_DATA, 'catalog.json'), 'utf8')),
  'data/demo/catalog.json',
);
const englishTable = JSON.parse(
  readFileSync(join(DEMO_DATA, 'knowledge-en.json'), 'utf8'),
) as Record<string, string>;

type AgentRoute = Extract<IntentRoute, { kind: 'agent' }>;
const agentRoutes = Object.entries(catalog.routes ?? {}).filter(
  (entry): entry is [string, AgentRoute] => entry[1].kind === 'agent',
);
const knowledgeOf = (intentId: string): string =>
  agentRoutes.find(([id]) => id === intentId)?.[1].knowledge ?? '';
const CJK = /[\u2e80-\u303f\u3400-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]/u;

/** Asks the demo agent `handler` as the router would for an `intentId` turn. */
function ask(
  handler: RouteHandler | undefined,
  intentId: string,
  message: string,
  language: 'zh' | 'en',
  knowledge = knowledgeOf(intentId),
): Promise<string> {
  if (handler?.kind !== 'agent' || !('respond' in handler)) {
    throw new Error('not a local agent');
  }
  const request: AgentRequest = {
    intentId,
    label: '',
    message,
    language,
    history: [],
    system: '',
    knowledge,
  };
  return handler.respond(request, {
    signal: new AbortController().signal,
    onDelta: () => undefined,
  });
}

describe('the demo knowledge in English', () => {
  it('translates every line of the demo agents’ knowledge, and nothing else', () => {
    const lines = agentRoutes.flatMap(([, route]) => (route.knowledge ?? '').split('\n'));
    expect(agentRoutes.map(([id]) => id)).toEqual(['payment', 'account']);
    expect(lines).toHaveLength(13);
    expect(Object.keys(englishTable).sort()).toEqual([...lines].sort());
    for (const line of lines) {
      const english = englishKnowledgeLine(line);
      expect(english).toBe(englishTable[line]);
      expect(english).not.toMatch(CJK);
    }
    expect(englishKnowledgeLine('不在资料里的一行')).toBeNull();
  });
});

describe('the demo agents', () => {
  const handlers = createDemoHandlers();

  it('answer a Chinese customer with the catalog’s own line', async () => {
    expect(await ask(handlers.billing, 'payment', '支付失败了会扣钱吗', 'zh')).toBe(
      '支付失败不会扣款。如果银行显示已扣款但订单仍是未支付，款项会在 1–3 个工作日内由银行自动退回。',
    );
  });

  it('answer an English customer in English', async () => {
    expect(await ask(handlers.billing, 'payment', 'I was charged twice', 'en')).toBe(
      'A duplicate charge is returned to the original payment method automatically within 3 working days; there is nothing to apply for.',
    );
    expect(await ask(handlers.accounts, 'account', 'My account is locked', 'en')).toBe(
      'After 5 wrong passwords in a row the account is locked for 30 minutes and then unlocks by itself; resetting the password with an SMS code unlocks it at once.',
    );
    expect(await ask(handlers.accounts, 'account', 'How do I change my phone number?', 'en')).toBe(
      'To change your linked phone number, go to "Account settings > Phone number": first receive a code on the old number, then verify the new one.',
    );
    expect(await ask(handlers.accounts, 'account', 'hello there', 'en')).toBe(
      'Accounts has no notes on this yet; type "talk to a person" to reach our staff.',
    );
  });

  it('quote a line they have no English for as it is, saying so', async () => {
    const knowledge = '退款到账需要 7 个工作日。';
    expect(bestKnowledgeLine('refund', knowledge)).toBe(knowledge);
    expect(await ask(handlers.billing, 'payment', 'refund', 'en', knowledge)).toBe(
      `Billing (our notes are in Chinese): ${knowledge}`,
    );
  });
});
