import type { Classification } from '../core/classification';

/** Where a tool call stands; shown on its card. */
export type ToolCallStatus =
  'pending' | 'needs-confirmation' | 'running' | 'done' | 'error' | 'declined';

/** One call of a host tool made for a message (the engine's tool calls arrive with issue 5). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  status: ToolCallStatus;
  /** What `execute` returned; rendered as JSON text, never as HTML. */
  result?: unknown;
  error?: string;
}

/**
 * A host tool: data, not code, apart from `execute`. Arguments are validated against
 * `parameters` (JSON Schema) before `execute` runs.
 */
export interface FenliuTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  execute: (args: Record<string, unknown>, options: { signal: AbortSignal }) => Promise<unknown>;
  needsConfirmation?: boolean;
}

/** One user message and what became of it. */
export interface ChatTurn {
  id: string;
  text: string;
  /** Epoch milliseconds when it was sent. */
  sentAt: number;
  result?: Classification;
  toolCall?: ToolCall;
  error?: { code: string; message: string };
  /** The user stopped the classification. */
  cancelled?: boolean;
}

/** Turns still waiting for the model are not saved: after a reload nobody would answer them. */
export function isSettled(turn: ChatTurn): boolean {
  return turn.result !== undefined || turn.error !== undefined || turn.cancelled === true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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

function reviveTurn(value: unknown): ChatTurn | null {
  if (!isRecord(value)) return null;
  const { id, text, sentAt, result, error, cancelled } = value;
  if (typeof id !== 'string' || typeof text !== 'string' || typeof sentAt !== 'number') return null;
  const turn: ChatTurn = { id, text, sentAt };
  if (result !== undefined) {
    if (!isClassification(result)) return null;
    turn.result = result;
  }
  if (isRecord(error) && typeof error.code === 'string' && typeof error.message === 'string') {
    turn.error = { code: error.code, message: error.message };
  }
  if (cancelled === true) turn.cancelled = true;
  return isSettled(turn) ? turn : null;
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
