import { checkLocalizedText } from './tool-declarations';
import type { Catalog, IntentRoute, RouteKind } from './types';
import { isOneOf, isRecord } from '../shared/validation';

/**
 * A catalog's route table (`routes`, by intent id): checking it as a document, and reading the
 * route an intent's messages take. The catalog only names handlers; the host supplies them, and
 * checks at load time that it has each one `routeHandlerNames` lists.
 */

const ROUTE_KINDS: readonly RouteKind[] = ['reply', 'tool', 'agent', 'human', 'host'];

/** The keys each kind of route takes; any other key is most likely a misspelt one. */
const ROUTE_KEYS: Record<RouteKind, readonly string[]> = {
  reply: ['kind', 'text', 'suggestions'],
  tool: ['kind'],
  agent: ['kind', 'handler', 'system', 'knowledge'],
  human: ['kind', 'handler', 'queue'],
  host: ['kind', 'handler'],
};

// NOTE: like tool names, but hyphens are allowed too: handler names are often a host's existing
// endpoint or function names (`service-desk`), and the host looks them up as plain object keys.
const HANDLER_NAME = /^[a-z][a-z0-9_-]*$/;

/** Quick replies are chips under the answer; more than this no longer fits the widget's width. */
const MAX_SUGGESTIONS = 6;

/** A queue is a name in the host's help-desk system, not prose. */
const MAX_QUEUE_CHARACTERS = 100;

/**
 * An agent's system prompt and knowledge go into its context on every turn; a longer text is most
 * likely a whole manual pasted in, which belongs in the agent's own retrieval, not the catalog.
 */
const MAX_PROMPT_CHARACTERS = 20_000;

/**
 * Characters as the catalog counts them everywhere (src/catalog/json-schema.ts's `maxLength`
 * too): code points, so a surrogate pair (an emoji, a rare CJK character) is one.
 */
function characterCount(text: string): number {
  return Array.from(text).length;
}

/**
 * Every problem of a catalog's `routes` (empty when it is valid or absent), worded like the rest
 * of the catalog check: the shape of each route by kind, that each key is an intent's id, and
 * that the route fits the intent (a tool intent routes to its tool; escalating intents and the
 * fallback intent take no route). `intents` and `fallbackIntent` are the catalog's, unchecked:
 * their own problems are the catalog check's.
 *
 * @example
 * routeProblems({ payment: { kind: 'mail' } }, catalog.intents, catalog.fallbackIntent);
 * // ['routes.payment.kind must be one of reply, tool, agent, human, host']
 */
export function routeProblems(
  routes: unknown,
  intents: readonly unknown[],
  fallbackIntent: unknown,
): string[] {
  if (routes === undefined) return [];
  if (!isRecord(routes)) return ['"routes" must be an object of routes keyed by intent id'];
  const intentsById = new Map<string, Record<string, unknown>>();
  for (const intent of intents) {
    if (isRecord(intent) && typeof intent.id === 'string' && !intentsById.has(intent.id)) {
      intentsById.set(intent.id, intent);
    }
  }
  const problems: string[] = [];
  for (const [intentId, route] of Object.entries(routes)) {
    const where = `routes.${intentId}`;
    const intent = intentsById.get(intentId);
    if (!intent) problems.push(`${where}: no intent has the id "${intentId}"`);
    if (!isRecord(route)) {
      problems.push(`${where} must be an object with a "kind"`);
      continue;
    }
    if (!isOneOf(ROUTE_KINDS, route.kind)) {
      problems.push(`${where}.kind must be one of ${ROUTE_KINDS.join(', ')}`);
      continue;
    }
    checkRouteFields(route.kind, route, where, problems);
    if (intent) checkRouteFitsIntent(route.kind, intent, intentId, fallbackIntent, where, problems);
  }
  return problems;
}

function checkRouteFields(
  kind: RouteKind,
  route: Record<string, unknown>,
  where: string,
  problems: string[],
): void {
  const allowed = ROUTE_KEYS[kind];
  for (const key of Object.keys(route)) {
    if (!allowed.includes(key)) {
      problems.push(
        `${where} has unknown key "${key}"; a "${kind}" route takes: ${allowed.join(', ')}`,
      );
    }
  }
  switch (kind) {
    case 'reply':
      checkLocalizedText(route.text, `${where}.text`, problems);
      checkSuggestions(route.suggestions, `${where}.suggestions`, problems);
      return;
    case 'tool':
      return;
    case 'agent':
      checkHandler(route.handler, `${where}.handler`, problems);
      checkPromptText(route.system, `${where}.system`, problems);
      checkPromptText(route.knowledge, `${where}.knowledge`, problems);
      return;
    case 'human':
      checkHandler(route.handler, `${where}.handler`, problems);
      checkQueue(route.queue, `${where}.queue`, problems);
      return;
    case 'host':
      // NOTE: a host route without a handler is valid: the host only hears the event.
      if (route.handler !== undefined) checkHandler(route.handler, `${where}.handler`, problems);
      return;
  }
}

