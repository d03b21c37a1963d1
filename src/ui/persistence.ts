import { createStore, get, set, type UseStore } from 'idb-keyval';
import { reviveTurns, turnsToSave, type ChatTurn } from './conversation';
import { isRecord } from '../shared/validation';
import { parseLanguage, parseTheme, type Language, type Theme } from './i18n';

/** What a widget with a `persistKey` keeps between visits, in IndexedDB. */
export interface SavedWidgetState {
  turns: ChatTurn[];
  settings: { language: Language; theme: Theme };
}

let store: UseStore | null = null;

/** One database for every widget on the origin; each widget's state lives under its own key. */
function widgetStore(): UseStore {
  store ??= createStore('fenliu', 'widget-state');
  return store;
}

/** Loads a widget's saved state, or null if there is none or storage is unavailable. */
export async function loadWidgetState(persistKey: string): Promise<SavedWidgetState | null> {
  try {
    const value: unknown = await get(persistKey, widgetStore());
    if (!isRecord(value)) return null;
    const settings = isRecord(value.settings) ? value.settings : {};
    return {
      turns: reviveTurns(value.turns),
      settings: {
        language: parseLanguage(typeof settings.language === 'string' ? settings.language : null),
        theme: parseTheme(typeof settings.theme === 'string' ? settings.theme : null),
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
export async function saveWidgetState(
  persistKey: string,
  state: SavedWidgetState,
): Promise<Error | null> {
  try {
    await set(
      persistKey,
      { turns: turnsToSave(state.turns), settings: state.settings },
      widgetStore(),
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
    const value: unknown = await get(`${persistKey}:draft`, widgetStore());
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}

/** Saves the message being typed; a refused write is reported like `saveWidgetState`'s. */
export async function saveDraft(persistKey: string, draft: string): Promise<Error | null> {
  try {
    await set(`${persistKey}:draft`, draft, widgetStore());
    return null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
