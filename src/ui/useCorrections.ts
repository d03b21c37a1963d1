import { useEffect, useSyncExternalStore } from 'react';
import type { Catalog } from '../catalog/types';
import type { ChatTurn } from '../router/conversation';
import {
  clearCorrections,
  correctionFor,
  listCorrections,
  recordCorrection,
  removeCorrection,
  withCorrection,
  withoutCorrection,
  type Correction,
  type CorrectionsOutcome,
} from '../router/corrections';
import type { Language } from '../shared/language';

/** The inspector's corrections and what the operator can do with them. */
export interface CorrectionsState {
  corrections: readonly Correction[];
  /** Turn ids whose correction storage refused: they hold for this page only. */
  notKept: ReadonlySet<string>;
  correct: (turn: ChatTurn, intentId: string, catalog: Catalog | null, language: Language) => void;
  undo: (correction: Correction) => void;
  clear: () => void;
}

/**
 * One widget's corrections, shared by the inspector bar and every turn's inspector block: kept
 * in IndexedDB under `persistKey` (in memory without one), loaded when the inspector first shows.
 */
class CorrectionsStore {
  private state: CorrectionsState;
  private readonly listeners = new Set<() => void>();
  private loaded = false;

  constructor(private readonly persistKey: string | undefined) {
    this.state = {
      corrections: [],
      notKept: new Set(),
      correct: (turn, intentId, catalog, language) => {
        const correction = catalog && correctionFor(turn, intentId, catalog, language);
        if (!correction) return;
        // Shown at once; storage confirms (or refuses) after.
        this.set({ corrections: withCorrection(this.state.corrections, correction) });
        if (this.persistKey === undefined) return;
        void recordCorrection(this.persistKey, correction).then((outcome) => {
          this.settle(turn.id, outcome);
        });
      },
      undo: (correction) => {
        this.set({ corrections: withoutCorrection(this.state.corrections, correction.id) });
        if (this.persistKey === undefined) return;
        void removeCorrection(this.persistKey, correction.id).then((outcome) => {
          this.settle(correction.turnId, outcome);
        });
      },
      clear: () => {
        this.set({ corrections: [] });
        if (this.persistKey !== undefined) void clearCorrections(this.persistKey);
      },
    };
  }

  get snapshot(): CorrectionsState {
    return this.state;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  load(): void {
    if (this.loaded || this.persistKey === undefined) return;
    this.loaded = true;
    void listCorrections(this.persistKey).then((stored) => {
      this.set({ corrections: stored });
    });
  }

  private set(change: Partial<CorrectionsState>): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) listener();
  }

  private settle(turnId: string, outcome: CorrectionsOutcome): void {
    const notKept = new Set(this.state.notKept);
    if (outcome.error) {
      notKept.add(turnId);
      console.error(`fenliu: a correction was not saved: ${outcome.error.message}`);
    } else {
      notKept.delete(turnId);
    }
    this.set({ notKept, ...(outcome.stored && { corrections: outcome.stored }) });
  }
}

/** One store per saved conversation (and one for every widget that saves nothing). */
const stores = new Map<string | undefined, CorrectionsStore>();

/**
 * The corrections of the widget saved under `persistKey`, for the inspector's components; the
 * stored ones load when the first of them mounts (a customer's widget never reads them).
 */
export function useCorrections(persistKey: string | undefined): CorrectionsState {
  let store = stores.get(persistKey);
  if (!store) {
    store = new CorrectionsStore(persistKey);
    stores.set(persistKey, store);
  }
  const current = store;
  useEffect(() => {
    current.load();
  }, [current]);
  return useSyncExternalStore(current.subscribe, () => current.snapshot);
}
