import {
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
  type SyntheticEvent,
} from 'react';
import type { Catalog, LocalizedText, ToolSpec } from '../catalog/types';
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
import { parseTheme, strings, type Language, type Theme } from './i18n';
import { StatusLine } from './StatusLine';
import { finalAnswerText, TurnView } from './TurnView';
import { useAnnouncer } from './useAnnouncer';
import { useRouterSession } from './useRouterSession';
import { useVisualViewport } from './useVisualViewport';

export type { ModelLocation };

/** What `onEscalate` receives: the message and the engine's answer that asked for escalation. */
export interface EscalationEvent {
  text: string;
  classification: Classification;
}

/** Where the launcher bubble sits on the page. */
export type LauncherCorner = 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';

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
  /** IndexedDB key: when set, the conversation, settings and corrections survive reloads. */
  persistKey?: string;
  /**
   * A line shown under the header (e.g. that offline caching was refused); a function gets the
   * language the widget shows now, so the line follows the customer's choice.
   */
  notice?: ReactNode | ((language: Language) => ReactNode);
  /**
   * `inline` (default): the widget sits where the host put it. `launcher`: a floating chat bubble
   * in a corner of the page opens it; the model loads when the page is idle or the bubble is
   * hovered, focused or opened.
   */
  layout?: 'inline' | 'launcher';
  /** The launcher's corner (default `bottom-right`). */
  corner?: LauncherCorner;
  /** Start with the launcher open. */
  defaultOpen?: boolean;
  /**
   * The operator's view: under each answer the intent, confidence and runner-ups, the route and
   * why, timings, the backend, tool arguments, and a control that records the right intent.
   */
  inspect?: boolean;
  /** Questions offered on an empty conversation (default: the catalog's `starters`). */
  starters?: readonly LocalizedText[];
}

type InspectorModule = typeof import('./InspectorPanel');

/**
 * The operator's inspector, loaded the first time `inspect` is on: customers' widgets never
 * download it.
 */
function useInspectorModule(inspect: boolean): InspectorModule | null {
  const [module, setModule] = useState<InspectorModule | null>(null);
  useEffect(() => {
    if (!inspect || module) return;
    let live = true;
    void import('./InspectorPanel').then((loaded) => {
      if (live) setModule(loaded);
    });
    return () => {
      live = false;
    };
  }, [inspect, module]);
  return module;
}

const NEXT_THEME: Record<Theme, Theme> = { auto: 'light', light: 'dark', dark: 'auto' };

const NO_TURNS: readonly ChatTurn[] = [];

/** A session that has not started yet renders like one checking its device. */
const STARTING: ClassifierStatus = { state: 'checking-device' };

/** A speech bubble, for the launcher. */
function ChatIcon() {
  return (
    <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2Zm3 6.5a1.5 1.5 0 1 0 0 .01Zm5 0a1.5 1.5 0 1 0 0 .01Zm5 0a1.5 1.5 0 1 0 0 .01Z"
      />
    </svg>
  );
}

/**
 * The chat widget a shop puts in front of its customers: chat bubbles, an answer for every turn in
 * the customer's language, a typing indicator, quick replies, readable tool cards and
 * confirmations, and (with `inspect`) the operator's view of each routing decision. Inline, or
 * behind a launcher bubble. Rendering only: the conversation's flow is the router session's
 * (src/router/session.ts). One implementation behind the React component, the `<fenliu-chat>`
 * element and the script-tag bundle.
 */
