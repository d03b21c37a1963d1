import {
  useEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
  type SyntheticEvent,
} from 'react';
import type { Catalog, ToolSpec } from '../catalog/types';
import type { WorkerClassifierOptions } from '../client/worker-classifier';
import type { Classification } from '../engine/classification';
import type { DevicePreference } from '../engine/device';
import type { ClassifierStatus } from '../engine/lifecycle';
import type { ModelLocation } from '../engine/worker-protocol';
import { describeEscalationConfig } from '../escalation/handler';
import type { EscalationConfig } from '../escalation/types';
import { loadDraft, saveDraft } from '../router/persistence';
import type { ChatTurn } from '../router/conversation';
import { BLOCKING_PROBLEM } from '../router/session';
import type { RouteHandler, RouterEvent } from '../router/types';
import type { ToolImplementation } from '../tools/registry';
import { useColorScheme } from './color-scheme';
import { EscalationNotice } from './EscalationNotice';
import { errorText, parseTheme, strings, type Language, type Theme } from './i18n';
import { IntentChip } from './IntentChip';
import { RouteReplyNote } from './RouteReplyNote';
import { StatusLine } from './StatusLine';
import { ToolCallCard } from './ToolCallCard';
import { useRouterSession } from './useRouterSession';

export type { ModelLocation };

/** What `onEscalate` receives: the message and the engine's answer that asked for escalation. */
export interface EscalationEvent {
  text: string;
  classification: Classification;
}

export interface ChatWidgetProps {
  model: ModelLocation;
  /** `auto` (default) probes WebGPU and falls back to WASM. */
  device?: DevicePreference;
  /** A precision the model ships; default: the best one for the device. */
  dtype?: string;
  /**
   * Let transformers.js cache the model in Cache Storage (default true); off where a service
   * worker caches it already (the offline demo).
   */
  browserCache?: boolean;
  /**
   * How long one classification may go unanswered before the worker is taken for hung and
   * restarted (default two minutes; see `DEFAULT_CALL_TIMEOUT_MS`).
   */
  callTimeoutMs?: number;
  /** Starts the classifier worker; default the bundled one (see `WorkerClassifierOptions`). */
  createWorker?: WorkerClassifierOptions['createWorker'];
  /** UI language; when omitted, the saved setting or Chinese. */
  language?: Language;
  /** Colour theme; when omitted, the saved setting or `auto`. */
  theme?: Theme;
  /** The host's catalog: intent names, tools, the route table (it must match the model). */
  catalog?: Catalog | null;
  /**
   * The host's tool implementations by name. The catalog declares each tool (schema,
   * confirmation, timeout) and binds it to an intent; calls run here, on the main thread.
   */
  tools?: Readonly<Record<string, ToolImplementation>>;
  /** The handlers the catalog's routes name (agents, people, the host's own functions). */
  handlers?: Readonly<Record<string, RouteHandler>>;
  /** The answer shown after a tool ran, when model-written replies are off (null: a generic line). */
  toolReply?: (name: string, result: unknown, language: Language) => string | null;
  /** Start with model-written replies after tool calls (the user can switch). */
  modelReplies?: boolean;
  /**
   * Where out-of-scope, low-confidence and escalating-intent turns go: an OpenAI-compatible
   * chat-completions endpoint or a hand-off callback. None: the user is told plainly.
   */
  escalation?: EscalationConfig | null;
  /** Every session event (see `RouterEventMap`); the embeds turn them into DOM events. */
  onEvent?: (event: RouterEvent) => void;
  /** Called when a message is routed to escalation (a person or a larger model). */
  onEscalate?: (event: EscalationEvent) => void;
  /** Called on every lifecycle change of the classifier. */
  onStatus?: (status: ClassifierStatus) => void;
  /** IndexedDB key: when set, the conversation and settings survive reloads. */
  persistKey?: string;
  /**
   * A line shown under the status (e.g. that offline caching was refused); a function gets the
   * language the widget shows now, so the line follows the customer's choice.
   */
  notice?: ReactNode | ((language: Language) => ReactNode);
}

/** Turns the user can send again: never answered, or lost to a crashed or hung classifier. */
const RESENDABLE_ERRORS = new Set([
  'classifier-crashed',
  'classifier-unresponsive',
  'classifier-not-ready',
  'internal',
]);

const NEXT_THEME: Record<Theme, Theme> = { auto: 'light', light: 'dark', dark: 'auto' };

const NO_TURNS: readonly ChatTurn[] = [];

/** A session that has not started yet renders like one checking its device. */
const STARTING: ClassifierStatus = { state: 'checking-device' };

/**
 * The chat widget: message list, input (Enter sends, Shift+Enter adds a line), intent chips with
 * confidence, route replies, escalation notices, tool-call cards, and the model-status line.
 * Rendering only: the conversation's flow is the router session's (src/router/session.ts). One
 * implementation behind the React component, the `<fenliu-chat>` element and the script-tag
 * bundle.
 */
