import type { ToolSpec } from '../catalog/types';
import type { ToolCallState } from '../router/conversation';
import { missingQuestion } from '../router/tool-flow';
import type { Language, Strings } from './i18n';
import { customerErrorText } from './reasons';
import {
  argumentRows,
  choiceLabel,
  confirmSentence,
  resultRows,
  toolTitle,
} from './tool-presentation';

/** Rows of `label value` as a definition list; values are text, never HTML. */
function Rows({
  rows,
  className,
}: {
  rows: readonly { key: string; label: string; value: string }[];
  className: string;
}) {
  if (rows.length === 0) return null;
  return (
    <dl className={className}>
      {rows.map(({ key, label, value }) => (
        <div key={key} className="field" data-key={key}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A quick reply: the allowed value in the customer's words, sent as their answer. */
export interface ToolChoice {
  key: string;
  value: string | number;
  label: string;
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
  /** Sends one of a missing argument's allowed values as the customer's answer. */
  onChoose: (choice: ToolChoice) => void;
}

/**
 * A tool call as a customer reads it: the question for what is missing (with the allowed values
 * as quick replies), a confirmation that states exactly what will change, the result as a card
 * with the fields the catalog names for customers, or what went wrong in plain words. The
 * catalog's `presentation` gives the words (src/ui/tool-presentation.ts); keys and raw values are
 * the operator's, shown in the inspector.
 */
export function ToolCallCard(props: ToolCallCardProps) {
  const { call, spec, language, t, canAct } = props;
  const title = spec ? toolTitle(spec, language) : call.name;
  return (
    <section
      className="tool-call"
      data-tool={call.name}
      data-status={call.status}
      aria-label={title}
      part="tool-card"
    >
      <Body {...props} />
      {call.error && (
        <p className="tool-error" role="alert" data-code={call.error.code}>
          {customerErrorText(call.error.code, language) ??
            // NOTE: a tool's own failure message is written for the customer (the tool
            // contract in src/tools/registry.ts): "没有找到订单 …".
            (call.error.code === 'tool-failed' ? call.error.message : t.toolFailed)}
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
      {!canAct && call.status === 'needs-confirmation' && (
        <span className="visually-hidden">{t.toolRunning}</span>
      )}
    </section>
  );
}

function Body({ call, spec, language, t, canAct, ...actions }: ToolCallCardProps) {
  switch (call.status) {
    case 'needs-input': {
      const choices = call.missing.flatMap((key): ToolChoice[] => {
        const schema = spec?.parameters.properties[key];
        const values = schema && 'enum' in schema ? (schema.enum ?? []) : [];
        return values.map((value) => ({
          key,
          value,
          label: spec ? choiceLabel(spec, key, value, language) : String(value),
        }));
      });
      return (
        <div className="tool-ask" data-missing={call.missing.join(' ')}>
          <p className="assistant-text">
            {missingQuestion(spec, call.missing, language, t.toolAskFallback)}
          </p>
          {choices.length > 0 && (
            <div className="chips tool-choices" role="group" aria-label={t.toolChoices}>
              {choices.map((choice) => (
                <button
                  key={`${choice.key}=${String(choice.value)}`}
                  type="button"
                  className="chip"
                  part="chip"
                  data-value={String(choice.value)}
                  disabled={!canAct}
                  onClick={() => {
                    actions.onChoose(choice);
                  }}
                >
                  {choice.label}
                </button>
              ))}
            </div>
          )}
        </div>
      );
    }
    case 'needs-confirmation':
      return (
        <div className="tool-confirm" role="group" aria-labelledby={undefined}>
          <p className="tool-confirm-title">
            <strong>{t.toolConfirmTitle}</strong>
          </p>
          <p className="tool-confirm-sentence">
            {spec ? confirmSentence(spec, call.arguments, language) : call.name}
          </p>
          {spec && (
            <Rows rows={argumentRows(spec, call.arguments, language)} className="tool-arguments" />
          )}
          <div className="tool-actions">
            <button
              type="button"
              className="confirm"
              part="confirm-button"
              disabled={!canAct}
              onClick={actions.onConfirm}
            >
              {t.toolConfirm}
            </button>
            <button
              type="button"
              className="secondary decline"
              disabled={!canAct}
              onClick={actions.onDecline}
            >
              {t.toolDecline}
            </button>
          </div>
        </div>
      );
    case 'running':
      return <p className="tool-running assistant-text">{t.toolRunning}</p>;
    case 'done':
      return (
        <div className="tool-done">
          <p className="tool-title">
            <strong>{spec ? toolTitle(spec, language) : call.name}</strong>
          </p>
          <Rows
            rows={spec ? resultRows(spec, call.result, language) : []}
            className="tool-result"
          />
        </div>
      );
    case 'declined':
      return <p className="tool-declined assistant-text">{t.toolDeclined}</p>;
    case 'continued':
      return <p className="tool-continued assistant-text">{t.toolContinued}</p>;
    case 'interrupted':
      return <p className="tool-interrupted assistant-text">{t.toolInterrupted}</p>;
    case 'error':
      return null;
  }
}
