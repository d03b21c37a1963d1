import type { Catalog, ToolArguments, ToolSpec } from '../catalog/types';
import type { Classification, ProposedToolCall } from '../engine/classification';
import { checkArguments } from '../catalog/json-schema';
import { extractSlotValue } from './slot-values';
import { escalationReason } from '../escalation/handler';
import type { EscalationReason } from '../escalation/types';
import type { ChatTurn, ToolCallState, ToolCallStatus } from './conversation';
import type { Language } from '../shared/language';

/**
 * The decisions of a tool turn, apart from React: what state a proposed call starts in, how a
 * follow-up message fills missing arguments, and why a turn is escalated. Pure, so the unit
 * tests cover every branch the widget takes.
 */

/** Where a call with these arguments goes next: ask, confirm, or run. */
export function nextStatus(spec: ToolSpec | undefined, missing: readonly string[]): ToolCallStatus {
  if (missing.length > 0) return 'needs-input';
  // NOTE: catalog validation already ties the two flags; a spec altered after it still asks.
  const unasked = spec?.requiresConfirmation === false && !spec.changesData;
  return unasked ? 'running' : 'needs-confirmation';
}

/**
 * The state a call proposed by the model starts in. A call to a tool the host has no spec for
 * still waits for confirmation: the executor then reports it as unknown, rather than the widget
 * guessing.
 */
export function startToolCall(call: ProposedToolCall, spec: ToolSpec | undefined): ToolCallState {
  return {
    name: call.name,
    arguments: { ...call.arguments },
    missing: [...call.missing],
    status: nextStatus(spec, call.missing),
  };
}

/** The question for the missing arguments, in the user's language (one line per argument). */
export function missingQuestion(
  spec: ToolSpec | undefined,
  missing: readonly string[],
  language: Language,
  fallback: (key: string) => string,
): string {
  return missing.map((key) => spec?.ask?.[key]?.[language] ?? fallback(key)).join(' ');
}

/**
 * The turn whose call is waiting for the user's answer, if the latest tool turn is and its
 * question was on screen before `sentAt` (a message queued earlier cannot be its answer).
 */
export function turnAwaitingInput(
  turns: readonly ChatTurn[],
  sentAt = Number.POSITIVE_INFINITY,
): ChatTurn | undefined {
  for (let index = turns.length - 1; index >= 0; index--) {
    const turn = turns[index];
    if (!turn?.tool) continue;
    const asked = turn.tool.askedAt ?? Number.NEGATIVE_INFINITY;
    return turn.tool.status === 'needs-input' && asked <= sentAt ? turn : undefined;
  }
  return undefined;
}

/**
 * Reads the missing arguments out of the user's follow-up message (an order number in "是
 * 2024113012345", an enum value, a free-text address). Returns the completed call, or null when
 * the message supplies none of them — it is then a new message, classified as usual.
 */
export function fillFromFollowUp(
  tool: ToolCallState,
  spec: ToolSpec,
  text: string,
): { arguments: ToolArguments; missing: string[]; filled: string[] } | null {
  const filled: string[] = [];
  const merged: ToolArguments = { ...tool.arguments };
  for (const key of tool.missing) {
    const schema = spec.parameters.properties[key];
    if (!schema) continue;
    const value = extractSlotValue(schema, text);
    if (value !== undefined) {
      merged[key] = value;
      filled.push(key);
    }
  }
  // NOTE: a value the schema then refuses (an address too short) answers nothing; counting it
  // would ask the same question again for every later message.
  const check = checkArguments(spec.parameters, merged);
  const accepted = filled.filter((key) => !check.missing.includes(key) && key in check.arguments);
  if (accepted.length === 0) return null;
  return { arguments: check.arguments, missing: check.missing, filled: accepted };
}

/**
 * Fills one missing argument with a value the customer picked (a quick-reply chip), if the open
 * question asks for that argument and the schema accepts the value; else null.
 */
export function fillChoice(
  tool: ToolCallState,
  spec: ToolSpec,
  choice: { key: string; value: string | number | boolean },
): { arguments: ToolArguments; missing: string[]; filled: string[] } | null {
  if (!tool.missing.includes(choice.key)) return null;
  const check = checkArguments(spec.parameters, { ...tool.arguments, [choice.key]: choice.value });
  if (check.missing.includes(choice.key) || !(choice.key in check.arguments)) return null;
  return { arguments: check.arguments, missing: check.missing, filled: [choice.key] };
}

/** Why a classified turn goes to the escalation handler, or null when it does not. */
export function turnEscalationReason(
  result: Classification,
  catalog: Pick<Catalog, 'intents'> | null,
): EscalationReason | null {
  const intent = catalog?.intents.find((candidate) => candidate.id === result.intentId);
  return escalationReason(result.route, intent);
}

/** The conversation so far, as the escalation handler receives it (oldest first). */
export function escalationHistory(
  turns: readonly ChatTurn[],
): { role: 'user' | 'assistant'; content: string }[] {
  return turns.flatMap((turn) => {
    const messages: { role: 'user' | 'assistant'; content: string }[] = [
      { role: 'user', content: turn.text },
    ];
    // NOTE: every answer the customer saw, so an agent follows the conversation it is part of.
    const routeReply = turn.reply?.status === 'done' ? turn.reply.text : undefined;
    const answer = turn.tool?.reply?.text ?? turn.escalation?.text ?? routeReply;
    if (answer) messages.push({ role: 'assistant', content: answer });
    return messages;
  });
}
