import { isRouteReason, type Classification } from '../engine/classification';
import type { ToolArguments } from '../catalog/types';
import type { EscalationReason } from '../escalation/types';
import { isOneOf, isRecord, isStringArray } from '../shared/validation';

/**
 * Where a tool call stands. `needs-input`: the message lacked a required argument and the widget
 * asked for it; `continued`: the user's next message supplied it, and the call goes on in that
 * turn; `interrupted`: the page closed while it ran (its outcome is unknown, so it is not retried).
 */
export type ToolCallStatus =
  | 'needs-input'
  | 'needs-confirmation'
  | 'running'
  | 'done'
  | 'error'
  | 'declined'
  | 'continued'
  | 'interrupted';

/** A tool call made for a message, and everything that became of it (kept in the history). */
export interface ToolCallState {
  name: string;
  arguments: ToolArguments;
  /** Required arguments still missing (asked for while `needs-input`). */
  missing: string[];
  status: ToolCallStatus;
  /** What the tool returned; rendered as text, never as HTML. */
  result?: unknown;
  error?: { code: string; message: string };
  /** The answer shown after the tool ran: a per-tool template or the model's own reply. */
  reply?: { text: string; source: 'template' | 'model' };
  /** How long the tool itself ran, in milliseconds. */
  durationMs?: number;
  /** Epoch milliseconds when the question for missing arguments was shown (`needs-input`). */
  askedAt?: number;
}

/** Why a turn went to the escalation handler. */
export type { EscalationReason } from '../escalation/types';

/** A turn handed to a larger model or a person, and what came back. */
export interface EscalationState {
  reason: EscalationReason;
  /** `unavailable`: no handler is configured; the user is told what happens instead. */
  status: 'streaming' | 'done' | 'unavailable' | 'error' | 'interrupted';
  handler?: 'chat-completions' | 'handoff';
  /**
   * The endpoint's host (`api.example.com`) a chat-completions hand-over went to, recorded when
   * the turn was handed over, so the widget names where this turn went even after the host's
   * configuration changed.
   */
  endpointHost?: string;
  /** The reply so far (streamed), shown as text. */
  text: string;
  error?: { code: string; message: string };
}

/**
 * What a route's handler answered (src/router/session.ts): a catalog template, an agent's
 * streamed reply, a hand-off notice from people, or the host's own answer. Shown as text.
 */
export interface RouteReply {
  source: 'template' | 'agent' | 'human' | 'host';
  status: 'streaming' | 'done' | 'error' | 'interrupted';
  text: string;
  /** Quick replies a template suggests, in the turn's language. */
  suggestions?: string[];
  /** The host handler that answered (agent, human or host routes). */
  handler?: string;
  /** The people's queue a `human` route handed the turn to. */
  queue?: string;
  error?: { code: string; message: string };
}

/** One user message and what became of it. */
export interface ChatTurn {
  /** Unique across tabs: two tabs on one saved conversation merge their turns by id. */
  id: string;
  text: string;
  /** Epoch milliseconds when it was sent (sent again: when it was sent again). */
  sentAt: number;
  /**
   * Epoch milliseconds of the turn's last change, set by the session on every change (see
   * `stampChanges`): where two tabs hold different versions of a turn, the newer one wins
   * (`mergeTurns`). Turns saved by older releases have none; `sentAt` stands in.
   */
  updatedAt?: number;
  result?: Classification;
  tool?: ToolCallState;
  escalation?: EscalationState;
  /** The answer of the intent's route (template, agent, people, host). */
  reply?: RouteReply;
  /** This message answered an earlier turn's question for missing arguments. */
  answers?: {
    turnId: string;
    keys: string[];
    /** The value was picked from the offered choices (a quick reply), not typed. */
    chosen?: boolean;
  };
  error?: { code: string; message: string };
  /** The user stopped the classification. */
  cancelled?: boolean;
  /** Sent while another message was being answered: waits its turn, in sending order. */
  queued?: boolean;
  /**
   * Sent but never answered: the page closed while it waited or was being classified. The text
   * is kept and the user can send it again.
   */
  interrupted?: boolean;
}

