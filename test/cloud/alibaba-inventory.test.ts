import { beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_ID, TEST_AK, providerFor, useAlibabaEmulator } from './alibaba-support';
import { createAlibabaProvider } from '../../lib/cloud/alibaba-provider';
import { CloudApiError } from '../../lib/cloud/errors';
import { AlibabaEndpointError } from '../../lib/cloud/alibaba-errors';
import { parseEndpointOverride } from '../../lib/cloud/alibaba-rpc';
import type { InstanceInfo, SecurityGroupRule } from '../../lib/inventory/types';

const emu = useAlibabaEmulator();
beforeEach(() => {
  emu.addInstance({
    instanceId: INSTANCE_ID,
    publicIps: ['47.96.1.10'],
    eip: '47.96.2.20',
    privateIps: ['172.16.0.10'],
    securityGroupIds: ['sg-bp1aaa', 'sg-bp1bbb'],
    vSwitchId: 'vsw-bp1xyz',
    vpcId: 'vpc-bp1xyz',
    tags: { team: 'ops' },
    sasUuid: 'f2d6e901-1004-4ca8-9dae-53ec04a9aaaa',
  });
  emu.securityGroups.set('sg-bp1aaa', [
    { Direction: 'ingress', Policy: 'Accept', Priority: '1', IpProtocol: 'TCP', PortRange: '22/22', SourceCidrIp: '203.0.113.0/24' },
    { Direction: 'ingress', Policy: 'Drop', Priority: '1', IpProtocol: 'ALL', PortRange: '-1/-1', SourceCidrIp: '198.51.100.7/32' },
    { Direction: 'ingress', Policy: 'Accept', Priority: '100', IpProtocol: 'TCP', PortRange: '1/65535', Ipv6SourceCidrIp: '2001:db8::/32' },
    { Direction: 'egress', Policy: 'Accept', Priority: '1', IpProtocol: 'ALL', PortRange: '-1/-1', DestCidrIp: '0.0.0.0/0' },
  ]);
  emu.securityGroups.set('sg-bp1bbb', [
    { Direction: 'ingress', Policy: 'Accept', Priority: '5', IpProtocol: 'TCP', PortRange: '22/22', SourceGroupId: 'sg-bp1peer' },
    { Direction: 'ingress', Policy: 'Accept', Priority: '5', IpProtocol: 'TCP', PortRange: '22/22', SourcePrefixListId: 'pl-bp1list' },
  ]);
});

describe('ECS inventory over the real SDK', () => {
  it('describes the instance: state, platform, every address, groups, vSwitch, tags', async () => {
    const i = await providerFor(emu).describeInstance(INSTANCE_ID);
    expect(i).toEqual({
      provider: 'alibaba',
      region: 'cn-hangzhou',
      instanceId: INSTANCE_ID,
      state: 'running',
      rawState: 'Running',
      platform: 'linux',
      publicIps: ['47.96.1.10', '47.96.2.20'],
      privateIps: ['172.16.0.10'],
      securityGroupIds: ['sg-bp1aaa', 'sg-bp1bbb'],
      subnetId: 'vsw-bp1xyz',
      vpcId: 'vpc-bp1xyz',
      tags: { team: 'ops' },
    });
    expect(emu.callsOf('ecs:DescribeInstances')[0]!.params.InstanceIds).toBe(JSON.stringify([INSTANCE_ID]));
  });

  it('returns null for an instance ECS does not know, and maps stopped and Windows instances', async () => {
    const p = providerFor(emu);
    expect(await p.describeInstance('i-bp1zzzzzzzzzzzzzzzzz')).toBeNull();
    emu.addInstance({ instanceId: 'i-bp1stoppedwindows000', status: 'Stopped', osType: 'windows' });
    const w = (await p.describeInstance('i-bp1stoppedwindows000')) as InstanceInfo;
    expect([w.state, w.rawState, w.platform]).toEqual(['stopped', 'Stopped', 'windows']);
  });

  it('wraps a forbidden DescribeInstances in CloudApiError naming the action and code', async () => {
    emu.faults.forbidden.add('ecs:DescribeInstances');
    const err = await providerFor(emu)
      .describeInstance(INSTANCE_ID)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudApiError);
    expect((err as CloudApiError).message).toMatch(/^ecs:DescribeInstances failed \(Forbidden\.RAM\)/);
  });

  it('normalises security-group permissions faithfully: Drop as deny, priorities, ALL and -1/-1, group and prefix-list sources, egress left out', async () => {
    const p = providerFor(emu);
    const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
    const { facts, notInspected } = await p.gatherCloudFacts(inst, { clientIps: ['203.0.113.7'], port: 22 });
    expect(notInspected).toEqual([]);
    const rules = facts.securityGroupRules as SecurityGroupRule[];
    const brief = rules.map((r) => [r.groupId, r.action, r.priority, r.protocol, r.portFrom, r.portTo, r.source]);
    expect(brief).toEqual([
      ['sg-bp1aaa', 'allow', 1, 'tcp', 22, 22, { kind: 'cidr', cidr: '203.0.113.0/24' }],
      ['sg-bp1aaa', 'deny', 1, 'all', 0, 65535, { kind: 'cidr', cidr: '198.51.100.7/32' }],
      ['sg-bp1aaa', 'allow', 100, 'tcp', 1, 65535, { kind: 'cidr', cidr: '2001:db8::/32' }],
      ['sg-bp1bbb', 'allow', 5, 'tcp', 22, 22, { kind: 'group', id: 'sg-bp1peer' }],
      ['sg-bp1bbb', 'allow', 5, 'tcp', 22, 22, { kind: 'prefix-list', id: 'pl-bp1list' }],
    ]);
    expect(rules[1]!.text).toBe('sg-bp1aaa: drop all all ports from 198.51.100.7/32 (priority 1)');
    expect(emu.callsOf('ecs:DescribeSecurityGroupAttribute').every((c) => c.params.Direction === 'ingress')).toBe(true);
    expect(facts.agent).toMatchObject({ status: 'online', raw: 'true', agentVersion: '2.2.3.857' });
  });

  it('reports Cloud Assistant offline and not registered', async () => {
    const p = providerFor(emu);
    const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
    emu.instances.get(INSTANCE_ID)!.cloudAssistant = 'false';
    expect((await p.gatherCloudFacts(inst, { clientIps: [], port: 22 })).facts.agent).toMatchObject({ status: 'offline', raw: 'false' });
    emu.instances.get(INSTANCE_ID)!.cloudAssistant = null;
    expect((await p.gatherCloudFacts(inst, { clientIps: [], port: 22 })).facts.agent).toEqual({ status: 'not-registered', raw: 'absent' });
  });

  it('names each part it could not inspect and why, and keeps the rest', async () => {
    const p = providerFor(emu);
    const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
    emu.faults.forbidden.add('ecs:DescribeSecurityGroupAttribute');
    emu.faults.throttle.set('ecs:DescribeCloudAssistantStatus', 100);
    const { facts, notInspected } = await p.gatherCloudFacts(inst, { clientIps: ['203.0.113.7'], port: 22 });
    expect(facts.securityGroupRules).toBeUndefined();
    expect(facts.agent).toBeUndefined();
    expect(facts.securityCenter).toEqual({ blocks: [] });
    expect(notInspected).toEqual([
      { what: 'security groups', reason: expect.stringMatching(/Forbidden\.RAM.*RAM policy/) },
      { what: 'Cloud Assistant status', reason: expect.stringMatching(/Throttling\.User.*throttled after retries/) },
    ]);
  });

  it('lists instances by tag across NextToken pages', async () => {
    for (let n = 0; n < 130; n++) emu.addInstance({ instanceId: `i-bp1tagged${String(n).padStart(10, '0')}`, tags: { sshdoctor: 'fleet' } });
    emu.addInstance({ instanceId: 'i-bp1othertag000000000', tags: { sshdoctor: 'other' } });
    const list = await providerFor(emu).listInstancesByTag!('sshdoctor', 'fleet');
    expect(list).toHaveLength(130);
    expect(emu.callsOf('ecs:DescribeInstances')).toHaveLength(2);
  });
});

