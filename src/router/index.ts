/**
 * The headless router (`dist/embed/router/fenliu-router.js`): fenliu in front of a chat UI that
 * is not ours. No React, no widget: `createRouter` checks the catalog and the handlers its routes
 * name, starts the model in a Web Worker (its chunk lies beside this bundle), and returns a
 * `RouterSession`; the host sends messages with `route(text)` and renders what the events say
 * (`RouterEventMap`: message, classified, route, tool-proposed, reply-delta, reply, escalated, …).
 *
 * Only browser-safe exports: the in-process `LocalClassifier` would pull transformers.js into
 * this bundle; here the model runtime stays in the worker chunk.
 *
 * @example
 * import { createRouter } from '/embed/router/fenliu-router.js';
 *
 * const router = await createRouter({
 *   model: '/models/fenliu-demo/',
 *   catalog: '/catalog.json',
 *   tools: { lookup_order: async ({ order_id }) => shop.order(order_id) },
 *   handlers: {
 *     billing: { kind: 'agent', respond: async ({ message }) => faq.answer(message) },
 *     accounts: { kind: 'agent', url: '/v1/chat/completions', model: 'shop-assistant' },
 *     service_desk: { kind: 'human', onHandoff: async (request) => desk.open(request) },
 *   },
 * });
 * router.on('reply', ({ text }) => render(text));
 * router.on('tool-proposed', ({ turnId, status }) => {
 *   if (status !== 'needs-confirmation') return;
 *   askYesNo(() => router.confirm(turnId), () => router.decline(turnId));
 * });
 * await router.route('帮我查一下订单 2024113012345');
 */
export { createRouter, type CreateRouterOptions } from './create-router';
export { RouterSession } from './session';
export { WorkerClassifier, type WorkerClassifierOptions } from '../client/worker-classifier';
export type {
  AgentHandler,
  AgentRequest,
  HostHandler,
  HostRouteRequest,
  HumanHandler,
  HumanRequest,
  OnDelta,
  ReplySource,
  RouteHandler,
  RouterEvent,
  RouterEventMap,
  RouterEventType,
  RouterOptions,
  RouterSnapshot,
  TakenRoute,
} from './types';
export type { ChatTurn, RouteReply, ToolCallState, ToolCallStatus } from './conversation';
export type { Catalog, IntentRoute, ToolArguments, ToolSpec } from '../catalog/types';
export type { ToolImplementation } from '../tools/registry';
export type { Classification } from '../engine/classification';
export type { ClassifierStatus } from '../engine/lifecycle';
export type { EscalationConfig } from '../escalation/types';
