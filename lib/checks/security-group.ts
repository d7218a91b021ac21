/**
 * Judges the instance's security groups for each client IP on the sshd port.
 * AWS groups only allow (any matching rule admits); Alibaba groups allow or deny by priority
 * (lower number wins, deny beats allow at equal priority). Rules whose source is a prefix
 * list or another group cannot be evaluated from an address: they are reported, never guessed.
 */
import type { Check, Facts } from './types';
import type { CheckResult, Evidence, Fix } from '../report/types';
import type { SecurityGroupRule } from '../inventory/types';
import { cidrContains, hostCidr } from '../cloud/cidr';
import { clientIps, result } from './support/result';

export const SECURITY_GROUP_TEXT = {
  notInspected: 'Security-group rules were not inspected.',
  noClients: 'No client address to evaluate the security groups for.',
  allAllowed: (port: number, ips: string[]) => `Security groups allow tcp/${port} from ${ips.join(', ')}.`,
  denied: (port: number, ips: string[]) => `Security groups do not allow tcp/${port} from ${ips.join(', ')}.`,
  explicitDeny: (port: number, ips: string[]) => `A security-group deny rule blocks tcp/${port} from ${ips.join(', ')}.`,
  notEvaluable: (port: number, ips: string[]) =>
    `Whether the security groups allow tcp/${port} from ${ips.join(', ')} depends on rules that reference prefix lists or other groups, or whose ports could not be read, which cannot be evaluated from an address.`,
  noRuleFor: (ip: string) => `no rule allows ${ip}`,
  evaluated: (groups: string[], nic: string) => `groups evaluated: ${groups.join(', ') || '(none)'}${nic}`,
} as const;

export const SECURITY_GROUP_FIX = {
  aws: (groupId: string, port: number, cidrs: string[], region: string): Fix => ({
    summary: `Allow tcp/${port} from ${cidrs.join(', ')} in security group ${groupId}.`,
    commands: cidrs.map((c) =>
      c.includes(':')
        ? `aws ec2 authorize-security-group-ingress --region ${region} --group-id ${groupId} --ip-permissions 'IpProtocol=tcp,FromPort=${port},ToPort=${port},Ipv6Ranges=[{CidrIpv6=${c},Description=sshdoctor}]'`
        : `aws ec2 authorize-security-group-ingress --region ${region} --group-id ${groupId} --protocol tcp --port ${port} --cidr ${c}`,
    ),
  }),
  /**
   * AuthorizeSecurityGroup in its current form (`Permissions.N.*`; the top-level IpProtocol,
   * PortRange, SourceCidrIp, Policy and Priority are deprecated). A drop wins ties, so the accept
   * must carry a strictly lower priority number than the drop that blocks; a priority-1 drop
   * cannot be outranked and has to be removed or narrowed first.
   */
  alibaba: (groupId: string, port: number, cidrs: string[], region: string, drop?: BlockingDrop): Fix => {
    const priority = drop ? drop.priority - 1 : 1;
    if (priority < 1) {
      const revoke = drop?.ruleId
        ? `aliyun ecs RevokeSecurityGroup --RegionId ${region} --SecurityGroupId ${drop.groupId} --SecurityGroupRuleId.1 ${drop.ruleId}`
        : `# remove or narrow the drop rule: ${drop?.text ?? ''}`;
      return {
        summary:
          `The drop rule in ${drop?.groupId} is at priority 1, which no accept rule can outrank (a drop wins ties): ` +
          `remove or narrow that drop rule, then allow tcp/${port} from ${cidrs.join(', ')} in security group ${groupId} at priority 1.`,
        commands: [revoke, authorize(region, groupId, port, cidrs, 1)],
      };
    }
    const why = drop ? `, ahead of the drop rule at priority ${drop.priority} (a drop wins ties)` : '';
    return {
      summary: `Allow tcp/${port} from ${cidrs.join(', ')} in security group ${groupId} at priority ${priority}${why}.`,
      commands: [authorize(region, groupId, port, cidrs, priority)],
    };
  },
} as const;

/** The drop rule that decides against a client (the most urgent one when several do). */
export interface BlockingDrop {
  groupId: string;
  priority: number;
  ruleId?: string;
  text: string;
}

function authorize(region: string, groupId: string, port: number, cidrs: string[], priority: number): string {
  const perms = cidrs.map((c, i) => {
    const n = `--Permissions.${i + 1}`;
    const src = c.includes(':') ? 'Ipv6SourceCidrIp' : 'SourceCidrIp';
    return `${n}.IpProtocol tcp ${n}.PortRange ${port}/${port} ${n}.${src} ${c} ${n}.Policy accept ${n}.Priority ${priority}`;
  });
  return `aliyun ecs AuthorizeSecurityGroup --RegionId ${region} --SecurityGroupId ${groupId} ${perms.join(' ')}`;
}

type Decision = 'allow' | 'deny' | 'not-evaluable' | 'no-match';

function coversPort(rule: SecurityGroupRule, port: number): boolean {
  const p = rule.protocol.toLowerCase();
  if (p === 'all' || p === '-1') return true;
  if (p !== 'tcp' && p !== '6') return false;
  // Ports unknown (an unreadable port list): it may cover the port; decide() reports it, never guesses.
  if (rule.portsUnknown !== undefined) return true;
  return rule.portFrom <= port && port <= rule.portTo;
}

