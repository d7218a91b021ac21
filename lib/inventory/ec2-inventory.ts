/**
 * EC2 / SSM inventory: normalises DescribeInstances, DescribeSecurityGroups,
 * DescribeNetworkAcls (EC2 Query API, XML) and DescribeInstanceInformation (SSM SDK) into
 * the shared cloud facts. API failures propagate (wrapped by the provider); "does not exist"
 * answers become values.
 */
import type { Ec2QueryClient, Ec2QueryParams, XmlNode } from '../cloud/ec2-query-client';
import { xmlChild, xmlItems, xmlText } from '../cloud/ec2-query-client';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { InstanceInfo, NetworkAclEntry, RunCommandAgentFacts, SecurityGroupRule } from './types';

/** The fields of an EC2 instance the inventory reads, named as in the EC2 API reference. */
export interface Instance {
  InstanceId?: string;
  State?: { Name?: string };
  Platform?: string;
  PlatformDetails?: string;
  PublicIpAddress?: string;
  PrivateIpAddress?: string;
  NetworkInterfaces?: {
    NetworkInterfaceId?: string;
    SubnetId?: string;
    Attachment?: { DeviceIndex?: number };
    Groups?: { GroupId?: string }[];
    PrivateIpAddresses?: { PrivateIpAddress?: string; Association?: { PublicIp?: string } }[];
    Ipv6Addresses?: { Ipv6Address?: string }[];
  }[];
  SecurityGroups?: { GroupId?: string }[];
  SubnetId?: string;
  VpcId?: string;
  Tags?: { Key?: string; Value?: string }[];
}

/** One inbound permission of a security group. */
export interface IpPermission {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp?: string; Description?: string }[];
  Ipv6Ranges?: { CidrIpv6?: string; Description?: string }[];
  PrefixListIds?: { PrefixListId?: string; Description?: string }[];
  UserIdGroupPairs?: { GroupId?: string; Description?: string }[];
}

interface Ec2AclEntry {
  RuleNumber?: number;
  Protocol?: string;
  RuleAction?: string;
  Egress?: boolean;
  CidrBlock?: string;
  Ipv6CidrBlock?: string;
  PortRange?: { From?: number; To?: number };
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Drops undefined fields, so parsed shapes compare like the SDK's. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** An `<item>` of a `reservationSet/instancesSet` in the EC2 wire names. */
export function instanceFromXml(x: XmlNode): Instance {
  return defined({
    InstanceId: xmlText(x, 'instanceId'),
    State: defined({ Name: xmlText(xmlChild(x, 'instanceState'), 'name') }),
    Platform: xmlText(x, 'platform'),
    PlatformDetails: xmlText(x, 'platformDetails'),
    PublicIpAddress: xmlText(x, 'ipAddress'),
    PrivateIpAddress: xmlText(x, 'privateIpAddress'),
    NetworkInterfaces: xmlItems(x, 'networkInterfaceSet').map((n) => ({
      ...defined({ NetworkInterfaceId: xmlText(n, 'networkInterfaceId'), SubnetId: xmlText(n, 'subnetId') }),
      ...(xmlChild(n, 'attachment') ? { Attachment: defined({ DeviceIndex: num(xmlText(xmlChild(n, 'attachment'), 'deviceIndex')) }) } : {}),
      Groups: xmlItems(n, 'groupSet').map((g) => defined({ GroupId: xmlText(g, 'groupId') })),
      PrivateIpAddresses: xmlItems(n, 'privateIpAddressesSet').map((p) =>
        defined({ PrivateIpAddress: xmlText(p, 'privateIpAddress'), Association: defined({ PublicIp: xmlText(xmlChild(p, 'association'), 'publicIp') }) }),
      ),
      Ipv6Addresses: xmlItems(n, 'ipv6AddressesSet').map((a) => defined({ Ipv6Address: xmlText(a, 'ipv6Address') })),
    })),
    SecurityGroups: xmlItems(x, 'groupSet').map((g) => defined({ GroupId: xmlText(g, 'groupId') })),
    SubnetId: xmlText(x, 'subnetId'),
    VpcId: xmlText(x, 'vpcId'),
    Tags: xmlItems(x, 'tagSet').map((t) => defined({ Key: xmlText(t, 'key'), Value: xmlText(t, 'value') })),
  });
}

/** An `<item>` of `ipPermissions` in the EC2 wire names. */
export function permissionFromXml(x: XmlNode): IpPermission {
  return defined({
    IpProtocol: xmlText(x, 'ipProtocol'),
    FromPort: num(xmlText(x, 'fromPort')),
    ToPort: num(xmlText(x, 'toPort')),
    IpRanges: xmlItems(x, 'ipRanges').map((r) => defined({ CidrIp: xmlText(r, 'cidrIp'), Description: xmlText(r, 'description') })),
    Ipv6Ranges: xmlItems(x, 'ipv6Ranges').map((r) => defined({ CidrIpv6: xmlText(r, 'cidrIpv6'), Description: xmlText(r, 'description') })),
    PrefixListIds: xmlItems(x, 'prefixListIds').map((r) => defined({ PrefixListId: xmlText(r, 'prefixListId'), Description: xmlText(r, 'description') })),
    UserIdGroupPairs: xmlItems(x, 'groups').map((r) => defined({ GroupId: xmlText(r, 'groupId'), Description: xmlText(r, 'description') })),
  });
}

function aclEntryFromXml(x: XmlNode): Ec2AclEntry {
  const range = xmlChild(x, 'portRange');
  const egress = xmlText(x, 'egress');
  return defined({
    RuleNumber: num(xmlText(x, 'ruleNumber')),
    Protocol: xmlText(x, 'protocol'),
    RuleAction: xmlText(x, 'ruleAction'),
    Egress: egress === undefined ? undefined : egress === 'true',
    CidrBlock: xmlText(x, 'cidrBlock'),
    Ipv6CidrBlock: xmlText(x, 'ipv6CidrBlock'),
    PortRange: range ? defined({ From: num(xmlText(range, 'from')), To: num(xmlText(range, 'to')) }) : undefined,
  });
}

function instancesOf(page: XmlNode): XmlNode[] {
  return xmlItems(page, 'reservationSet').flatMap((r) => xmlItems(r, 'instancesSet'));
}

/** EC2's flattened list and filter parameters (`Prefix.1`, `Filter.1.Name`, `Filter.1.Value.1`). */
function listParams(prefix: string, values: readonly string[]): Ec2QueryParams {
  return Object.fromEntries(values.map((v, n) => [`${prefix}.${n + 1}`, v]));
}

function filterParams(filters: readonly { name: string; values: readonly string[] }[]): Ec2QueryParams {
  return Object.assign({}, ...filters.map((f, n) => ({ [`Filter.${n + 1}.Name`]: f.name, ...listParams(`Filter.${n + 1}.Value`, f.values) })));
}

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
    // Each interface filters with its own groups and subnet (hence network ACL).
    interfaces: nics
      .filter((n) => n.NetworkInterfaceId)
      .map((n) => ({
        id: n.NetworkInterfaceId!,
        ...(n.SubnetId ? { subnetId: n.SubnetId } : {}),
        securityGroupIds: uniq((n.Groups ?? []).map((g) => g.GroupId)),
        addresses: uniq([
          ...(n.PrivateIpAddresses ?? []).flatMap((p) => [p.PrivateIpAddress, p.Association?.PublicIp]),
          ...(n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address),
        ]),
        ...(n.Attachment?.DeviceIndex !== undefined ? { deviceIndex: n.Attachment.DeviceIndex } : {}),
      })),
    ...(i.VpcId ? { vpcId: i.VpcId } : {}),
    tags: Object.fromEntries((i.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? ''])),
  };
}

