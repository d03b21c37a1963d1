import {
  useEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
  type SyntheticEvent,
} from 'react';
import type { Catalog, ToolSpec } from '../catalog/types';
import type { Classification } from '../engine/classification';
import type { DevicePreference } from '../engine/device';
import { AbortError, errorMessage, serializeError } from '../shared/errors';
import type { ClassifierStatus } from '../engine/lifecycle';
import type { ModelLocation, WebGpuFailure, WorkerFault } from '../engine/worker-protocol';
import { escalate } from '../escalation/handler';
import type { EscalationConfig, EscalationReason } from '../escalation/types';
import { runToolCall } from '../tools/executor';
import { ToolRegistry, type ToolImplementation } from '../tools/registry';
import type { ChatTurn, EscalationState, ToolCallState } from './conversation';
import { EscalationNotice } from './EscalationNotice';
import { errorText, strings, type Language, type Theme } from './i18n';
import { IntentChip } from './IntentChip';
import { loadDraft, loadWidgetState, saveDraft, saveWidgetState } from './persistence';
import { StatusLine } from './StatusLine';
import { ToolCallCard } from './ToolCallCard';
import {
  escalationHistory,
  turnEscalationReason,
  fillFromFollowUp,
  nextStatus,
  startToolCall,
  turnAwaitingInput,
} from './tool-flow';
import { useClassifier } from './useClassifier';
import { useColorScheme } from './color-scheme';

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
  /** Tests only: make the WebGPU path fail (see `WebGpuFailure`). */
  simulateWebGpuFailure?: WebGpuFailure;
  /** Tests only: make the first worker crash or hang on its first message (see `WorkerFault`). */
  simulateFault?: WorkerFault;
  /**
   * How long one classification may go unanswered before the worker is taken for hung and
   * restarted (default two minutes; see `DEFAULT_CALL_TIMEOUT_MS`).
   */
  callTimeoutMs?: number;
  /** UI language; when omitted, the saved setting or Chinese. */
  language?: Language;
  /** Colour theme; when omitted, the saved setting or `auto`. */
  theme?: Theme;
  /** The host's catalog: intent names and descriptions in the UI language. */
  catalog?: Catalog | null;
  /**
   * The host's tool implementations by name. The catalog declares each tool (schema,
   * confirmation, timeout) and binds it to an intent; calls run here, on the main thread.
   */
  tools?: Readonly<Record<string, ToolImplementation>>;
  /** The answer shown after a tool ran, when model-written replies are off (null: a generic line). */
  toolReply?: (name: string, result: unknown, language: Language) => string | null;
  /** Start with model-written replies after tool calls (the user can switch; saved with settings). */
  modelReplies?: boolean;
  /**
   * Where out-of-scope, low-confidence and escalating-intent turns go: an OpenAI-compatible
   * chat-completions endpoint or a hand-off callback. None: the user is told plainly.
   */
  escalation?: EscalationConfig | null;
  /** Called when a message is routed to escalation (a person or a larger model). */
  onEscalate?: (event: EscalationEvent) => void;
  /** Called on every lifecycle change of the classifier. */
  onStatus?: (status: ClassifierStatus) => void;
  /** IndexedDB key: when set, the conversation and settings survive reloads. */
  persistKey?: string;
  /** A line shown under the status (e.g. that offline caching was refused). */
  notice?: ReactNode;
}

/** A sent message waiting for the model, in sending order. */
interface QueuedMessage {
  id: string;
  text: string;
}

/** Turns the user can send again: never answered, or lost to a crashed or hung classifier. */
const RESENDABLE_ERRORS = new Set([
  'classifier-crashed',
  'classifier-unresponsive',
  'classifier-not-ready',
  'internal',
]);

/**
 * Now, in epoch milliseconds. NOTE: a function of its own because the turn flow runs from the
 * queue's pump, which React's purity lint cannot tell apart from rendering.
 */
