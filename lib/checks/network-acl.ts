/**
 * Judges the subnet's network ACL (AWS): stateless, so both directions matter. Entries are
 * evaluated in rule-number order and the first match decides; nothing matching means deny
 * (the `*` rule). Inbound: client -> sshd port. Outbound: sshd port -> the client's ephemeral
 * port, which the ACL sees as a destination port somewhere in 1024-65535.
 */
import type { Check, Facts } from './types';
import type { CheckResult, Evidence, Fix } from '../report/types';
import type { NetworkAclEntry } from '../inventory/types';
import { cidrContains, hostCidr } from '../cloud/cidr';
import { clientIps, mergeFixes, result } from './support/result';

const SOURCE = 'ec2:DescribeNetworkAcls';
/** Ephemeral ranges: NAT gateways and ELBs use 1024-65535; Linux 32768-60999; Windows 49152-65535. */
const EPHEMERAL: [number, number] = [1024, 65535];
const COMMON_EPHEMERAL: [number, number] = [32768, 65535];

export const NETWORK_ACL_TEXT = {
  notInspected: 'The network ACL was not inspected.',
  noClients: 'No client address to evaluate the network ACL for.',
  pass: (port: number, ips: string[]) => `The network ACL allows tcp/${port} in and return traffic out for ${ips.join(', ')}.`,
  inboundDenied: (port: number, ips: string[]) => `The network ACL denies inbound tcp/${port} from ${ips.join(', ')}.`,
  outboundDenied: (ips: string[]) =>
    `The network ACL denies outbound return traffic (tcp to ephemeral ports) to ${ips.join(', ')}: connections open but no reply arrives.`,
  outboundPartial: (ips: string[], ranges: string) =>
    `The network ACL allows return traffic to ${ips.join(', ')} only on ports ${ranges}; clients using other ephemeral ports (e.g. behind NAT) time out.`,
  defaultDeny: (dir: string, ip: string) => `no ${dir} entry matches ${ip}: the default (*) rule denies`,
} as const;

export const NETWORK_ACL_FIX = {
  inbound: (aclId: string, ruleNumber: number, port: number, cidr: string, region: string): Fix => ({
    summary: `Add inbound rule ${ruleNumber} to ${aclId} allowing tcp/${port} from ${cidr}, ahead of the denying rule.`,
    commands: [
      `aws ec2 create-network-acl-entry --region ${region} --network-acl-id ${aclId} --ingress --rule-number ${ruleNumber} --protocol tcp --port-range From=${port},To=${port} --${cidr.includes(':') ? 'ipv6-cidr-block' : 'cidr-block'} ${cidr} --rule-action allow`,
    ],
  }),
  outbound: (aclId: string, ruleNumber: number, cidr: string, region: string): Fix => ({
    summary: `Add outbound rule ${ruleNumber} to ${aclId} allowing tcp ${EPHEMERAL[0]}-${EPHEMERAL[1]} to ${cidr} (return traffic), ahead of the denying rule.`,
    commands: [
      `aws ec2 create-network-acl-entry --region ${region} --network-acl-id ${aclId} --egress --rule-number ${ruleNumber} --protocol tcp --port-range From=${EPHEMERAL[0]},To=${EPHEMERAL[1]} --${cidr.includes(':') ? 'ipv6-cidr-block' : 'cidr-block'} ${cidr} --rule-action allow`,
    ],
  }),
} as const;

function protoMatches(e: NetworkAclEntry): 'all' | 'tcp' | null {
  const p = e.protocol.toLowerCase();
  if (p === 'all' || p === '-1') return 'all';
  if (p === 'tcp' || p === '6') return 'tcp';
  return null;
}

type Range = [number, number];

function subtract(ranges: Range[], cut: Range): { inside: Range[]; outside: Range[] } {
  const inside: Range[] = [];
  const outside: Range[] = [];
  for (const [a, b] of ranges) {
    const lo = Math.max(a, cut[0]);
    const hi = Math.min(b, cut[1]);
    if (lo > hi) {
      outside.push([a, b]);
      continue;
    }
    inside.push([lo, hi]);
    if (a < lo) outside.push([a, lo - 1]);
    if (hi < b) outside.push([hi + 1, b]);
  }
  return { inside, outside };
}

/** First-match walk over `entries` for `ip`, on the ports in `span`: which ports end up allowed. */
function walk(entries: NetworkAclEntry[], ip: string, span: Range): { allowed: Range[]; deciding: NetworkAclEntry[] } {
  let remaining: Range[] = [span];
  const allowed: Range[] = [];
  const deciding: NetworkAclEntry[] = [];
  for (const e of [...entries].sort((a, b) => a.ruleNumber - b.ruleNumber)) {
    if (!remaining.length) break;
    const proto = protoMatches(e);
    if (!proto || !cidrContains(e.cidr, ip)) continue;
    const { inside, outside } = subtract(remaining, proto === 'all' ? [0, 65535] : [e.portFrom, e.portTo]);
    if (!inside.length) continue;
    deciding.push(e);
    if (e.action === 'allow') allowed.push(...inside);
    remaining = outside;
  }
  return { allowed, deciding };
}

