/**
 * Host firewall: follows a new SSH connection from each client through iptables' INPUT
 * chain (IPv4 and IPv6, nf_tables or legacy backend alike, as iptables-save shows them)
 * and looks for the client in native nftables rules (Amazon Linux 2023, firewalld).
 */
import net from 'node:net';
import { evaluateInput, parseIptablesSave, type IptVerdict } from '../firewall/iptables';
import type { Evidence, Fix } from '../report/types';
import type { Check } from './types';
import { clientIps, hostOr, isResult, mergeFixes, result } from './support/result';
import { needsRootResult } from './support/host-access';

export const FIREWALL_TEXT = {
  blocked: (ip: string, port: number, v: IptVerdict) =>
    v.rule
      ? `iptables ${v.verdict === 'drop' ? 'drops' : 'rejects'} tcp/${port} from ${ip}: ${v.rule.text}${bannedBy(v)}`
      : `iptables drops tcp/${port} from ${ip} by the ${v.policy}.`,
  nft: (ip: string, text: string) => `An nftables rule names ${ip} and drops or rejects it: ${text}`,
  uncertain: (n: number) => `${n} rule${n > 1 ? 's' : ''} that could drop SSH use matches sshdoctor does not model (ipset, recent, limit ...): review them.`,
  inSet: (ips: string[]) => `The client ${ips.join(', ')} appears in nftables rules or sets: if a drop rule uses that set, it is banned.`,
  open: (port: number, ips: string[]) => `The host firewall lets tcp/${port} in from ${ips.join(', ')}.`,
  none: 'No host firewall rules (iptables and nftables are empty or absent).',
} as const;

/** An nftables line that drops or rejects. */
const NFT_BLOCKS = /\b(drop|reject)\b/;

function iptablesCommand(family: 'ipv4' | 'ipv6'): 'iptables' | 'ip6tables' {
  return family === 'ipv4' ? 'iptables' : 'ip6tables';
}

function bannedBy(v: IptVerdict): string {
  const f2b = v.path.find((c) => c.startsWith('f2b-'));
  if (f2b) return ` (added by fail2ban, jail ${f2b.slice(4)})`;
  if (v.path.some((c) => c.toLowerCase() === 'sshguard')) return ' (added by sshguard)';
  return '';
}

export const FIREWALL_FIX = {
  deleteRule: (family: 'ipv4' | 'ipv6', v: IptVerdict): Fix => {
    const cmd = iptablesCommand(family);
    const rule = v.rule!;
    return {
      summary: `Delete the rule ${rule.text} from chain ${rule.chain}${bannedBy(v) ? ' (or unban through the blocker named above, which also removes it)' : ''}.`,
      commands: [`${cmd}-save > /root/${cmd}.sshdoctor-$(date +%Y%m%d%H%M%S)`, `${cmd} -w -t filter ${rule.text.replace(/^-A /, '-D ')}`],
      actions: [{ kind: 'firewall-delete-rule', family, table: 'filter', chain: rule.chain, rule: rule.text }],
    };
  },
  insertAccept: (family: 'ipv4' | 'ipv6', ip: string, port: number): Fix => {
    const cmd = iptablesCommand(family);
    return {
      summary: `Accept tcp/${port} from ${ip} at the top of INPUT (the chain policy drops it).`,
      commands: [`${cmd}-save > /root/${cmd}.sshdoctor-$(date +%Y%m%d%H%M%S)`, `${cmd} -w -I INPUT 1 -s ${ip} -p tcp --dport ${port} -j ACCEPT`],
      actions: [{ kind: 'firewall-insert-accept', family, table: 'filter', chain: 'INPUT', ip, port }],
    };
  },
} as const;

export const firewallCheck: Check = {
  id: 'firewall',
  title: 'Host firewall (iptables / nftables)',
  description:
    'Follows a new TCP connection from each client to the sshd port through the INPUT chain of iptables and ip6tables, and looks for the client in nftables rules. DROP shows as a timeout, REJECT as a refusal.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    // iptables-save and nft print nothing to an ordinary user: an empty ruleset proves nothing.
    const unprivileged = needsRootResult(this, host, 'the iptables and nftables rulesets');
    if (unprivileged) return unprivileged;
    const fw = host.firewall;
    const ips = clientIps(facts);
    const tables = {
      ipv4: parseIptablesSave(fw.iptables.lines),
      ipv6: parseIptablesSave(fw.ip6tables.lines),
    };
    const evidence: Evidence[] = [];
    const fixes: Fix[] = [];
    const summaries: string[] = [];
    const uncertain = new Set<string>();
    for (const ip of ips) {
      const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
      const v = evaluateInput(tables[family], { src: ip, dport: facts.port });
      for (const u of v.uncertain) uncertain.add(u.text);
      if (v.verdict === 'drop' || v.verdict === 'reject') {
        summaries.push(FIREWALL_TEXT.blocked(ip, facts.port, v));
        evidence.push({ source: `${iptablesCommand(family)}-save`, text: v.rule?.text ?? `:INPUT DROP` });
        fixes.push(v.rule ? FIREWALL_FIX.deleteRule(family, v) : FIREWALL_FIX.insertAccept(family, ip, facts.port));
      }
    }
    for (const hit of fw.nftClientHits) {
      if (!ips.includes(hit.ip) || !NFT_BLOCKS.test(hit.text)) continue;
      // A ban set shows the address in an element list, not on the rule line.
      summaries.push(FIREWALL_TEXT.nft(hit.ip, hit.text));
      evidence.push({ source: 'nft list ruleset', line: hit.line, text: hit.text });
    }
    const setHits = fw.nftClientHits.filter((h) => ips.includes(h.ip) && !NFT_BLOCKS.test(h.text));
    if (summaries.length) {
      return result(this, 'fail', summaries.join(' '), evidence, mergeFixes(fixes));
    }
    if (setHits.length) {
      return result(this, 'warn', FIREWALL_TEXT.inSet(setHits.map((h) => h.ip)), setHits.map((h) => ({ source: 'nft list ruleset', line: h.line, text: h.text })));
    }
    if (uncertain.size) {
      return result(this, 'warn', FIREWALL_TEXT.uncertain(uncertain.size), [...uncertain].map((text) => ({ source: 'iptables-save', text })));
    }
    const empty = !fw.iptables.lines.some((l) => l.startsWith('-A')) && !fw.ip6tables.lines.some((l) => l.startsWith('-A')) && !fw.nft.lines.some((l) => NFT_BLOCKS.test(l));
    return result(this, 'pass', empty ? FIREWALL_TEXT.none : FIREWALL_TEXT.open(facts.port, ips));
  },
};
