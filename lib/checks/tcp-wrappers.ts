/**
 * Judges /etc/hosts.allow and /etc/hosts.deny with the libwrap-parity engine, for every
 * client address. Only an sshd linked against libwrap reads these files (Debian, Ubuntu,
 * RHEL/CentOS 7, Amazon Linux 2, Alibaba Cloud Linux 2); RHEL 8+, AL2023 and Alibaba Cloud
 * Linux 3 ignore them, so a deny rule there is reported but never blamed.
 */
import { decide, parseHostsFile, type WrappersDecision } from '../wrappers';
import type { Evidence, Fix } from '../report/types';
import type { Check } from './types';
import { backupCommand, clientIps, hostOr, isResult, mergeFixes, result, shq } from './support/result';

export const TCP_WRAPPERS_TEXT = {
  notLinked: 'sshd is not linked with libwrap: /etc/hosts.allow and /etc/hosts.deny do not affect SSH.',
  notLinkedButDenies: (ips: string[]) =>
    `sshd is not linked with libwrap, so the rules that would deny ${ips.join(', ')} in /etc/hosts.deny have no effect on SSH.`,
  allowed: (ips: string[]) => `TCP wrappers allow sshd connections from ${ips.join(', ')}.`,
  denied: (d: WrappersDecision) =>
    `TCP wrappers deny ${d.client}: ${d.file} line ${d.line}: ${d.rule} (libwrap holds the connection ~5 s, then closes it: the client sees "Connection reset by peer").`,
  unknownLink: 'Could not tell whether sshd is linked with libwrap (no ldd on the host); judged as if it were.',
  truncated: 'Part of hosts.allow/hosts.deny was cut by the collector size cap: a rule in the missing part could change the decision.',
  noClients: 'No client address to judge the TCP wrappers rules for.',
} as const;

export const TCP_WRAPPERS_FIX = {
  commentOut: (file: string, line: number, text: string): Fix => ({
    summary: `Comment out ${file} line ${line} (${text}).`,
    commands: [backupCommand(file), `sed -i '${line}s/^/# sshdoctor: /' ${shq(file)}`],
    actions: [{ kind: 'comment-line', file, line, text }],
  }),
  insertAllow: (file: string, beforeLine: number | null, text: string): Fix => ({
    summary: `Add "${text}" to ${file}${beforeLine ? ` before line ${beforeLine}` : ''}.`,
    commands: [
      backupCommand(file),
      beforeLine ? `sed -i '${beforeLine}i ${text.replace(/'/g, `'\\''`)}' ${shq(file)}` : `printf '%s\\n' ${shq(text)} >> ${shq(file)}`,
    ],
    actions: [{ kind: 'insert-line-before', file, line: beforeLine ?? 0, text }],
  }),
} as const;

export const tcpWrappersCheck: Check = {
  id: 'tcp-wrappers',
  title: 'TCP wrappers (hosts.allow / hosts.deny)',
  description:
    'Evaluates /etc/hosts.allow and /etc/hosts.deny exactly as libwrap 7.6.q does, for each client address, when sshd is linked with libwrap. A deny shows as "Connection reset by peer" about 5 s after connecting.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const ips = clientIps(facts);
    if (ips.length === 0) return result(this, 'skip', TCP_WRAPPERS_TEXT.noClients);

    const readPatternFile = (path: string) => host.wrappers.patternFiles[path] ?? undefined;
    const input = (f: typeof host.wrappers.allow) => ({
      path: f.path,
      // The collector always keeps an unterminated last line: mark it so the engine applies
      // libwrap's "missing newline" stop.
      lines: f.lines.map((l) => (f.unterminated && l.no === f.totalLines ? { ...l, unterminated: true } : l)),
    });
    const policy = {
      allow: parseHostsFile(input(host.wrappers.allow)),
      deny: parseHostsFile(input(host.wrappers.deny)),
      readPatternFile,
    };
    const decisions = ips.map((ip) => decide(policy, 'sshd', { addr: ip }));
    const denied = decisions.filter((d) => d.decision === 'deny');
    const evidence: Evidence[] = denied.map((d) => ({
      source: d.file ?? '/etc/hosts.deny',
      ...(d.line ? { line: d.line } : {}),
      text: `${d.rule ?? ''}  → denies ${d.client}${d.caveats.length ? ` (${d.caveats.join('; ')})` : ''}`,
    }));
    for (const d of decisions) {
      if (d.decision === 'allow' && d.caveats.length)
        evidence.push({ source: d.file ?? 'hosts_access', ...(d.line ? { line: d.line } : {}), text: `${d.client}: ${d.caveats.join('; ')}` });
    }

    if (host.sshd.linksLibwrap === false) {
      return denied.length
        ? result(this, 'skip', TCP_WRAPPERS_TEXT.notLinkedButDenies(denied.map((d) => d.client)), evidence)
        : result(this, 'skip', TCP_WRAPPERS_TEXT.notLinked);
    }
    if (denied.length) {
      const first = denied[0]!;
      const fixes = denied.map((d) => fixFor(d)).filter((f): f is Fix => f !== null);
      const fix = mergeFixes(fixes);
      const more = denied.length > 1 ? ` (and ${denied.length - 1} more client${denied.length > 2 ? 's' : ''})` : '';
      return result(this, 'fail', TCP_WRAPPERS_TEXT.denied(first) + more, evidence, fix);
    }
    const incomplete = host.wrappers.allow.truncated || host.wrappers.deny.truncated;
    if (incomplete) return result(this, 'warn', TCP_WRAPPERS_TEXT.truncated, evidence);
    const summary = TCP_WRAPPERS_TEXT.allowed(ips) + (host.sshd.linksLibwrap === null ? ` ${TCP_WRAPPERS_TEXT.unknownLink}` : '');
    return result(this, 'pass', summary, evidence);
  },
};

function fixFor(d: WrappersDecision): Fix | null {
  if (!d.fix) return null;
  return d.fix.kind === 'comment-out'
    ? TCP_WRAPPERS_FIX.commentOut(d.fix.file, d.fix.line, d.fix.text)
    : TCP_WRAPPERS_FIX.insertAllow(d.fix.file, d.fix.beforeLine, d.fix.text);
}
