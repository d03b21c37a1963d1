/**
 * Renders the bench's results as the Markdown table in docs/accuracy.md. The table sits between
 * two marker comments, so a run replaces it and keeps the prose around it.
 */
import type { Scores } from './score';

/** One system on one dataset, as the JSON report stores it. */
export interface ResultRow {
  dataset: string;
  system: string;
  scores: Scores;
  /** Scores with a confidence threshold fitted on the validation split (CLINC150 only). */
  tuned?: { threshold: number; scores: Scores };
  trainSeconds: number;
  modelBytes: number;
}

export const TABLE_BEGIN =
  '<!-- bench:accuracy table begin (written by npm run bench:accuracy) -->';
export const TABLE_END = '<!-- bench:accuracy table end -->';

function percent(value: number | null): string {
  return value === null || Number.isNaN(value) ? '—' : `${(100 * value).toFixed(1)} %`;
}

function seconds(value: number): string {
  return value < 10 ? `${value.toFixed(1)} s` : `${Math.round(value)} s`;
}

function milliseconds(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

/** Bytes in MB (10^6) with one decimal, or kB under 1 MB. */
export function size(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`;
}

/**
 * The results table: one row per dataset and system; the best accuracy of each dataset in bold.
 *
 * @example
 * renderTable(rows).split('\n')[0]; // '| dataset | system | accuracy | …'
 */
export function renderTable(rows: readonly ResultRow[]): string {
  const header =
    '| dataset | system | accuracy | macro-F1 | OOS recall | OOS recall, tuned threshold ' +
    '(accuracy) | train time | latency p50 | model size |';
  const lines = [header, '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const best = new Map<string, number>();
  for (const row of rows) {
    best.set(row.dataset, Math.max(best.get(row.dataset) ?? 0, row.scores.accuracy));
  }
  for (const row of rows) {
    const accuracy = percent(row.scores.accuracy);
    const tuned = row.tuned
      ? `${percent(row.tuned.scores.oosRecall)} (${percent(row.tuned.scores.accuracy)})`
      : '—';
    lines.push(
      [
        '',
        row.dataset,
        row.system,
        row.scores.accuracy === best.get(row.dataset) ? `**${accuracy}**` : accuracy,
        percent(row.scores.macroF1),
        percent(row.scores.oosRecall),
        tuned,
        seconds(row.trainSeconds),
        milliseconds(row.scores.latencyMs.p50),
        size(row.modelBytes),
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  return lines.join('\n');
}

/**
 * `document` with the text between the table markers replaced by `table` (markers kept), or
 * `document` followed by a new marked table when it has no markers.
 */
export function replaceTable(document: string, table: string): string {
  const block = `${TABLE_BEGIN}\n\n${table}\n\n${TABLE_END}`;
  const begin = document.indexOf(TABLE_BEGIN);
  const end = document.indexOf(TABLE_END);
  if (begin === -1 || end === -1 || end < begin) {
    return `${document.trimEnd()}\n\n${block}\n`;
  }
  return document.slice(0, begin) + block + document.slice(end + TABLE_END.length);
}
