import type { ToolArguments } from '../catalog/types';
import { isRecord } from '../shared/validation';

/**
 * What the engine returns for one message, and how a distribution over intents becomes a route
 * (the intent itself, out of scope, or escalation). Pure functions: the classifier, the CLI's
 * `calibrate` and the widget all share them.
 */

/** One intent's share of the distribution. */
export interface IntentScore {
  intentId: string;
  /** The exact text the model answers with, e.g. `查询订单`. */
  label: string;
  /** Probability after calibration; the scores of one classification sum to 1. */
  probability: number;
  /**
   * Log of the label's constrained sequence probability before calibration (temperature 1):
   * calibration refits temperatures from these without running the model again.
   */
  logProb: number;
}

/** `intent`: act on the top intent; `out_of_scope`: the catalog's fallback; `escalate`: ask a larger model or a person. */
export type Route = 'intent' | 'out_of_scope' | 'escalate';

export interface Classification {
  /** Intent to act on: the top intent, or the fallback intent when routed out of scope. */
  intentId: string;
  label: string;
  route: Route;
  /** Why the route is not `intent` (threshold and confidence) in English words, or null. */
  reason: string | null;
  /** The same as data, for the widget to word in the user's language (src/ui/reasons.ts). */
  reasonCode: RouteReason | null;
  /** The model's most probable intent, before thresholds. */
  top: IntentScore;
  /** Probability of the top intent. */
  confidence: number;
  /** Top probability minus the runner-up's. */
  margin: number;
  /** Every catalog intent, most probable first. */
  scores: IntentScore[];
  /** Wall time of this call, in milliseconds. */
  latencyMs: number;
  /** Tokens run through the model for this message (the cached prompt prefix excluded). */
  computedTokens: number;
  /** Model calls made after the message itself: one per label-trie branch point visited. */
  decodeSteps: number;
  /**
   * For a message routed to an intent bound to a tool: the call the model wrote, decoded under
   * the tool's schema. Missing arguments are listed, never invented.
   */
  toolCall?: ProposedToolCall;
  /**
   * Set when the message was longer than the model's input budget (`MAX_INPUT_CHARS` UTF-16
   * units) and only its start was classified: lengths after control characters were replaced and
   * the ends trimmed. The caller keeps the whole message; this is for the "shortened" notice.
   */
  truncated?: { originalChars: number; keptChars: number };
}

/** A tool call as the model proposed it, before the user confirms or fills anything in. */
export interface ProposedToolCall {
  name: string;
  /** The arguments that were decoded and are valid. */
  arguments: ToolArguments;
  /** Required arguments the message did not give (the widget asks for them). */
  missing: string[];
  /** Decoded arguments that failed validation (dropped from `arguments`). */
  problems: { key: string; reason: string }[];
  /** The decoded text after `<tool_call>`, for inspection. */
  text: string;
  /** Model calls made to decode the call. */
  decodeSteps: number;
  /** Wall time of the decoding, in milliseconds (included in the classification's `latencyMs`). */
  latencyMs: number;
}

/** Per-intent confidence thresholds: below `escalate` → escalate, below `outOfScope` → out of scope. */
export interface IntentThresholds {
  outOfScope: number;
  escalate: number;
}

/**
 * `calibration.json` beside a model's `fenliu.json`, written by `fenliu calibrate`. Optional: a
 * model without it routes every message to its top intent.
 */
export interface Calibration {
  format: 1;
  /** Divides each label's log-probability before normalising (temperature scaling). */
  temperature: number;
  /** Keyed by intent id; intents without an entry use `defaultThresholds`. */
  thresholds: Record<string, IntentThresholds>;
  defaultThresholds: IntentThresholds;
  /** Facts about the fit (data file, sizes, ECE before and after). */
  fitted?: Record<string, unknown>;
}

/**
 * Normalises label log-probabilities at `temperature` (softmax of logProb / T), keeping order.
 *
 * @example
 * normalise([Math.log(0.5), Math.log(0.25)], 1); // [0.667, 0.333]
 */