/** Whether the turn has its outcome: a result, an error, or it was stopped or interrupted. */
export function isSettled(turn: ChatTurn): boolean {
  return (
    turn.result !== undefined ||
    turn.answers !== undefined ||
    turn.error !== undefined ||
    turn.cancelled === true ||
    turn.interrupted === true
  );
}

/** Whether the turn was answered: settled, and not merely `interrupted` before its answer. */
export function isAnswered(turn: ChatTurn): boolean {
  return isSettled(turn) && turn.interrupted !== true;
}

/**
 * How a turn is stored: an unanswered one (queued, being classified) is marked `interrupted`, so a
 * message typed before a reload or a crash comes back with its text and can be sent again.
 */
export function savedForm(turn: ChatTurn): ChatTurn {
  if (isSettled(turn)) return turn;
  const unanswered: ChatTurn = { ...turn, interrupted: true };
  delete unanswered.queued;
  return unanswered;
}

// Merging the versions of one conversation that several tabs (or widgets) hold. Every change a
// session makes stamps the turn (`stampChanges`), so the newest version of each turn is known
// without asking which tab made it.

/** The version of a turn: when it last changed. */
export function turnVersion(turn: ChatTurn): number {
  return turn.updatedAt ?? turn.sentAt;
}

/** 0 waiting for its answer, 1 interrupted before it, 2 answered. */
function stage(turn: ChatTurn): number {
  if (isAnswered(turn)) return 2;
  return isSettled(turn) ? 1 : 0;
}

/**
 * Which of two versions of one turn to keep: the newer (`turnVersion`); of two equally new ones,
 * the more settled; else `local`.
 */
export function newerTurn(stored: ChatTurn, local: ChatTurn): ChatTurn {
  const storedVersion = turnVersion(stored);
  const localVersion = turnVersion(local);
  if (storedVersion !== localVersion) return storedVersion > localVersion ? stored : local;
  return stage(stored) > stage(local) ? stored : local;
}

function sentBefore(a: ChatTurn, b: ChatTurn): boolean {
  return a.sentAt !== b.sentAt ? a.sentAt < b.sentAt : a.id < b.id;
}

/**
 * One conversation from two versions of it: every turn either side has, exactly once, in its
 * newest version (`newerTurn`). Turns keep their places in `stored`; a turn only `local` has goes
 * after the last turn sent before it (by `sentAt`, then id), so messages two tabs sent at once
 * interleave in sending order.
 *
 * NOTE: places already stored are kept, not re-sorted by `sentAt`: a turn sent again gets a new
 * `sentAt` but stays where it was first sent, as it does on screen.
 *
 * @example
 * mergeTurns([a, b], [a2, c]); // [newer of a and a2, b, c] when c was sent after b
 */
export function mergeTurns(stored: readonly ChatTurn[], local: readonly ChatTurn[]): ChatTurn[] {
  const mine = new Map(local.map((turn) => [turn.id, turn]));
  const merged: ChatTurn[] = [];
  const seen = new Set<string>();
  for (const turn of stored) {
    if (seen.has(turn.id)) continue;
    seen.add(turn.id);
    const localVersion = mine.get(turn.id);
    merged.push(localVersion ? newerTurn(turn, localVersion) : turn);
  }
  for (const turn of local) {
    if (seen.has(turn.id)) continue;
    seen.add(turn.id);
    let at = merged.length;
    while (at > 0 && sentBefore(turn, merged[at - 1] as ChatTurn)) at -= 1;
    merged.splice(at, 0, turn);
  }
  return merged;
}

/**
 * `after` with every turn that is not `before`'s (by reference) stamped with its version: `now`,
 * and always later than the turn's previous version, so a turn's own later changes win even
 * within one millisecond.
 */
export function stampChanges(
  before: readonly ChatTurn[],
  after: readonly ChatTurn[],
  now: number,
): ChatTurn[] {
  const previous = new Map(before.map((turn) => [turn.id, turn]));
  return after.map((turn) => {
    const old = previous.get(turn.id);
    if (old === turn) return turn;
    const last = (old ?? turn).updatedAt;
    return { ...turn, updatedAt: last === undefined ? now : Math.max(now, last + 1) };
  });
}

