/**
 * The human report for terminals: verdict first, then failing and warning checks with
 * their evidence and fix, then a one-line-per-check overview. Formatting only: every
 * sentence comes from the checks and the verdict.
 */
import type { CheckResult, CheckStatus, Report } from './types';

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, grey: 90, bold: 1 } as const;
type Colour = keyof typeof CODES;

const STATUS_MARK: Record<CheckStatus, { mark: string; colour: Colour }> = {
  fail: { mark: 'FAIL', colour: 'red' },
  warn: { mark: 'WARN', colour: 'yellow' },
  error: { mark: 'ERR ', colour: 'red' },
  pass: { mark: 'ok  ', colour: 'green' },
  skip: { mark: 'skip', colour: 'grey' },
};

export function renderTerminal(report: Report, opts: { color: boolean }): string {
  const c = (colour: Colour, text: string) => (opts.color ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text);
  const out: string[] = [];
  const v = report.verdict;
  const vColour: Colour = v.status === 'reachable' ? 'green' : v.status === 'blocked' ? 'red' : 'yellow';
  out.push(`${c('bold', c(vColour, `${v.status.toUpperCase()}`))}  ${v.summary}`);

  const target = report.target.instanceId
    ? `${report.target.provider} ${report.target.instanceId} (${report.target.host}:${report.target.port})`
    : `${report.target.host}:${report.target.port}`;
  const probe = report.probe;
  const probeText = probe
    ? `${probe.outcome}${probe.banner ? ` ${probe.banner.software}` : ''}${probe.firstBytes ? ` "${probe.firstBytes}"` : ''}${probe.peer ? ` (${probe.peer} answered)` : ''}${probe.closeMs !== undefined ? ` after ${Math.round(probe.closeMs)} ms` : ''}${probe.connectMs !== undefined ? ` (connect ${Math.round(probe.connectMs)} ms)` : ''}`
    : 'not run';
  out.push(c('grey', `target ${target} · probe: ${probeText}`));
  if (probe?.auth) out.push(c('grey', `auth: ${authLine(probe.auth)}`));
  out.push(
    c(
      'grey',
      `clients: ${report.clients.map((cl) => `${cl.ip}${cl.caveat ? ` (${cl.caveat})` : cl.source === 'probe-source' ? " (the probe's own address: pass --client-ip for yours)" : ''}`).join(', ') || 'none'} · collector: ${report.collector.status} via ${report.collector.runner}${report.collector.reason ? ` (${report.collector.reason})` : ''}${report.collector.truncated ? ' · TRUNCATED' : ''}`,
    ),
  );

  const notable = report.checks.filter((ch) => ch.status === 'fail' || ch.status === 'warn' || ch.status === 'error');
  const ordered = [...notable].sort((a, b) => rank(report, a) - rank(report, b));
  for (const ch of ordered) {
    const s = STATUS_MARK[ch.status];
    out.push('');
    out.push(`${c(s.colour, s.mark)} ${c('bold', ch.id)}: ${ch.summary}`);
    for (const e of ch.evidence.slice(0, 8)) {
      out.push(c('grey', `     ${e.source}${e.line !== undefined ? `:${e.line}` : ''}  `) + e.text);
    }
    if (ch.evidence.length > 8) out.push(c('grey', `     … ${ch.evidence.length - 8} more (see --json)`));
    if (ch.fix) {
      out.push(`     ${c('blue', 'fix:')} ${ch.fix.summary}`);
      for (const cmd of ch.fix.commands) out.push(`       $ ${cmd}`);
    }
  }
  for (const n of report.notInspected) out.push(c('yellow', `\nnot inspected: ${n.what}: ${n.reason}`));

  out.push('');
  out.push(report.checks.map((ch) => `${c(STATUS_MARK[ch.status].colour, STATUS_MARK[ch.status].mark.trim())} ${ch.id}`).join(c('grey', ' · ')));
  out.push(c('grey', `${report.timings.totalMs} ms (probe ${report.timings.probeMs ?? '-'} ms, collector ${report.timings.collectorMs ?? '-'} ms)`));
  return `${out.join('\n')}\n`;
}

/** Causes named by the verdict first, in its order; then the rest. */
function rank(report: Report, ch: CheckResult): number {
  const i = report.verdict.causes.indexOf(ch.id);
  return i >= 0 ? i : 100 + (ch.status === 'fail' ? 0 : ch.status === 'error' ? 1 : 2);
}

/** One line for the authentication stage: user, key, answer, methods, algorithms. */
export function authLine(a: NonNullable<Report['probe']>['auth'] & object): string {
  const parts = [`${a.user}: ${a.outcome}`];
  if (a.key) parts.push(`key ${a.key.sha256} ${a.key.accepted ? 'accepted' : 'refused'}`);
  if (a.methods) parts.push(`methods ${a.methods.join(',') || 'none'}`);
  if (a.algorithms) parts.push(`${a.algorithms.kex} / ${a.algorithms.hostKey} / ${a.algorithms.cipher}`);
  if (a.error) parts.push(a.error);
  return parts.join(' · ');
}
