/**
 * EC2 / SSM inventory: normalises DescribeInstances, DescribeSecurityGroups,
 * DescribeNetworkAcls and DescribeInstanceInformation into the shared cloud facts. SDK
 * failures propagate (wrapped by the provider); "does not exist" answers become values.
 */
import {
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Instance,
  type IpPermission,
  type NetworkAclEntry as Ec2AclEntry,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { InstanceInfo, NetworkAclEntry, RunCommandAgentFacts, SecurityGroupRule } from './types';

const STATES: Record<string, InstanceInfo['state']> = {
  pending: 'pending',
  running: 'running',
  'shutting-down': 'stopping',
  stopping: 'stopping',
  stopped: 'stopped',
  terminated: 'terminated',
};

function uniq(list: (string | undefined)[]): string[] {
  return [...new Set(list.filter((x): x is string => !!x))];
}

/** Normalises one EC2 instance. */
export function toInstanceInfo(i: Instance, region: string): InstanceInfo {
  const nics = i.NetworkInterfaces ?? [];
  const rawState = i.State?.Name ?? 'unknown';
  // EC2 sets Platform only for Windows (the wire value is lower-case, the SDK type says `Windows`).
  const windows = /windows/i.test(`${i.Platform ?? ''} ${i.PlatformDetails ?? ''}`);
  return {
    provider: 'aws',
    region,
    instanceId: i.InstanceId ?? '',
    state: STATES[rawState] ?? 'unknown',
    rawState,
    platform: windows ? 'windows' : 'linux',
    // IPv6 addresses are globally routable in AWS, so they count as public, after IPv4.
    publicIps: uniq([
      i.PublicIpAddress,
      ...nics.flatMap((n) => (n.PrivateIpAddresses ?? []).map((p) => p.Association?.PublicIp)),
      ...nics.flatMap((n) => (n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address)),
    ]),
    privateIps: uniq([i.PrivateIpAddress, ...nics.flatMap((n) => (n.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress))]),
    securityGroupIds: uniq((i.SecurityGroups ?? []).map((g) => g.GroupId)),
    ...(i.SubnetId ? { subnetId: i.SubnetId } : {}),
    ...(i.VpcId ? { vpcId: i.VpcId } : {}),
    tags: Object.fromEntries((i.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? ''])),
  };
}

/** One instance, or null when EC2 says it does not exist. */
export async function describeEc2Instance(ec2: EC2Client, region: string, instanceId: string): Promise<InstanceInfo | null> {
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const inst = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    return inst ? toInstanceInfo(inst, region) : null;
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceID.NotFound') return null;
    throw err;
  }
}

