import type { Classification } from '../engine/classification';
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
  id: string;
  text: string;
  /** Epoch milliseconds when it was sent. */
  sentAt: number;
  result?: Classification;
  tool?: ToolCallState;
  escalation?: EscalationState;
  /** The answer of the intent's route (template, agent, people, host). */
  reply?: RouteReply;
  /** This message answered an earlier turn's question for missing arguments. */
  answers?: { turnId: string; keys: string[] };
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

/**
 * Turns to keep in storage: the newest `MAX_SAVED_TURNS`, unanswered ones included, so a message
 * typed before a reload or a crash is never lost (it comes back `interrupted`).
 */
export function turnsToSave(turns: readonly ChatTurn[]): ChatTurn[] {
  return turns.slice(-MAX_SAVED_TURNS).map((turn) => {
    if (isSettled(turn)) return turn;
    const unanswered: ChatTurn = { ...turn, interrupted: true };
    delete unanswered.queued;
    return unanswered;
  });
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
  if (result !== undefined) {
    if (!isClassification(result)) return null;
    turn.result = result;
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
    turn.answers = { turnId: answers.turnId, keys: answers.keys };
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

/** The most turns kept in storage; older ones are dropped first. */
export const MAX_SAVED_TURNS = 200;
