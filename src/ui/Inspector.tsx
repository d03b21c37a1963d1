import { useEffect, useId, useRef, useState } from 'react';
import { routeOf } from '../catalog/routes';
import type { Catalog, IntentRoute, ToolArguments } from '../catalog/types';
import type { Classification, IntentScore } from '../engine/classification';
import type { ClassifierStatus } from '../engine/lifecycle';
import type { ChatTurn } from '../router/conversation';
import type { Correction } from '../router/corrections';
import type { Language } from '../shared/language';
import { formatBytes, formatPercent } from './i18n';
import type { InspectorStrings } from './inspector-strings';

/** How many runner-up intents the inspector lists. */
const RUNNER_UPS = 4;

/** Characters of the message shown on each side of an argument's span. */
const SPAN_CONTEXT = 24;

/** Where the classifier runs, as the inspector shows it (from `ClassifierStatus` 'ready'). */
export interface InspectorBackend {
  device: 'cpu' | 'wasm' | 'webgpu';
  dtype: string;
  /** Bytes of the ONNX weights loaded (null when the server sent no sizes). */
  modelBytes: number | null;
  modelId: string;
  /** WebGPU was chosen but failed, and the model runs on WASM instead. */
  fellBack: boolean;
}

/** The backend of a ready classifier; null in every other state. */
export function inspectorBackend(status: ClassifierStatus): InspectorBackend | null {
  if (status.state !== 'ready') return null;
  const { device, dtype, modelBytes, fellBack } = status.backend;
  return { device, dtype, modelBytes, modelId: status.info.modelId, fellBack };
}

/** Where in the message an argument's value came from: UTF-16 offsets, `end` exclusive. */
export interface ArgumentSpan {
  start: number;
  end: number;
}

/** How the inspector names each backend. */
export const DEVICE_NAMES: Record<InspectorBackend['device'], string> = {
  cpu: 'CPU',
  wasm: 'WASM',
  webgpu: 'WebGPU',
};

/** The catalog's name for an intent in the UI language, else the label the model answers with. */
export function intentName(
  score: Pick<IntentScore, 'intentId' | 'label'>,
  catalog: Catalog | null,
  language: Language,
): string {
  const intent = catalog?.intents.find((candidate) => candidate.id === score.intentId);
  return intent ? intent.name[language] : score.label;
}

/**
 * The `lang` of an intent's name: the UI language for a catalog name; none for a model label
 * (its language is the catalog author's, unknown here).
 */
function langOf(
  score: Pick<IntentScore, 'intentId'>,
  catalog: Catalog | null,
  language: Language,
): { lang?: string } {
  const named = catalog?.intents.some((intent) => intent.id === score.intentId) === true;
  return named ? { lang: language === 'zh' ? 'zh-CN' : 'en' } : {};
}

/** A probability as a bar; the number beside it is the caller's. */
export function ConfidenceBar({ probability, label }: { probability: number; label: string }) {
  return (
    <span className="bar" role="img" aria-label={`${label} ${formatPercent(probability)}`}>
      <span className="bar-fill" style={{ width: `${(probability * 100).toFixed(1)}%` }} />
    </span>
  );
}

export interface TurnInspectorProps {
  turn: ChatTurn;
  catalog: Catalog | null;
  /** Where the classifier runs now (`inspectorBackend(status)`); null while it is not ready. */
  backend: InspectorBackend | null;
  language: Language;
  t: InspectorStrings;
  /** Why the route is not `intent`, in the operator's words (null: nothing to say). */
  reasonText: string | null;
  /** Where each tool argument's value was found in the message, by argument key (optional). */
  spans?: Readonly<Record<string, ArgumentSpan>>;
  /** The operator's correction of this turn, if there is one. */
  correction: Correction | null;
  /** Storage refused the correction: it holds for this page only. */
  correctionNotKept?: boolean;
  /** Records that the message should have gone to `intentId`. */
  onCorrect: (intentId: string) => void;
  /** Forgets this turn's correction. */
  onUndo: () => void;
}

