import { useId } from 'react';
import type { Catalog } from '../catalog/types';
import type { Classification, IntentScore } from '../engine/classification';
import { formatPercent, type Language, type Strings } from './i18n';

/** How many runner-up intents the "other intents" list shows. */
const RUNNER_UPS = 4;

/** The catalog's name for an intent in the UI language, else the label the model answers with. */
export function intentName(
  score: Pick<IntentScore, 'intentId' | 'label'>,
  catalog: Catalog | null,
  language: Language,
): string {
  const intent = catalog?.intents.find((candidate) => candidate.id === score.intentId);
  return intent ? intent.name[language] : score.label;
}

function ConfidenceBar({ probability, label }: { probability: number; label: string }) {
  return (
    <span className="bar" role="img" aria-label={`${label} ${formatPercent(probability)}`}>
      <span className="bar-fill" style={{ width: `${(probability * 100).toFixed(1)}%` }} />
    </span>
  );
}

/**
 * The intent the engine routed a message to, its confidence as a bar and a number, the runner-up
 * intents on demand, and a notice when the message is escalated or out of scope (with the
 * reason the engine gave).
 */
export function IntentChip({
  result,
  catalog,
  language,
  t,
}: {
  result: Classification;
  catalog: Catalog | null;
  language: Language;
  t: Strings;
}) {
  const detailsId = useId();
  const runnerUps = result.scores.filter((score) => score.intentId !== result.top.intentId);
  return (
    <div
      className="intent"
      data-intent={result.intentId}
      data-route={result.route}
      data-confidence={result.confidence.toFixed(4)}
      data-latency-ms={result.latencyMs.toFixed(1)}
    >
      <p className="intent-line">
        <span className="label" lang={language === 'zh' ? 'zh-CN' : 'en'}>
          {intentName(result, catalog, language)}
        </span>
        <ConfidenceBar probability={result.confidence} label={t.confidence} />
        <span className="confidence">
          {t.confidence} {formatPercent(result.confidence)}
        </span>
        <span className="meta">
          {t.latency} {result.latencyMs.toFixed(0)} ms
        </span>
      </p>
      {result.truncated && (
        <p
          className="notice notice-truncated"
          role="note"
          data-kept-chars={result.truncated.keptChars}
        >
          {t.truncated(result.truncated.keptChars, result.truncated.originalChars)}
        </p>
      )}
      {result.route !== 'intent' && (
        <p className={`notice notice-${result.route}`} role="note">
          <strong>{result.route === 'escalate' ? t.escalate : t.outOfScope}</strong>
          {result.reason !== null && <span className="reason">{result.reason}</span>}
        </p>
      )}
      {runnerUps.length > 0 && (
        <details className="runner-ups">
          <summary aria-controls={detailsId}>{t.runnerUps}</summary>
          <ol id={detailsId}>
            {runnerUps.slice(0, RUNNER_UPS).map((score) => (
              <li key={score.intentId} data-intent={score.intentId}>
                <span className="runner-up-name">{intentName(score, catalog, language)}</span>
                <ConfidenceBar probability={score.probability} label={t.confidence} />
                <span className="confidence">{formatPercent(score.probability)}</span>
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  );
}