/**
 * The most turns kept with the conversation (read on every load and save). Turns beyond it are
 * not lost: unanswered ones always stay (the customer still waits for them, and can send them
 * again); answered ones go to the archive (`capTurns`, src/router/persistence.ts).
 */
export const MAX_SAVED_TURNS = 200;

/**
 * Splits saved turns at the cap: `kept` are the newest `MAX_SAVED_TURNS` and every older turn
 * that was never answered, in order; `archived` the older answered ones, in order.
 */
export function capTurns(turns: readonly ChatTurn[]): { kept: ChatTurn[]; archived: ChatTurn[] } {
  const cut = turns.length - MAX_SAVED_TURNS;
  const kept: ChatTurn[] = [];
  const archived: ChatTurn[] = [];
  turns.forEach((turn, index) => {
    (index < cut && isAnswered(turn) ? archived : kept).push(turn);
  });
  return { kept, archived };
}

/**
 * The archive with `turns` added: a turn it has already is replaced by the newer version, never
 * repeated; turns whose last change came before a clear (`clearedAt`) are forgotten.
 */
export function appendToArchive(
  archive: readonly ChatTurn[],
  turns: readonly ChatTurn[],
  clearedAt: number,
): ChatTurn[] {
  const result = archive.filter((turn) => turnVersion(turn) >= clearedAt);
  const index = new Map(result.map((turn, at) => [turn.id, at]));
  for (const turn of turns) {
    const at = index.get(turn.id);
    if (at === undefined) {
      index.set(turn.id, result.length);
      result.push(turn);
    } else {
      result[at] = newerTurn(result[at] as ChatTurn, turn);
    }
  }
  return result;
}

// Reviving saved turns: the shared guards keep each field that fits and drop the rest (see
// src/shared/validation.ts), so state saved by an older release cannot break the widget.

function isClassification(value: unknown): value is Classification {
  return (
    isRecord(value) &&
    typeof value.intentId === 'string' &&
    typeof value.label === 'string' &&
    typeof value.route === 'string' &&
    typeof value.confidence === 'number' &&
    Array.isArray(value.scores) &&
    isRecord(value.top)
  );
}

const TOOL_STATUSES: readonly ToolCallStatus[] = [
  'needs-input',
  'needs-confirmation',
  'running',
  'done',
  'error',
  'declined',
  'continued',
  'interrupted',
];

function reviveError(value: unknown): { code: string; message: string } | undefined {
  return isRecord(value) && typeof value.code === 'string' && typeof value.message === 'string'
    ? { code: value.code, message: value.message }
    : undefined;
}

function isArguments(value: unknown): value is ToolArguments {
  return (
    isRecord(value) &&
    Object.values(value).every((item) => ['string', 'number', 'boolean'].includes(typeof item))
  );
}

/** A call saved while running has an unknown outcome: it comes back `interrupted`, not re-run. */
function reviveTool(value: unknown): ToolCallState | undefined {
  if (!isRecord(value)) return undefined;
  const { name, status, missing, reply, durationMs, askedAt } = value;
  if (
    typeof name !== 'string' ||
    !isArguments(value.arguments) ||
    !isStringArray(missing) ||
    !isOneOf(TOOL_STATUSES, status)
  ) {
    return undefined;
  }
  const tool: ToolCallState = {
    name,
    arguments: value.arguments,
    missing,
    status: status === 'running' ? 'interrupted' : status,
  };
  if ('result' in value) tool.result = value.result;
  const error = reviveError(value.error);
  if (error) tool.error = error;
  if (
    isRecord(reply) &&
    typeof reply.text === 'string' &&
    (reply.source === 'template' || reply.source === 'model')
  ) {
    tool.reply = { text: reply.text, source: reply.source };
  }
  if (typeof durationMs === 'number') tool.durationMs = durationMs;
  if (typeof askedAt === 'number') tool.askedAt = askedAt;
  return tool;
}

