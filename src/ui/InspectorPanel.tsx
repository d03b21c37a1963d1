import type { Catalog } from '../catalog/types';
import type { ClassifierStatus } from '../engine/lifecycle';
import type { ChatTurn } from '../router/conversation';
import type { Language } from '../shared/language';
import { CorrectionsExport } from './CorrectionsExport';
import { formatBytes } from './i18n';
import { DEVICE_NAMES, inspectorBackend, TurnInspector } from './Inspector';
import { inspectorStrings } from './inspector-strings';
import { deviceReasonText, routeReasonText } from './operator-reasons';
import { adoptInspectorStyles } from './inspector-styles';
import { useCorrections } from './useCorrections';

/**
 * The inspector's header row: where the model runs (backend · precision · size · model, and why
 * that backend), and the corrections made so far with their export as training rows.
 */
export function InspectorBar({
  status,
  catalog,
  language,
  persistKey,
}: {
  status: ClassifierStatus;
  catalog: Catalog | null;
  language: Language;
  persistKey: string | undefined;
}) {
  const t = inspectorStrings(language);
  const corrections = useCorrections(persistKey);
  return (
    <div className="inspector-bar" part="inspector" ref={adoptInspectorStyles}>
      {status.state === 'ready' && (
        <p className="backend-line">
          <span className="backend">{DEVICE_NAMES[status.backend.device]}</span> ·{' '}
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
            {deviceReasonText(status.backend.reasonCode, language)}
          </small>
        </p>
      )}
      <details className="inspector-exports">
        <summary>{t.correctionsSummary(corrections.corrections.length)}</summary>
        <CorrectionsExport
          corrections={corrections.corrections}
          catalog={catalog}
          t={t}
          onClear={corrections.clear}
        />
      </details>
    </div>
  );
}

/** The operator's block under one answer (see `TurnInspector`), wired to the corrections. */
export function TurnInspection({
  turn,
  catalog,
  status,
  language,
  persistKey,
}: {
  turn: ChatTurn;
  catalog: Catalog | null;
  status: ClassifierStatus;
  language: Language;
  persistKey: string | undefined;
}) {
  const corrections = useCorrections(persistKey);
  const correction =
    corrections.corrections.find((candidate) => candidate.turnId === turn.id) ?? null;
  const nameOf = (intentId: string): string =>
    catalog?.intents.find((intent) => intent.id === intentId)?.name[language] ?? intentId;
  return (
    <TurnInspector
      turn={turn}
      catalog={catalog}
      backend={inspectorBackend(status)}
      language={language}
      t={inspectorStrings(language)}
      reasonText={
        turn.result?.reasonCode ? routeReasonText(turn.result.reasonCode, language, nameOf) : null
      }
      correction={correction}
      correctionNotKept={corrections.notKept.has(turn.id)}
      onCorrect={(intentId) => {
        corrections.correct(turn, intentId, catalog, language);
      }}
      onUndo={() => {
        if (correction) corrections.undo(correction);
      }}
    />
  );
}
