import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseOutcome } from './bad-inputs';
import { ARTIFACTS } from './paths';

/** Where each e2e file writes the cases it tried, for `npm run reliability` (docs/reliability.md). */
export const RELIABILITY_E2E_DIR = join(ARTIFACTS, 'reliability-e2e');

/**
 * Collects the reliability cases one e2e test file tries and writes them to
 * `test-results/reliability-e2e/<name>.json` as `{ cases: CaseOutcome[] }`. One file per test
 * file, rewritten after each case, so an interrupted run still reports what it tried and files
 * never write over each other.
 */
export function reliabilityLog(name: string): (outcome: CaseOutcome) => void {
  const cases: CaseOutcome[] = [];
  return (outcome) => {
    cases.push(outcome);
    mkdirSync(RELIABILITY_E2E_DIR, { recursive: true });
    writeFileSync(
      join(RELIABILITY_E2E_DIR, `${name}.json`),
      `${JSON.stringify({ cases }, null, 2)}\n`,
    );
  };
}
