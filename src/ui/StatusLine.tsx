import type { ClassifierStatus } from '../engine/lifecycle';
import { errorText, formatBytes, type Strings } from './i18n';

/** Words for a state, announced to screen readers once per change (not on every percent). */
export function statusWords(status: ClassifierStatus, t: Strings): string {
  switch (status.state) {
    case 'checking-device':
    case 'downloading':
    case 'initializing':
    case 'warming-up':
      return t.preparing;
    case 'ready':
      return t.online;
    case 'error':
      return status.error.code === 'aborted' ? t.cancelled : t.loadFailed;
  }
}

/**
 * The assistant's state as a customer needs it, under the widget's title: one progress bar over
 * every byte that must arrive while it gets ready (then "preparing" until it is), "online" once
 * ready, or what failed with Retry. The backend, precision and why are the operator's (the
 * inspector); they stay on the element as data attributes for hosts and tests.
 */
export function StatusLine({
  status,
  t,
  onRetry,
  onCancel,
  autoRetry = null,
  details = false,
}: {
  status: ClassifierStatus;
  t: Strings;
  /** The operator's view: a failed load also shows the developer's message (with its fix). */
  details?: boolean;
  onRetry: () => void;
  onCancel: () => void;
  /** An interrupted download's automatic retry: when back online, or in N ms. */
  autoRetry?: 'when-online' | number | null;
}) {
  const loading = status.state !== 'ready' && status.state !== 'error';
  return (
    <div className="status" data-state={status.state} {...readyAttributes(status)}>
      <p className="status-text" role="status" aria-live="polite" aria-atomic="true">
        {status.state === 'ready' && <span className="online-dot" aria-hidden="true" />}
        {statusWords(status, t)}
      </p>
      {status.state === 'downloading' && (
        <div className="download">
          <progress
            max={100}
            value={status.percent}
            aria-label={t.preparing}
            aria-valuetext={`${status.percent.toFixed(0)}%`}
          />
          <span className="download-numbers" data-percent={status.percent.toFixed(2)}>
            {status.percent.toFixed(0)}% · {formatBytes(status.loaded)} /{' '}
            {formatBytes(status.total)}
          </span>
        </div>
      )}
      {status.state === 'error' && (
        <p className="status-error" role="alert" data-code={status.error.code}>
          {errorText(status.error, t)}{' '}
          <span className="error-code visually-hidden">({status.error.code})</span>
        </p>
      )}
      {status.state === 'error' && details && (
        <p className="status-detail" lang="en">
          {status.error.message}
        </p>
      )}
      {status.state === 'error' && autoRetry !== null && (
        <p className="auto-retry" data-auto-retry={autoRetry}>
          {autoRetry === 'when-online'
            ? t.autoRetryOnline
            : t.autoRetryIn((autoRetry / 1000).toFixed(0))}
        </p>
      )}
      {loading && (
        <button type="button" className="secondary cancel-load" onClick={onCancel}>
          {t.cancel}
        </button>
      )}
      {status.state === 'error' && (
        <button type="button" className="retry" onClick={onRetry}>
          {t.retry}
        </button>
      )}
    </div>
  );
}

function readyAttributes(status: ClassifierStatus): Record<string, string> {
  if (status.state !== 'ready') return {};
  return {
    'data-device': status.backend.device,
    'data-dtype': status.backend.dtype,
    'data-fell-back': String(status.backend.fellBack),
    ...(status.backend.modelBytes !== null && {
      'data-model-bytes': String(status.backend.modelBytes),
    }),
  };
}
