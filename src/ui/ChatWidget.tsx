import {
  useEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
  type SyntheticEvent,
} from 'react';
import type { Catalog } from '../core/catalog';
import type { Classification } from '../core/classification';
import type { DevicePreference } from '../core/device';
import { AbortError, serializeError } from '../core/errors';
import type { ClassifierStatus } from '../core/lifecycle';
import type { WebGpuFailure } from '../../workers/classifier.worker';
import type { ModelLocation } from '../embed/location';
import type { ChatTurn, FenliuTool } from './conversation';
import { strings, type Language, type Theme } from './i18n';
import { IntentChip } from './IntentChip';
import { loadWidgetState, saveWidgetState } from './persistence';
import { StatusLine } from './StatusLine';
import { ToolCallCard } from './ToolCallCard';
import { useClassifier } from './useClassifier';

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
  /** Tests only: make the WebGPU path fail (see the worker). */
  simulateWebGpuFailure?: WebGpuFailure;
  /** UI language; when omitted, the saved setting or Chinese. */
  language?: Language;
  /** Colour theme; when omitted, the saved setting or `auto`. */
  theme?: Theme;
  /** The host's catalog: intent names and descriptions in the UI language. */
  catalog?: Catalog | null;
  /** The host's tools, bound to intents by the catalog (tool calls arrive with the engine's issue 5). */
  tools?: readonly FenliuTool[];
  /** Called when a message is routed to escalation (a person or a larger model). */
  onEscalate?: (event: EscalationEvent) => void;
  /** Called on every lifecycle change of the classifier. */
  onStatus?: (status: ClassifierStatus) => void;
  /** IndexedDB key: when set, the conversation and settings survive reloads. */
  persistKey?: string;
  /** A line shown under the status (e.g. that offline caching was refused). */
  notice?: ReactNode;
}

let turnCounter = 0;
function newTurnId(): string {
  turnCounter += 1;
  return `${Date.now().toString(36)}-${turnCounter}`;
}

const NEXT_THEME: Record<Theme, Theme> = { auto: 'light', light: 'dark', dark: 'auto' };

/**
 * The chat widget: message list, input (Enter sends, Shift+Enter adds a line), intent chips with
 * confidence, escalation notices, tool-call cards, and the model-status line. One implementation
 * behind the React component, the `<fenliu-chat>` element and the script-tag bundle.
 */
