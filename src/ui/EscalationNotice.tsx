import type { EscalationState } from '../router/conversation';
import type { Strings } from './i18n';

/**
 * What happened to a turn handed over: the reason, then the larger model's reply as it streams
 * in (as text), the hand-off to a person, or — with no handler configured — what happens
 * instead, in plain words.
 */
export function EscalationNotice({ escalation, t }: { escalation: EscalationState; t: Strings }) {
  const { status } = escalation;
  return (
    <section
      className="escalation"
      data-reason={escalation.reason}
      data-status={status}
      aria-busy={status === 'streaming'}
    >
      <p className="escalation-reason">
        <strong>{t.escalation[escalation.reason]}</strong>
      </p>
      {status === 'unavailable' && (
        <p className="escalation-unavailable">{t.escalationUnavailable}</p>
      )}
      {escalation.text !== '' && (
        <p className="assistant-reply escalation-reply">{escalation.text}</p>
      )}
      {status === 'streaming' && escalation.text === '' && (
        <p className="escalation-waiting">{t.escalationWaiting}</p>
      )}
      {status === 'done' && escalation.handler === 'handoff' && escalation.text === '' && (
        <p className="escalation-handoff">{t.escalationHandedOff}</p>
      )}
      {status === 'interrupted' && (
        <p className="escalation-interrupted">{t.escalationInterrupted}</p>
      )}
      {escalation.error && (
        <p className="escalation-error" role="alert" data-code={escalation.error.code}>
          {t.escalationFailed}: {escalation.error.message}
        </p>
      )}
    </section>
  );
}
