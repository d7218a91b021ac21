/** Judges a collector document the way a diagnosis does: lib/judge.ts over every check, no probe. */
import { judge } from '../../lib/judge';
import type { CheckResult, Report } from '../../lib/report/types';

export function judgeDocument(doc: string, clientIps: readonly string[], port = 22): Report {
  return judge({
    options: { target: { host: 'instance.test', port }, clientIps, runner: { name: 'fixture', run: () => Promise.reject(new Error('not used')) } },
    clients: clientIps.map((ip) => ({ ip, source: 'user' })),
    probe: null,
    run: { kind: 'ran', result: { status: 'success', stdout: doc, stderr: '', exitCode: 0, truncated: false, durationMs: 1 } },
    started: performance.now(),
  });
}

/** The report's check results by id. */
export function byId(report: Report): Record<string, CheckResult> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c]));
}