describe('signature verification', () => {
  it('rejects a client signing with the wrong secret (SignatureDoesNotMatch), and the report says access was denied', async () => {
    const p = createAlibabaProvider({
      region: 'cn-hangzhou',
      credentials: { accessKeyId: TEST_AK, accessKeySecret: 'not-the-secret' },
      env: { ALIBABA_CLOUD_ECS_ENDPOINT: emu.host, ALIBABA_CLOUD_SAS_ENDPOINT: emu.host },
    });
    const err = await p.describeInstance(INSTANCE_ID).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/SignatureDoesNotMatch/);
    expect(emu.calls.map((c) => c.code)).toEqual(['SignatureDoesNotMatch']);
  });

  it('answers a forged request with the real error shape', async () => {
    const body = 'RegionId=cn-hangzhou';
    const sha = (await import('node:crypto')).createHash('sha256').update(body).digest('hex');
    const res = await fetch(`http://${emu.host}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-acs-action': 'DescribeInstances',
        'x-acs-version': '2014-05-26',
        'x-acs-date': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        'x-acs-signature-nonce': 'forged-nonce-1',
        'x-acs-content-sha256': sha,
        authorization: `ACS3-HMAC-SHA256 Credential=${TEST_AK},SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=${'0'.repeat(64)}`,
      },
      body,
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['Code', 'HostId', 'Message', 'RequestId']);
    expect(json.Code).toBe('SignatureDoesNotMatch');
  });
});

describe('endpoint overrides', () => {
  it('uses plain http only for loopback hosts', () => {
    expect(parseEndpointOverride('127.0.0.1:8443', 'X')).toEqual({ host: '127.0.0.1:8443', protocol: 'http' });
    expect(parseEndpointOverride('[::1]:9000', 'X')).toEqual({ host: '[::1]:9000', protocol: 'http' });
    expect(parseEndpointOverride('localhost:9000', 'X').protocol).toBe('http');
    expect(parseEndpointOverride('ecs.cn-hangzhou.aliyuncs.com', 'X')).toEqual({ host: 'ecs.cn-hangzhou.aliyuncs.com', protocol: 'https' });
    expect(parseEndpointOverride('10.0.0.5:443', 'X').protocol).toBe('https');
  });

  it.each([
    ['http://127.0.0.1:8080', /must not include a scheme/],
    ['127.0.0.1:8080/path', /without path/],
    ['127.0.0.1:99999', /port must be between 1 and 65535/],
    ['300.1.1.1:80', /not a valid one/],
    ['', /must not be empty/],
    ['user@host:80', /without path, query, user/],
  ])('rejects %j with a clear error naming the variable', (value, rule) => {
    expect(() => createAlibabaProvider({ region: 'cn-hangzhou', env: { ALIBABA_CLOUD_SAS_ENDPOINT: value || ' ' } })).toThrow(AlibabaEndpointError);
    expect(() => parseEndpointOverride(value, 'ALIBABA_CLOUD_SAS_ENDPOINT')).toThrow(/^ALIBABA_CLOUD_SAS_ENDPOINT: /);
    expect(() => parseEndpointOverride(value, 'ALIBABA_CLOUD_SAS_ENDPOINT')).toThrow(rule);
  });
});
