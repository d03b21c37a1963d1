import type { EscalationDestination } from '../escalation/types';
import type { EscalationState } from '../router/conversation';
import type { Language, Strings } from './i18n';
import { escalationText } from './reasons';
import { Typing } from './Typing';

/**
 * What happened to a turn handed over, as the customer reads it: why it left the assistant (out
 * of its scope, not sure, asked for a person), then the truth about where it went — to the shop's
 * staff, to a larger model at a named host (the message left the device), or, with nothing
 * configured, nowhere — and the larger model's reply as it streams in (as text).
 *
 * `destination` is where escalated turns go now (`describeEscalationConfig`); the host recorded
 * on the turn when it was handed over wins (the configuration may have changed since).
 */
export function EscalationNotice({
  escalation,
  language,
  t,
  destination,
}: {
  escalation: EscalationState;
  language: Language;
  t: Strings;
  destination?: EscalationDestination | undefined;
}) {
  const { status } = escalation;
  const endpointHost =
    escalation.endpointHost ??
    (escalation.handler === 'chat-completions' && destination?.kind === 'chat-completions'
      ? destination.host
      : undefined);
  const truth = escalationText(
    { ...escalation, ...(endpointHost !== undefined && { endpointHost }) },
    language,
  );
  return (
    <section
      className="escalation"
      data-reason={escalation.reason}
      data-status={status}
      aria-busy={status === 'streaming'}
    >
      <p className="escalation-reason">{t.escalation[escalation.reason]}</p>
      {status === 'unavailable' && <p className="escalation-unavailable">{truth}</p>}
      {status === 'error' && (
        <p className="escalation-error" role="alert" data-code={escalation.error?.code}>
          {truth}
        </p>
      )}
      {status !== 'unavailable' && status !== 'error' && (
        <p
          className="escalation-destination"
          data-kind={escalation.handler}
          {...(endpointHost !== undefined && { 'data-host': endpointHost })}
        >
          {truth}
        </p>
      )}
      {escalation.text !== '' && (
        <p className="assistant-reply escalation-reply">{escalation.text}</p>
      )}
      {status === 'streaming' && escalation.text === '' && (
        <p className="escalation-waiting">
          <Typing label={t.typing} />
        </p>
      )}
    </section>
  );
}