function covers(allowed: Range[], want: Range): boolean {
  return allowed.reduce<Range[]>((rest, r) => subtract(rest, r).outside, [want]).length === 0;
}

/**
 * A free rule number ahead of `before` (first match wins, so the new rule must come earlier).
 * Ahead of the default (*) rule, the next round number after the existing rules reads better.
 */
function freeRuleNumber(entries: NetworkAclEntry[], egress: boolean, before: number): number {
  const used = new Set(entries.filter((e) => e.egress === egress).map((e) => e.ruleNumber));
  if (before >= 32767) {
    const highest = Math.max(0, ...[...used].filter((n) => n < 32767));
    const next = Math.min(32766, (Math.floor(highest / 10) + 1) * 10);
    if (!used.has(next)) return next;
  }
  for (let n = Math.min(before - 1, 32766); n >= 1; n--) if (!used.has(n)) return n;
  return 1;
}

export const networkAclCheck: Check = {
  id: 'network-acl',
  title: "The subnet's network ACL admits SSH and its return traffic",
  description:
    "Evaluates the AWS subnet's network ACL in rule-number order (first match wins, default deny) for every client address: inbound to the sshd port, and outbound return traffic to the client's ephemeral ports, since ACLs are stateless. A missing outbound rule shows up as a connect that hangs, not a refusal.",
  needs: ['cloud'],
  run(facts: Facts): CheckResult {
    const cloud = facts.cloud;
    if (!cloud?.networkAcl) return result(this, 'skip', NETWORK_ACL_TEXT.notInspected);
    const ips = clientIps(facts);
    if (!ips.length) return result(this, 'skip', NETWORK_ACL_TEXT.noClients);
    const entries = cloud.networkAcl;
    const inbound = entries.filter((e) => !e.egress);
    const outbound = entries.filter((e) => e.egress);
    const aclId = cloud.networkAclId ?? entries[0]?.aclId;
    if (!aclId) return result(this, 'skip', NETWORK_ACL_TEXT.notInspected);
    const region = cloud.instance.region;
    const evidence: Evidence[] = [];
    const seen = new Set<string>();
    const note = (list: NetworkAclEntry[]) => {
      for (const e of list) {
        if (seen.has(e.text)) continue;
        seen.add(e.text);
        evidence.push({ source: SOURCE, text: e.text });
      }
    };
    const inDenied: string[] = [];
    const outDenied: string[] = [];
    const outPartial: string[] = [];
    let inFix: Fix | null = null;
    let outFix: Fix | null = null;
    for (const ip of ips) {
      const inb = walk(inbound, ip, [facts.port, facts.port]);
      note(inb.deciding);
      if (!inb.allowed.length) {
        inDenied.push(ip);
        if (!inb.deciding.length) evidence.push({ source: SOURCE, text: NETWORK_ACL_TEXT.defaultDeny('inbound', ip) });
        const before = inb.deciding[0]?.ruleNumber ?? 32767;
        inFix ??= NETWORK_ACL_FIX.inbound(aclId, freeRuleNumber(entries, false, before), facts.port, hostCidr(ip), region);
      }
      const out = walk(outbound, ip, EPHEMERAL);
      note(out.deciding);
      if (covers(out.allowed, EPHEMERAL)) continue;
      if (!out.deciding.length) evidence.push({ source: SOURCE, text: NETWORK_ACL_TEXT.defaultDeny('outbound', ip) });
      const firstDeny = out.deciding.find((e) => e.action === 'deny')?.ruleNumber ?? 32767;
      if (covers(out.allowed, COMMON_EPHEMERAL)) outPartial.push(ip);
      else {
        outDenied.push(ip);
        outFix ??= NETWORK_ACL_FIX.outbound(aclId, freeRuleNumber(entries, true, firstDeny), hostCidr(ip), region);
      }
    }
    if (inDenied.length || outDenied.length) {
      const parts = [];
      if (inDenied.length) parts.push(NETWORK_ACL_TEXT.inboundDenied(facts.port, inDenied));
      if (outDenied.length) parts.push(NETWORK_ACL_TEXT.outboundDenied(outDenied));
      const fixes = [inFix, outFix].filter((f): f is Fix => f !== null);
      return result(this, 'fail', parts.join(' '), evidence, mergeFixes(fixes));
    }
    if (outPartial.length) {
      return result(this, 'warn', NETWORK_ACL_TEXT.outboundPartial(outPartial, `${COMMON_EPHEMERAL[0]}-${COMMON_EPHEMERAL[1]}`), evidence);
    }
    return result(this, 'pass', NETWORK_ACL_TEXT.pass(facts.port, ips), evidence);
  },
};
