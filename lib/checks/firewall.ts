/**
 * Host firewall: follows a new SSH connection from each client through iptables' INPUT
 * chain (IPv4 and IPv6, nf_tables or legacy backend alike, as iptables-save shows them)
 * and looks for the client in native nftables rules (Amazon Linux 2023, firewalld).
 */
import net from 'node:net';
import { evaluateInput, parseIptablesSave, type IptVerdict } from '../firewall/iptables';
import { evaluateNftInput, nftRuleRef, parseNftJson, type NftChain, type NftChainVerdict, type NftRule } from '../firewall/nftables';
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
  unreadable: (what: string[]) => `not inspected: the firewall rules could not be read (${what.join('; ')}); an empty answer is not an open firewall.`,
  cut: (cmds: string[]) =>
    `${cmds.join(' and ')} output was cut by the collector's size cap: a rule in the missing part could drop SSH, so the firewall is not evaluable; review it.`,
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

/** nft fixes use the real family, table and chain the verdict came from. */
export const NFT_FIX = {
  deleteRule: (r: NftRule): Fix => ({
    summary: `Delete the nftables rule that blocks SSH (${nftRuleRef(r)}: ${r.text}).`,
    commands: [
      'nft list ruleset > /root/nftables.sshdoctor-$(date +%Y%m%d%H%M%S)',
      `nft delete rule ${r.family} ${r.table} ${r.chain} handle ${r.handle ?? 'HANDLE'}`,
    ],
  }),
  insertAccept: (c: NftChain, ip: string, port: number): Fix => ({
    summary: `Accept tcp/${port} from ${ip} at the top of ${c.family} ${c.table} ${c.name} (its policy drops it).`,
    commands: [
      'nft list ruleset > /root/nftables.sshdoctor-$(date +%Y%m%d%H%M%S)',
      `nft insert rule ${c.family} ${c.table} ${c.name} ${net.isIPv6(ip) ? 'ip6' : 'ip'} saddr ${ip} tcp dport ${port} accept`,
    ],
  }),
  firewalld: (zone: string, port: number): Fix => ({
    summary: `Open SSH in firewalld's zone ${zone} (firewalld owns these nftables rules; edits with nft are lost on reload).`,
    commands: [
      port === 22 ? `firewall-cmd --permanent --zone=${zone} --add-service=ssh` : `firewall-cmd --permanent --zone=${zone} --add-port=${port}/tcp`,
      'firewall-cmd --reload',
    ],
  }),
  ufw: (ip: string, port: number): Fix => ({
    summary: `Allow tcp/${port} from ${ip} in ufw (ufw owns these rules; edits with iptables are lost on reload).`,
    commands: [`ufw allow from ${ip} to any port ${port} proto tcp`],
  }),
} as const;

export const NFT_TEXT = {
  blocked: (ip: string, port: number, v: NftChainVerdict) =>
    v.rule
      ? `nftables ${v.verdict === 'reject' ? 'rejects' : 'drops'} tcp/${port} from ${ip}: ${nftRuleRef(v.rule)}: ${v.rule.text}`
      : `nftables drops tcp/${port} from ${ip} by the ${v.chain.family} ${v.chain.table} ${v.chain.name} ${v.policy ?? 'policy drop'}.`,
  unknown: (ip: string, rules: NftRule[]) =>
    `nftables: whether tcp/SSH from ${ip} gets in depends on rules sshdoctor cannot evaluate (${rules.map((r) => `${nftRuleRef(r)}: ${r.text}`).join('; ') || 'a loop or an unmodelled chain'}): not evaluable, review them.`,
  notEvaluable: (why: string) => `The nftables ruleset could not be evaluated (${why}) and it drops or rejects traffic somewhere: not evaluable, review it.`,
  legacy: (cmd: string) => `(${cmd}: the legacy x_tables rules, loaded beside nftables)`,
} as const;

/** iptables-nft shows its own tables through iptables-save: nft need not judge them twice. */
function iptablesNftTable(c: NftChain, iptablesPresent: boolean): boolean {
  return iptablesPresent && (c.family === 'ip' || c.family === 'ip6') && c.table === 'filter' && /^[A-Z]+$/.test(c.name);
}

