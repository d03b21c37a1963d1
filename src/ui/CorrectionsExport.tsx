import { useEffect, useRef, useState } from 'react';
import type { Catalog } from '../catalog/types';
import { correctionsToJsonl, correctionsToShareGpt, type Correction } from '../router/corrections';
import type { InspectorStrings } from './inspector-strings';

/** How long a download's object URL is kept before it is revoked. */
// NOTE: revoking at once can cancel a download some browsers have not started reading yet
// (FileSaver.js waits 40 s for the same reason); the Blob is small.
const REVOKE_AFTER_MS = 40_000;

/** The file names of an export: `<stem>-2025-03-01.jsonl` (local date). */
export function exportFileName(stem: string, format: 'jsonl' | 'sharegpt', at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return `${stem}-${date}${format === 'jsonl' ? '.jsonl' : '.sharegpt.json'}`;
}

/**
 * Saves `text` as a file: a Blob behind an object URL, clicked through an `<a download>` put in
 * `parent` for the click (some browsers ignore a click on a detached link).
 */
function download(parent: HTMLElement, text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  parent.append(link);
  link.click();
  link.remove();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, REVOKE_AFTER_MS);
}

export interface CorrectionsExportProps {
  corrections: readonly Correction[];
  /** Labels come from the catalog (see `correctionRows`); null: the labels recorded. */
  catalog: Catalog | null;
  t: InspectorStrings;
  /** Forgets every correction (after the operator confirmed). */
  onClear: () => void;
  /** The start of the exported files' names (default `fenliu-corrections`). */
  fileStem?: string;
}

/**
 * The operator's corrections as training data: how many there are, a download of them as
 * `{"text","label"}` JSON Lines or as ShareGPT conversations (both read by
 * `scripts/prepare-training-data.ts`), and a clear button that asks first.
 */
export function CorrectionsExport({
  corrections,
  catalog,
  t,
  onClear,
  fileStem = 'fenliu-corrections',
}: CorrectionsExportProps) {
  const container = useRef<HTMLDivElement>(null);
  const clearButton = useRef<HTMLButtonElement>(null);
  const [confirming, setConfirming] = useState(false);
  // NOTE: the confirmation's buttons disappear when it closes; focus goes back to the clear
  // button after "keep", and to the group (which says how many are left) after a clear, since
  // the clear button is disabled once the list is empty.
  const refocus = useRef<'clear-button' | 'group' | null>(null);
  useEffect(() => {
    if (confirming || refocus.current === null) return;
    const target = refocus.current === 'group' ? container.current : clearButton.current;
    refocus.current = null;
    target?.focus();
  }, [confirming]);
  const count = corrections.length;
  const save = (format: 'jsonl' | 'sharegpt') => {
    if (!container.current) return;
    const text =
      format === 'jsonl'
        ? correctionsToJsonl(corrections, catalog)
        : correctionsToShareGpt(corrections, catalog);
    const type = format === 'jsonl' ? 'application/jsonl' : 'application/json';
    download(container.current, text, exportFileName(fileStem, format, new Date()), type);
  };
  return (
    <div
      className="inspector-export"
      role="group"
      aria-label={t.trainingData}
      ref={container}
      tabIndex={-1}
    >
      <p className="inspector-export-count" data-count={count} aria-live="polite">
        {t.corrections(count)}
      </p>
      <div className="inspector-actions">
        <button
          type="button"
          className="secondary inspector-export-jsonl"
          disabled={count === 0}
          onClick={() => {
            save('jsonl');
          }}
        >
          {t.exportJsonl}
        </button>
        <button
          type="button"
          className="secondary inspector-export-sharegpt"
          disabled={count === 0}
          onClick={() => {
            save('sharegpt');
          }}
        >
          {t.exportShareGpt}
        </button>
        {!confirming && (
          <button
            ref={clearButton}
            type="button"
            className="secondary inspector-clear"
            disabled={count === 0}
            onClick={() => {
              setConfirming(true);
            }}
          >
            {t.clearCorrections}
          </button>
        )}
      </div>
      {confirming && (
        <div className="inspector-confirm-clear" role="group" aria-label={t.clearCorrections}>
          <p>{t.confirmClear(count)}</p>
          <div className="inspector-actions">
            <button
              type="button"
              className="inspector-danger inspector-clear-yes"
              onClick={() => {
                refocus.current = 'group';
                setConfirming(false);
                onClear();
              }}
            >
              {t.confirmClearYes}
            </button>
            <button
              type="button"
              className="secondary inspector-clear-no"
              // NOTE: the safe answer takes the focus, so Enter does not clear by accident.
              autoFocus
              onClick={() => {
                refocus.current = 'clear-button';
                setConfirming(false);
              }}
            >
              {t.keepCorrections}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
