import { createStore, get, set, type UseStore } from 'idb-keyval';
import { reviveTurns, turnsToSave, type ChatTurn } from './conversation';
import { isRecord } from '../shared/validation';
import { parseLanguage, type Language } from '../shared/language';

/**
 * What a conversation with a `persistKey` keeps between visits, in IndexedDB. `theme` belongs to
 * the widget (the session only carries it, so one record holds a visit); empty when none.
 */
export interface SavedConversation {
  turns: ChatTurn[];
  settings: { language: Language; theme: string };
}

let store: UseStore | null = null;

/** One database for every conversation on the origin, each under its own key (the store keeps its old name, "widget-state", so earlier visits are found). */
function conversationStore(): UseStore {
  store ??= createStore('fenliu', 'widget-state');
  return store;
}

/** Loads a saved conversation, or null if there is none or storage is unavailable. */
export async function loadConversation(persistKey: string): Promise<SavedConversation | null> {
  try {
    const value: unknown = await get(persistKey, conversationStore());
    if (!isRecord(value)) return null;
    const settings = isRecord(value.settings) ? value.settings : {};
    return {
      turns: reviveTurns(value.turns),
      settings: {
        language: parseLanguage(typeof settings.language === 'string' ? settings.language : null),
        theme: typeof settings.theme === 'string' ? settings.theme : '',
      },
    };
  } catch {
    // NOTE: private modes and blocked storage throw here; the widget then simply forgets.
    return null;
  }
}

/**
 * Saves the newest turns (unanswered ones marked `interrupted`, see `turnsToSave`) and the
 * settings. Resolves with the error when storage refused the write (full, blocked), so the widget
 * can say the conversation is not being kept; it never rejects.
 */
export async function saveConversation(
  persistKey: string,
  state: SavedConversation,
): Promise<Error | null> {
  try {
    await set(
      persistKey,
      { turns: turnsToSave(state.turns), settings: state.settings },
      conversationStore(),
    );
    return null;
  } catch (error) {
    // NOTE: a full or blocked store must not break the conversation in memory.
    return error instanceof Error ? error : new Error(String(error));
  }
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
    return error instanceof Error ? error : new Error(String(error));
  }
}