/**
 * The operator's view of one turn: the intent (its name, confidence and runner-ups), the route
 * and why, the timings, the backend, the tool call's arguments with the part of the message each
 * came from, and a "wrong intent?" control that records the right intent. Everything is rendered
 * as text. A turn without a classification (an answer to an earlier question, a failed or stopped
 * one) shows only its tool call, if any.
 *
 * @example
 * <TurnInspector turn={turn} catalog={catalog} backend={inspectorBackend(status)} language="zh"
 *   t={inspectorStrings('zh')} reasonText={null} correction={null}
 *   onCorrect={(intentId) => record(turn, intentId)} onUndo={() => undo(turn)} />
 */
export function TurnInspector(props: TurnInspectorProps) {
  const { turn, catalog, language, t } = props;
  const result = turn.result;
  const call = toolCallOf(turn);
  if (!result && !call) return null;
  return (
    <section className="inspector" part="inspector" aria-label={t.region}>
      {result && <IntentSummary result={result} catalog={catalog} language={language} t={t} />}
      <dl className="inspector-facts">
        {result && (
          <div className="inspector-fact inspector-route" data-route={result.route}>
            <dt>{t.route}</dt>
            <dd>{routeText(result, catalog, t)}</dd>
          </div>
        )}
        {result && props.reasonText !== null && (
          <div className="inspector-fact inspector-reason">
            <dt>{t.reason}</dt>
            <dd>{props.reasonText}</dd>
          </div>
        )}
        <div className="inspector-fact inspector-timings">
          <dt>{t.timings}</dt>
          <dd>{timingsText(result, turn.tool?.durationMs, t)}</dd>
        </div>
        <div className="inspector-fact inspector-backend">
          <dt>{t.backend}</dt>
          <dd>{backendText(props.backend, t)}</dd>
        </div>
      </dl>
      {call && <ToolArgumentsView call={call} text={turn.text} spans={props.spans} t={t} />}
      {result && (
        <CorrectionControl
          result={result}
          catalog={catalog}
          language={language}
          t={t}
          correction={props.correction}
          notKept={props.correctionNotKept === true}
          onCorrect={props.onCorrect}
          onUndo={props.onUndo}
        />
      )}
    </section>
  );
}

/**
 * The routed intent, its confidence as a bar and a number, and the runner-ups. The class names
 * and data attributes are what hosts and tests select (`.intent`, `.intent .label`).
 */
