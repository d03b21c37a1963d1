import type { ReactNode } from 'react';
import type { ToolSpec } from '../catalog/types';
import type { EscalationDestination } from '../escalation/types';
import type { ChatTurn } from '../router/conversation';
import { missingQuestion } from '../router/tool-flow';
import { EscalationNotice } from './EscalationNotice';
import { errorText, type Language, type Strings } from './i18n';
import { customerErrorText } from './reasons';
import { RouteReplyNote } from './RouteReplyNote';
import { ToolCallCard, type ToolChoice } from './ToolCallCard';
import { Typing } from './Typing';

/** Turns the customer can send again: never answered, or lost to a crashed or hung classifier. */
const RESENDABLE_ERRORS = new Set([
  'classifier-crashed',
  'classifier-unresponsive',
  'classifier-not-ready',
  'internal',
]);

/** One formatter per language: making one costs ~80 µs and ~28 KB, and every turn shows two times. */
const CLOCKS = new Map<Language, Intl.DateTimeFormat>();

/** `14:05` in the customer's language and time zone. */
export function clockTime(epochMs: number, language: Language): string {
  let clock = CLOCKS.get(language);
  if (!clock) {
    clock = new Intl.DateTimeFormat(language === 'zh' ? 'zh-CN' : 'en', {
      hour: '2-digit',
      minute: '2-digit',
    });
    CLOCKS.set(language, clock);
  }
  return clock.format(epochMs);
}

export interface TurnViewProps {
  turn: ChatTurn;
  language: Language;
  t: Strings;
  /** The turn the classifier works on now. */
  pending: boolean;
  /** False while another action runs (buttons wait). */
  canAct: boolean;
  specOf: (name: string) => ToolSpec | undefined;
  /** Where escalated turns go now (the turn's own record wins; see EscalationNotice). */
  destination: EscalationDestination | undefined;
  onConfirm: () => void;
  onDecline: () => void;
  onChoose: (choice: ToolChoice) => void;
  onSuggestion: (text: string) => void;
  onResend: () => void;
  /** The operator's view of the turn (inspect mode), shown under the answer. */
  inspector?: ReactNode;
}

/**
 * One exchange as chat bubbles: the customer's message (with its time) and the assistant's
 * answer — a template reply, a tool's question, confirmation or result, an agent's streamed reply,
 * a hand-off notice, or what went wrong — in the customer's language. The routing decision itself
 * is the operator's (`inspector`).
 */
export function TurnView(props: TurnViewProps) {
  const { turn, language, t, pending } = props;
  const answer = assistantContent(props);
  return (
    <li
      className={turn.queued ? 'turn queued' : 'turn'}
      data-turn-id={turn.id}
      {...(turn.result && { 'data-intent': turn.result.intentId, 'data-route': turn.result.route })}
    >
      <div className="message from-user">
        {turn.answers?.chosen && <span className="chosen-note">{props.t.youChose}</span>}
        <p className="bubble user-text" part="user-bubble">
          <span className="visually-hidden">{t.you}: </span>
          {turn.text}
        </p>
        <time className="time" dateTime={new Date(turn.sentAt).toISOString()}>
          {clockTime(turn.sentAt, language)}
        </time>
      </div>
      <div className="message from-assistant" aria-busy={pending || turn.queued === true}>
        <div className="bubble assistant" part="assistant-bubble">
          <span className="visually-hidden">{t.assistantName}: </span>
          {answer}
        </div>
        {!pending && !turn.queued && turn.updatedAt !== undefined && (
          <time className="time" dateTime={new Date(turn.updatedAt).toISOString()}>
            {clockTime(turn.updatedAt, language)}
          </time>
        )}
      </div>
      {props.inspector}
    </li>
  );
}

function assistantContent(props: TurnViewProps): ReactNode {
  const { turn, language, t, pending, canAct } = props;
  const truncated = turn.result?.truncated && (
    <p className="notice-truncated" data-kept-chars={turn.result.truncated.keptChars}>
      {t.truncated(turn.result.truncated.keptChars, turn.result.truncated.originalChars)}
    </p>
  );
  if (pending) {
    return (
      <p className="classifying">
        <Typing label={t.typing} />
      </p>
    );
  }
  if (turn.queued) return <p className="queued">{t.queued}</p>;
  if (turn.cancelled) return <p className="turn-cancelled">{t.turnCancelled}</p>;
  if (turn.interrupted) {
    return (
      <>
        <p className="turn-interrupted">{t.interrupted}</p>
        <ResendButton {...props} />
      </>
    );
  }
  if (turn.error) {
    return (
      <>
        <p className="turn-error" role="alert" data-code={turn.error.code}>
          {customerErrorText(turn.error.code, language) ?? errorText(turn.error, t)}
        </p>
        {RESENDABLE_ERRORS.has(turn.error.code) && <ResendButton {...props} />}
      </>
    );
  }
  if (turn.escalation) {
    return (
      <>
        {truncated}
        <EscalationNotice
          escalation={turn.escalation}
          language={language}
          t={t}
          destination={props.destination}
        />
      </>
    );
  }
  if (turn.tool) {
    return (
      <>
        {truncated}
        <ToolCallCard
          call={turn.tool}
          spec={props.specOf(turn.tool.name)}
          language={language}
          t={t}
          canAct={canAct}
          onConfirm={props.onConfirm}
          onDecline={props.onDecline}
          onChoose={props.onChoose}
        />
      </>
    );
  }
  if (turn.reply) {
    return (
      <>
        {truncated}
        <RouteReplyNote reply={turn.reply} t={t} onChoose={props.onSuggestion} />
      </>
    );
  }
  if (turn.result) {
    // A host route with no handler: the host heard the event and answers in its own way.
    return <p className="assistant-text host-received">{t.hostReceived}</p>;
  }
  return (
    <p className="classifying">
      <Typing label={t.typing} />
    </p>
  );
}

function ResendButton({ t, onResend }: TurnViewProps) {
  return (
    <button type="button" className="secondary resend" onClick={onResend}>
      {t.resend}
    </button>
  );
}

/**
 * The answer a customer reads for a turn once it is final (announced once by the live region,
 * counted as unread while the launcher is closed), or null while the assistant still works or
 * when the answer is a question with buttons only.
 */
export function finalAnswerText(
  turn: ChatTurn,
  t: Strings,
  language: Language,
  specOf: (name: string) => ToolSpec | undefined,
): string | null {
  if (turn.queued || turn.interrupted || turn.cancelled) return null;
  if (turn.error) return customerErrorText(turn.error.code, language) ?? errorText(turn.error, t);
  if (turn.escalation) {
    if (turn.escalation.status === 'streaming') return null;
    return turn.escalation.text !== ''
      ? turn.escalation.text
      : t.escalation[turn.escalation.reason];
  }
  if (turn.tool) {
    const { status } = turn.tool;
    if (status === 'running') return null;
    if (status === 'done') return turn.tool.reply?.text ?? t.toolContinued;
    if (status === 'needs-confirmation') return t.toolConfirmTitle;
    if (status === 'error') return t.toolFailed;
    if (status === 'declined') return t.toolDeclined;
    if (status === 'needs-input') {
      return missingQuestion(
        specOf(turn.tool.name),
        turn.tool.missing,
        language,
        t.toolAskFallback,
      );
    }
    return null;
  }
  if (turn.reply) {
    if (turn.reply.status === 'streaming') return null;
    return turn.reply.error ? t.routeReplyFailed : turn.reply.text;
  }
  return turn.result ? t.hostReceived : null;
}
