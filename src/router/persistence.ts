import { createStore, get, promisifyRequest, set, type UseStore } from 'idb-keyval';
import {
  appendToArchive,
  capTurns,
  mergeTurns,
  reviveTurns,
  savedForm,
  turnVersion,
  type ChatTurn,
} from './conversation';
import { isRecord } from '../shared/validation';
import { parseLanguage, type Language } from '../shared/language';

/**
 * A conversation with a `persistKey` is kept in IndexedDB (database `fenliu`, store
 * `widget-state`) and shared by every tab and widget of the origin that has it open:
 *
 * - `persistKey` holds `{ turns, settings, clearedAt? }`: the newest `MAX_SAVED_TURNS` turns and
 *   every older unanswered one (src/router/conversation.ts, `capTurns`), the settings, and when
 *   the conversation was last cleared. Earlier releases saved `{ turns, settings }`; both read.
 * - `<persistKey>:archive` holds the answered turns pushed out by the cap, oldest first; it is
 *   appended to, never trimmed (only a clear empties it). Nothing reads it on a normal load.
 * - `<persistKey>:draft` holds the message being typed.
 *
 * A save reads what is stored, merges its own turns in by id (`mergeTurns`: the newer version of
 * each turn wins) and writes the result, in one IndexedDB read-write transaction: the database
 * runs such transactions on one store one at a time, across tabs, so two tabs saving at once
 * cannot lose each other's turns. Then it tells the other tabs on the BroadcastChannel
 * `fenliu:<persistKey>`, and they merge the stored turns into what they show.
 */

/** What a conversation keeps besides its turns. `theme` belongs to the widget ('' when none). */
export interface ConversationSettings {
  language: Language;
  theme: string;
}

/** What a conversation with a `persistKey` keeps between visits, in IndexedDB. */
export interface SavedConversation {
  turns: ChatTurn[];
  settings: ConversationSettings;
}

/** A saved conversation as read back, with when it was last cleared (0: never). */
export interface StoredConversation extends SavedConversation {
  /** Turns whose last change came before this (epoch ms) were cleared, here or in another tab. */
  clearedAt: number;
}

/** What a session asks to save: its own view of the conversation. */
export interface LocalConversation {
  /** Everything the session holds; unanswered turns are saved as `interrupted` (`savedForm`). */
  turns: readonly ChatTurn[];
  settings: ConversationSettings;
  /** The settings were changed here: they replace the stored ones (else those stay). */
  settingsChanged: boolean;
  /** The newest clear the session knows of (its own or another tab's); 0: none. */
  clearedAt: number;
  /**
   * Turns the session knows are in the archive, with their version then: not saved again (they
   * would only be archived again) unless they changed since.
   */
  archived: ReadonlyMap<string, number>;
}

/** What one save decides, from what was stored and what the session holds. */
export interface SavePlan {
  next: StoredConversation;
  /** Answered turns pushed out by the cap: appended to the archive. */
  archived: ChatTurn[];
  /** This save brings a newer clear: the archive forgets what it cleared. */
  clears: boolean;
}

/**
 * Decides a save (a pure function; `saveConversation` runs it inside the transaction): the
 * stored turns and the session's merged, the cleared ones left out, then split at the cap.
 */
export function planSave(stored: StoredConversation | null, local: LocalConversation): SavePlan {
  const storedClear = stored?.clearedAt ?? 0;
  const clearedAt = Math.max(storedClear, local.clearedAt);
  const mine = local.turns
    .filter((turn) => {
      const archivedVersion = local.archived.get(turn.id);
      return archivedVersion === undefined || turnVersion(turn) > archivedVersion;
    })
    .map(savedForm);
  const merged = mergeTurns(stored?.turns ?? [], mine).filter(
    (turn) => turnVersion(turn) >= clearedAt,
  );
  const { kept, archived } = capTurns(merged);
  const settings = local.settingsChanged || !stored ? local.settings : stored.settings;
  return {
    next: { turns: kept, settings, clearedAt },
    archived,
    clears: clearedAt > storedClear,
  };
}

/** What a save did: the error when storage refused it, else what is stored now. */
export interface SaveOutcome {
  error: Error | null;
  /** The conversation as stored after the save (null when it failed). */
  stored: StoredConversation | null;
  /** The turns this save put in (or found in) the archive. */
  archived: ChatTurn[];
}

let store: UseStore | null = null;

/** One database for every conversation on the origin, each under its own key (the store keeps its old name, "widget-state", so earlier visits are found). */
function conversationStore(): UseStore {
  store ??= createStore('fenliu', 'widget-state');
  return store;
}

function archiveKey(persistKey: string): string {
  return `${persistKey}:archive`;
}

