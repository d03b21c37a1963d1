/**
 * What a host gives a router session and what it hears back: options, route handlers, the state
 * snapshot a UI renders, and the events. Declarations only (src/router/session.ts implements
 * them), so hosts and the widget import the shapes without the flow.
 */
import type { Catalog, RouteKind, ToolArguments } from '../catalog/types';
import type { Classification, Route } from '../engine/classification';
import type { Classifier, ClassifierState } from '../engine/classifier-api';
import type { ClassifierStatus } from '../engine/lifecycle';
import type {
  ChatCompletionsEscalationConfig,
  EscalationConfig,
  EscalationHistoryMessage,
  EscalationReason,
  EscalationRequest,
} from '../escalation/types';
import type { SerializedError } from '../shared/errors';
import type { Language } from '../shared/language';
import type { ToolImplementation } from '../tools/registry';
import type { ChatTurn, ToolCallStatus } from './conversation';

/** What an `agent` route's handler receives: the turn, and this intent's own instructions. */
export interface AgentRequest {
  intentId: string;
  /** The label the model answered with, e.g. `支付问题`. */
  label: string;
  message: string;
  language: Language;
  /** Earlier turns, oldest first, without `message`. */
  history: EscalationHistoryMessage[];
  /** The route's system prompt and knowledge, joined as the system message an endpoint gets. */
  system: string;
  /** The route's knowledge text alone ('' when none). */
  knowledge: string;
}

/** Called with the text so far each time more of a streamed reply arrives. */
export type OnDelta = (textSoFar: string) => void;

/**
 * Where an `agent` route goes: an OpenAI-compatible chat-completions endpoint (streamed; the
 * route's system prompt and knowledge come first), or the host's own function (a local model, a
 * retrieval service). The function resolves with the whole reply and may stream it with
 * `onDelta`.
 */
export type AgentHandler =
  | ({ kind: 'agent' } & Omit<ChatCompletionsEscalationConfig, 'kind'>)
  | {
      kind: 'agent';
      respond: (
        request: AgentRequest,
        context: { signal: AbortSignal; onDelta: OnDelta },
      ) => Promise<string>;
    };

/** What a `human` route's handler receives: the turn, and the queue the catalog names. */
export interface HumanRequest extends EscalationRequest {
  queue: string;
}

/**
 * Where a `human` route goes: the host's hand-off to people. Resolve with `{ message }` to show
 * the customer that text (e.g. "An agent will reply within 5 minutes"); without one they see a
 * short notice in their language. Throw to report that the hand-off failed.
 */