function timestamp(): number {
  return Date.now();
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
  const { onEscalate, onStatus, persistKey, notice, tools, toolReply, escalation = null } = props;
  const [modelReplies, setModelReplies] = useState(props.modelReplies ?? false);
  const [language, setLanguage] = useState<Language>(props.language ?? 'zh');
  const [theme, setTheme] = useState<Theme>(props.theme ?? 'auto');
  const colorScheme = useColorScheme(theme);
  const [draft, setDraft] = useState('');
  const [turns, setTurns] = useState<ChatTurn[]>([]);
  const [hydrated, setHydrated] = useState(persistKey === undefined);
  const [pending, setPending] = useState<{ id: string; controller: AbortController } | null>(null);
  const [storageRefused, setStorageRefused] = useState(false);
  // Messages sent while another is answered wait here; `busy` is the synchronous twin of
  // `pending`, so two sends in one event loop turn cannot both start.
  const queue = useRef<QueuedMessage[]>([]);
  const busy = useRef(false);
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
    ...(props.simulateFault !== undefined && { simulateFault: props.simulateFault }),
    ...(props.callTimeoutMs !== undefined && { callTimeoutMs: props.callTimeoutMs }),
    ...(props.browserCache !== undefined && { browserCache: props.browserCache }),
  });
  const { status } = classifier;
  const t = strings(language);
  const ready = status.state === 'ready';
  const toolSetup = useMemo(
    () => createRegistry(catalog?.tools ?? [], tools ?? {}),
    [catalog, tools],
  );
  const specOf = (name: string): ToolSpec | undefined =>
    catalog?.tools?.find((spec) => spec.name === name);
  // Async flows read the latest turns here (state captured by a closure would be stale).
  const latestTurns = useRef(turns);
  useEffect(() => {
    latestTurns.current = turns;
  }, [turns]);

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
    void Promise.all([loadWidgetState(persistKey), loadDraft(persistKey)]).then(
      ([saved, savedDraft]) => {
        if (!live) return;
        if (saved) {
          setTurns((current) => [...saved.turns, ...current]);
          if (!explicitLanguage) setLanguage(saved.settings.language);
          if (!explicitTheme) setTheme(saved.settings.theme);
        }
        // A message typed before the reload comes back, unless the user started a new one.
        setDraft((current) => (current === '' ? savedDraft : current));
        setHydrated(true);
      },
    );
    return () => {
      live = false;
    };
  }, [persistKey, explicitLanguage, explicitTheme]);

  useEffect(() => {
    if (persistKey === undefined || !hydrated) return;
    void saveWidgetState(persistKey, { turns, settings: { language, theme } }).then((refused) => {
      setStorageRefused(refused !== null);
    });
  }, [persistKey, hydrated, turns, language, theme]);

  useEffect(() => {
    if (persistKey === undefined || !hydrated) return;
    void saveDraft(persistKey, draft);
  }, [persistKey, hydrated, draft]);

  useEffect(() => {
    const last = list.current?.lastElementChild;
    if (last && 'scrollIntoView' in last) last.scrollIntoView({ block: 'nearest' });
  }, [turns]);

  function update(id: string, change: Partial<ChatTurn>): void {
    setTurns((previous) =>
      previous.map((turn) => (turn.id === id ? { ...turn, ...change } : turn)),
    );
  }

  function updateTool(id: string, change: Partial<ToolCallState>): void {
    setTurns((previous) =>
      previous.map((turn) =>
        turn.id === id && turn.tool ? { ...turn, tool: { ...turn.tool, ...change } } : turn,
      ),
    );
  }

  function updateEscalation(id: string, change: Partial<EscalationState>): void {
    setTurns((previous) =>
      previous.map((turn) =>
        turn.id === id && turn.escalation
          ? { ...turn, escalation: { ...turn.escalation, ...change } }
          : turn,
      ),
    );
  }

  /**
   * Sends a message: its turn appears at once and it is answered in sending order, so messages
   * typed while the model is busy (or still loading) wait their turn instead of being dropped.
   */
  function send(typed?: string): void {
    const text = (typed ?? draft).trim();
    if (text === '') return;
    const id = newTurnId();
    if (typed === undefined) setDraft('');
    setTurns((previous) => [...previous, { id, text, sentAt: Date.now(), queued: true }]);
    queue.current.push({ id, text });
    // NOTE: started here, in the same event, the turn and its "classifying" state render together.
    pump();
  }

  /** Queues a turn that was never answered (interrupted, or lost to a worker crash) again. */
  function resend(turn: ChatTurn): void {
    setTurns((previous) =>
      previous.map((candidate) =>
        candidate.id === turn.id
          ? { id: turn.id, text: turn.text, sentAt: Date.now(), queued: true }
          : candidate,
      ),
    );
    queue.current.push({ id: turn.id, text: turn.text });
    pump();
  }

  async function answer({ id, text }: QueuedMessage, signal: AbortSignal): Promise<void> {
    // A message that answers the open question for missing arguments continues that call.
    // Only a message sent after the question was on screen can answer it.
    const sentAt = latestTurns.current.find((turn) => turn.id === id)?.sentAt ?? timestamp();
    const waiting = turnAwaitingInput(
      latestTurns.current.filter((turn) => turn.id !== id),
      sentAt,
    );
    const waitingSpec = waiting?.tool && specOf(waiting.tool.name);
    const filled =
      waiting?.tool && waitingSpec ? fillFromFollowUp(waiting.tool, waitingSpec, text) : null;
    if (waiting?.tool && filled) {
      const tool: ToolCallState = {
        name: waiting.tool.name,
        arguments: filled.arguments,
        missing: filled.missing,
        status: nextStatus(waitingSpec, filled.missing),
      };
      if (tool.status === 'needs-input') tool.askedAt = timestamp();
      setTurns((previous) =>
        previous.map((turn) => {
          if (turn.id === waiting.id && turn.tool) {
            return { ...turn, tool: { ...turn.tool, status: 'continued' as const } };
          }
          return turn.id === id
            ? { ...turn, queued: false, answers: { turnId: waiting.id, keys: filled.filled }, tool }
            : turn;
        }),
      );
      if (tool.status === 'running') await runTool(id, tool, false, signal);
      return;
    }
    if (waiting) updateTool(waiting.id, { status: 'declined' });
    update(id, { queued: false });
    try {
      const result = await classifier.classify(text, signal);
      const tool = result.toolCall
        ? startToolCall(result.toolCall, specOf(result.toolCall.name))
        : undefined;
      if (tool?.status === 'needs-input') tool.askedAt = timestamp();
      update(id, { result, ...(tool && { tool }) });
      const reason = turnEscalationReason(result, catalog);
      if (reason) {
        onEscalate?.({ text, classification: result });
        await handOver(id, text, reason, result.confidence, result.intentId, signal);
      } else if (tool?.status === 'running') {
        await runTool(id, tool, false, signal);
      }
    } catch (error) {
      if (error instanceof AbortError) {
        update(id, { cancelled: true });
      } else {
        const { code, message } = serializeError(error);
        update(id, { error: { code, message } });
      }
    }
  }

  /** The message and label the call was made for (a follow-up turn continues an earlier one). */
  function callOrigin(id: string): { text: string; label: string } | null {
    const all = latestTurns.current;
    const turn = all.find((candidate) => candidate.id === id);
    const origin = turn?.answers
      ? all.find((candidate) => candidate.id === turn.answers?.turnId)
      : turn;
    return origin?.result ? { text: origin.text, label: origin.result.label } : null;
  }

  /**
   * Executes a call on the main thread (validation, confirmation, timeout and cancellation are
   * the executor's), then writes the answer: the model's reply or the tool's template. Failures
   * are shown on the card; a result is never made up.
   */
  async function runTool(
    id: string,
    tool: ToolCallState,
    confirmed: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    updateTool(id, { status: 'running' });
    const call = { name: tool.name, arguments: tool.arguments };
    try {
      if (!toolSetup.registry) throw new Error(toolSetup.problem ?? 'no tools are configured');
      const run = await runToolCall(toolSetup.registry, call, { signal, confirmed });
      updateTool(id, { status: 'done', result: run.result, durationMs: run.durationMs });
      updateTool(id, { reply: await replyTo(id, call, run.result, signal) });
    } catch (error) {
      const { code, message } = serializeError(error);
      updateTool(id, {
        status: 'error',
        error: error instanceof AbortError ? { code, message: t.turnCancelled } : { code, message },
      });
    }
  }

  async function replyTo(
    id: string,
    call: { name: string; arguments: ToolCallState['arguments'] },
    result: unknown,
    signal: AbortSignal,
  ): Promise<NonNullable<ToolCallState['reply']>> {
    const template = toolReply?.(call.name, result, language) ?? t.toolDone(call.name);
    const origin = callOrigin(id);
    if (!modelReplies || !origin) return { text: template, source: 'template' };
    try {
      const reply = await classifier.writeReply({ ...origin, call, result }, signal);
      // NOTE: an empty or cut-off reply is worse than the template; the result stays either way.
      return reply.finished && reply.text !== ''
        ? { text: reply.text, source: 'model' }
        : { text: template, source: 'template' };
    } catch (error) {
      if (error instanceof AbortError) throw error;
      return { text: template, source: 'template' };
    }
  }

  /** Hands the turn to the configured handler, streaming its reply into the turn. */
  async function handOver(
    id: string,
    text: string,
    reason: EscalationReason,
    confidence: number,
    intentId: string,
    signal: AbortSignal,
  ): Promise<void> {
    if (!escalation) {
      update(id, { escalation: { reason, status: 'unavailable', text: '' } });
      return;
    }
    update(id, { escalation: { reason, status: 'streaming', handler: escalation.kind, text: '' } });
    const history = escalationHistory(latestTurns.current.filter((turn) => turn.id !== id));
    try {
      const reply = await escalate(
        escalation,
        { reason, message: text, intentId, confidence, language, history },
        {
          signal,
          onDelta: (soFar) => {
            updateEscalation(id, { text: soFar });
          },
        },
      );
      updateEscalation(id, { status: 'done', text: reply.text });
    } catch (error) {
      const { code, message } = serializeError(error);
      updateEscalation(id, {
        status: 'error',
        error: error instanceof AbortError ? { code, message: t.turnCancelled } : { code, message },
      });
    }
  }

  function confirmTool(turn: ChatTurn): void {
    const tool = turn.tool;
    if (!tool || busy.current) return;
    void exclusive(turn.id, (signal) => runTool(turn.id, tool, true, signal));
  }

  function stop(): void {
    pending?.controller.abort();
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
      stop();
    }
  }

  /**
   * Runs `work` as the one action in progress (Stop and Escape abort it), then starts the next
   * queued message.
   */
  async function exclusive(
    id: string,
    work: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    busy.current = true;
    const controller = new AbortController();
    setPending({ id, controller });
    try {
      await work(controller.signal);
    } finally {
      setPending(null);
      busy.current = false;
      pumpLatest.current();
    }
  }

  /** Starts the oldest queued message when the model is ready and nothing else runs. */
  function pump(): void {
    if (busy.current || !ready) return;
    const next = queue.current.shift();
    if (next) void exclusive(next.id, (signal) => answer(next, signal));
  }
  // NOTE: the pump runs from async code that finished under an older render; it must see the
  // newest props and state, so it is called through this ref.
  const pumpLatest = useRef(pump);
  useEffect(() => {
    pumpLatest.current = pump;
    pump();
  });

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
          <label className="model-replies">
            <input
              type="checkbox"
              checked={modelReplies}
              onChange={(event) => {
                setModelReplies(event.target.checked);
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
            classifier.retry();
          }}
          onCancel={classifier.cancelLoad}
          autoRetry={classifier.autoRetry}
        />
        {notice !== undefined && <p className="notice-line">{notice}</p>}
        {classifier.restartedAfter && (
          <p className="notice-line restarted" data-code={classifier.restartedAfter.code}>
            {t.restarted}
          </p>
        )}
        {storageRefused && (
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
                  confirmTool(turn);
                }}
                onDecline={() => {
                  updateTool(turn.id, { status: 'declined' });
                }}
                onChoose={(value) => {
                  send(value);
                }}
              />
            )}
            {turn.escalation && <EscalationNotice escalation={turn.escalation} t={t} />}
            {pending?.id === turn.id && <p className="classifying">{t.classifying}</p>}
            {turn.queued && pending?.id !== turn.id && <p className="queued">{t.queued}</p>}
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
                  resend(turn);
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
          <button type="button" className="stop" onClick={stop}>
            {t.stop}
          </button>
        )}
        {turns.length > 0 && !pending && (
          <button
            type="button"
            className="secondary clear"
            onClick={() => {
              queue.current = [];
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

/**
 * The registry of the catalog's tools with the host's implementations. A mismatch (a declared
 * tool without an implementation) does not stop the widget: classification still works and a
 * call to such a tool fails on its card with the reason.
 */
function createRegistry(
  specs: readonly ToolSpec[],
  implementations: Readonly<Record<string, ToolImplementation>>,
): { registry: ToolRegistry | null; problem: string | null } {
  try {
    return { registry: new ToolRegistry(specs, implementations), problem: null };
  } catch (error) {
    return { registry: null, problem: errorMessage(error) };
  }
}
