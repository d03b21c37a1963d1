import { useState, type KeyboardEvent, type SyntheticEvent } from 'react';
import type { Classification } from '../core/classifier';
import { errorMessage } from '../core/errors';
import type { ClassifierStatus } from '../core/lifecycle';
import type { DevicePreference } from '../core/device';
import { strings, type Language, type Strings } from './i18n';
import { useClassifier } from './useClassifier';

interface ChatTurn {
  id: number;
  text: string;
  result?: Classification;
  error?: string;
}

export interface AppProps {
  assetBase: string;
  modelId: string;
  device: DevicePreference;
  initialLanguage: Language;
}

export function App({ assetBase, modelId, device, initialLanguage }: AppProps) {
  const [language, setLanguage] = useState<Language>(initialLanguage);
  const [draft, setDraft] = useState('');
  const [turns, setTurns] = useState<ChatTurn[]>([]);
  const { status, classify } = useClassifier({ assetBase, modelId, device, dtype: 'int8' });
  const t = strings(language);
  const ready = status.state === 'ready';

  async function send(): Promise<void> {
    const text = draft.trim();
    if (!ready || text === '') return;
    const id = Date.now() + Math.random();
    setTurns((previous) => [...previous, { id, text }]);
    setDraft('');
    try {
      const result = await classify(text);
      setTurns((previous) => previous.map((turn) => (turn.id === id ? { ...turn, result } : turn)));
    } catch (error) {
      const message = errorMessage(error);
      setTurns((previous) =>
        previous.map((turn) => (turn.id === id ? { ...turn, error: message } : turn)),
      );
    }
  }

  function onSubmit(event: SyntheticEvent): void {
    event.preventDefault();
    void send();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    // NOTE: Enter sends, Shift+Enter inserts a newline; IME composition must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  }

  return (
    <main className="fenliu" lang={language === 'zh' ? 'zh-CN' : 'en'}>
      <header>
        <h1>{t.title}</h1>
        <button
          type="button"
          className="language"
          onClick={() => {
            setLanguage(language === 'zh' ? 'en' : 'zh');
          }}
        >
          {t.language}
        </button>
        <p className="subtitle">{t.subtitle}</p>
        <StatusLine status={status} t={t} />
      </header>
      <ol className="turns" aria-live="polite">
        {turns.length === 0 && <li className="hint">{t.empty}</li>}
        {turns.map((turn) => (
          <li key={turn.id} className="turn">
            <p className="user-text">{turn.text}</p>
            {turn.result && <IntentChip result={turn.result} t={t} />}
            {turn.error && (
              <p className="turn-error" role="alert">
                {turn.error}
              </p>
            )}
          </li>
        ))}
      </ol>
      <form onSubmit={onSubmit}>
        <textarea
          aria-label={t.placeholder}
          placeholder={t.placeholder}
          value={draft}
          rows={2}
          onChange={(event) => {
            setDraft(event.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" disabled={!ready || draft.trim() === ''}>
          {t.send}
        </button>
      </form>
    </main>
  );
}

function IntentChip({ result, t }: { result: Classification; t: Strings }) {
  return (
    <p
      className="intent"
      data-intent={result.intentId}
      data-latency-ms={result.latencyMs.toFixed(1)}
    >
      <span className="label">{result.label}</span>
      <span className="meta">
        {t.intent}: {result.intentId} · {t.latency} {result.latencyMs.toFixed(0)} ms
      </span>
      {!result.valid && <span className="invalid">{t.invalid}</span>}
    </p>
  );
}

function StatusLine({ status, t }: { status: ClassifierStatus; t: Strings }) {
  switch (status.state) {
    case 'checking-device':
      return <p className="status">{t.checkingDevice}</p>;
    case 'downloading':
      return (
        <div className="status">
          <label>
            {t.downloading} {status.percent.toFixed(0)}% ({formatBytes(status.loaded)} /{' '}
            {formatBytes(status.total)})
            <progress max={100} value={status.percent} />
          </label>
        </div>
      );
    case 'initializing':
      return <p className="status">{t.initializing}</p>;
    case 'warming-up':
      return <p className="status">{t.warmingUp}</p>;
    case 'ready':
      return (
        <p className="status" data-device={status.info.device} data-dtype={status.info.dtype}>
          {t.ready} · <span className="backend">{status.info.device.toUpperCase()}</span> ·{' '}
          {status.info.dtype} · {status.info.modelId} · <small>{status.reason}</small>
        </p>
      );
    case 'error':
      return (
        <p className="status status-error" role="alert">
          {t.error}: {status.error.message}
        </p>
      );
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`;
}
