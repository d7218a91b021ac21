/**
 * What sshd itself logged recently: libwrap's "refused connect from", fatal errors at
 * start-up, per-client refusals. Evidence for the other checks, and a finding of its own
 * when the log names a client the other checks did not explain.
 */
import type { Check } from './types';
import type { Evidence } from '../report/types';
import { clientIps, hostOr, isResult, result } from './support/result';
import { sshdLogUnread, mentionsIp, needsRootResult, RECENT_MINUTES, recentLines } from './support/host-access';

export const AUTH_LOG_TEXT = {
  refused: (ips: string[]) => `sshd logged refusals for ${ips.join(', ')} in the last ${RECENT_MINUTES} minutes.`,
  errors: (n: number) => `sshd logged ${n} error or fatal line${n > 1 ? 's' : ''} recently.`,
  quiet: (source: string) => `No sshd refusals or errors in the recent log (${source}).`,
  user: (u: string) => `sshd logged why it refused ${u} in the last ${RECENT_MINUTES} minutes (see the evidence; the user checks judge the current state).`,
  noLog: 'No sshd log found (/var/log/auth.log, /var/log/secure, journal).',
} as const;

const REFUSAL = /refused connect from|not allowed because|drop connection|Did not receive identification|banner exchange/;
const ERROR = /\b(error|fatal)\b/i;

export const authLogCheck: Check = {
  id: 'auth-log',
  title: 'sshd log',
  description: 'Reads recent sshd lines from /var/log/auth.log, /var/log/secure or the journal (Amazon Linux 2023 logs only there).',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const log = host.authLog;
    // An ordinary user reads no system log (or an empty journal): that is not a quiet log.
    if (sshdLogUnread(host)) return needsRootResult(this, host, 'the sshd log') ?? result(this, 'skip', AUTH_LOG_TEXT.noLog);
    const ips = clientIps(facts);
    const refusals = recentLines(log.clientLines, host).recent.filter((l) => REFUSAL.test(l));
    const refusedIps = ips.filter((ip) => refusals.some((l) => mentionsIp(l, ip)));
    const ev = (ls: string[]): Evidence[] => ls.slice(-6).map((text) => ({ source: log.source!, text }));
    if (refusedIps.length)
      return result(this, 'fail', AUTH_LOG_TEXT.refused(refusedIps), ev(refusals.filter((l) => refusedIps.some((ip) => mentionsIp(l, ip)))));
    // With --user: sshd's own words about the account, as evidence (a warning: the log tells the
    // past, the user checks and the authentication stage tell the present).
    const userLines = facts.user && host.user ? recentLines(host.user.logLines, host).recent : [];
    if (userLines.length) return result(this, 'warn', AUTH_LOG_TEXT.user(facts.user!.name), ev(userLines));
    const errors = log.lines.filter((l) => ERROR.test(l));
    if (errors.length) return result(this, 'warn', AUTH_LOG_TEXT.errors(errors.length), ev(errors));
    return result(this, 'pass', AUTH_LOG_TEXT.quiet(log.source!));
  },
};
