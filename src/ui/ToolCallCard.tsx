import type { ToolSpec } from '../catalog/types';
import { isRecord } from '../shared/validation';
import type { ToolCallState } from '../router/conversation';
import type { Language, Strings } from './i18n';
import { missingQuestion } from '../router/tool-flow';

function asText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    // NOTE: cyclic or BigInt values cannot be JSON; say so rather than show "[object Object]".
    return `(${typeof value} that cannot be shown as JSON)`;
  }
}

/** A flat object as `key: value` rows; anything else as one JSON line. Text only, never HTML. */
function Fields({ value, className }: { value: unknown; className: string }) {
  if (!isRecord(value)) {
    return <pre className={className}>{asText(value)}</pre>;
  }
  return (
    <dl className={className}>
      {Object.entries(value).map(([key, item]) => (
        <div key={key} className="field" data-key={key}>
          <dt>{key}</dt>
          <dd>{asText(item)}</dd>
        </div>
      ))}
    </dl>
  );
}

export interface ToolCallCardProps {
  call: ToolCallState;
  spec: ToolSpec | undefined;
  language: Language;
  t: Strings;
  /** False while another action runs: the buttons wait. */
  canAct: boolean;
  onConfirm: () => void;
  onDecline: () => void;
  /** Sends one of a missing argument's allowed values as the user's answer. */
  onChoose: (value: string) => void;
}

/**
 * One tool call: what the tool is, the arguments the model read from the message, its status,
 * the question for missing arguments (with the allowed values as buttons), the confirmation of
 * a change, and the result or error with the reply. Everything is rendered as text.
 */
export function ToolCallCard(props: ToolCallCardProps) {
  const { call, spec, language, t, canAct } = props;
  const choices =
    call.status === 'needs-input'
      ? call.missing.flatMap((key) => {
          const schema = spec?.parameters.properties[key];
          return schema?.type === 'string' && schema.enum ? schema.enum : [];
        })
      : [];
  return (
    <section
      className="tool-call"
      data-tool={call.name}
      data-status={call.status}
      aria-label={`${t.toolCall} ${call.name}`}
    >
      <header>
        <span className="tool-kind">{t.toolCall}</span>{' '}
        <code className="tool-name">{call.name}</code>{' '}
        <span className={`tool-status tool-status-${call.status}`}>
          {t.toolStatus[call.status]}
        </span>
        {spec && <p className="tool-description">{spec.description[language]}</p>}
      </header>
      <h3 className="visually-hidden">{t.toolArguments}</h3>
      <Fields value={call.arguments} className="tool-arguments" />
      {call.status === 'needs-input' && (
        <div className="tool-ask" role="note">
          <p>
            {missingQuestion(spec, call.missing, language, t.toolAskFallback)}{' '}
            <span className="tool-missing" data-missing={call.missing.join(' ')}>
              ({t.toolMissing}: {call.missing.join(', ')})
            </span>
          </p>
          {choices.length > 0 && (
            <p className="tool-choices" aria-label={t.toolChoices}>
              {choices.map((choice) => (
                <button
                  key={choice}
                  type="button"
                  className="secondary"
                  disabled={!canAct}
                  onClick={() => {
                    props.onChoose(choice);
                  }}
                >
                  {choice}
                </button>
              ))}
            </p>
          )}
        </div>
      )}
      {call.status === 'needs-confirmation' && (
        <div className="tool-confirm" role="group" aria-label={t.toolConfirmQuestion}>
          <p>{t.toolConfirmQuestion}</p>
          <button type="button" className="confirm" disabled={!canAct} onClick={props.onConfirm}>
            {t.toolConfirm}
          </button>{' '}
          <button
            type="button"
            className="secondary decline"
            disabled={!canAct}
            onClick={props.onDecline}
          >
            {t.toolDecline}
          </button>
        </div>
      )}
      {call.status === 'done' && (
        <>
          <h3 className="visually-hidden">{t.toolResult}</h3>
          <Fields value={call.result} className="tool-result" />
        </>
      )}
      {call.error && (
        <p className="tool-error" role="alert" data-code={call.error.code}>
          {call.error.message}
        </p>
      )}
      {call.reply && (
        <p className="assistant-reply" data-source={call.reply.source}>
          {call.reply.text}
          {call.reply.source === 'model' && (
            <span className="reply-source"> · {t.replyByModel}</span>
          )}
        </p>
      )}
    </section>
  );
}
