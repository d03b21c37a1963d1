import type { RouteReply } from '../router/conversation';
import type { Strings } from './i18n';
import { Typing } from './Typing';

/**
 * The answer of an intent's route: a catalog template (with its quick replies), an agent's reply
 * as it streams in, a hand-off notice, or the host's answer. Always text, never HTML.
 */
export function RouteReplyNote({
  reply,
  t,
  onChoose,
}: {
  reply: RouteReply;
  t: Strings;
  onChoose: (text: string) => void;
}) {
  return (
    <section
      className="route-reply"
      data-source={reply.source}
      data-status={reply.status}
      aria-busy={reply.status === 'streaming'}
    >
      {reply.text !== '' && <p className="assistant-reply">{reply.text}</p>}
      {reply.status === 'streaming' && reply.text === '' && (
        <p className="route-reply-waiting">
          <Typing label={t.typing} />
        </p>
      )}
      {reply.status === 'interrupted' && (
        <p className="route-reply-interrupted">{t.escalationInterrupted}</p>
      )}
      {reply.error && (
        <p className="route-reply-error" role="alert" data-code={reply.error.code}>
          {t.routeReplyFailed}
        </p>
      )}
      {reply.suggestions && reply.suggestions.length > 0 && (
        <div className="chips suggestions" role="group" aria-label={t.startersLabel}>
          {reply.suggestions.map((suggestion) => (
            <button
              key={suggestion}
              type="button"
              className="chip choice"
              part="chip"
              onClick={() => {
                onChoose(suggestion);
              }}
            >
              {suggestion}
            </button>
          ))}
        </div>
      )}
    </section>
  );
}
