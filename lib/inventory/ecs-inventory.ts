/**
 * ECS inventory: instance lookup, security-group rules and Cloud Assistant status, normalised
 * into the provider-neutral shapes of ./types. Responses are read defensively: a field the API
 * omits becomes "unknown", never a guess.
 */
import type { InstanceInfo, RunCommandAgentFacts, SecurityGroupRule, RuleSource } from './types';
import type { RpcCaller } from '../cloud/alibaba-rpc';
import { arr, obj, str } from '../cloud/json-read';

/** Looks one instance up; null when ECS does not know it. */
export async function describeEcsInstance(call: RpcCaller, regionId: string, instanceId: string): Promise<InstanceInfo | null> {
  const res = await call('DescribeInstances', {
    RegionId: regionId,
    InstanceIds: JSON.stringify([instanceId]),
    PageSize: 10,
  });
  const found = arr(obj(res.Instances).Instance)
    .map(obj)
    .find((i) => i.InstanceId === instanceId);
  return found ? toInstanceInfo(found, regionId) : null;
}

/** Instances carrying tag `key=value` (paged with NextToken, at most 100 pages of 100). */
export async function listEcsInstancesByTag(call: RpcCaller, regionId: string, key: string, value: string): Promise<InstanceInfo[]> {
  const out: InstanceInfo[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await call('DescribeInstances', {
      RegionId: regionId,
      'Tag.1.Key': key,
      'Tag.1.Value': value,
      MaxResults: 100,
      NextToken: token,
    });
    for (const i of arr(obj(res.Instances).Instance)) out.push(toInstanceInfo(obj(i), regionId));
    token = typeof res.NextToken === 'string' && res.NextToken !== '' ? res.NextToken : undefined;
    if (!token) break;
  }
  return out;
}

const STATES: Record<string, InstanceInfo['state']> = {
  Running: 'running',
  Stopped: 'stopped',
  Pending: 'pending',
  Starting: 'pending',
  Stopping: 'stopping',
};

/** Normalises one `Instances.Instance[]` entry. */
export function toInstanceInfo(i: Record<string, unknown>, regionId: string): InstanceInfo {
  const rawState = str(i.Status);
  const os = str(i.OSType).toLowerCase();
  const publicIps = [...ipList(obj(i.PublicIpAddress).IpAddress), ...ipList(obj(i.EipAddress).IpAddress)];
  const vpc = obj(i.VpcAttributes);
  const privateIps = [...ipList(obj(vpc.PrivateIpAddress).IpAddress), ...ipList(obj(i.InnerIpAddress).IpAddress)];
  const tags: Record<string, string> = {};
  for (const t of arr(obj(i.Tags).Tag).map(obj)) {
    if (typeof t.TagKey === 'string') tags[t.TagKey] = str(t.TagValue);
  }
  const info: InstanceInfo = {
    provider: 'alibaba',
    region: str(i.RegionId) || regionId,
    instanceId: str(i.InstanceId),
    state: STATES[rawState] ?? 'unknown',
    rawState,
    platform: os === 'linux' ? 'linux' : os === 'windows' ? 'windows' : 'unknown',
    publicIps: [...new Set(publicIps)],
    privateIps: [...new Set(privateIps)],
    securityGroupIds: arr(obj(i.SecurityGroupIds).SecurityGroupId).filter((g): g is string => typeof g === 'string'),
    tags,
  };
  const vswitch = str(vpc.VSwitchId);
  const vpcId = str(vpc.VpcId);
  if (vswitch) info.subnetId = vswitch;
  if (vpcId) info.vpcId = vpcId;
  return info;
}

/** Inbound rules of one security group (all pages), normalised; port lists are read once each. */
export async function describeEcsSecurityGroupRules(call: RpcCaller, regionId: string, groupId: string): Promise<SecurityGroupRule[]> {
  const perms: Record<string, unknown>[] = [];
  let token: string | undefined;
  for (let page = 0; page < 50; page++) {
    const res = await call('DescribeSecurityGroupAttribute', {
      RegionId: regionId,
      SecurityGroupId: groupId,
      Direction: 'ingress',
      MaxResults: 1000,
      NextToken: token,
    });
    for (const p of arr(obj(res.Permissions).Permission)) perms.push(obj(p));
    token = typeof res.NextToken === 'string' && res.NextToken !== '' ? res.NextToken : undefined;
    if (!token) break;
  }
  const lists = new Map<string, Promise<PortList>>();
  const rules: SecurityGroupRule[] = [];
  for (const p of perms) {
    const listId = str(p.PortRangeListId);
    if (!listId) {
      rules.push(...normalisePermission(groupId, p));
      continue;
    }
    if (!lists.has(listId)) lists.set(listId, describePortRangeList(call, regionId, listId));
    const list = await lists.get(listId)!;
    if ('error' in list) {
      rules.push(...normalisePermission(groupId, p, { unknown: `port list ${listId} could not be read: ${list.error}` }));
      continue;
    }
    // A rule on a port list stands for one rule per entry of the list (an empty list covers nothing).
    for (const entry of list.entries) rules.push(...normalisePermission(groupId, p, { range: entry, listId }));
  }
  return rules;
}

type PortList = { entries: string[] } | { error: string };