export function ChatWidget(props: ChatWidgetProps) {
  const { model, device = 'auto', catalog = null, onEscalate, onStatus, onEvent } = props;
  const { persistKey, notice, layout = 'inline', corner = 'bottom-right' } = props;
  const launcher = layout === 'launcher';
  const { session, snapshot, requestLoad } = useRouterSession({
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
    // NOTE: behind a closed launcher the model loads when the page is idle, not during its load.
    loadWhen: launcher && props.defaultOpen !== true ? 'idle' : 'mount',
    onEvent: (event) => {
      if (event.type === 'status') {
        onStatus?.(event.detail);
        // The customer reads a short line; the developer gets what failed and how to fix it.
        const status = event.detail;
        if (status.state === 'error' && status.error.code !== 'aborted') {
          console.error(`fenliu: ${status.error.code}: ${status.error.message}`);
        }
      }
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
  const [open, setOpen] = useState(!launcher || props.defaultOpen === true);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [unread, setUnread] = useState(0);
  const input = useRef<HTMLTextAreaElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const root = useRef<HTMLElement>(null);
  const launcherButton = useRef<HTMLButtonElement>(null);
  const focusWhenReady = useRef(false);
  const ids = useId();
  const panelId = `${ids}panel`;
  const settingsId = `${ids}settings`;
  const hintId = `${ids}hint`;
  const t = strings(language);
  const ready = status.state === 'ready';
  const busy = pending !== null || turns.some((turn) => turn.queued);
  // Customers hear only of a problem that stops routing; developers get every one (console, events).
  const blocking = snapshot?.problems.find((problem) => problem.code === BLOCKING_PROBLEM);
  const specOf = (name: string): ToolSpec | undefined =>
    catalog?.tools?.find((spec) => spec.name === name);
  const destination = describeEscalationConfig(props.escalation ?? null);
  const starters = props.starters ?? catalog?.starters ?? [];
  const title = catalog?.name[language] ?? t.assistantName;

  const announcement = useAnnouncer(turns, (turn) => finalAnswerText(turn, t, language, specOf), {
    // Answers that arrive while the launcher is closed wait as an unread count.
    onAnswer: () => {
      if (!open) setUnread((count) => count + 1);
    },
  });
  useVisualViewport(root, launcher && open);
  const inspector = useInspectorModule(props.inspect === true);

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

  // The newest answer stays in view — in the message list only, never the host page's scroll —
  // unless the customer scrolled up to read something earlier.
  const stickToBottom = useRef(true);
  useLayoutEffect(() => {
    const element = list.current;
    if (element && stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [snapshot, open, props.inspect]);

  function focusComposer(): void {
    input.current?.focus();
  }

  function send(typed?: string): void {
    const text = (typed ?? draft).trim();
    if (text === '' || !session) return;
    if (typed === undefined) setDraft('');
    requestLoad();
    session.send(text);
  }

  function onSubmit(event: SyntheticEvent): void {
    event.preventDefault();
    send();
    focusComposer();
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

  function openPanel(): void {
    requestLoad();
    setOpen(true);
    setUnread(0);
  }

  // Focus lands in the composer when the panel opens (not on the first render of an inline
  // widget: the host page decides where focus starts).
  // Minimised, it goes back to the launcher bubble, so keyboard users are not left on nothing.
  const opened = useRef(open);
  useEffect(() => {
    if (open && !opened.current) focusComposer();
    if (!open && opened.current) launcherButton.current?.focus();
    opened.current = open;
  }, [open]);

  const panel = (
    <section
      ref={root}
      className="fenliu"
      data-layout={layout}
      data-theme={theme}
      data-scheme={colorScheme}
      data-view={props.inspect ? 'inspect' : 'customer'}
      lang={language === 'zh' ? 'zh-CN' : 'en'}
      aria-label={title}
      part="widget"
      hidden={!open}
      id={panelId}
    >
      <header className="fenliu-header" part="header">
        <span className="avatar" aria-hidden="true">
          <ChatIcon />
        </span>
        <div className="heading">
          <h2 part="title">{title}</h2>
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
            details={props.inspect === true}
          />
        </div>
        <div className="toolbar">
          <button
            type="button"
            className="icon-button language"
            title={t.languageLabel}
            lang={language === 'zh' ? 'en' : 'zh-CN'}
            onClick={() => {
              session?.setLanguage(language === 'zh' ? 'en' : 'zh');
            }}
          >
            {t.language}
          </button>
          <button
            type="button"
            className="icon-button settings-toggle"
            aria-label={settingsOpen ? t.closeSettings : t.settings}
            aria-expanded={settingsOpen}
            aria-controls={settingsId}
            onClick={() => {
              setSettingsOpen((shown) => !shown);
            }}
          >
            <span aria-hidden="true">⋯</span>
          </button>
          {launcher && (
            <button
              type="button"
              className="icon-button minimise"
              aria-label={t.minimise}
              onClick={() => {
                setOpen(false);
              }}
            >
              <span aria-hidden="true">—</span>
            </button>
          )}
        </div>
      </header>
      {settingsOpen && (
        <div className="settings" id={settingsId} role="group" aria-label={t.settings}>
          <button
            type="button"
            className="secondary theme-toggle"
            aria-label={`${t.themeLabel}: ${t.theme[theme]}`}
            onClick={() => {
              session?.setTheme(NEXT_THEME[theme]);
            }}
          >
            {t.themeLabel}: {t.theme[theme]}
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
          {turns.length > 0 && !pending && (
            <button
              type="button"
              className="secondary clear"
              onClick={() => {
                session?.clear();
                setSettingsOpen(false);
                focusComposer();
              }}
            >
              {t.clear}
            </button>
          )}
        </div>
      )}
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
      {props.inspect && inspector && (
        <inspector.InspectorBar
          status={status}
          catalog={catalog}
          language={language}
          persistKey={persistKey}
        />
      )}
      {/* NOTE: a log is polite by default; each answer is announced once by the region below
          instead, not every streamed piece or queued message. The log wraps the list (a list
          with role=log would no longer be a list to assistive technology). */}
      <div
        className="turns"
        role="log"
        aria-live="off"
        aria-label={t.conversation}
        ref={list}
        part="messages"
        onScroll={(event) => {
          const element = event.currentTarget;
          stickToBottom.current =
            element.scrollHeight - element.scrollTop - element.clientHeight < 48;
        }}
      >
        <ol className="turn-list">
          <li className="greeting">
            <div className="message from-assistant">
              <p className="bubble assistant" part="assistant-bubble">
                {t.greeting}
              </p>
              <p className="privacy-note">{t.privacy}</p>
            </div>
            {turns.length === 0 && starters.length > 0 && (
              <div className="chips starters" role="group" aria-label={t.startersLabel}>
                {starters.map((starter) => (
                  <button
                    key={starter.zh}
                    type="button"
                    className="chip starter"
                    part="chip"
                    onClick={() => {
                      send(starter[language]);
                      focusComposer();
                    }}
                  >
                    {starter[language]}
                  </button>
                ))}
              </div>
            )}
          </li>
          {turns.map((turn) => (
            <TurnView
              key={turn.id}
              turn={turn}
              language={language}
              t={t}
              pending={pending === turn.id}
              canAct={ready && !busy}
              specOf={specOf}
              destination={destination}
              onConfirm={() => {
                void session?.confirm(turn.id);
                focusComposer();
              }}
              onDecline={() => {
                session?.decline(turn.id);
                focusComposer();
              }}
              onChoose={(choice) => {
                requestLoad();
                session?.choose(choice.key, choice.value, choice.label);
                focusComposer();
              }}
              onSuggestion={(text) => {
                send(text);
                focusComposer();
              }}
              onResend={() => {
                session?.resend(turn.id);
                focusComposer();
              }}
              {...(props.inspect &&
                inspector && {
                  inspector: (
                    <inspector.TurnInspection
                      turn={turn}
                      catalog={catalog}
                      status={status}
                      language={language}
                      persistKey={persistKey}
                    />
                  ),
                })}
            />
          ))}
        </ol>
      </div>
      <p className="visually-hidden announcer" aria-live="polite" aria-atomic="true">
        {announcement && <span key={announcement.count}>{announcement.text}</span>}
      </p>
      <form className="composer" onSubmit={onSubmit} part="composer">
        <textarea
          ref={input}
          aria-label={t.messageLabel}
          aria-describedby={hintId}
          placeholder={t.placeholder}
          value={draft}
          rows={1}
          part="input"
          enterKeyHint="send"
          onFocus={requestLoad}
          onChange={(event) => {
            setDraft(event.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <span className="visually-hidden" id={hintId}>
          {t.composerHint}
        </span>
        {pending ? (
          <button
            type="button"
            className="stop"
            onClick={() => {
              session?.cancel();
              focusComposer();
            }}
          >
            {t.stop}
          </button>
        ) : (
          <button
            type="submit"
            className="send"
            part="send-button"
            aria-label={t.sendLabel}
            disabled={draft.trim() === ''}
          >
            {t.send}
          </button>
        )}
      </form>
    </section>
  );

  if (!launcher) return panel;
  return (
    <div
      className="fenliu-launcher"
      data-corner={corner}
      data-open={open}
      data-scheme={colorScheme}
    >
      {panel}
      {!open && (
        <button
          type="button"
          ref={launcherButton}
          className="launcher-button"
          part="launcher"
          aria-label={unread > 0 ? `${t.openChat} · ${t.unread(unread)}` : t.openChat}
          aria-expanded={false}
          aria-controls={panelId}
          onPointerEnter={requestLoad}
          onFocus={requestLoad}
          onClick={openPanel}
        >
          <ChatIcon />
          {unread > 0 && (
            <span className="badge" part="badge" aria-hidden="true">
              {unread > 99 ? '99+' : unread}
            </span>
          )}
        </button>
      )}
    </div>
  );
}
