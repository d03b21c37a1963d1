import type { EscalationDestination } from '../escalation/types';
import type { EscalationState } from '../router/conversation';
import type { Strings } from './i18n';

/**
 * What happened to a turn handed over: the reason and where it went (the endpoint's host, or
 * the shop's staff for a hand-off), then the larger model's reply as it streams in (as text),
 * the hand-off to a person, or — with no handler configured — what happens instead, in plain
 * words.
 *
 * `destination` is `describeEscalationConfig(config)` of the handler the turn went to; it is
 * named only when it is the kind of handler the turn used and the turn was sent (not for a turn
 * nothing was sent for: no handler, a misconfigured one, a message over the size cap).
 */
export function EscalationNotice({
  escalation,
  t,
  destination,
}: {
  escalation: EscalationState;
  t: Strings;
  destination?: EscalationDestination;
}) {
  const { status } = escalation;
  const where = destinationText(escalation, destination, t);
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
      {where !== '' && (
        <p
          className="escalation-destination"
          data-kind={destination?.kind}
          {...(destination?.kind === 'chat-completions' && { 'data-host': destination.host })}
        >
          {where}
        </p>
      )}
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

/** "Handed to api.example.com" / "Handed to the shop's staff", or '' when nothing is to be said. */
function destinationText(
  escalation: EscalationState,
  destination: EscalationDestination | undefined,
  t: Strings,
): string {
  // Refused before sending (no handler, misconfigured, message over the size cap): it went nowhere.
  if (escalation.status === 'unavailable' || escalation.error?.code === 'escalation-unavailable') {
    return '';
  }
  // NOTE: the host recorded when the turn was handed over wins over the current configuration,
  // which may have changed since; turns saved by an earlier release have none.
  if (escalation.handler === 'chat-completions' && escalation.endpointHost) {
    return t.escalationTo(escalation.endpointHost);
  }
  if (!destination || destination.kind !== escalation.handler) return '';
  if (destination.kind === 'handoff') return t.escalationToStaff;
  return destination.host === '' ? '' : t.escalationTo(destination.host);
}
