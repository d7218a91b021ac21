/**
 * Intrusion blockers that ban client addresses: fail2ban jails, DenyHosts and sshguard.
 * Their bans show up as firewall rules or hosts.deny lines too; this check names the
 * blocker, so the fix unbans through it instead of editing what it will rewrite.
 */
import type { Evidence, Fix } from '../report/types';
import type { Check } from './types';
import { clientIps, hostOr, isResult, mergeFixes, result, shq } from './support/result';
import { needsRootResult, normalizeIp } from './support/host-access';

export const FAIL2BAN_TEXT = {
  banned: (pairs: { jail: string; ip: string }[]) => `fail2ban has banned ${pairs.map((p) => `${p.ip} (jail ${p.jail})`).join(', ')}.`,
  listed: (tool: string, ips: string[]) => `${tool} lists ${ips.join(', ')} as an attacker.`,
  notRunning: (error: string | undefined) =>
    `fail2ban is installed but its server is not answering${error ? `: ${error}` : ''}; its existing firewall rules may still apply.`,
  clean: (tools: string[]) =>
    tools.length ? `No client address is banned by ${tools.join(', ')}.` : 'No intrusion blocker (fail2ban, DenyHosts, sshguard) found.',
} as const;

export const FAIL2BAN_FIX = {
  unban: (pairs: { jail: string; ip: string }[]): Fix => ({
    summary: `Unban ${pairs.map((p) => p.ip).join(', ')} in fail2ban; add them to ignoreip in /etc/fail2ban/jail.local to keep them from being banned again.`,
    commands: pairs.map((p) => `fail2ban-client set ${shq(p.jail)} unbanip ${p.ip}`),
    actions: pairs.map((p) => ({ kind: 'fail2ban-unban' as const, jail: p.jail, ip: p.ip })),
  }),
  denyhosts: (ips: string[]): Fix => ({
    summary: `Remove ${ips.join(', ')} from DenyHosts' data files and /etc/hosts.deny while DenyHosts is stopped, then add them to its allowed-hosts file.`,
    commands: [
      'systemctl stop denyhosts',
      ...ips.map((ip) => `for f in /etc/hosts.deny /var/lib/denyhosts/*; do sed -i '/\\b${ip.replace(/\./g, '\\.')}\\b/d' "$f"; done`),
      ...ips.map((ip) => `echo ${ip} >> /var/lib/denyhosts/allowed-hosts`),
      'systemctl start denyhosts',
    ],
  }),
  sshguard: (ips: string[]): Fix => ({
    summary: `Remove ${ips.join(', ')} from sshguard's blacklist and whitelist them.`,
    commands: ips.map(
      (ip) => `sed -i '/${ip.replace(/\./g, '\\.')}/d' /var/lib/sshguard/blacklist.db && echo ${ip} >> /etc/sshguard/whitelist && systemctl restart sshguard`,
    ),
  }),
} as const;

export const fail2banCheck: Check = {
  id: 'fail2ban',
  title: 'Intrusion blockers (fail2ban, DenyHosts, sshguard)',
  description:
    'Asks fail2ban which jails have banned each client address, and looks for the client in DenyHosts and sshguard data. A ban usually shows as a timeout (DROP) or a refusal (REJECT).',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const ips = new Set(clientIps(facts).map(normalizeIp));
    const f2b = host.fail2ban;
    const banned = f2b.banned.filter((b) => ips.has(normalizeIp(b.ip)));
    const listed = host.blockers.listed.filter((l) => ips.has(normalizeIp(l.ip)));
    const evidence: Evidence[] = [
      ...banned.map((b) => ({ source: `fail2ban-client status ${b.jail}`, text: `Banned IP list contains ${b.ip}` })),
      ...listed.map((l) => ({ source: l.file, text: `${l.tool} lists ${l.ip}` })),
    ];
    if (banned.length || listed.length) {
      const summaries: string[] = [];
      const fixes: Fix[] = [];
      if (banned.length) {
        summaries.push(FAIL2BAN_TEXT.banned(banned));
        fixes.push(FAIL2BAN_FIX.unban(banned));
      }
      for (const tool of ['denyhosts', 'sshguard'] as const) {
        const hits = [...new Set(listed.filter((l) => l.tool === tool).map((l) => l.ip))];
        if (!hits.length) continue;
        summaries.push(FAIL2BAN_TEXT.listed(tool === 'denyhosts' ? 'DenyHosts' : 'sshguard', hits));
        fixes.push(tool === 'denyhosts' ? FAIL2BAN_FIX.denyhosts(hits) : FAIL2BAN_FIX.sshguard(hits));
      }
      return result(this, 'fail', summaries.join(' '), evidence, mergeFixes(fixes));
    }
    // fail2ban-client talks to a root-only socket: an ordinary user cannot ask it for bans.
    if (f2b.installed && !f2b.running) {
      const unprivileged = needsRootResult(this, host, "fail2ban's ban lists");
      if (unprivileged) return unprivileged;
    }
    if (f2b.installed && !f2b.running && host.blockers.running.some((r) => r.includes('fail2ban-server'))) {
      return result(this, 'warn', FAIL2BAN_TEXT.notRunning(f2b.error), [{ source: 'fail2ban-client status', text: f2b.error ?? 'no answer' }]);
    }
    const tools = [
      ...(f2b.running ? [`fail2ban (${f2b.jails.map((j) => j.name).join(', ') || 'no jails'})`] : []),
      ...(host.blockers.denyhosts ? ['DenyHosts'] : []),
      ...(host.blockers.sshguard ? ['sshguard'] : []),
    ];
    return result(this, 'pass', FAIL2BAN_TEXT.clean(tools));
  },
};
