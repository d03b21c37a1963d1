import { createStore, get, set, type UseStore } from 'idb-keyval';
import { isSettled, MAX_SAVED_TURNS, reviveTurns, type ChatTurn } from './conversation';
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
    if (typeof value !== 'object' || value === null) return null;
    const saved = value as { turns?: unknown; settings?: { language?: string; theme?: string } };
    return {
      turns: reviveTurns(saved.turns),
      settings: {
        language: parseLanguage(saved.settings?.language),
        theme: parseTheme(saved.settings?.theme),
      },
    };
  } catch {
    // NOTE: private modes and blocked storage throw here; the widget then simply forgets.
    return null;
  }
}

/** Saves the settled turns (newest `MAX_SAVED_TURNS`) and settings; storage errors are ignored. */
export async function saveWidgetState(persistKey: string, state: SavedWidgetState): Promise<void> {
  const turns = state.turns.filter(isSettled).slice(-MAX_SAVED_TURNS);
  try {
    await set(persistKey, { turns, settings: state.settings }, widgetStore());
  } catch {
    // NOTE: a full or blocked store must not break the conversation in memory.
  }
}
