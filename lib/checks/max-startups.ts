/**
 * Connection throttling inside sshd: MaxStartups drops new connections while too many are
 * unauthenticated, and OpenSSH 9.8+ PerSourcePenalties refuses addresses that misbehaved.
 * Both show as a reset or close right after connecting.
 */
import type { Check } from './types';
import type { Evidence, Fix } from '../report/types';
import { clientIps, hostOr, isResult, result } from './support/result';
import { mentionsIp, needsRootResult, sshdLogUnread, RECENT_MINUTES, recentLines } from './support/host-access';

export const MAX_STARTUPS_TEXT = {
  dropped: (n: number, setting: string) =>
    `sshd dropped ${n} connection${n > 1 ? 's' : ''} past MaxStartups (${setting}) in the last ${RECENT_MINUTES} minutes: too many unauthenticated connections at once.`,
  penalty: (ips: string[]) => `sshd's PerSourcePenalties refused ${ips.join(', ')} in the last ${RECENT_MINUTES} minutes after repeated failures.`,
  ok: (setting: string, stale: number) =>
    `No connections dropped by MaxStartups (${setting}) or PerSourcePenalties for these clients in the last ${RECENT_MINUTES} minutes of the log${stale ? ` (${stale} older or undated line${stale > 1 ? 's' : ''} not judged)` : ''}.`,
  noLog: (setting: string) => `No sshd log to look for MaxStartups drops (MaxStartups ${setting}).`,
} as const;

export const MAX_STARTUPS_FIX = {
  raise: {
    summary: 'Find who holds unauthenticated connections (often a scanner); raise MaxStartups and shorten LoginGraceTime if the load is legitimate.',
    commands: [
      "ss -tn state established '( sport = :22 )' | awk 'NR>1 {print $4}' | cut -d: -f1 | sort | uniq -c | sort -rn | head",
      "printf 'MaxStartups 100:30:200\\nLoginGraceTime 30\\n' > /etc/ssh/sshd_config.d/50-sshdoctor-maxstartups.conf",
      'sshd -t && (systemctl reload ssh || systemctl reload sshd)',
    ],
  } as Fix,
  penalty: (ips: string[]): Fix => ({
    summary: `Exempt ${ips.join(', ') || 'the client'} from PerSourcePenalties (or wait for the penalty to expire).`,
    commands: [
      `printf 'PerSourcePenaltyExemptList ${ips.join(',') || 'CLIENT_IP'}\\n' > /etc/ssh/sshd_config.d/50-sshdoctor-penalties.conf`,
      'sshd -t && (systemctl reload ssh || systemctl reload sshd)',
    ],
  }),
} as const;

export const maxStartupsCheck: Check = {
  id: 'max-startups',
  title: 'MaxStartups / PerSourcePenalties throttling',
  description: 'Looks for "drop connection ... past MaxStartups" and PerSourcePenalties lines in the sshd log, with the effective settings.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const setting = host.sshd.effective.options.maxstartups?.[0] ?? 'default 10:30:100';
    if (sshdLogUnread(host)) return needsRootResult(this, host, 'the sshd log') ?? result(this, 'skip', MAX_STARTUPS_TEXT.noLog(setting));
    // Only recent lines explain what a client sees now; a penalty is per source address, so
    // only one naming a client counts. MaxStartups is global: any recent drop throttles everyone.
    const { recent, stale } = recentLines([...new Set([...host.authLog.clientLines, ...host.authLog.lines])], host);
    const source = host.authLog.source ?? 'log';
    const drops = recent.filter((l) => /past MaxStartups/.test(l));
    const clients = clientIps(facts);
    const penalties = recent.filter((l) => /penalt/i.test(l) && clients.some((ip) => mentionsIp(l, ip)));
    if (penalties.length) {
      const ips = clients.filter((ip) => penalties.some((l) => mentionsIp(l, ip)));
      const ev: Evidence[] = penalties.slice(-5).map((text) => ({ source, text }));
      return result(this, 'fail', MAX_STARTUPS_TEXT.penalty(ips), ev, MAX_STARTUPS_FIX.penalty(ips));
    }
    if (drops.length) {
      const ev: Evidence[] = [{ source: 'sshd -T', text: `maxstartups ${setting}` }, ...drops.slice(-5).map((text) => ({ source, text }))];
      return result(this, 'fail', MAX_STARTUPS_TEXT.dropped(drops.length, setting), ev, MAX_STARTUPS_FIX.raise);
    }
    return result(this, 'pass', MAX_STARTUPS_TEXT.ok(setting, stale));
  },
};
