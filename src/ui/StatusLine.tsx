import type { ClassifierStatus } from '../engine/lifecycle';
import { errorText, formatBytes, type Strings } from './i18n';

/** Words for a state, announced to screen readers once per change (not on every percent). */
export function statusWords(status: ClassifierStatus, t: Strings): string {
  switch (status.state) {
    case 'checking-device':
      return t.checkingDevice;
    case 'downloading':
      return t.downloading;
    case 'initializing':
      return t.initializingOn(status.device.toUpperCase());
    case 'warming-up':
      return t.warmingUp;
    case 'ready':
      return `${t.ready} · ${status.backend.device.toUpperCase()}`;
    case 'error':
      return status.error.code === 'aborted' ? t.cancelled : t.error;
  }
}

/**
 * The model-status line: lifecycle state, download progress with bytes and percent, and once
 * ready the backend, precision, model size and why that backend was chosen. Offers Cancel while
 * loading and Retry after an error.
 */
export function StatusLine({
  status,
  t,
  onRetry,
  onCancel,
  autoRetry = null,
}: {
  status: ClassifierStatus;
  t: Strings;
  onRetry: () => void;
  onCancel: () => void;
  /** An interrupted download's automatic retry: when back online, or in N ms. */
  autoRetry?: 'when-online' | number | null;
}) {
  const loading = status.state !== 'ready' && status.state !== 'error';
  return (
    <div className="status" data-state={status.state} {...readyAttributes(status)}>
      <p className="status-text" role="status" aria-live="polite" aria-atomic="true">
        {statusWords(status, t)}
      </p>
      {status.state === 'downloading' && (
        <div className="download">
          <progress
            max={100}
            value={status.percent}
            aria-label={t.downloading}
            aria-valuetext={`${status.percent.toFixed(0)}%`}
          />
          <span className="download-numbers" data-percent={status.percent.toFixed(2)}>
            {status.percent.toFixed(0)}% · {formatBytes(status.loaded)} /{' '}
            {formatBytes(status.total)}
          </span>
        </div>
      )}
      {status.state === 'ready' && (
        <p className="backend-line">
          <span className="backend">{status.backend.device.toUpperCase()}</span> ·{' '}
          <span className="dtype">{status.backend.dtype}</span>
          {status.backend.modelBytes !== null && (
            <>
              {' '}
              · <span className="model-size">{formatBytes(status.backend.modelBytes)}</span>
            </>
          )}{' '}
          · <span className="model-id">{status.info.modelId}</span>
          <br />
          <small className={status.backend.fellBack ? 'reason fell-back' : 'reason'}>
            {status.backend.reason}
          </small>
        </p>
      )}
      {status.state === 'error' && (
        <p className="status-error" role="alert">
          {errorText(status.error, t)} <span className="error-code">({status.error.code})</span>
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
        <button type="button" className="secondary" onClick={onCancel}>
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
