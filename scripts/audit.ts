/**
 * `npm audit` of the production dependencies (what the widget ships and the CLI runs), failing on
 * high or critical advisories:
 *
 *   npm run audit:prod     # → bench/reliability/audit.json; exit 0 clean, 1 vulnerable, 2 not run
 *
 * The result is written whatever it is, so the reliability report can say "clean", list the
 * advisories, or say that the audit could not run (e.g. a registry mirror without npm's advisory
 * endpoint answers 405): a run that could not reach the advisories is never reported as clean.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './lib/paths';

export const AUDIT_JSON = join(REPO_ROOT, 'bench', 'reliability', 'audit.json');

const ARGS = ['audit', '--omit=dev', '--audit-level=high', '--json'];

/** What bench/reliability/audit.json holds. */
export interface AuditReport {
  date: string;
  command: string;
  status: 'clean' | 'vulnerable' | 'unavailable';
  /** Advisory counts by severity (absent when the audit did not run). */
  counts?: Record<string, number>;
  /** High and critical findings: package, severity, advisory titles. */
  findings: { name: string; severity: string; via: string[] }[];
  /** Why the audit did not run, when it did not. */
  reason?: string;
}

interface NpmAuditJson {
  message?: string;
  error?: { summary?: string };
  metadata?: { vulnerabilities?: Record<string, number> };
  vulnerabilities?: Record<string, { severity: string; via: (string | { title?: string })[] }>;
}

function audit(): AuditReport {
  const result = spawnSync('npm', ARGS, { cwd: REPO_ROOT, encoding: 'utf8' });
  const base = { date: new Date().toISOString(), command: `npm ${ARGS.join(' ')}`, findings: [] };
  let json: NpmAuditJson;
  try {
    json = JSON.parse(result.stdout) as NpmAuditJson;
  } catch {
    const reason = result.stderr.split('\n').find((line) => line.includes('error')) ?? '';
    return { ...base, status: 'unavailable', reason: `no JSON from npm audit ${reason}`.trim() };
  }
  const counts = json.metadata?.vulnerabilities;
  if (!counts) {
    const reason = [json.message, json.error?.summary].filter(Boolean).join(' ');
    return { ...base, status: 'unavailable', reason: reason || 'npm audit returned no metadata' };
  }
  const findings = Object.entries(json.vulnerabilities ?? {})
    .filter(([, item]) => item.severity === 'high' || item.severity === 'critical')
    .map(([name, item]) => ({
      name,
      severity: item.severity,
      via: item.via.map((via) => (typeof via === 'string' ? via : (via.title ?? '?'))),
    }));
  return { ...base, status: findings.length > 0 ? 'vulnerable' : 'clean', counts, findings };
}

const report = audit();
mkdirSync(dirname(AUDIT_JSON), { recursive: true });
writeFileSync(AUDIT_JSON, `${JSON.stringify(report, null, 2)}\n`);
if (report.status === 'clean') {
  console.log(`npm audit (production): clean of high/critical · ${JSON.stringify(report.counts)}`);
} else if (report.status === 'vulnerable') {
  console.log('npm audit (production): high/critical advisories:');
  for (const finding of report.findings) {
    console.log(`  ${finding.name} (${finding.severity}): ${finding.via.join('; ')}`);
  }
} else {
  console.log(`npm audit (production): not run: ${report.reason ?? ''}`);
}
console.log(`wrote ${AUDIT_JSON}`);
process.exitCode = { clean: 0, vulnerable: 1, unavailable: 2 }[report.status];
