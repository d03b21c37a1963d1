import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateCatalog } from '../../src/catalog/catalog';
import { routeHandlerNames, routeOf, routeProblems } from '../../src/catalog/routes';
import type { Catalog, Intent } from '../../src/catalog/types';
import { readCatalog } from '../../scripts/lib/data-files';
import { DEMO_DATA } from '../../scripts/lib/paths';

const text = { zh: '文', en: 'text' };
const intent = (id: string, label: string, binding: Partial<Intent> = {}): Intent => ({
  id,
  label,
  name: text,
  description: text,
  ...binding,
});
/** One intent of each binding the route rules tell apart. */
const intents = [
  intent('refund', '退款退货', { tool: 'request_refund' }),
  intent('payment', '支付问题'),
  intent('human_agent', '转人工', { escalate: true }),
  intent('out_of_scope', '其他'),
];

/** The problems `routes` has in the catalog above. */
function problemsOf(routes: unknown): string[] {
  return routeProblems(routes, intents, 'out_of_scope');
}

describe('routeProblems', () => {
  it('accepts no routes, and a valid route of every kind', () => {
    expect(problemsOf(undefined)).toEqual([]);
    expect(
      problemsOf({
        refund: { kind: 'tool' },
        payment: {
          kind: 'agent',
          handler: 'billing-v2',
          system: 'You answer payment questions.',
          knowledge: '',
        },
      }),
    ).toEqual([]);
    expect(problemsOf({ payment: { kind: 'human', handler: 'desk', queue: 'billing' } })).toEqual(
      [],
    );
    expect(problemsOf({ payment: { kind: 'host' } })).toEqual([]);
    expect(problemsOf({ payment: { kind: 'host', handler: 'open_ticket' } })).toEqual([]);
    expect(
      problemsOf({ payment: { kind: 'reply', text, suggestions: Array(6).fill(text) } }),
    ).toEqual([]);
  });

  it('requires routes to be an object', () => {
    expect(problemsOf([{ kind: 'host' }])).toEqual([
      '"routes" must be an object of routes keyed by intent id',
    ]);
  });

  it('requires each route to be an object of a known kind', () => {
    expect(problemsOf({ payment: 'billing' })).toEqual([
      'routes.payment must be an object with a "kind"',
    ]);
    expect(problemsOf({ payment: { kind: 'mail' } })).toEqual([
      'routes.payment.kind must be one of reply, tool, agent, human, host',
    ]);
  });

  it('requires each key to be an intent id', () => {
    expect(problemsOf({ nope: { kind: 'host' } })).toEqual([
      'routes.nope: no intent has the id "nope"',
    ]);
  });

  it('keeps a tool intent on its tool, and a tool route on a tool intent', () => {
    expect(problemsOf({ refund: { kind: 'host' } })).toEqual([
      'routes.refund: intent "refund" calls tool "request_refund", so its route must be {"kind":"tool"} or absent',
    ]);
    expect(problemsOf({ payment: { kind: 'tool' } })).toEqual([
      'routes.payment: {"kind":"tool"} needs the intent to name a "tool"',
    ]);
  });

  it('refuses a route on an escalating intent and on the fallback intent', () => {
    expect(problemsOf({ human_agent: { kind: 'human', handler: 'desk', queue: 'all' } })).toEqual([
      'routes.human_agent: intent "human_agent" escalates; escalating intents and the fallback intent keep their escalation rules and take no route',
    ]);
    expect(problemsOf({ out_of_scope: { kind: 'host' } })).toEqual([
      'routes.out_of_scope: intent "out_of_scope" is the fallback intent; escalating intents and the fallback intent keep their escalation rules and take no route',
    ]);
  });

  it('requires handler names that match the pattern', () => {
    expect(problemsOf({ payment: { kind: 'agent' } })).toEqual([
      'routes.payment.handler must be a handler name matching /^[a-z][a-z0-9_-]*$/',
    ]);
    expect(problemsOf({ payment: { kind: 'human', handler: 'Desk', queue: 'q' } })).toEqual([
      'routes.payment.handler must be a handler name matching /^[a-z][a-z0-9_-]*$/',
    ]);
    expect(problemsOf({ payment: { kind: 'host', handler: '' } })).toEqual([
      'routes.payment.handler must be a handler name matching /^[a-z][a-z0-9_-]*$/',
    ]);
  });

  it('requires a reply in both languages and at most six localized suggestions', () => {
    expect(problemsOf({ payment: { kind: 'reply', text: { zh: '您好', en: ' ' } } })).toEqual([
      'routes.payment.text.en must be a non-empty string',
    ]);
    expect(problemsOf({ payment: { kind: 'reply' } })).toEqual([
      'routes.payment.text must be an object with "zh" and "en" strings',
    ]);
    expect(
      problemsOf({ payment: { kind: 'reply', text, suggestions: Array(7).fill(text) } }),
    ).toEqual(['routes.payment.suggestions must be an array of at most 6 localized texts']);
    expect(problemsOf({ payment: { kind: 'reply', text, suggestions: text } })).toEqual([
      'routes.payment.suggestions must be an array of at most 6 localized texts',
    ]);
    expect(problemsOf({ payment: { kind: 'reply', text, suggestions: [text, 'hi'] } })).toEqual([
      'routes.payment.suggestions[1] must be an object with "zh" and "en" strings',
    ]);
  });

  it('requires a named queue of at most 100 characters', () => {
    const desk = { kind: 'human', handler: 'desk' };
    expect(problemsOf({ payment: { ...desk, queue: ' ' } })).toEqual([
      'routes.payment.queue must be a non-empty string of at most 100 characters',
    ]);
    expect(problemsOf({ payment: { ...desk, queue: 'q'.repeat(101) } })).toEqual([
      'routes.payment.queue must be a non-empty string of at most 100 characters',
    ]);
    // Characters, not UTF-16 units: 100 emoji are 200 units and still fit.
    expect(problemsOf({ payment: { ...desk, queue: '🧾'.repeat(100) } })).toEqual([]);
  });

  it('bounds an agent system prompt and knowledge at 20000 characters', () => {
    const agent = { kind: 'agent', handler: 'billing' };
    expect(problemsOf({ payment: { ...agent, system: 'x'.repeat(20_001) } })).toEqual([
      'routes.payment.system must be a string of at most 20000 characters',
    ]);
    expect(problemsOf({ payment: { ...agent, knowledge: ['a fact'] } })).toEqual([
      'routes.payment.knowledge must be a string of at most 20000 characters',
    ]);
    expect(problemsOf({ payment: { ...agent, knowledge: 'x'.repeat(20_000) } })).toEqual([]);
  });

  it('names each key a kind of route does not take', () => {
    expect(problemsOf({ refund: { kind: 'tool', handler: 'x' } })).toEqual([
      'routes.refund has unknown key "handler"; a "tool" route takes: kind',
    ]);
    expect(problemsOf({ payment: { kind: 'reply', text, sugestions: [] } })).toEqual([
      'routes.payment has unknown key "sugestions"; a "reply" route takes: kind, text, suggestions',
    ]);
    expect(
      problemsOf({ payment: { kind: 'human', handler: 'desk', queue: 'q', system: 'hi' } }),
    ).toEqual([
      'routes.payment has unknown key "system"; a "human" route takes: kind, handler, queue',
    ]);
  });

  it('is part of the catalog check, after the intents and tools', () => {
    const catalog = {
      version: 1,
      id: 'shop',
      name: text,
      fallbackIntent: 'out_of_scope',
      intents: [intent('payment', '支付问题'), intent('out_of_scope', '其他'), { id: 'Bad' }],
      routes: { payment: { kind: 'tool' } },
    };
    expect(() => validateCatalog(catalog, 'cat.json')).toThrow(
      /intents\[2\]\.id must match[^]*routes\.payment: \{"kind":"tool"\} needs the intent to name a "tool"/,
    );
  });
});