export const firewallCheck: Check = {
  id: 'firewall',
  title: 'Host firewall (iptables / nftables)',
  description:
    'Follows a new TCP connection from each client to the sshd port through iptables and ip6tables INPUT (legacy tables too), and through every nftables input base chain (priority order, policies, jumps, sets, interfaces), with firewalld and ufw named in the fix. DROP shows as a timeout, REJECT as a refusal; what cannot be evaluated is reported, never passed.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    // iptables-save and nft print nothing to an ordinary user: an empty ruleset proves nothing.
    const unprivileged = needsRootResult(this, host, 'the iptables and nftables rulesets');
    if (unprivileged) return unprivileged;
    const fw = host.firewall;
    const ips = clientIps(facts);
    const sets = [
      { cmd: 'iptables-save', family: 'ipv4' as const, facts: fw.iptables },
      { cmd: 'ip6tables-save', family: 'ipv6' as const, facts: fw.ip6tables },
      { cmd: 'iptables-legacy-save', family: 'ipv4' as const, facts: fw.iptablesLegacy },
      { cmd: 'ip6tables-legacy-save', family: 'ipv6' as const, facts: fw.ip6tablesLegacy },
    ].map((t) => ({ ...t, table: parseIptablesSave(t.facts.lines) }));
    const evidence: Evidence[] = [];
    const fixes: Fix[] = [];
    const summaries: string[] = [];
    const uncertain = new Map<string, string>();
    const ufwActive = fw.ufw.active === true;
    for (const ip of ips) {
      const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
      const iif = fw.arrival.find((a) => a.ip === ip)?.iface ?? null;
      for (const t of sets.filter((x) => x.family === family)) {
        const v = evaluateInput(t.table, { src: ip, dport: facts.port, iif });
        for (const u of v.uncertain) uncertain.set(u.text, t.cmd);
        // A policy reached by walking a cut ruleset may only mean the accepting rule was cut.
        if ((v.verdict === 'drop' || v.verdict === 'reject') && (v.rule || !t.facts.truncated)) {
          const legacy = t.cmd.includes('legacy') ? ` ${NFT_TEXT.legacy(t.cmd)}` : '';
          summaries.push(FIREWALL_TEXT.blocked(ip, facts.port, v) + legacy);
          evidence.push({ source: t.cmd, text: v.rule?.text ?? `:INPUT DROP` });
          if (ufwActive && v.path.some((c) => c.startsWith('ufw'))) fixes.push(NFT_FIX.ufw(ip, facts.port));
          else fixes.push(v.rule ? FIREWALL_FIX.deleteRule(family, v) : FIREWALL_FIX.insertAccept(family, ip, facts.port));
        }
      }
    }
    // Native nftables (Amazon Linux 2023, RHEL 8+ with firewalld, Debian 12): the JSON ruleset.
    let nftUnknown: string | null = null;
    if (fw.nftJson.text && fw.nftJson.truncated) {
      // Half a JSON document: neither parseable nor, if it were, complete.
      nftUnknown = NFT_TEXT.notEvaluable("the JSON ruleset was cut by the collector's size cap");
    } else if (fw.nftJson.text) {
      try {
        const rs = parseNftJson(fw.nftJson.text);
        for (const ip of ips) {
          const iif = fw.arrival.find((a) => a.ip === ip)?.iface ?? null;
          const v = evaluateNftInput(rs, { src: ip, dport: facts.port, iif }, (c) => iptablesNftTable(c, fw.iptables.present));
          const d = v.decidedBy;
          if ((v.verdict === 'drop' || v.verdict === 'reject') && d) {
            summaries.push(NFT_TEXT.blocked(ip, facts.port, d));
            evidence.push({
              source: 'nft -j list ruleset',
              text: d.rule ? `${nftRuleRef(d.rule)}: ${d.rule.text}` : `${d.chain.family} ${d.chain.table} ${d.chain.name} ${d.policy ?? 'policy drop'}`,
            });
            const zone = fw.firewalld.running ? (fw.firewalld.defaultZone ?? 'public') : null;
            fixes.push(
              zone && d.chain.table === 'firewalld'
                ? NFT_FIX.firewalld(zone, facts.port)
                : d.rule
                  ? NFT_FIX.deleteRule(d.rule)
                  : NFT_FIX.insertAccept(d.chain, ip, facts.port),
            );
          } else if (v.verdict === 'unknown' && d) {
            nftUnknown = NFT_TEXT.unknown(ip, d.uncertain.length ? d.uncertain : d.rule ? [d.rule] : []);
            for (const r of d.uncertain) uncertain.set(`${nftRuleRef(r)}: ${r.text}`, 'nft -j list ruleset');
          }
        }
      } catch (err) {
        nftUnknown = NFT_TEXT.notEvaluable((err as Error).message);
      }
    } else if (fw.nft.present && (fw.nftJson.truncated || fw.nftJson.error || fw.nft.lines.some((l) => NFT_BLOCKS.test(l) || /policy drop/.test(l)))) {
      if (fw.nft.lines.some((l) => NFT_BLOCKS.test(l)) || fw.nftJson.truncated)
        nftUnknown = NFT_TEXT.notEvaluable(fw.nftJson.truncated ? 'the JSON ruleset was cut by the size cap' : (fw.nftJson.error ?? 'nft -j is not available'));
    }
    for (const hit of fw.nftClientHits) {
      if (!ips.includes(hit.ip) || !NFT_BLOCKS.test(hit.text) || fw.nftJson.text) continue;
      // Without the JSON ruleset: a rule line naming the client and dropping it.
      summaries.push(FIREWALL_TEXT.nft(hit.ip, hit.text));
      evidence.push({ source: 'nft list ruleset', line: hit.line, text: hit.text });
    }
    if (summaries.length) {
      return result(this, 'fail', summaries.join(' '), evidence, mergeFixes(fixes));
    }
    // Rules that could not be read (root without CAP_NET_ADMIN in a container, an LSM denial).
    const unreadable = [
      ...sets.filter((t) => t.facts.denied.length).map((t) => `${t.cmd}: ${t.facts.denied[0]}`),
      ...(fw.nftJson.error && /denied|not permitted/i.test(fw.nftJson.error) ? [`nft: ${fw.nftJson.error}`] : []),
    ];
    if (unreadable.length) return result(this, 'skip', FIREWALL_TEXT.unreadable(unreadable));
    // A ruleset missing its tail proves nothing about what the tail does: never a pass on it.
    const families = new Set(ips.map((ip) => (net.isIPv6(ip) ? 'ipv6' : 'ipv4')));
    const cut = sets.filter((t) => t.facts.truncated && families.has(t.family)).map((t) => t.cmd);
    if (cut.length)
      return result(
        this,
        'warn',
        FIREWALL_TEXT.cut(cut),
        [...uncertain].map(([text, source]) => ({ source, text })),
      );
    if (nftUnknown)
      return result(
        this,
        'warn',
        nftUnknown,
        [...uncertain].map(([text, source]) => ({ source, text })),
      );
    const setHits = fw.nftClientHits.filter((h) => ips.includes(h.ip) && !NFT_BLOCKS.test(h.text));
    if (setHits.length && !fw.nftJson.text) {
      return result(
        this,
        'warn',
        FIREWALL_TEXT.inSet(setHits.map((h) => h.ip)),
        setHits.map((h) => ({ source: 'nft list ruleset', line: h.line, text: h.text })),
      );
    }
    if (uncertain.size) {
      return result(
        this,
        'warn',
        FIREWALL_TEXT.uncertain(uncertain.size),
        [...uncertain].map(([text, source]) => ({ source, text })),
      );
    }
    const empty =
      sets.every((t) => !t.facts.lines.some((l) => l.startsWith('-A'))) &&
      !fw.nft.lines.some((l) => NFT_BLOCKS.test(l) || /policy drop/.test(l)) &&
      !fw.nftJson.text?.includes('"drop"');
    return result(this, 'pass', empty ? FIREWALL_TEXT.none : FIREWALL_TEXT.open(facts.port, ips));
  },
};
