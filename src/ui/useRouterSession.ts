import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { WorkerClassifier, type WorkerClassifierOptions } from '../client/worker-classifier';
import { RouterSession } from '../router/session';
import type { RouterEvent, RouterOptions, RouterSnapshot } from '../router/types';

/** What the widget needs to start its session: where the model is, and the host's setup. */
export interface SessionSetup extends Omit<RouterOptions, 'classifier'> {
  worker: WorkerClassifierOptions;
  /**
   * When the model starts loading: at once (`mount`, the default), or when the page is idle
   * (`idle`: a closed launcher), whichever comes first of that and `requestLoad()`.
   */
  loadWhen?: 'mount' | 'idle';
  /** Every session event, for the host (DOM events, React callbacks). */
  onEvent?: (event: RouterEvent) => void;
}

/**
 * The React side of a `RouterSession`: one session (and its worker) per model location, created
 * on mount and disposed on unmount; the host's later catalog, tools, handlers and escalation
 * changes are applied to it without losing the conversation. Rendering reads `snapshot`; the
 * flow itself is the session's (src/router/session.ts).
 */
export function useRouterSession(setup: SessionSetup): {
  session: RouterSession | null;
  snapshot: RouterSnapshot | null;
  /** Starts loading the model now, if it has not started (hover, open, a sent message). */
  requestLoad: () => void;
} {
  const { worker, onEvent, loadWhen = 'mount', ...sessionOptions } = setup;
  const { catalog, tools, handlers, escalation, toolReply } = sessionOptions;
  const { modelBase, modelId, ortBase, device, dtype, browserCache, callTimeoutMs, createWorker } =
    worker;
  const [session, setSession] = useState<RouterSession | null>(null);
  const startLoad = useRef<() => void>(() => undefined);
  // NOTE: hosts often pass a new callback every render; the session hears the latest one, and
  // from its first event on (subscribing in a later effect would miss the first statuses).
  const onEventLatest = useRef(onEvent);
  useEffect(() => {
    onEventLatest.current = onEvent;
  }, [onEvent]);

  useEffect(() => {
    const classifier = new WorkerClassifier({
      modelBase,
      modelId,
      ortBase,
      device,
      ...(dtype !== undefined && { dtype }),
      ...(browserCache !== undefined && { browserCache }),
      ...(callTimeoutMs !== undefined && { callTimeoutMs }),
      ...(createWorker && { createWorker }),
    });
    let created: RouterSession;
    try {
      created = new RouterSession({ ...sessionOptions, classifier });
    } catch (error) {
      // NOTE: the worker started above would outlive a session that never existed.
      void classifier.dispose();
      throw error;
    }
    const stopEvents = created.onEvent((event) => {
      onEventLatest.current?.(event);
    });
    // NOTE: the session is the external system this effect starts; render needs its handle.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setSession(created);
    let started = false;
    const load = (): void => {
      if (started) return;
      started = true;
      void classifier.load();
    };
    startLoad.current = load;
    let cancelIdle = (): void => undefined;
    if (loadWhen === 'mount') load();
    else cancelIdle = whenIdle(load);
    return () => {
      cancelIdle();
      startLoad.current = () => undefined;
      stopEvents();
      void created.dispose();
    };
    // NOTE: only the model's location makes a new session; the rest is applied by `configure`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [modelBase, modelId, ortBase, device, dtype, browserCache, callTimeoutMs, createWorker]);
  // NOTE: `loadWhen` is read when the session starts; changing it later changes nothing.

  useEffect(() => {
    session?.configure({ catalog, tools, handlers, escalation, toolReply });
  }, [session, catalog, tools, handlers, escalation, toolReply]);

  const snapshot = useSyncExternalStore(
    (listener) => session?.subscribe(listener) ?? (() => undefined),
    () => session?.snapshot ?? null,
  );
  const requestLoad = useCallback(() => {
    startLoad.current();
  }, []);
  return { session, snapshot, requestLoad };
}

/** How long an idle launcher waits at most for an idle moment before it loads anyway. */
const IDLE_LOAD_TIMEOUT_MS = 4000;

/** Runs `work` once the page is idle (or after `IDLE_LOAD_TIMEOUT_MS`); returns a cancel. */
function whenIdle(work: () => void): () => void {
  if (typeof requestIdleCallback === 'function') {
    const handle = requestIdleCallback(work, { timeout: IDLE_LOAD_TIMEOUT_MS });
    return () => {
      cancelIdleCallback(handle);
    };
  }
  const timer = setTimeout(work, IDLE_LOAD_TIMEOUT_MS / 2);
  return () => {
    clearTimeout(timer);
  };
}
