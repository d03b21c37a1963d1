import { createStore, del, get, update, type UseStore } from 'idb-keyval';
import type { ChatTurn } from './conversation';
import { isOneOf, isRecord } from '../shared/validation';
import type { Language } from '../shared/language';

/**
 * Corrections an operator made in the inspector ("wrong intent?"): which intent a message should
 * have gone to. They are kept on the device, in IndexedDB, and exported as training rows in the
 * two formats the training pipeline reads (src/dataset/dataset.ts), so misroutes become the next
 * fine-tune's data.
 *
 * A conversation's corrections live beside it: database `fenliu`, store `widget-state` (the store
 * src/router/persistence.ts keeps the conversation in), key `<persistKey>:corrections`, as an array
 * oldest first. Clearing the conversation leaves them: they are the operator's, not the customer's.
 */

/** One operator's correction of one turn's routing. */
export interface Correction {
  id: string;
  /** The turn corrected; one correction per turn (recording another replaces it). */
  turnId: string;
  /** The customer's message, as sent. */
  text: string;
  /** What the router chose: the routed intent, its label and the confidence shown. */
  predicted: { intentId: string; label: string; confidence: number };
  /** The intent the message should have gone to, and the label the model answers for it. */
  corrected: { intentId: string; label: string };
  /** Epoch milliseconds when the correction was made. */
  at: number;
  /** The conversation's language when the correction was made. */
  language: Language;
}

/**
 * What the corrections need of a catalog: each intent's id and the label the model answers. A
 * `Catalog` is one; without a host catalog, the classification's scores give the same
 * (`{ intents: result.scores.map((s) => ({ id: s.intentId, label: s.label })) }`).
 */
export interface IntentLabels {
  intents: readonly { id: string; label: string }[];
}

let correctionCounter = 0;

/**
 * The correction of `turn` to `intentId`, or null when the turn has no classification or the
 * catalog has no such intent (a label the model does not know is no training row).
 *
 * @example
 * const correction = correctionFor(turn, 'shipping', catalog, 'zh');
 * if (correction) await recordCorrection(persistKey, correction);
 */
export function correctionFor(
  turn: Pick<ChatTurn, 'id' | 'text' | 'result'>,
  intentId: string,
  catalog: IntentLabels,
  language: Language,
  at = Date.now(),
): Correction | null {
  const { result } = turn;
  const intent = catalog.intents.find((candidate) => candidate.id === intentId);
  if (!result || !intent) return null;
  correctionCounter += 1;
  return {
    id: `${turn.id}:${at.toString(36)}:${correctionCounter}`,
    turnId: turn.id,
    text: turn.text,
    predicted: { intentId: result.intentId, label: result.label, confidence: result.confidence },
    corrected: { intentId: intent.id, label: intent.label },
    at,
    language,
  };
}

/** `corrections` with `correction` added at the end; an earlier one of the same turn is dropped. */
export function withCorrection(
  corrections: readonly Correction[],
  correction: Correction,
): Correction[] {
  return [...corrections.filter((old) => old.turnId !== correction.turnId), correction];
}

/** `corrections` without the one whose id is `id`. */
export function withoutCorrection(corrections: readonly Correction[], id: string): Correction[] {
  return corrections.filter((correction) => correction.id !== id);
}

// Reviving saved corrections: the shared guards keep each one that has the current shape and drop
// the rest (see src/shared/validation.ts), so data saved by an older release, or damaged, cannot
// break the inspector or put a bad row into an export.

const LANGUAGES: readonly Language[] = ['zh', 'en'];

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function reviveCorrection(value: unknown): Correction | null {
  if (!isRecord(value)) return null;
  const { id, turnId, text, predicted, corrected, at, language } = value;
  if (!isText(id) || !isText(turnId) || !isText(text)) return null;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  if (!isRecord(predicted) || !isRecord(corrected)) return null;
  const { confidence } = predicted;
  if (
    !isText(predicted.intentId) ||
    typeof predicted.label !== 'string' ||
    typeof confidence !== 'number' ||
    !(confidence >= 0 && confidence <= 1) ||
    !isText(corrected.intentId) ||
    !isText(corrected.label)
  ) {
    return null;
  }
  return {
    id,
    turnId,
    text,
    predicted: { intentId: predicted.intentId, label: predicted.label, confidence },
    corrected: { intentId: corrected.intentId, label: corrected.label.trim() },
    at,
    // NOTE: the language only says which UI the operator used; a correction without one is kept.
    language: isOneOf(LANGUAGES, language) ? language : 'zh',
  };
}

/**
 * Reads corrections saved earlier: each one that does not have the current shape is dropped, and
 * of two for one turn the later one (by `at`) is kept, so the result holds one per turn, oldest
 * first.
 */
export function reviveCorrections(value: unknown): Correction[] {
  if (!Array.isArray(value)) return [];
  const byTurn = new Map<string, Correction>();
  for (const item of value) {
    const correction = reviveCorrection(item);
    if (!correction) continue;
    const other = byTurn.get(correction.turnId);
    if (!other || correction.at >= other.at) byTurn.set(correction.turnId, correction);
  }
  return [...byTurn.values()].sort((a, b) => a.at - b.at);
}

// The store.

let store: UseStore | null = null;