/** One instance, or null when EC2 says it does not exist. */
export async function describeEc2Instance(ec2: Ec2QueryClient, region: string, instanceId: string): Promise<InstanceInfo | null> {
  try {
    const out = await ec2.request('DescribeInstances', listParams('InstanceId', [instanceId]));
    const inst = instancesOf(out)
      .map(instanceFromXml)
      .find((i) => i.InstanceId === instanceId);
    return inst ? toInstanceInfo(inst, region) : null;
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceID.NotFound') return null;
    throw err;
  }
}

/** Every instance tagged key=value (all pages), terminated ones excluded. */
export async function listEc2InstancesByTag(ec2: Ec2QueryClient, region: string, key: string, value: string): Promise<InstanceInfo[]> {
  const out: InstanceInfo[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await ec2.request('DescribeInstances', {
      ...filterParams([
        { name: `tag:${key}`, values: [value] },
        { name: 'instance-state-name', values: ['pending', 'running', 'stopping', 'stopped'] },
      ]),
      MaxResults: '1000',
      ...(token ? { NextToken: token } : {}),
    });
    for (const i of instancesOf(page)) out.push(toInstanceInfo(instanceFromXml(i), region));
    const next = xmlText(page, 'nextToken') || undefined;
    // A token seen before would page forever; the SDK paginator stops there too.
    if (next && seen.has(next)) throw new Error(`DescribeInstances returned the same NextToken twice (${next})`);
    if (next) seen.add(next);
    token = next;
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
export async function describeSecurityGroupRules(ec2: Ec2QueryClient, groupIds: readonly string[]): Promise<SecurityGroupRule[]> {
  if (!groupIds.length) return [];
  const out = await ec2.request('DescribeSecurityGroups', listParams('GroupId', groupIds));
  return xmlItems(out, 'securityGroupInfo').flatMap((g) =>
    xmlItems(g, 'ipPermissions').flatMap((p) => permissionRules(xmlText(g, 'groupId') ?? '', permissionFromXml(p))),
  );
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
export async function describeSubnetNetworkAcl(ec2: Ec2QueryClient, subnetId: string): Promise<{ aclId: string; entries: NetworkAclEntry[] }> {
  const out = await ec2.request('DescribeNetworkAcls', filterParams([{ name: 'association.subnet-id', values: [subnetId] }]));
  const acl = xmlItems(out, 'networkAclSet')[0];
  const aclId = xmlText(acl, 'networkAclId');
  if (!aclId) throw new Error(`no network ACL is associated with ${subnetId}`);
  return { aclId, entries: xmlItems(acl, 'entrySet').map((e) => aclEntry(aclId, aclEntryFromXml(e))) };
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
