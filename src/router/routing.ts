import { routeOf } from '../catalog/routes';
import type { Catalog, IntentRoute } from '../catalog/types';
import type { Classification } from '../engine/classification';
import type { EscalationReason } from '../escalation/types';
import { turnEscalationReason } from './tool-flow';
import type { TakenRoute } from './types';

/** Where a classified message goes, and the catalog route that takes it (none for escalation). */
export type RouteDecision =
  | { taken: Extract<TakenRoute, { kind: 'escalation' }>; route: null; reason: EscalationReason }
  | { taken: Exclude<TakenRoute, { kind: 'escalation' }>; route: IntentRoute; reason: null };

/**
 * The routing decision for one classification, pure: escalation first (out of scope, low
 * confidence, an escalating intent such as 转人工), otherwise the intent's route in the catalog's
 * table (no catalog: its tool when the model proposed a call, else the host). The session acts
 * on it; `fenliu route` prints it.
 *
 * @example
 * decideRoute(result, catalog).taken; // { kind: 'agent', intentId: 'payment', handler: 'billing' }
 */
export function decideRoute(result: Classification, catalog: Catalog | null): RouteDecision {
  const { intentId } = result;
  const reason = turnEscalationReason(result, catalog);
  if (reason) return { taken: { kind: 'escalation', intentId, reason }, route: null, reason };
  const route: IntentRoute = catalog
    ? routeOf(catalog, intentId)
    : result.toolCall
      ? { kind: 'tool' }
      : { kind: 'host' };
  const tool =
    catalog?.intents.find((intent) => intent.id === intentId)?.tool ?? result.toolCall?.name;
  return {
    taken: {
      kind: route.kind,
      intentId,
      ...('handler' in route && route.handler !== undefined && { handler: route.handler }),
      ...(route.kind === 'human' && { queue: route.queue }),
      ...(route.kind === 'tool' && tool !== undefined && { tool }),
    },
    route,
    reason: null,
  };
}