function IntentSummary({
  result,
  catalog,
  language,
  t,
}: {
  result: Classification;
  catalog: Catalog | null;
  language: Language;
  t: InspectorStrings;
}) {
  const runnerUps = result.scores
    .filter((score) => score.intentId !== result.top.intentId)
    .slice(0, RUNNER_UPS);
  return (
    <div
      className="intent"
      data-intent={result.intentId}
      data-route={result.route}
      data-confidence={result.confidence.toFixed(4)}
      data-latency-ms={result.latencyMs.toFixed(1)}
    >
      <p className="inspector-intent-line">
        <span className="visually-hidden">{t.intent} </span>
        <span className="label" {...langOf(result, catalog, language)}>
          {intentName(result, catalog, language)}
        </span>
        <ConfidenceBar probability={result.confidence} label={t.confidence} />
        <span className="confidence">
          {t.confidence} {formatPercent(result.confidence)}
        </span>
      </p>
      {runnerUps.length > 0 && (
        <details className="runner-ups">
          <summary>{t.runnerUps}</summary>
          <ol>
            {runnerUps.map((score) => (
              <li key={score.intentId} data-intent={score.intentId}>
                <span className="inspector-runner-up-name">
                  {intentName(score, catalog, language)}
                </span>
                <ConfidenceBar probability={score.probability} label={t.confidence} />
                <span className="confidence">{formatPercent(score.probability)}</span>
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}

/** `to the intent → tool call lookup_order`: the decision, and for an intent, where it went. */
function routeText(result: Classification, catalog: Catalog | null, t: InspectorStrings): string {
  const decision = t.routeName[result.route];
  if (result.route !== 'intent' || !catalog) return decision;
  const route = routeOf(catalog, result.intentId);
  const target = routeTarget(route, catalog, result.intentId);
  const kind = t.routeKind[route.kind];
  return `${decision} → ${target === null ? kind : `${kind} ${target}`}`;
}

/** The handler, queue or tool a route names, or null. */
function routeTarget(route: IntentRoute, catalog: Catalog, intentId: string): string | null {
  switch (route.kind) {
    case 'tool':
      return catalog.intents.find((intent) => intent.id === intentId)?.tool ?? null;
    case 'agent':
      return route.handler;
    case 'human':
      return `${route.handler} · ${route.queue}`;
    case 'host':
      return route.handler ?? null;
    case 'reply':
      return null;
  }
}

function timingsText(
  result: Classification | undefined,
  toolMs: number | undefined,
  t: InspectorStrings,
): string {
  const parts: string[] = [];
  if (result) {
    parts.push(
      t.classification(Math.round(result.latencyMs), result.computedTokens, result.decodeSteps),
    );
    if (result.toolCall) parts.push(t.argumentDecoding(Math.round(result.toolCall.latencyMs)));
  }
  if (toolMs !== undefined) parts.push(t.toolRan(Math.round(toolMs)));
  return parts.join(' · ');
}

function backendText(backend: InspectorBackend | null, t: InspectorStrings): string {
  if (!backend) return t.backendUnknown;
  const parts = [DEVICE_NAMES[backend.device], backend.dtype, backend.modelId];
  if (backend.modelBytes !== null) parts.push(formatBytes(backend.modelBytes));
  const line = parts.join(' · ');
  return backend.fellBack ? `${line}${t.fellBack}` : line;
}

/** The call the turn made (as it ran) or, failing that, the one the model proposed. */
interface InspectedCall {
  name: string;
  arguments: ToolArguments;
  missing: readonly string[];
  problems: readonly { key: string; reason: string }[];
}

function toolCallOf(turn: ChatTurn): InspectedCall | null {
  const proposed = turn.result?.toolCall;
  const made = turn.tool;
  if (made) {
    return {
      name: made.name,
      arguments: made.arguments,
      missing: made.missing,
      problems: proposed?.name === made.name ? proposed.problems : [],
    };
  }
  return proposed ?? null;
}

/** The span's place in `text` with some context, or null when it does not fit the text. */
function spanParts(
  text: string,
  span: ArgumentSpan | undefined,
): { before: string; marked: string; after: string } | null {
  if (!span) return null;
  const { start, end } = span;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start) return null;
  if (end > text.length) return null;
  const from = Math.max(0, start - SPAN_CONTEXT);
  const to = Math.min(text.length, end + SPAN_CONTEXT);
  return {
    before: `${from > 0 ? '…' : ''}${text.slice(from, start)}`,
    marked: text.slice(start, end),
    after: `${text.slice(end, to)}${to < text.length ? '…' : ''}`,
  };
}

function ToolArgumentsView({
  call,
  text,
  spans,
  t,
}: {
  call: InspectedCall;
  text: string;
  spans: Readonly<Record<string, ArgumentSpan>> | undefined;
  t: InspectorStrings;
}) {
  const entries = Object.entries(call.arguments);
  return (
    <div className="inspector-tool" data-tool={call.name}>
      <p className="inspector-tool-title">
        {t.toolArguments} · <code>{call.name}</code>
      </p>
      {entries.length === 0 ? (
        <p className="inspector-muted">{t.noArguments}</p>
      ) : (
        <dl className="inspector-arguments">
          {entries.map(([key, value]) => {
            const parts = spanParts(text, spans?.[key]);
            return (
              <div key={key} className="inspector-argument" data-key={key}>
                <dt>
                  <code>{key}</code>
                </dt>
                <dd>
                  <span className="inspector-value">{String(value)}</span>
                  {parts && (
                    <span className="inspector-span">
                      <span className="visually-hidden">{t.fromMessage} </span>
                      {parts.before}
                      <mark>{parts.marked}</mark>
                      {parts.after}
                    </span>
                  )}
                </dd>
              </div>
            );
          })}
        </dl>
      )}
      {call.missing.length > 0 && (
        <p className="inspector-missing">{t.missingArguments(call.missing.join(', '))}</p>
      )}
      {call.problems.length > 0 && (
        <ul className="inspector-problems" aria-label={t.refusedArguments}>
          {call.problems.map(({ key, reason }) => (
            <li key={key}>
              <code>{key}</code> {reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The intents an operator may choose: the catalog's, else every intent the model scored. */
function intentChoices(
  result: Classification,
  catalog: Catalog | null,
  language: Language,
): { id: string; name: string }[] {
  if (catalog) {
    return catalog.intents.map((intent) => ({ id: intent.id, name: intent.name[language] }));
  }
  return result.scores.map((score) => ({ id: score.intentId, name: score.label }));
}

/**
 * "Wrong intent?": a button that opens a choice of the intents (the likeliest other one
 * preselected) and a save button; once saved, "corrected to X" and an undo.
 */
function CorrectionControl({
  result,
  catalog,
  language,
  t,
  correction,
  notKept,
  onCorrect,
  onUndo,
}: {
  result: Classification;
  catalog: Catalog | null;
  language: Language;
  t: InspectorStrings;
  correction: Correction | null;
  notKept: boolean;
  onCorrect: (intentId: string) => void;
  onUndo: () => void;
}) {
  const selectId = useId();
  const choices = intentChoices(result, catalog, language);
  const offered = new Set(choices.map((choice) => choice.id));
  const likeliest =
    result.scores.find((score) => score.intentId !== result.intentId && offered.has(score.intentId))
      ?.intentId ??
    choices.find((choice) => choice.id !== result.intentId)?.id ??
    '';
  const [open, setOpen] = useState(false);
  const [choice, setChoice] = useState(likeliest);
  const undoButton = useRef<HTMLButtonElement>(null);
  const wrongButton = useRef<HTMLButtonElement>(null);
  // NOTE: the control the operator used disappears (save, undo); focus moves to the one that
  // replaced it, once the new state has rendered, instead of falling back to the document body.
  const moveFocus = useRef<'undo' | 'wrong' | null>(null);
  useEffect(() => {
    if (moveFocus.current === 'undo' && undoButton.current) {
      moveFocus.current = null;
      undoButton.current.focus();
    } else if (moveFocus.current !== null) {
      // Until the saved correction comes back (or if it never does), the button that opens
      // the choice again holds the focus.
      if (moveFocus.current === 'wrong') moveFocus.current = null;
      wrongButton.current?.focus();
    }
  }, [correction, open]);

  if (correction) {
    const name = intentName(
      { intentId: correction.corrected.intentId, label: correction.corrected.label },
      catalog,
      language,
    );
    return (
      <div className="inspector-correction" data-corrected-intent={correction.corrected.intentId}>
        <p className="inspector-corrected" role="status">
          {t.correctedTo(name)}
        </p>
        <button
          ref={undoButton}
          type="button"
          className="secondary inspector-undo"
          onClick={() => {
            moveFocus.current = 'wrong';
            onUndo();
          }}
        >
          {t.undo}
        </button>
        {notKept && (
          <p className="inspector-not-kept" role="alert">
            {t.notKept}
          </p>
        )}
      </div>
    );
  }
  if (!open) {
    return (
      <div className="inspector-correction">
        <button
          ref={wrongButton}
          type="button"
          className="secondary inspector-wrong-intent"
          aria-expanded={false}
          onClick={() => {
            setChoice(likeliest);
            setOpen(true);
          }}
        >
          {t.wrongIntent}
        </button>
      </div>
    );
  }
  return (
    <form
      className="inspector-correction inspector-correct-form"
      aria-label={t.wrongIntent}
      onSubmit={(event) => {
        event.preventDefault();
        if (choice === '' || choice === result.intentId) return;
        moveFocus.current = 'undo';
        setOpen(false);
        onCorrect(choice);
      }}
    >
      <label htmlFor={selectId}>{t.correctIntent}</label>
      <select
        id={selectId}
        className="inspector-intent-select"
        value={choice}
        // NOTE: the select replaces the button the operator just pressed, so it takes the focus.
        autoFocus
        onChange={(event) => {
          setChoice(event.target.value);
        }}
      >
        {choices.map(({ id, name }) => (
          <option key={id} value={id} disabled={id === result.intentId}>
            {name}
          </option>
        ))}
      </select>
      <div className="inspector-actions">
        <button
          type="submit"
          className="inspector-save"
          disabled={choice === '' || choice === result.intentId}
        >
          {t.saveCorrection}
        </button>
        <button
          type="button"
          className="secondary inspector-cancel"
          onClick={() => {
            moveFocus.current = 'wrong';
            setOpen(false);
          }}
        >
          {t.cancel}
        </button>
      </div>
    </form>
  );
}
