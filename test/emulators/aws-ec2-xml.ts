/** EC2 Query-protocol responses (XML, API version 2016-11-15) in the shapes the SDK parses. */

export function esc(v: unknown): string {
  return String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `<name>value</name>`, omitted for undefined. */
export function el(name: string, value: unknown): string {
  return value === undefined || value === null ? '' : `<${name}>${esc(value)}</${name}>`;
}

export function set(name: string, items: string[]): string {
  return `<${name}>${items.map((i) => `<item>${i}</item>`).join('')}</${name}>`;
}

export function ec2Response(action: string, requestId: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${el('requestId', requestId)}${body}</${action}Response>`;
}

export function ec2Error(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', code)}${el('Message', message)}</Error></Errors>${el('RequestID', requestId)}</Response>`;
}

export interface EmuInstance {
  instanceId: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  platform?: 'windows';
  publicIp?: string;
  privateIp: string;
  ipv6?: string;
  securityGroupIds: string[];
  subnetId: string;
  vpcId: string;
  tags: Record<string, string>;
  /** Secondary network interfaces: their own groups, subnet and addresses (DescribeInstances' networkInterfaceSet). */
  extraInterfaces?: { id: string; privateIp: string; publicIp?: string; subnetId: string; securityGroupIds: string[] }[];
}

const STATE_CODES: Record<EmuInstance['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export function instanceXml(i: EmuInstance): string {
  return [
    el('instanceId', i.instanceId),
    el('imageId', 'ami-0123456789abcdef0'),
    `<instanceState>${el('code', STATE_CODES[i.state])}${el('name', i.state)}</instanceState>`,
    el('privateIpAddress', i.privateIp),
    i.state === 'running' ? el('ipAddress', i.publicIp) : '',
    el('platform', i.platform),
    el('platformDetails', i.platform === 'windows' ? 'Windows' : 'Linux/UNIX'),
    el('subnetId', i.subnetId),
    el('vpcId', i.vpcId),
    set(
      'groupSet',
      i.securityGroupIds.map((g) => `${el('groupId', g)}${el('groupName', g)}`),
    ),
    set(
      'tagSet',
      Object.entries(i.tags).map(([k, v]) => `${el('key', k)}${el('value', v)}`),
    ),
    set('networkInterfaceSet', [
      [
        el('networkInterfaceId', `eni-${i.instanceId.slice(2)}`),
        el('subnetId', i.subnetId),
        el('privateIpAddress', i.privateIp),
        `<attachment>${el('deviceIndex', 0)}</attachment>`,
        set(
          'groupSet',
          i.securityGroupIds.map((g) => `${el('groupId', g)}${el('groupName', g)}`),
        ),
        set('ipv6AddressesSet', i.ipv6 ? [el('ipv6Address', i.ipv6)] : []),
        set('privateIpAddressesSet', [
          `${el('privateIpAddress', i.privateIp)}${el('primary', true)}${i.publicIp && i.state === 'running' ? `<association>${el('publicIp', i.publicIp)}</association>` : ''}`,
        ]),
      ].join(''),
      ...(i.extraInterfaces ?? []).map((n, k) =>
        [
          el('networkInterfaceId', n.id),
          el('subnetId', n.subnetId),
          el('privateIpAddress', n.privateIp),
          `<attachment>${el('deviceIndex', k + 1)}</attachment>`,
          set(
            'groupSet',
            n.securityGroupIds.map((g) => `${el('groupId', g)}${el('groupName', g)}`),
          ),
          set('privateIpAddressesSet', [
            `${el('privateIpAddress', n.privateIp)}${el('primary', true)}${n.publicIp && i.state === 'running' ? `<association>${el('publicIp', n.publicIp)}</association>` : ''}`,
          ]),
        ].join(''),
      ),
    ]),
  ].join('');
}

export interface EmuPermission {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrs?: string[];
  ipv6Cidrs?: string[];
  prefixListIds?: string[];
  groupIds?: string[];
}

export interface EmuSecurityGroup {
  groupId: string;
  vpcId: string;
  ingress: EmuPermission[];
}

export function securityGroupXml(g: EmuSecurityGroup): string {
  const perm = (p: EmuPermission) =>
    [
      el('ipProtocol', p.protocol),
      el('fromPort', p.fromPort),
      el('toPort', p.toPort),
      set(
        'groups',
        (p.groupIds ?? []).map((id) => `${el('groupId', id)}${el('userId', '123456789012')}`),
      ),
      set(
        'ipRanges',
        (p.cidrs ?? []).map((c) => el('cidrIp', c)),
      ),
      set(
        'ipv6Ranges',
        (p.ipv6Cidrs ?? []).map((c) => el('cidrIpv6', c)),
      ),
      set(
        'prefixListIds',
        (p.prefixListIds ?? []).map((id) => el('prefixListId', id)),
      ),
    ].join('');
  return [
    el('ownerId', '123456789012'),
    el('groupId', g.groupId),
    el('groupName', g.groupId),
    el('groupDescription', 'emulated'),
    el('vpcId', g.vpcId),
    set('ipPermissions', g.ingress.map(perm)),
    set('ipPermissionsEgress', [perm({ protocol: '-1', cidrs: ['0.0.0.0/0'] })]),
  ].join('');
}

export interface EmuAclEntry {
  ruleNumber: number;
  egress: boolean;
  action: 'allow' | 'deny';
  /** `-1` (all) or a protocol number such as `6`. */
  protocol: string;
  from?: number;
  to?: number;
  cidr?: string;
  ipv6Cidr?: string;
}

export interface EmuNetworkAcl {
  aclId: string;
  vpcId: string;
  subnetIds: string[];
  entries: EmuAclEntry[];
}

export function networkAclXml(a: EmuNetworkAcl): string {
  return [
    el('networkAclId', a.aclId),
    el('vpcId', a.vpcId),
    el('default', false),
    set(
      'entrySet',
      a.entries.map((e) =>
        [
          el('ruleNumber', e.ruleNumber),
          el('protocol', e.protocol),
          el('ruleAction', e.action),
          el('egress', e.egress),
          el('cidrBlock', e.cidr),
          el('ipv6CidrBlock', e.ipv6Cidr),
          e.from !== undefined ? `<portRange>${el('from', e.from)}${el('to', e.to)}</portRange>` : '',
        ].join(''),
      ),
    ),
    set(
      'associationSet',
      a.subnetIds.map((s) => `${el('networkAclAssociationId', `aclassoc-${s}`)}${el('networkAclId', a.aclId)}${el('subnetId', s)}`),
    ),
  ].join('');
}