/** The conversation's store (src/router/persistence.ts): one database, one store, keys by use. */
function correctionsStore(): UseStore {
  // NOTE: idb-keyval creates a store only when it creates the database, so corrections go in the
  // store the conversation already uses rather than a store of their own.
  store ??= createStore('fenliu', 'widget-state');
  return store;
}

/** Where a conversation's corrections are kept. */
export function correctionsKey(persistKey: string): string {
  return `${persistKey}:corrections`;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** What a change to the stored corrections did: the error when storage refused it, else the list now. */
export interface CorrectionsOutcome {
  error: Error | null;
  /** The corrections as stored after the change, oldest first (null when it failed). */
  stored: Correction[] | null;
}

/**
 * Reads, changes and writes the stored list in one read-write transaction, so two tabs correcting
 * at once cannot lose each other's corrections. Never rejects.
 */
async function change(
  persistKey: string,
  edit: (corrections: Correction[]) => Correction[],
): Promise<CorrectionsOutcome> {
  let next: Correction[] = [];
  try {
    await update<unknown>(
      correctionsKey(persistKey),
      (old) => {
        next = edit(reviveCorrections(old));
        return next;
      },
      correctionsStore(),
    );
    return { error: null, stored: next };
  } catch (error) {
    // NOTE: a full (QuotaExceededError) or blocked store must not break the inspector: the
    // caller says the correction was not kept and keeps it in memory.
    return { error: asError(error), stored: null };
  }
}

/**
 * The corrections kept under `persistKey`, oldest first; empty when there are none or storage is
 * unavailable (private modes, Node).
 */
export async function listCorrections(persistKey: string): Promise<Correction[]> {
  try {
    return reviveCorrections(await get(correctionsKey(persistKey), correctionsStore()));
  } catch {
    return [];
  }
}

/**
 * Keeps `correction`, replacing any earlier correction of the same turn. Resolves with the error
 * when storage refused the write (full, blocked); never rejects.
 *
 * @example
 * const { error, stored } = await recordCorrection('shop-chat', correction);
 */
export function recordCorrection(
  persistKey: string,
  correction: Correction,
): Promise<CorrectionsOutcome> {
  return change(persistKey, (corrections) => withCorrection(corrections, correction));
}

/** Forgets the correction whose id is `id` (the inspector's undo); never rejects. */
export function removeCorrection(persistKey: string, id: string): Promise<CorrectionsOutcome> {
  return change(persistKey, (corrections) => withoutCorrection(corrections, id));
}

/** Forgets every correction kept under `persistKey`; resolves with the error if storage refused. */
export async function clearCorrections(persistKey: string): Promise<Error | null> {
  try {
    await del(correctionsKey(persistKey), correctionsStore());
    return null;
  } catch (error) {
    return asError(error);
  }
}

// Export as training rows.

/**
 * The rows the corrections make, in order: the message and the label the model answers for the
 * corrected intent. With a catalog the label is the catalog's label for the intent today (a label
 * renamed since the correction is followed), and corrections of intents the catalog no longer
 * has are left out, because the pipeline refuses labels outside its catalog; without one, the
 * label recorded with the correction. Messages with nothing but spaces are left out too.
 */
export function correctionRows(
  corrections: readonly Correction[],
  catalog: IntentLabels | null = null,
): { text: string; label: string }[] {
  const labels = catalog && new Map(catalog.intents.map((intent) => [intent.id, intent.label]));
  return corrections.flatMap(({ text, corrected }) => {
    const label = labels ? labels.get(corrected.intentId) : corrected.label;
    return label === undefined || text.trim() === '' ? [] : [{ text, label }];
  });
}

/**
 * The corrections as `{"text", "label"}` JSON Lines, one row per correction and a newline after
 * each, as `scripts/prepare-training-data.ts --train FILE` reads them (`parseDataset`). The label
 * is the model's label (`查询订单`), not the intent id. A row of an intent bound to a tool has no
 * `tool_call`: the pipeline gives it the call with no arguments (`resolveToolCalls`).
 *
 * @example
 * correctionsToJsonl([correction]); // '{"text":"快递到哪了","label":"物流查询"}\n'
 */
export function correctionsToJsonl(
  corrections: readonly Correction[],
  catalog: IntentLabels | null = null,
): string {
  return correctionRows(corrections, catalog)
    .map(({ text, label }) => `${JSON.stringify({ text, label })}\n`)
    .join('');
}

/**
 * The corrections as ShareGPT conversations, a JSON array with one conversation per line, in the
 * roles LLaMA-Factory's `sharegpt` form uses by default (`human`, `gpt`); the pipeline reads it
 * (`parseDataset`: the message is the user turn, the label the assistant turn). Labels as in
 * `correctionRows`: the catalog's, for intents it still has.
 *
 * @example
 * correctionsToShareGpt([correction], catalog);
 * // '[\n{"conversations":[{"from":"human","value":"快递到哪了"},{"from":"gpt","value":"物流查询"}]}\n]\n'
 */
export function correctionsToShareGpt(
  corrections: readonly Correction[],
  catalog: IntentLabels | null,
): string {
  const rows = correctionRows(corrections, catalog).map(({ text, label }) =>
    JSON.stringify({
      conversations: [
        { from: 'human', value: text },
        { from: 'gpt', value: label },
      ],
    }),
  );
  // NOTE: one conversation per line, so the pipeline's `file:line` for a bad row names it.
  return rows.length === 0 ? '[]\n' : `[\n${rows.join(',\n')}\n]\n`;
}