export function ChatWidget(props: ChatWidgetProps) {
  const { model, device = 'auto', catalog = null, onEscalate, onStatus, onEvent } = props;
  const { persistKey, notice } = props;
  const { session, snapshot } = useRouterSession({
    worker: {
      ...model,
      device,
      ...(props.dtype !== undefined && { dtype: props.dtype }),
      ...(props.browserCache !== undefined && { browserCache: props.browserCache }),
      ...(props.callTimeoutMs !== undefined && { callTimeoutMs: props.callTimeoutMs }),
      ...(props.createWorker && { createWorker: props.createWorker }),
    },
    catalog,
    ...(props.tools && { tools: props.tools }),
    ...(props.handlers && { handlers: props.handlers }),
    ...(props.escalation && { escalation: props.escalation }),
    ...(props.toolReply && { toolReply: props.toolReply }),
    ...(props.language !== undefined && { language: props.language }),
    ...(props.modelReplies !== undefined && { modelReplies: props.modelReplies }),
    ...(persistKey !== undefined && { persistKey }),
    onEvent: (event) => {
      if (event.type === 'status') onStatus?.(event.detail);
      if (event.type === 'escalated') {
        const { text, classification } = event.detail;
        onEscalate?.({ text, classification });
      }
      // Developers get the details; customers see a short notice (below).
      if (event.type === 'error' && event.detail.scope === 'developer') {
        console.error(`fenliu: ${event.detail.error.message}`);
      }
      onEvent?.(event);
    },
  });
  const turns = snapshot?.turns ?? NO_TURNS;
  const status = snapshot?.classifier.status ?? STARTING;
  const pending = snapshot?.pending ?? null;
  const language = snapshot?.language ?? props.language ?? 'zh';
  const modelReplies = snapshot?.modelReplies ?? props.modelReplies ?? false;
  const theme: Theme = props.theme ?? (snapshot?.theme ? parseTheme(snapshot.theme) : 'auto');
  const colorScheme = useColorScheme(theme);
  const [draft, setDraft] = useState('');
  const [draftLoaded, setDraftLoaded] = useState(persistKey === undefined);
  const input = useRef<HTMLTextAreaElement>(null);
  const list = useRef<HTMLOListElement>(null);
  const focusWhenReady = useRef(false);
  const t = strings(language);
  const ready = status.state === 'ready';
  // Customers hear only of a problem that stops routing; developers get every one (console, events).
  const blocking = snapshot?.problems.find((problem) => problem.code === BLOCKING_PROBLEM);
  const specOf = (name: string): ToolSpec | undefined =>
    catalog?.tools?.find((spec) => spec.name === name);

  // Attribute or prop changes from the host win over the current setting.
  useEffect(() => {
    if (props.language !== undefined) session?.setLanguage(props.language);
  }, [session, props.language]);
  useEffect(() => {
    if (props.theme !== undefined) session?.setTheme(props.theme);
  }, [session, props.theme]);

  useEffect(() => {
    if (ready && focusWhenReady.current) {
      focusWhenReady.current = false;
      input.current?.focus();
    }
  }, [ready]);

  // A message typed before the reload comes back, unless the user started a new one.
  useEffect(() => {
    if (persistKey === undefined) return;
    let live = true;
    void loadDraft(persistKey).then((saved) => {
      if (!live) return;
      setDraft((current) => (current === '' ? saved : current));
      setDraftLoaded(true);
    });
    return () => {
      live = false;
    };
  }, [persistKey]);

  useEffect(() => {
    if (persistKey === undefined || !draftLoaded) return;
    void saveDraft(persistKey, draft);
  }, [persistKey, draftLoaded, draft]);

  useEffect(() => {
    const last = list.current?.lastElementChild;
    if (last && 'scrollIntoView' in last) last.scrollIntoView({ block: 'nearest' });
  }, [turns]);

  function send(typed?: string): void {
    const text = (typed ?? draft).trim();
    if (text === '' || !session) return;
    if (typed === undefined) setDraft('');
    session.send(text);
  }

  function onSubmit(event: SyntheticEvent): void {
    event.preventDefault();
    send();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    // NOTE: Enter sends, Shift+Enter inserts a newline; IME composition must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === 'Escape' && pending) {
      event.preventDefault();
      session?.cancel();
    }
  }

  return (
    <section
      className="fenliu"
      data-theme={theme}
      data-scheme={colorScheme}
      lang={language === 'zh' ? 'zh-CN' : 'en'}
      aria-label={t.title}
    >
      <header className="fenliu-header">
        <h2>{t.title}</h2>
        <div className="toolbar">
          <button
            type="button"
            className="secondary theme-toggle"
            aria-label={`${t.themeLabel}: ${t.theme[theme]}`}
            onClick={() => {
              session?.setTheme(NEXT_THEME[theme]);
            }}
          >
            {t.theme[theme]}
          </button>
          <button
            type="button"
            className="secondary language"
            aria-label={t.languageLabel}
            lang={language === 'zh' ? 'en' : 'zh-CN'}
            onClick={() => {
              session?.setLanguage(language === 'zh' ? 'en' : 'zh');
            }}
          >
            {t.language}
          </button>
          <label className="model-replies">
            <input
              type="checkbox"
              checked={modelReplies}
              onChange={(event) => {
                session?.setModelReplies(event.target.checked);
              }}
            />{' '}
            {t.modelReplies}
          </label>
        </div>
        <p className="subtitle">{t.subtitle}</p>
        <StatusLine
          status={status}
          t={t}
          onRetry={() => {
            focusWhenReady.current = true;
            session?.retry();
          }}
          onCancel={() => {
            session?.cancelLoad();
          }}
          autoRetry={snapshot?.classifier.autoRetry ?? null}
        />
        {notice !== undefined && (
          <p className="notice-line">{typeof notice === 'function' ? notice(language) : notice}</p>
        )}
        {snapshot?.classifier.restartedAfter && (
          <p className="notice-line restarted" data-code={snapshot.classifier.restartedAfter.code}>
            {t.restarted}
          </p>
        )}
        {blocking && (
          <p className="notice-line setup-problem" role="alert" data-code={blocking.code}>
            {t.setupProblem}
          </p>
        )}
        {snapshot?.storageRefused && (
          <p className="notice-line storage-refused" role="alert">
            {t.notSaved}
          </p>
        )}
      </header>
      <ol className="turns" role="log" aria-live="polite" aria-label={t.conversation} ref={list}>
        {turns.length === 0 && <li className="hint">{t.empty}</li>}
        {turns.map((turn) => (
          <li key={turn.id} className={turn.queued ? 'turn queued' : 'turn'} data-turn-id={turn.id}>
            <p className="user-text">
              <span className="visually-hidden">{t.you}: </span>
              {turn.text}
            </p>
            {turn.answers && (
              <p className="answers-note">{t.answered(turn.answers.keys.join(', '))}</p>
            )}
            {turn.result && (
              <IntentChip result={turn.result} catalog={catalog} language={language} t={t} />
            )}
            {turn.tool && (
              <ToolCallCard
                call={turn.tool}
                spec={specOf(turn.tool.name)}
                language={language}
                t={t}
                canAct={ready && !pending && !turns.some((queued) => queued.queued)}
                onConfirm={() => {
                  void session?.confirm(turn.id);
                }}
                onDecline={() => {
                  session?.decline(turn.id);
                }}
                onChoose={(value) => {
                  send(value);
                }}
              />
            )}
            {turn.reply && (
              <RouteReplyNote
                reply={turn.reply}
                t={t}
                onChoose={(value) => {
                  send(value);
                }}
              />
            )}
            {turn.escalation && (
              <EscalationNotice
                escalation={turn.escalation}
                t={t}
                destination={describeEscalationConfig(props.escalation ?? null)}
              />
            )}
            {pending === turn.id && <p className="classifying">{t.classifying}</p>}
            {turn.queued && pending !== turn.id && <p className="queued">{t.queued}</p>}
            {turn.interrupted && <p className="turn-interrupted">{t.interrupted}</p>}
            {turn.cancelled && <p className="turn-cancelled">{t.turnCancelled}</p>}
            {turn.error && (
              <p className="turn-error" role="alert" data-code={turn.error.code}>
                {errorText(turn.error, t)}
              </p>
            )}
            {(turn.interrupted === true ||
              (turn.error !== undefined && RESENDABLE_ERRORS.has(turn.error.code))) && (
              <button
                type="button"
                className="secondary resend"
                onClick={() => {
                  session?.resend(turn.id);
                }}
              >
                {t.resend}
              </button>
            )}
          </li>
        ))}
      </ol>
      <form className="composer" onSubmit={onSubmit}>
        <textarea
          ref={input}
          aria-label={t.messageLabel}
          placeholder={t.placeholder}
          value={draft}
          rows={2}
          onChange={(event) => {
            setDraft(event.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" disabled={draft.trim() === ''}>
          {t.send}
        </button>
        {pending && (
          <button
            type="button"
            className="stop"
            onClick={() => {
              session?.cancel();
            }}
          >
            {t.stop}
          </button>
        )}
        {turns.length > 0 && !pending && (
          <button
            type="button"
            className="secondary clear"
            onClick={() => {
              session?.clear();
            }}
          >
            {t.clear}
          </button>
        )}
      </form>
    </section>
  );
}