/** Decides one client IP; returns the deciding rules as evidence. */
function decide(rules: SecurityGroupRule[], ip: string, port: number): { decision: Decision; rules: SecurityGroupRule[] } {
  const relevant = rules.filter((r) => coversPort(r, port));
  const priorities = [...new Set(relevant.map((r) => r.priority))].sort((a, b) => a - b);
  for (const priority of priorities) {
    const tier = relevant.filter((r) => r.priority === priority);
    const cidrHit = (r: SecurityGroupRule) => r.source.kind === 'cidr' && cidrContains(r.source.cidr, ip);
    const matching = tier.filter((r) => cidrHit(r) && r.portsUnknown === undefined);
    const unknown = tier.filter((r) => r.source.kind !== 'cidr' || (r.portsUnknown !== undefined && cidrHit(r)));
    const deny = matching.filter((r) => r.action === 'deny');
    if (deny.length) return { decision: 'deny', rules: deny };
    // An unevaluable deny at this tier could beat a matching allow: say so.
    if (unknown.some((r) => r.action === 'deny')) return { decision: 'not-evaluable', rules: unknown };
    const allow = matching.filter((r) => r.action === 'allow');
    if (allow.length) return { decision: 'allow', rules: allow };
    if (unknown.length) return { decision: 'not-evaluable', rules: unknown };
  }
  return { decision: 'no-match', rules: [] };
}

function source(provider: 'aws' | 'alibaba'): string {
  return provider === 'aws' ? 'ec2:DescribeSecurityGroups' : 'ecs:DescribeSecurityGroupAttribute';
}

export const securityGroupCheck: Check = {
  id: 'security-group',
  title: 'Security groups admit the client on the SSH port',
  description:
    "Evaluates the instance's security groups for every client address on the sshd port, with each provider's semantics (AWS: any allow rule admits; Alibaba: lowest priority number wins, deny beats allow at equal priority). Rules that reference prefix lists or other groups are reported as not evaluable rather than guessed.",
  needs: ['cloud'],
  run(facts: Facts): CheckResult {
    const cloud = facts.cloud;
    if (!cloud?.securityGroupRules) return result(this, 'skip', SECURITY_GROUP_TEXT.notInspected);
    const ips = clientIps(facts);
    if (!ips.length) return result(this, 'skip', SECURITY_GROUP_TEXT.noClients);
    const { provider, region } = cloud.instance;
    const src = source(provider);
    const rules = cloud.securityGroupRules;
    const byDecision: Record<Decision, string[]> = { allow: [], deny: [], 'not-evaluable': [], 'no-match': [] };
    const groups = cloud.instance.securityGroupIds.length ? cloud.instance.securityGroupIds : [...new Set(rules.map((r) => r.groupId))];
    const nic = cloud.instance.probedInterface ? ` (those of ${cloud.instance.probedInterface}, the interface holding the probed address)` : '';
    const evidence: Evidence[] = [];
    const seen = new Set<string>();
    let drop: SecurityGroupRule | undefined;
    for (const ip of ips) {
      const d = decide(rules, ip, facts.port);
      byDecision[d.decision].push(ip);
      if (d.decision === 'deny') for (const r of d.rules) if (!drop || r.priority < drop.priority) drop = r;
      if (d.decision === 'no-match') {
        evidence.push({ source: src, text: SECURITY_GROUP_TEXT.noRuleFor(ip) });
        // The rules that cover the port but not the client: what would have to change.
        for (const r of rules.filter((x) => x.action === 'allow' && coversPort(x, facts.port)).slice(0, 6)) {
          evidence.push({ source: src, text: `${r.text}: does not include ${ip}` });
        }
      }
      for (const r of d.rules) {
        if (seen.has(r.text)) continue;
        seen.add(r.text);
        evidence.push({ source: src, text: r.text });
      }
    }
    // Last, what was evaluated: which groups, and whose (a secondary interface has its own).
    evidence.push({ source: src, text: SECURITY_GROUP_TEXT.evaluated(groups, nic) });
    const blocked = [...byDecision.deny, ...byDecision['no-match']];
    if (blocked.length) {
      const groupId = groups[0];
      const cidrs = blocked.map(hostCidr);
      const blocking = drop
        ? { groupId: drop.groupId, priority: drop.priority, text: drop.text, ...(drop.ruleId ? { ruleId: drop.ruleId.replace(/[^A-Za-z0-9-]/g, '') } : {}) }
        : undefined;
      const fix = !groupId
        ? null
        : provider === 'alibaba'
          ? SECURITY_GROUP_FIX.alibaba(groupId, facts.port, cidrs, region, blocking)
          : SECURITY_GROUP_FIX.aws(groupId, facts.port, cidrs, region);
      const summary = byDecision.deny.length ? SECURITY_GROUP_TEXT.explicitDeny(facts.port, byDecision.deny) : SECURITY_GROUP_TEXT.denied(facts.port, blocked);
      return result(this, 'fail', summary, evidence, fix);
    }
    if (byDecision['not-evaluable'].length) {
      return result(this, 'warn', SECURITY_GROUP_TEXT.notEvaluable(facts.port, byDecision['not-evaluable']), evidence);
    }
    return result(this, 'pass', SECURITY_GROUP_TEXT.allAllowed(facts.port, byDecision.allow), evidence);
  },
};