describe('routeOf', () => {
  const catalog: Pick<Catalog, 'intents' | 'routes'> = {
    intents: [...intents, intent('constructor', '构造')],
    routes: { payment: { kind: 'human', handler: 'desk', queue: 'billing' } },
  };

  it('gives an intent its own route', () => {
    expect(routeOf(catalog, 'payment')).toEqual({
      kind: 'human',
      handler: 'desk',
      queue: 'billing',
    });
  });

  it('routes an intent without an entry to its tool, else to the host', () => {
    expect(routeOf(catalog, 'refund')).toEqual({ kind: 'tool' });
    expect(routeOf(catalog, 'out_of_scope')).toEqual({ kind: 'host' });
    expect(routeOf({ intents }, 'payment')).toEqual({ kind: 'host' });
    expect(routeOf(catalog, 'no_such_intent')).toEqual({ kind: 'host' });
  });

  it('never reads a route from Object.prototype', () => {
    expect(routeOf(catalog, 'constructor')).toEqual({ kind: 'host' });
  });
});

describe('the demo catalog', () => {
  const demo = readCatalog(join(DEMO_DATA, 'catalog.json'));

  it('names the handlers the host must supply', () => {
    expect(routeHandlerNames(demo)).toEqual([
      { intentId: 'payment', kind: 'agent', handler: 'billing' },
      { intentId: 'account', kind: 'agent', handler: 'accounts' },
      { intentId: 'complaint', kind: 'human', handler: 'service_desk' },
    ]);
    expect(routeHandlerNames({})).toEqual([]);
  });

  it('routes every intent: tools by binding, greeting by reply, the rest by handler', () => {
    const routed = demo.intents
      .filter((intent) => !intent.escalate && intent.id !== demo.fallbackIntent)
      .map((intent) => [intent.id, routeOf(demo, intent.id).kind]);
    expect(routed).toEqual([
      ['order_status', 'tool'],
      ['shipping', 'tool'],
      ['cancel_service', 'tool'],
      ['update_info', 'tool'],
      ['refund', 'tool'],
      ['payment', 'agent'],
      ['invoice', 'tool'],
      ['account', 'agent'],
      ['complaint', 'human'],
      ['greeting', 'reply'],
    ]);
  });

  it('includes a host handler only when the route names one', () => {
    expect(
      routeHandlerNames({ routes: { a: { kind: 'host' }, b: { kind: 'host', handler: 'log' } } }),
    ).toEqual([{ intentId: 'b', kind: 'host', handler: 'log' }]);
  });
});