/** Every instance tagged key=value (all pages), terminated ones excluded. */
export async function listEc2InstancesByTag(ec2: EC2Client, region: string, key: string, value: string): Promise<InstanceInfo[]> {
  const out: InstanceInfo[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${key}`, Values: [value] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
        MaxResults: 1000,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toInstanceInfo(i, region));
    token = page.NextToken || undefined;
  } while (token);
  return out;
}

function protocolOf(p: string | undefined): string {
  if (p === '-1' || p === undefined) return 'all';
  return ({ '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' } as Record<string, string>)[p] ?? p.toLowerCase();
}

function portRange(protocol: string, from: number | undefined, to: number | undefined): [number, number] {
  if (protocol === 'all' || from === undefined || from === -1) return [0, 65535];
  return [from, to ?? from];
}

/** Expands one IpPermission into one normalised rule per source. */
export function permissionRules(groupId: string, p: IpPermission): SecurityGroupRule[] {
  const protocol = protocolOf(p.IpProtocol);
  const [portFrom, portTo] = portRange(protocol, p.FromPort, p.ToPort);
  const ports = protocol === 'all' ? 'all traffic' : `${protocol} ${portFrom === portTo ? portFrom : `${portFrom}-${portTo}`}`;
  const base = { groupId, action: 'allow' as const, priority: 1, protocol, portFrom, portTo };
  const text = (from: string, desc?: string) => `${groupId}: allow ${ports} from ${from}${desc ? ` (${desc})` : ''}`;
  return [
    ...(p.IpRanges ?? []).map((r) => ({ ...base, source: { kind: 'cidr' as const, cidr: r.CidrIp ?? '' }, text: text(r.CidrIp ?? '', r.Description) })),
    ...(p.Ipv6Ranges ?? []).map((r) => ({ ...base, source: { kind: 'cidr' as const, cidr: r.CidrIpv6 ?? '' }, text: text(r.CidrIpv6 ?? '', r.Description) })),
    ...(p.PrefixListIds ?? []).map((r) => ({
      ...base,
      source: { kind: 'prefix-list' as const, id: r.PrefixListId ?? '' },
      text: text(`prefix list ${r.PrefixListId} (not evaluable)`, r.Description),
    })),
    ...(p.UserIdGroupPairs ?? []).map((r) => ({
      ...base,
      source: { kind: 'group' as const, id: r.GroupId ?? '' },
      text: text(`security group ${r.GroupId} (not evaluable)`, r.Description),
    })),
  ];
}

/** Inbound rules of the given groups, normalised. */
export async function describeSecurityGroupRules(ec2: EC2Client, groupIds: readonly string[]): Promise<SecurityGroupRule[]> {
  if (!groupIds.length) return [];
  const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [...groupIds] }));
  return (out.SecurityGroups ?? []).flatMap((g) => (g.IpPermissions ?? []).flatMap((p) => permissionRules(g.GroupId ?? '', p)));
}

function aclEntry(aclId: string, e: Ec2AclEntry): NetworkAclEntry {
  const protocol = protocolOf(e.Protocol);
  const [portFrom, portTo] = portRange(protocol, e.PortRange?.From, e.PortRange?.To);
  const cidr = e.CidrBlock ?? e.Ipv6CidrBlock ?? '';
  const rule = e.RuleNumber === 32767 ? '*' : `#${e.RuleNumber}`;
  const ports = protocol === 'all' ? 'all traffic' : `${protocol} ${portFrom}-${portTo}`;
  return {
    aclId,
    ruleNumber: e.RuleNumber ?? 32767,
    egress: e.Egress === true,
    action: e.RuleAction === 'allow' ? 'allow' : 'deny',
    protocol,
    portFrom,
    portTo,
    cidr,
    text: `${aclId} ${e.Egress ? 'outbound' : 'inbound'} ${rule}: ${e.RuleAction} ${ports} ${e.Egress ? 'to' : 'from'} ${cidr}`,
  };
}

/**
 * Entries of the network ACL associated with the subnet.
 * @throws Error when no ACL is associated (never an empty list, which would read as "deny all").
 */
export async function describeSubnetNetworkAcl(ec2: EC2Client, subnetId: string): Promise<NetworkAclEntry[]> {
  const out = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }));
  const acl = out.NetworkAcls?.[0];
  if (!acl?.NetworkAclId) throw new Error(`no network ACL is associated with ${subnetId}`);
  return (acl.Entries ?? []).map((e) => aclEntry(acl.NetworkAclId!, e));
}

/** SSM's view of the agent on the instance. */
export async function describeSsmAgent(ssm: SSMClient, instanceId: string): Promise<RunCommandAgentFacts> {
  try {
    const out = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
    const info = out.InstanceInformationList?.find((i) => i.InstanceId === instanceId);
    if (!info) return { status: 'not-registered', raw: 'not a managed instance' };
    const raw = info.PingStatus ?? '';
    const status = raw === 'Online' ? 'online' : raw === 'ConnectionLost' || raw === 'Inactive' ? 'offline' : 'unknown';
    return {
      status,
      raw,
      ...(info.LastPingDateTime ? { lastSeen: info.LastPingDateTime.toISOString() } : {}),
      ...(info.AgentVersion ? { agentVersion: info.AgentVersion } : {}),
    };
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceId') return { status: 'not-registered', raw: 'not a managed instance' };
    throw err;
  }
}
