import type { ToolCall } from './conversation';
import type { Strings } from './i18n';

function asJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    // NOTE: cyclic or BigInt results cannot be JSON; say so rather than show "[object Object]".
    return `(${typeof value} that cannot be shown as JSON)`;
  }
}

/**
 * One tool call: its name, arguments, status and result. Arguments and results are shown as JSON
 * text (React escapes it), never as HTML, whatever a tool returns.
 */
export function ToolCallCard({ call, t }: { call: ToolCall; t: Strings }) {
  return (
    <section className="tool-call" data-tool={call.name} data-status={call.status}>
      <header>
        <span className="tool-kind">{t.toolCall}</span>{' '}
        <code className="tool-name">{call.name}</code>{' '}
        <span className={`tool-status tool-status-${call.status}`}>
          {t.toolStatus[call.status]}
        </span>
      </header>
      <dl>
        <dt>{t.toolArguments}</dt>
        <dd>
          <pre>{asJson(call.arguments)}</pre>
        </dd>
        {call.status === 'done' && (
          <>
            <dt>{t.toolResult}</dt>
            <dd>
              <pre>{asJson(call.result)}</pre>
            </dd>
          </>
        )}
        {call.status === 'error' && call.error !== undefined && (
          <>
            <dt>{t.error}</dt>
            <dd className="tool-error">{call.error}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