function checkHandler(value: unknown, where: string, problems: string[]): void {
  if (typeof value !== 'string' || !HANDLER_NAME.test(value)) {
    problems.push(`${where} must be a handler name matching ${String(HANDLER_NAME)}`);
  }
}

function checkSuggestions(value: unknown, where: string, problems: string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length > MAX_SUGGESTIONS) {
    problems.push(`${where} must be an array of at most ${MAX_SUGGESTIONS} localized texts`);
  }
  if (Array.isArray(value)) {
    value.forEach((suggestion: unknown, index) => {
      checkLocalizedText(suggestion, `${where}[${index}]`, problems);
    });
  }
}

function checkPromptText(value: unknown, where: string, problems: string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || characterCount(value) > MAX_PROMPT_CHARACTERS) {
    problems.push(`${where} must be a string of at most ${MAX_PROMPT_CHARACTERS} characters`);
  }
}

function checkQueue(value: unknown, where: string, problems: string[]): void {
  if (
    typeof value !== 'string' ||
    value.trim() === '' ||
    characterCount(value) > MAX_QUEUE_CHARACTERS
  ) {
    problems.push(
      `${where} must be a non-empty string of at most ${MAX_QUEUE_CHARACTERS} characters`,
    );
  }
}

/**
 * A route must agree with its intent's bindings. Escalation is decided before routing (the
 * fallback intent, low confidence, `escalate: true`), so a route on those intents would never be
 * taken and only mislead the reader. A tool intent's answer already carries the call's
 * arguments, which no other kind of route would use.
 */
function checkRouteFitsIntent(
  kind: RouteKind,
  intent: Record<string, unknown>,
  intentId: string,
  fallbackIntent: unknown,
  where: string,
  problems: string[],
): void {
  const escalates = intent.escalate === true;
  if (escalates || intentId === fallbackIntent) {
    const why = escalates ? 'escalates' : 'is the fallback intent';
    problems.push(
      `${where}: intent "${intentId}" ${why}; escalating intents and the fallback intent keep their escalation rules and take no route`,
    );
    return;
  }
  // NOTE: a `tool` that is not a string is the binding check's problem; it is not repeated here.
  if (typeof intent.tool === 'string' && kind !== 'tool') {
    problems.push(
      `${where}: intent "${intentId}" calls tool "${intent.tool}", so its route must be {"kind":"tool"} or absent`,
    );
  } else if (intent.tool === undefined && kind === 'tool') {
    problems.push(`${where}: {"kind":"tool"} needs the intent to name a "tool"`);
  }
}

/**
 * The route an intent's messages take: its entry in `routes`; without one, `{kind: 'tool'}` when
 * the intent names a tool, otherwise `{kind: 'host'}` (the host hears the event only). An id that
 * is no intent's also gets `{kind: 'host'}`. Escalation (the fallback intent, low confidence,
 * `escalate: true`) is decided before this and is not a route.
 *
 * @example
 * routeOf(catalog, 'order_status'); // { kind: 'tool' }
 */
export function routeOf(
  catalog: Pick<Catalog, 'intents' | 'routes'>,
  intentId: string,
): IntentRoute {
  const { routes } = catalog;
  // NOTE: `Object.hasOwn`, because an intent id such as `constructor` would otherwise read a
  // function from Object.prototype as its route.
  const explicit = routes && Object.hasOwn(routes, intentId) ? routes[intentId] : undefined;
  if (explicit) return explicit;
  const intent = catalog.intents.find((candidate) => candidate.id === intentId);
  return intent?.tool === undefined ? { kind: 'host' } : { kind: 'tool' };
}

/** A handler a catalog's routes name, which the host must supply. */
export interface RouteHandlerName {
  intentId: string;
  kind: 'agent' | 'human' | 'host';
  handler: string;
}

/**
 * Every handler a catalog's routes name, one per route in `routes` order (a handler two intents
 * share is listed for each), so the host can check at load time that it supplies every one.
 */
export function routeHandlerNames(catalog: Pick<Catalog, 'routes'>): RouteHandlerName[] {
  const names: RouteHandlerName[] = [];
  for (const [intentId, route] of Object.entries(catalog.routes ?? {})) {
    if (route.kind === 'agent' || route.kind === 'human') {
      names.push({ intentId, kind: route.kind, handler: route.handler });
    } else if (route.kind === 'host' && route.handler !== undefined) {
      names.push({ intentId, kind: route.kind, handler: route.handler });
    }
  }
  return names;
}