export function ChatWidget(props: ChatWidgetProps) {
  const { model, device = 'auto', dtype, simulateWebGpuFailure, catalog = null } = props;
  const { onEscalate, onStatus, persistKey, notice } = props;
  const [language, setLanguage] = useState<Language>(props.language ?? 'zh');
  const [theme, setTheme] = useState<Theme>(props.theme ?? 'auto');
  const [draft, setDraft] = useState('');
  const [turns, setTurns] = useState<ChatTurn[]>([]);
  const [hydrated, setHydrated] = useState(persistKey === undefined);
  const [pending, setPending] = useState<{ id: string; controller: AbortController } | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const list = useRef<HTMLOListElement>(null);
  const focusWhenReady = useRef(false);
  const classifier = useClassifier({
    modelBase: model.modelBase,
    modelId: model.modelId,
    ortBase: model.ortBase,
    device,
    ...(dtype !== undefined && { dtype }),
    ...(simulateWebGpuFailure !== undefined && { simulateWebGpuFailure }),
  });
  const { status } = classifier;
  const t = strings(language);
  const ready = status.state === 'ready';

  // Attribute or prop changes from the host win over the current setting (adjusted while
  // rendering, as React recommends, rather than in an effect).
  const [hostSettings, setHostSettings] = useState({
    language: props.language,
    theme: props.theme,
  });
  if (hostSettings.language !== props.language || hostSettings.theme !== props.theme) {
    setHostSettings({ language: props.language, theme: props.theme });
    if (props.language && props.language !== hostSettings.language) setLanguage(props.language);
    if (props.theme && props.theme !== hostSettings.theme) setTheme(props.theme);
  }

  // NOTE: hosts often pass a new callback every render; report each status once, on change.
  const onStatusLatest = useRef(onStatus);
  useEffect(() => {
    onStatusLatest.current = onStatus;
  }, [onStatus]);
  useEffect(() => {
    onStatusLatest.current?.(status);
    if (status.state === 'ready' && focusWhenReady.current) {
      focusWhenReady.current = false;
      input.current?.focus();
    }
  }, [status]);

  // Restore a saved conversation once; explicit language/theme props still win.
  const explicitLanguage = props.language !== undefined;
  const explicitTheme = props.theme !== undefined;
  useEffect(() => {
    if (persistKey === undefined) return;
    let live = true;
    void loadWidgetState(persistKey).then((saved) => {
      if (!live) return;
      if (saved) {
        setTurns((current) => [...saved.turns, ...current]);
        if (!explicitLanguage) setLanguage(saved.settings.language);
        if (!explicitTheme) setTheme(saved.settings.theme);
      }
      setHydrated(true);
    });
    return () => {
      live = false;
    };
  }, [persistKey, explicitLanguage, explicitTheme]);

  useEffect(() => {
    if (persistKey === undefined || !hydrated) return;
    void saveWidgetState(persistKey, { turns, settings: { language, theme } });
  }, [persistKey, hydrated, turns, language, theme]);

  useEffect(() => {
    const last = list.current?.lastElementChild;
    if (last && 'scrollIntoView' in last) last.scrollIntoView({ block: 'nearest' });
  }, [turns]);

  function update(id: string, change: Partial<ChatTurn>): void {
    setTurns((previous) =>
      previous.map((turn) => (turn.id === id ? { ...turn, ...change } : turn)),
    );
  }

  async function send(): Promise<void> {
    const text = draft.trim();
    if (!ready || pending || text === '') return;
    const id = newTurnId();
    const controller = new AbortController();
    setTurns((previous) => [...previous, { id, text, sentAt: Date.now() }]);
    setDraft('');
    setPending({ id, controller });
    try {
      const result = await classifier.classify(text, controller.signal);
      update(id, { result });
      if (result.route === 'escalate') onEscalate?.({ text, classification: result });
    } catch (error) {
      if (error instanceof AbortError) {
        update(id, { cancelled: true });
      } else {
        const { code, message } = serializeError(error);
        update(id, { error: { code, message } });
      }
    } finally {
      setPending(null);
    }
  }

  function stop(): void {
    pending?.controller.abort();
  }

  function onSubmit(event: SyntheticEvent): void {
    event.preventDefault();
    if (pending) stop();
    else void send();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    // NOTE: Enter sends, Shift+Enter inserts a newline; IME composition must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    } else if (event.key === 'Escape' && pending) {
      event.preventDefault();
      stop();
    }
  }

  return (
    <section
      className="fenliu"
      data-theme={theme}
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
              setTheme(NEXT_THEME[theme]);
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
              setLanguage(language === 'zh' ? 'en' : 'zh');
            }}
          >
            {t.language}
          </button>
        </div>
        <p className="subtitle">{t.subtitle}</p>
        <StatusLine
          status={status}
          t={t}
          onRetry={() => {
            focusWhenReady.current = true;
            classifier.retry();
          }}
          onCancel={classifier.cancelLoad}
        />
        {notice !== undefined && <p className="notice-line">{notice}</p>}
      </header>
      <ol className="turns" role="log" aria-live="polite" aria-label={t.conversation} ref={list}>
        {turns.length === 0 && <li className="hint">{t.empty}</li>}
        {turns.map((turn) => (
          <li key={turn.id} className="turn" data-turn-id={turn.id}>
            <p className="user-text">
              <span className="visually-hidden">{t.you}: </span>
              {turn.text}
            </p>
            {turn.result && (
              <IntentChip result={turn.result} catalog={catalog} language={language} t={t} />
            )}
            {turn.toolCall && <ToolCallCard call={turn.toolCall} t={t} />}
            {pending?.id === turn.id && <p className="classifying">{t.classifying}</p>}
            {turn.cancelled && <p className="turn-cancelled">{t.turnCancelled}</p>}
            {turn.error && (
              <p className="turn-error" role="alert" data-code={turn.error.code}>
                {turn.error.message}
              </p>
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
        {pending ? (
          <button type="submit" className="stop">
            {t.stop}
          </button>
        ) : (
          <button type="submit" disabled={!ready || draft.trim() === ''}>
            {t.send}
          </button>
        )}
        {turns.length > 0 && !pending && (
          <button
            type="button"
            className="secondary clear"
            onClick={() => {
              setTurns([]);
            }}
          >
            {t.clear}
          </button>
        )}
      </form>
    </section>
  );
}