export interface HumanHandler {
  kind: 'human';
  onHandoff: (
    request: HumanRequest,
    context: { signal: AbortSignal },
    // NOTE: `void` so that a host's `async () => {}` type-checks; undefined alone would reject it.
    // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  ) => Promise<{ message?: string } | void>;
}

/** What a `host` route's handler receives. */
export interface HostRouteRequest {
  intentId: string;
  label: string;
  message: string;
  language: Language;
  classification: Classification;
}

/**
 * Where a `host` route goes: the host's own function. Resolve with `{ reply }` to answer the
 * customer; with nothing, the turn is the host's to answer (it also heard the `route` event).
 */
export interface HostHandler {
  kind: 'host';
  onRoute: (
    request: HostRouteRequest,
    context: { signal: AbortSignal },
    // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  ) => Promise<{ reply?: string } | void>;
}

/** A handler a catalog route names (`routes.<intent>.handler`), supplied by the host. */
export type RouteHandler = AgentHandler | HumanHandler | HostHandler;

export interface RouterOptions {
  /** The model: in-process (`LocalClassifier`) or in a Web Worker (`WorkerClassifier`). */
  classifier: Classifier;
  /**
   * The host's catalog: intent names, tools, the route table. It must match the model's
   * (`fenliu.json`): ids, labels and tool bindings; a mismatch stops routing with a typed error.
   * Null: the model's own intents, tool intents to their tools, the rest to the host.
   */
  catalog?: Catalog | null;
  /** The host's tool implementations by name (the catalog declares each tool). */
  tools?: Readonly<Record<string, ToolImplementation>>;
  /** The handlers the catalog's routes name, by name. A route naming a missing one is an error. */
  handlers?: Readonly<Record<string, RouteHandler>>;
  /**
   * Where out-of-scope, low-confidence and escalating-intent turns go: an OpenAI-compatible
   * endpoint or a hand-off callback. None: the customer is told plainly, nothing is sent.
   */
  escalation?: EscalationConfig | null;
  /** The answer after a tool ran, when model-written replies are off (null: a generic line). */
  toolReply?: (name: string, result: unknown, language: Language) => string | null;
  /** Language of replies and notices (default: the saved setting, else Chinese). */
  language?: Language;
  /** The model writes the reply after a tool ran (default false). */
  modelReplies?: boolean;
  /**
   * IndexedDB key: when set, the conversation and settings survive reloads, and every tab (or
   * widget) with the same key shares one conversation, merged by turn id.
   */
  persistKey?: string;
}

/** Where a classified turn went: its intent's route, or escalation. */
export type TakenRoute =
  | {
      kind: RouteKind;
      intentId: string;
      /** The handler an `agent`, `human` or `host` route names. */
      handler?: string;
      /** The people's queue of a `human` route. */
      queue?: string;
      /** The tool of a `tool` route. */
      tool?: string;
    }
  | { kind: 'escalation'; intentId: string; reason: EscalationReason };

/** Where a reply came from. `tool`: the tool's reply template; `model`: written by our model. */
export type ReplySource = 'template' | 'tool' | 'model' | 'agent' | 'human' | 'host' | 'escalation';

/** One intent's share, as events carry it. */
export interface EventScore {
  intentId: string;
  label: string;
  probability: number;
}

/**
 * Every event a session emits, by type, with its `detail`. `<fenliu-chat>` re-dispatches each as
 * a `fenliu-<type>` DOM event (bubbling, composed) and `FenliuChat` calls `on<Type>`.
 */
export interface RouterEventMap {
  /** The classifier's lifecycle (`checking-device` … `ready` | `error`): the status itself. */
  status: ClassifierStatus;
  /** A customer's message was received (queued while another is answered or the model loads). */
  message: { turnId: string; text: string; queued: boolean };
  /** The model classified a message. */
  classified: {
    turnId: string;
    text: string;
    intentId: string;
    label: string;
    confidence: number;
    margin: number;
    /** `intent`, `out_of_scope` or `escalate` (below a calibrated threshold). */
    route: Route;
    /** Why the route is not `intent`, or null. */
    reason: string | null;
    scores: EventScore[];
    latencyMs: number;
  };
  /** Where the turn went (fired before its handler runs). */
  route: { turnId: string } & TakenRoute;
  /** The model proposed a tool call; `status` says whether it asks, waits for a yes, or runs. */
  'tool-proposed': {
    turnId: string;
    tool: string;
    arguments: ToolArguments;
    missing: string[];
    status: ToolCallStatus;
    /** Set when this message answered an earlier turn's question: that turn's call goes on here. */
    continues?: string;
  };
  /** The customer confirmed the exact arguments of a data-changing call. */
  'tool-confirmed': { turnId: string; tool: string; arguments: ToolArguments };
  /** The customer declined a call (or moved on without answering its question). */
  'tool-declined': { turnId: string; tool: string; arguments: ToolArguments };
  'tool-executed': {
    turnId: string;
    tool: string;
    arguments: ToolArguments;
    result: unknown;
    durationMs: number;
  };
  'tool-failed': {
    turnId: string;
    tool: string;
    arguments: ToolArguments;
    error: SerializedError;
  };
  /** A streamed reply grew (agents and escalation endpoints). */
  'reply-delta': { turnId: string; source: ReplySource; text: string };
  /** The turn's answer, whole. */
  reply: { turnId: string; source: ReplySource; text: string; suggestions?: string[] };
  /** A turn went to escalation (out of scope, low confidence, or an escalating intent). */
  escalated: {
    turnId: string;
    text: string;
    reason: EscalationReason;
    intentId: string;
    confidence: number;
    classification: Classification;
  };
  /**
   * Something failed. `developer`: configuration (catalog/model mismatch, a missing tool
   * implementation or handler) — the customer sees only a short notice; `turn`: one turn failed
   * (the customer sees it on the turn).
   */
  error: { turnId?: string; scope: 'developer' | 'turn'; error: SerializedError };
}

export type RouterEventType = keyof RouterEventMap;

/** Any event, tagged by type (what `onEvent` listeners receive). */
export type RouterEvent = {
  [Type in RouterEventType]: { type: Type; detail: RouterEventMap[Type] };
}[RouterEventType];

/** What a UI renders: the session's state, replaced (never mutated) on every change. */
export interface RouterSnapshot {
  turns: readonly ChatTurn[];
  /** The turn being worked on (classifying, running a tool, streaming a reply), or null. */
  pending: string | null;
  classifier: ClassifierState;
  /** Configuration problems (developer errors); while one is set, messages are not routed. */
  problems: readonly SerializedError[];
  /** Storage refused the last save (full, blocked): the conversation lives in memory only. */
  storageRefused: boolean;
  /** False until a saved conversation was read (always true without `persistKey`). */
  hydrated: boolean;
  language: Language;
  modelReplies: boolean;
  /** The widget's theme, carried for persistence ('' when none was saved). */
  theme: string;
}