export function normalise(logProbs: readonly number[], temperature = 1): number[] {
  const scaled = logProbs.map((value) => value / temperature);
  const max = Math.max(...scaled);
  const weights = scaled.map((value) => Math.exp(value - max));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/**
 * Why a message did not route to its top intent, as serialisable data (it crosses the worker and
 * is saved with the conversation). `intentId` is the intent the numbers are about: the fallback
 * for `fallback-intent`, else the model's top intent. `confidence` and `threshold` are
 * probabilities, 0–1.
 *
 * - `fallback-intent`: the model chose the catalog's fallback intent (e.g. 其他).
 * - `below-out-of-scope`: the top intent's confidence is under its out-of-scope threshold.
 * - `always-handed-over`: the top intent is one that always escalates (e.g. 转人工).
 * - `below-escalate`: the top intent's confidence is under its escalation threshold.
 */
export type RouteReason =
  | { code: 'fallback-intent'; intentId: string }
  | { code: 'below-out-of-scope'; intentId: string; confidence: number; threshold: number }
  | { code: 'always-handed-over'; intentId: string }
  | { code: 'below-escalate'; intentId: string; confidence: number; threshold: number };

/** Every `RouteReason` code (for exhaustive tests and validation). */
export const ROUTE_REASON_CODES = [
  'fallback-intent',
  'below-out-of-scope',
  'always-handed-over',
  'below-escalate',
] as const satisfies readonly RouteReason['code'][];

/**
 * Whether a value (e.g. from a saved conversation) is a well-formed `RouteReason`.
 *
 * @example
 * isRouteReason({ code: 'always-handed-over', intentId: 'human_agent' }); // true
 * isRouteReason({ code: 'below-escalate', intentId: 'refund' }); // false: no numbers
 */
export function isRouteReason(value: unknown): value is RouteReason {
  if (!isRecord(value) || typeof value.intentId !== 'string') return false;
  switch (value.code) {
    case 'fallback-intent':
    case 'always-handed-over':
      return true;
    case 'below-out-of-scope':
    case 'below-escalate':
      return isProbability(value.confidence) && isProbability(value.threshold);
    default:
      return false;
  }
}

function isProbability(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

/**
 * A route reason in English words, as `Classification.reason` carries it (the CLI prints it).
 * `labelOf` gives an intent's label (the model's answer text, e.g. 查询订单).
 *
 * @example
 * routeReasonEnglish({ code: 'below-escalate', intentId: 'order', confidence: 0.7, threshold: 0.8 },
 *   () => '查询订单'); // 'confidence 0.70 for 查询订单 is below its escalation threshold 0.80'
 */
export function routeReasonEnglish(
  reason: RouteReason,
  labelOf: (intentId: string) => string,
): string {
  const label = labelOf(reason.intentId);
  switch (reason.code) {
    case 'fallback-intent':
      return `the model chose ${label}`;
    case 'always-handed-over':
      return `${label} is always handed over`;
    case 'below-out-of-scope':
    case 'below-escalate': {
      const name = reason.code === 'below-out-of-scope' ? 'out-of-scope' : 'escalation';
      return `confidence ${reason.confidence.toFixed(2)} for ${label} is below its ${name} threshold ${reason.threshold.toFixed(2)}`;
    }
  }
}

export interface RouteDecision {
  route: Route;
  intentId: string;
  label: string;
  /** `reasonCode` in English words (`routeReasonEnglish`), or null. */
  reason: string | null;
  reasonCode: RouteReason | null;
}

/**
 * Turns sorted scores into a route. The fallback intent itself routes as `out_of_scope`; a top
 * intent whose confidence is under its thresholds goes out of scope or to escalation, with the
 * numbers in `reasonCode` (and in English words in `reason`); an intent in `escalatingIntents`
 * (e.g. "talk to a person") always goes to escalation unless it is under its out-of-scope
 * threshold.
 */
export function routeScores(
  scores: readonly IntentScore[],
  fallback: { id: string; label: string },
  calibration: Calibration | null,
  escalatingIntents: ReadonlySet<string> = new Set(),
): RouteDecision {
  const top = scores[0];
  if (!top) throw new Error('routeScores needs at least one score');
  const labelOf = (intentId: string) => (intentId === fallback.id ? fallback.label : top.label);
  const decide = (
    route: Route,
    to: { id: string; label: string },
    reasonCode: RouteReason | null,
  ): RouteDecision => ({
    route,
    intentId: to.id,
    label: to.label,
    reason: reasonCode === null ? null : routeReasonEnglish(reasonCode, labelOf),
    reasonCode,
  });
  const topIntent = { id: top.intentId, label: top.label };
  if (top.intentId === fallback.id) {
    return decide('out_of_scope', fallback, { code: 'fallback-intent', intentId: fallback.id });
  }
  const limits = calibration
    ? (calibration.thresholds[top.intentId] ?? calibration.defaultThresholds)
    : null;
  const confidence = top.probability;
  if (limits && confidence < limits.outOfScope) {
    return decide('out_of_scope', fallback, {
      code: 'below-out-of-scope',
      intentId: top.intentId,
      confidence,
      threshold: limits.outOfScope,
    });
  }
  if (escalatingIntents.has(top.intentId)) {
    return decide('escalate', topIntent, { code: 'always-handed-over', intentId: top.intentId });
  }
  if (limits && confidence < limits.escalate) {
    return decide('escalate', topIntent, {
      code: 'below-escalate',
      intentId: top.intentId,
      confidence,
      threshold: limits.escalate,
    });
  }
  return decide('intent', topIntent, null);
}

function isThresholds(value: unknown): value is IntentThresholds {
  if (!isRecord(value)) return false;
  const { outOfScope, escalate } = value;
  return (
    typeof outOfScope === 'number' &&
    typeof escalate === 'number' &&
    outOfScope >= 0 &&
    escalate >= outOfScope &&
    escalate <= 1
  );
}

/**
 * Every problem of a parsed `calibration.json` (see src/shared/validation.ts); empty when it is
 * valid. Callers wrap them in the error type of their layer.
 */
export function calibrationProblems(value: unknown): string[] {
  if (!isRecord(value)) return ['must be a JSON object'];
  const problems: string[] = [];
  if (value.format !== 1) problems.push('"format" must be 1');
  const { temperature } = value;
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
    problems.push('"temperature" must be a positive number');
  }
  if (!isThresholds(value.defaultThresholds)) {
    problems.push(
      '"defaultThresholds" must be {outOfScope, escalate} with 0 ≤ outOfScope ≤ escalate ≤ 1',
    );
  }
  const { thresholds } = value;
  if (typeof thresholds !== 'object' || thresholds === null) {
    problems.push('"thresholds" must be an object keyed by intent id');
  } else {
    for (const [intentId, limits] of Object.entries(thresholds)) {
      if (!isThresholds(limits)) problems.push(`"thresholds.${intentId}" is not valid`);
    }
  }
  return problems;
}
