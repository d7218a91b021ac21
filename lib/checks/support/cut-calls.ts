/**
 * Collector calls cut for time: a check whose facts come from a section with a cut call says
 * so and is not inspected, never pass or fail on what the call did not answer.
 */
import type { CutCall, HostFacts } from '../../collector/facts';
import { NOT_INSPECTED } from './prefixes';

/** The prefix of every "a collector call was cut" summary (judge lists these as not inspected). */
export const CUT_CALL = `${NOT_INSPECTED} a collector call did not answer in time`;

/**
 * The collector sections each host check reads. A check missing here reads nothing that can
 * be cut (the registry test cuts every section of every fixture and checks this table).
 */
export const CHECK_SECTIONS: Readonly<Record<string, readonly string[]>> = {
  'sshd-service': ['service', 'sshd-binary'],
  'sshd-listen': ['listening', 'sshd-effective', 'sshd-config'],
  'sshd-config': ['sshd-test', 'sshd-config', 'sshd-binary', 'permissions', 'service'],
  'sshd-libraries': ['sshd-libraries', 'missing-libraries', 'sshd-binary'],
  'tcp-wrappers': ['hosts.allow', 'hosts.deny', 'wrapper-files', 'sshd-libraries'],
  fail2ban: ['fail2ban', 'blockers'],
  firewall: ['iptables', 'ip6tables', 'nftables', 'nft-clients', 'nft-json', 'fw-route', 'iptables-legacy', 'ip6tables-legacy', 'ufw', 'firewalld'],
  'max-startups': ['auth-log', 'sshd-effective'],
  'auth-log': ['auth-log'],
  disk: ['disk'],
  permissions: ['permissions', 'service'],
  'user-account': ['user'],
  'user-access': ['user'],
  'authorized-key': ['user'],
  'key-permissions': ['user'],
};

function describe(c: CutCall): string {
  const cmd = `\`${c.command}\``;
  const more = c.calls > 1 ? ` (and ${c.calls - 1} more call${c.calls > 2 ? 's' : ''})` : '';
  if (c.kind === 'skipped-hung') return `${cmd} was not run: ${c.command.split(' ')[0]} hung earlier${more}`;
  if (c.kind === 'skipped-budget') return `${cmd} was not run: the collector's time budget was spent${more}`;
  return `${cmd} was cut after ${c.seconds} s${more}`;
}

/** The prefix of the summary for a check whose sections never arrived. */
export const SECTION_MISSING = `${NOT_INSPECTED} the collector's output ended before`;

/**
 * The summary for a check whose sections had a cut call, or that an incomplete document (cut
 * in transport, or the collector stopped by the runner) ends before; null when all arrived whole.
 */
export function cutCallSummary(checkId: string, host: HostFacts): string | null {
  const sections = CHECK_SECTIONS[checkId];
  if (!sections) return null;
  const cut = host.cutCalls.filter((c) => sections.includes(c.section));
  if (cut.length) return `${CUT_CALL} (${cut.map((c) => `${c.section}: ${describe(c)}`).join('; ')}).`;
  // A complete document from an older collector may lack newer sections: only a cut one is unread.
  const missing = host.complete ? [] : sections.filter((s) => !host.sections.includes(s));
  return missing.length ? `${SECTION_MISSING} ${missing.join(', ')} (cut in transport, or the collector was stopped).` : null;
}