const ESCALATION_REASONS: readonly EscalationReason[] = [
  'out_of_scope',
  'low_confidence',
  'intent',
];
const ESCALATION_STATUSES: readonly EscalationState['status'][] = [
  'streaming',
  'done',
  'unavailable',
  'error',
  'interrupted',
];

function reviveEscalation(value: unknown): EscalationState | undefined {
  if (!isRecord(value)) return undefined;
  const { reason, status, handler, text } = value;
  if (
    !isOneOf(ESCALATION_REASONS, reason) ||
    typeof text !== 'string' ||
    !isOneOf(ESCALATION_STATUSES, status)
  ) {
    return undefined;
  }
  const escalation: EscalationState = {
    reason,
    status: status === 'streaming' ? 'interrupted' : status,
    text,
  };
  if (handler === 'chat-completions' || handler === 'handoff') escalation.handler = handler;
  if (typeof value.endpointHost === 'string') escalation.endpointHost = value.endpointHost;
  const error = reviveError(value.error);
  if (error) escalation.error = error;
  return escalation;
}

const REPLY_SOURCES: readonly RouteReply['source'][] = ['template', 'agent', 'human', 'host'];
const REPLY_STATUSES: readonly RouteReply['status'][] = [
  'streaming',
  'done',
  'error',
  'interrupted',
];

/** A reply saved while it streamed comes back `interrupted`, with the text it had. */
function reviveReply(value: unknown): RouteReply | undefined {
  if (!isRecord(value)) return undefined;
  const { source, status, text, suggestions, handler, queue } = value;
  if (
    !isOneOf(REPLY_SOURCES, source) ||
    !isOneOf(REPLY_STATUSES, status) ||
    typeof text !== 'string'
  ) {
    return undefined;
  }
  const reply: RouteReply = {
    source,
    status: status === 'streaming' ? 'interrupted' : status,
    text,
  };
  if (isStringArray(suggestions)) reply.suggestions = suggestions;
  if (typeof handler === 'string') reply.handler = handler;
  if (typeof queue === 'string') reply.queue = queue;
  const error = reviveError(value.error);
  if (error) reply.error = error;
  return reply;
}

function reviveTurn(value: unknown): ChatTurn | null {
  if (!isRecord(value)) return null;
  const { id, text, sentAt, result, error, cancelled, interrupted, tool, escalation, answers } =
    value;
  const revivedReply = reviveReply(value.reply);
  if (typeof id !== 'string' || typeof text !== 'string' || typeof sentAt !== 'number') return null;
  const turn: ChatTurn = { id, text, sentAt };
  if (typeof value.updatedAt === 'number') turn.updatedAt = value.updatedAt;
  if (result !== undefined) {
    if (!isClassification(result)) return null;
    // NOTE: turns saved before reasons were data have none; a malformed one is dropped.
    turn.result = {
      ...result,
      reasonCode: isRouteReason(result.reasonCode) ? result.reasonCode : null,
    };
  }
  const revivedError = reviveError(error);
  if (revivedError) turn.error = revivedError;
  if (cancelled === true) turn.cancelled = true;
  if (interrupted === true) turn.interrupted = true;
  const revivedTool = reviveTool(tool);
  if (revivedTool) turn.tool = revivedTool;
  const revivedEscalation = reviveEscalation(escalation);
  if (revivedEscalation) turn.escalation = revivedEscalation;
  if (revivedReply) turn.reply = revivedReply;
  if (isRecord(answers) && typeof answers.turnId === 'string' && isStringArray(answers.keys)) {
    turn.answers = {
      turnId: answers.turnId,
      keys: answers.keys,
      ...(answers.chosen === true && { chosen: true }),
    };
  }
  // NOTE: saved by an older release, an unanswered turn has no `interrupted` mark; it is one.
  if (!isSettled(turn)) turn.interrupted = true;
  return turn;
}

/**
 * Reads turns saved by an earlier visit, dropping any that do not have the current shape (a saved
 * conversation from an older release must not break the widget).
 */
export function reviveTurns(value: unknown): ChatTurn[] {
  if (!Array.isArray(value)) return [];
  return value.map(reviveTurn).filter((turn): turn is ChatTurn => turn !== null);
}