function parseStored(value: unknown): StoredConversation | null {
  if (!isRecord(value)) return null;
  const settings = isRecord(value.settings) ? value.settings : {};
  return {
    turns: reviveTurns(value.turns),
    settings: {
      language: parseLanguage(typeof settings.language === 'string' ? settings.language : null),
      theme: typeof settings.theme === 'string' ? settings.theme : '',
    },
    clearedAt: typeof value.clearedAt === 'number' ? value.clearedAt : 0,
  };
}

/** The stored shape: `{ turns, settings }` as earlier releases wrote it, plus `clearedAt` once cleared. */
function toStored({ turns, settings, clearedAt }: StoredConversation): object {
  return clearedAt > 0 ? { turns, settings, clearedAt } : { turns, settings };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Loads a saved conversation, or null if there is none or storage is unavailable. */
export async function loadConversation(persistKey: string): Promise<StoredConversation | null> {
  try {
    return parseStored(await get(persistKey, conversationStore()));
  } catch {
    // NOTE: private modes and blocked storage throw here; the widget then simply forgets.
    return null;
  }
}

/**
 * The answered turns the cap moved out of the conversation, oldest first (empty when none or
 * storage is unavailable).
 */
export async function loadArchive(persistKey: string): Promise<ChatTurn[]> {
  try {
    return reviveTurns(await get(archiveKey(persistKey), conversationStore()));
  } catch {
    return [];
  }
}

/**
 * Merges the session's conversation into the stored one and writes the result (`planSave`), in
 * one read-write transaction with the archive, so a save that fails half-way changes nothing.
 * Resolves with the error when storage refused the write (full, blocked), so the widget can say
 * the conversation is not being kept; it never rejects.
 */
export async function saveConversation(
  persistKey: string,
  local: LocalConversation,
): Promise<SaveOutcome> {
  try {
    const plan = await conversationStore()('readwrite', (objects) => {
      let decided: SavePlan | null = null;
      let failure: unknown = null;
      // NOTE: everything runs in request callbacks: the transaction stays open only while a
      // request is pending or its callback runs, so nothing may be awaited between the read and
      // the writes. A value that cannot be stored throws here; aborting writes nothing.
      const step = (work: () => void) => () => {
        try {
          work();
        } catch (error) {
          failure = error;
          objects.transaction.abort();
        }
      };
      const read = objects.get(persistKey);
      read.onsuccess = step(() => {
        const plan = planSave(parseStored(read.result), local);
        decided = plan;
        objects.put(toStored(plan.next), persistKey);
        if (plan.archived.length === 0 && !plan.clears) return;
        const readArchive = objects.get(archiveKey(persistKey));
        readArchive.onsuccess = step(() => {
          const archive = appendToArchive(
            reviveTurns(readArchive.result),
            plan.archived,
            plan.next.clearedAt,
          );
          if (archive.length > 0) objects.put(archive, archiveKey(persistKey));
          else objects.delete(archiveKey(persistKey));
        });
      });
      return promisifyRequest(objects.transaction).then(
        () => {
          if (!decided) throw new Error('the save ended before it read the conversation');
          return decided;
        },
        (error: unknown) => {
          throw asError(failure ?? error ?? 'the save transaction was aborted');
        },
      );
    });
    return { error: null, stored: plan.next, archived: plan.archived };
  } catch (error) {
    // NOTE: a full or blocked store must not break the conversation in memory.
    return { error: asError(error), stored: null, archived: [] };
  }
}

/** A session's line to the other tabs and widgets that have the same conversation open. */
export interface ConversationChannel {
  /** Tells the others the stored conversation changed. */
  announce(): void;
  close(): void;
}

/**
 * Calls `onChange` whenever another tab or widget saved the conversation under `persistKey`
 * (BroadcastChannel `fenliu:<persistKey>`; a channel does not hear its own messages). Does
 * nothing where there is no BroadcastChannel or no IndexedDB (Node, some private modes).
 */
export function openConversationChannel(
  persistKey: string,
  onChange: () => void,
): ConversationChannel {
  if (typeof BroadcastChannel === 'undefined' || typeof indexedDB === 'undefined') {
    return { announce: () => undefined, close: () => undefined };
  }
  const channel = new BroadcastChannel(`fenliu:${persistKey}`);
  channel.onmessage = () => {
    onChange();
  };
  return {
    announce: () => {
      channel.postMessage('saved');
    },
    close: () => {
      channel.close();
    },
  };
}

/** The message being typed, kept apart from the turns so a keystroke writes a few bytes. */
export async function loadDraft(persistKey: string): Promise<string> {
  try {
    const value: unknown = await get(`${persistKey}:draft`, conversationStore());
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}

/** Saves the message being typed; a refused write is reported like `saveConversation`'s. */
export async function saveDraft(persistKey: string, draft: string): Promise<Error | null> {
  try {
    await set(`${persistKey}:draft`, draft, conversationStore());
    return null;
  } catch (error) {
    return asError(error);
  }
}