/** The `PortRange` of every entry of a port list, or why it could not be read. */
async function describePortRangeList(call: RpcCaller, regionId: string, listId: string): Promise<PortList> {
  try {
    const res = await call('DescribePortRangeListEntries', { RegionId: regionId, PortRangeListId: listId });
    return { entries: arr(res.Entries).map((e) => str(obj(e).PortRange)) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * One ECS `Permission` → zero or more rules (one per source it names). Egress entries are
 * dropped. `PortRange` is `from/to`; `-1/-1` means every port (protocols ALL, ICMP, GRE). A
 * TCP/UDP rule whose ports cannot be read (empty or malformed PortRange, an unreadable port
 * list) is kept with `portsUnknown`: never read as all ports, never silently dropped.
 * `list`: the port-list entry this rule stands for, or why the list could not be read.
 */
export function normalisePermission(
  groupId: string,
  p: Record<string, unknown>,
  list?: { range: string; listId: string } | { unknown: string },
): SecurityGroupRule[] {
  if (str(p.Direction) && str(p.Direction).toLowerCase() !== 'ingress') return [];
  const action = str(p.Policy).toLowerCase() === 'drop' ? 'deny' : 'allow';
  const prio = Number.parseInt(str(p.Priority) || '1', 10);
  const priority = Number.isInteger(prio) && prio >= 1 && prio <= 100 ? prio : 1;
  const protocol = (str(p.IpProtocol) || 'all').toLowerCase();
  const rawRange = list && 'range' in list ? list.range : str(p.PortRange);
  const range = list && 'unknown' in list ? null : parsePortRange(rawRange, protocol);
  const portsUnknown =
    list && 'unknown' in list ? list.unknown : range ? undefined : `PortRange ${rawRange === '' ? 'is empty' : `"${rawRange.slice(0, 20)}" is not from/to`}`;
  const sources: RuleSource[] = [];
  if (str(p.SourceCidrIp)) sources.push({ kind: 'cidr', cidr: str(p.SourceCidrIp) });
  if (str(p.Ipv6SourceCidrIp)) sources.push({ kind: 'cidr', cidr: str(p.Ipv6SourceCidrIp) });
  if (str(p.SourceGroupId)) sources.push({ kind: 'group', id: str(p.SourceGroupId) });
  if (str(p.SourcePrefixListId)) sources.push({ kind: 'prefix-list', id: str(p.SourcePrefixListId) });
  const [from, to] = range ?? [0, 65535];
  const ports = protocol === 'all' ? 'all ports' : !range ? 'unknown ports' : from === to ? `${from}` : `${from}-${to}`;
  const inList = list && 'listId' in list ? ` (port list ${list.listId})` : '';
  const extra = [
    str(p.SourcePortRange) && !['-1/-1', '1/65535'].includes(str(p.SourcePortRange)) ? `source ports ${str(p.SourcePortRange)}` : '',
    str(p.DestCidrIp) ? `to ${str(p.DestCidrIp)}` : '',
    portsUnknown ? `not evaluable: ${portsUnknown}` : '',
    str(p.Description) ? `"${str(p.Description).slice(0, 80)}"` : '',
  ].filter(Boolean);
  const ruleId = str(p.SecurityGroupRuleId);
  return sources.map((source) => ({
    groupId,
    action,
    priority,
    protocol,
    portFrom: from,
    portTo: to,
    source,
    ...(portsUnknown ? { portsUnknown } : {}),
    ...(ruleId ? { ruleId } : {}),
    text:
      `${groupId}: ${action === 'deny' ? 'drop' : 'accept'} ${protocol} ${ports}${inList} ` +
      `from ${sourceText(source)} (priority ${priority})${extra.length ? `, ${extra.join(', ')}` : ''}`,
  }));
}

/** `from/to` as numbers; every port for protocol all and -1/-1; null when unreadable (an empty range included). */
function parsePortRange(raw: string, protocol: string): [number, number] | null {
  if (protocol === 'all' || raw === '-1/-1') return [0, 65535];
  const m = /^(-?\d+)\/(-?\d+)$/.exec(raw);
  if (!m) return null;
  const from = Number(m[1]);
  const to = Number(m[2]);
  if (!(from >= 0 && to <= 65535 && from <= to)) return null;
  return [from, to];
}

function sourceText(s: RuleSource): string {
  return s.kind === 'cidr' ? s.cidr : s.kind === 'group' ? `security group ${s.id}` : `prefix list ${s.id}`;
}

/** Cloud Assistant agent status of one instance. */
export async function describeCloudAssistantStatus(call: RpcCaller, regionId: string, instanceId: string): Promise<RunCommandAgentFacts> {
  const res = await call('DescribeCloudAssistantStatus', { RegionId: regionId, 'InstanceId.1': instanceId });
  const entry = arr(obj(res.InstanceCloudAssistantStatusSet).InstanceCloudAssistantStatus)
    .map(obj)
    .find((s) => s.InstanceId === instanceId);
  if (!entry) return { status: 'not-registered', raw: 'absent' };
  const raw = str(entry.CloudAssistantStatus);
  const facts: RunCommandAgentFacts = {
    status: raw === 'true' ? 'online' : raw === 'false' ? 'offline' : 'unknown',
    raw: raw || 'absent',
  };
  if (str(entry.LastHeartbeatTime)) facts.lastSeen = str(entry.LastHeartbeatTime);
  if (str(entry.CloudAssistantVersion)) facts.agentVersion = str(entry.CloudAssistantVersion);
  return facts;
}

function ipList(v: unknown): string[] {
  if (typeof v === 'string') return v ? [v] : [];
  return arr(v).filter((x): x is string => typeof x === 'string' && x !== '');
}
