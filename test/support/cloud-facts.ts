/** Builders for normalised cloud facts, for the cloud check unit tests. */
import type { Facts } from '../../lib/checks/types';
import type { CloudFacts, InstanceInfo, NetworkAclEntry, SecurityGroupRule } from '../../lib/inventory/types';

export function instance(over: Partial<InstanceInfo> = {}): InstanceInfo {
  return {
    provider: 'aws',
    region: 'eu-west-1',
    instanceId: 'i-0123456789abcdef0',
    state: 'running',
    rawState: 'running',
    platform: 'linux',
    publicIps: ['198.51.100.10'],
    privateIps: ['10.0.1.10'],
    securityGroupIds: ['sg-0aaa'],
    subnetId: 'subnet-0aaa',
    tags: {},
    ...over,
  };
}

export function factsWith(cloud: Partial<CloudFacts> | null, ips: string[] = ['203.0.113.7'], port = 22): Facts {
  return {
    port,
    clients: ips.map((ip) => ({ ip, source: 'user' as const })),
    probe: null,
    host: null,
    hostError: null,
    cloud: cloud ? { instance: instance(), ...cloud } : null,
  };
}

export function sgRule(over: Partial<SecurityGroupRule> & { cidr?: string }): SecurityGroupRule {
  const { cidr, ...rest } = over;
  const r: SecurityGroupRule = {
    groupId: 'sg-0aaa',
    action: 'allow',
    priority: 1,
    protocol: 'tcp',
    portFrom: 22,
    portTo: 22,
    source: { kind: 'cidr', cidr: cidr ?? '0.0.0.0/0' },
    text: '',
    ...rest,
  };
  const src = r.source.kind === 'cidr' ? r.source.cidr : `${r.source.kind} ${r.source.id}`;
  r.text ||= `${r.groupId}: ${r.action} ${r.protocol} ${r.portFrom}-${r.portTo} from ${src} (priority ${r.priority})`;
  return r;
}

export function aclEntry(over: Partial<NetworkAclEntry>): NetworkAclEntry {
  const e: NetworkAclEntry = {
    aclId: 'acl-0aaa',
    ruleNumber: 100,
    egress: false,
    action: 'allow',
    protocol: 'all',
    portFrom: 0,
    portTo: 65535,
    cidr: '0.0.0.0/0',
    text: '',
    ...over,
  };
  e.text ||= `acl-0aaa ${e.egress ? 'egress' : 'ingress'} #${e.ruleNumber}: ${e.action} ${e.protocol} ${e.portFrom}-${e.portTo} ${e.cidr}`;
  return e;
}
