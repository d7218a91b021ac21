import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws-emulator';
import { fixedExecutor, localExecutor } from '../emulators/executors';
import { createAwsProvider } from '../../lib/cloud/aws-provider';
import { CloudApiError } from '../../lib/cloud/errors';
import { useAwsEmulatorEnv } from '../support/aws-env';
import type { CloudProvider } from '../../lib/cloud/types';
import type { CloudFacts } from '../../lib/inventory/types';

const ID = 'i-0123456789abcdef0';
let emu: AwsEmulator;
let restoreEnv: () => void;
let aws: CloudProvider;

function lab(e: AwsEmulator): void {
  e.addInstance({
    instanceId: ID,
    publicIp: '198.51.100.10',
    privateIp: '10.0.1.10',
    ipv6: '2001:db8:1::10',
    securityGroupIds: ['sg-0aaa0aaa', 'sg-0bbb0bbb'],
    subnetId: 'subnet-0aaa0aaa',
    tags: { Name: 'web', sshdoctor: 'on' },
    executor: localExecutor(),
  });
  e.addSecurityGroup({
    groupId: 'sg-0aaa0aaa',
    vpcId: 'vpc-0aaa0aaa',
    ingress: [
      { protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['203.0.113.0/24'], ipv6Cidrs: ['2001:db8::/32'] },
      { protocol: 'tcp', fromPort: 22, toPort: 22, prefixListIds: ['pl-0abc'] },
    ],
  });
  e.addSecurityGroup({ groupId: 'sg-0bbb0bbb', vpcId: 'vpc-0aaa0aaa', ingress: [{ protocol: '-1', groupIds: ['sg-0ccc0ccc'] }] });
  e.addNetworkAcl({
    aclId: 'acl-0aaa0aaa',
    vpcId: 'vpc-0aaa0aaa',
    subnetIds: ['subnet-0aaa0aaa'],
    entries: [
      { ruleNumber: 100, egress: false, action: 'allow', protocol: '6', from: 22, to: 22, cidr: '0.0.0.0/0' },
      { ruleNumber: 32767, egress: false, action: 'deny', protocol: '-1', cidr: '0.0.0.0/0' },
      { ruleNumber: 100, egress: true, action: 'allow', protocol: '-1', cidr: '0.0.0.0/0' },
    ],
  });
}

beforeAll(async () => {
  emu = await startAwsEmulator();
  restoreEnv = useAwsEmulatorEnv(emu.url);
  // Only the per-service variables: proves each client honours its own.
  delete process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL_EC2 = emu.url;
  process.env.AWS_ENDPOINT_URL_SSM = emu.url;
  process.env.AWS_ENDPOINT_URL_S3 = emu.url;
  aws = createAwsProvider({ region: 'eu-west-1', outputBucket: 'diag-out' });
});
afterAll(async () => {
  for (const k of ['AWS_ENDPOINT_URL_EC2', 'AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL_S3']) delete process.env[k];
  restoreEnv?.();
  await emu?.close();
});
beforeEach(() => {
  emu.reset();
  lab(emu);
});

describe('AWS provider against the emulator', () => {
  it('describes the instance from DescribeInstances, with addresses, groups and tags', async () => {
    const i = await aws.describeInstance(ID);
    expect(i).toEqual({
      provider: 'aws',
      region: 'eu-west-1',
      instanceId: ID,
      state: 'running',
      rawState: 'running',
      platform: 'linux',
      publicIps: ['198.51.100.10', '2001:db8:1::10'],
      privateIps: ['10.0.1.10'],
      securityGroupIds: ['sg-0aaa0aaa', 'sg-0bbb0bbb'],
      subnetId: 'subnet-0aaa0aaa',
      vpcId: 'vpc-0aaa0aaa',
      tags: { Name: 'web', sshdoctor: 'on' },
      // The primary interface, as EC2 lists it (networkInterfaceSet): its own groups and subnet.
      interfaces: [
        {
          id: `eni-${ID.slice(2)}`,
          subnetId: 'subnet-0aaa0aaa',
          securityGroupIds: ['sg-0aaa0aaa', 'sg-0bbb0bbb'],
          addresses: ['10.0.1.10', '198.51.100.10', '2001:db8:1::10'],
          deviceIndex: 0,
        },
      ],
    });
    expect(emu.calls[0]).toMatchObject({ service: 'ec2', action: 'DescribeInstances', params: { 'InstanceId.1': ID } });
  });

  it('returns null for an instance EC2 does not know', async () => {
    expect(await aws.describeInstance('i-0fffffffffffffff0')).toBeNull();
  });

  it('reports Windows and stopped instances as such (stopped ones have no public address)', async () => {
    emu.addInstance({ instanceId: 'i-0aaaaaaaaaaaaaaa1', platform: 'windows' });
    emu.addInstance({ instanceId: 'i-0aaaaaaaaaaaaaaa2', state: 'stopped', publicIp: '198.51.100.11' });
    expect((await aws.describeInstance('i-0aaaaaaaaaaaaaaa1'))?.platform).toBe('windows');
    const stopped = await aws.describeInstance('i-0aaaaaaaaaaaaaaa2');
    expect([stopped?.state, stopped?.publicIps]).toEqual(['stopped', []]);
  });

  it('wraps a denied DescribeInstances in CloudApiError naming the action', async () => {
    emu.faults.accessDenied.add('DescribeInstances');
    await expect(aws.describeInstance(ID)).rejects.toThrow(CloudApiError);
    await expect(aws.describeInstance(ID)).rejects.toThrow(/ec2:DescribeInstances failed \(UnauthorizedOperation\)/);
  });

  it('retries EC2 RequestLimitExceeded and 5xx', async () => {
    emu.faults.throttle = { DescribeInstances: 2 };
    emu.faults.serverError = { DescribeSecurityGroups: 2 };
    expect((await aws.describeInstance(ID))?.state).toBe('running');
    const { notInspected } = await aws.gatherCloudFacts((await aws.describeInstance(ID))!, { clientIps: [], port: 22 });
    expect(notInspected).toEqual([]);
    expect(emu.count('DescribeInstances')).toBe(4);
  });

  it('gathers normalised security-group rules, the subnet ACL and the agent status', async () => {
    const inst = (await aws.describeInstance(ID))!;
    const { facts, notInspected } = await aws.gatherCloudFacts(inst, { clientIps: ['203.0.113.7'], port: 22 });
    const f = facts as Partial<CloudFacts>;
    expect(notInspected).toEqual([]);
    expect(f.securityGroupRules?.map((r) => [r.groupId, r.protocol, r.portFrom, r.portTo, r.source])).toEqual([
      ['sg-0aaa0aaa', 'tcp', 22, 22, { kind: 'cidr', cidr: '203.0.113.0/24' }],
      ['sg-0aaa0aaa', 'tcp', 22, 22, { kind: 'cidr', cidr: '2001:db8::/32' }],
      ['sg-0aaa0aaa', 'tcp', 22, 22, { kind: 'prefix-list', id: 'pl-0abc' }],
      ['sg-0bbb0bbb', 'all', 0, 65535, { kind: 'group', id: 'sg-0ccc0ccc' }],
    ]);
    expect(f.networkAcl?.map((e) => e.text)).toEqual([
      'acl-0aaa0aaa inbound #100: allow tcp 22-22 from 0.0.0.0/0',
      'acl-0aaa0aaa inbound *: deny all traffic from 0.0.0.0/0',
      'acl-0aaa0aaa outbound #100: allow all traffic to 0.0.0.0/0',
    ]);
    expect(f.agent).toMatchObject({ status: 'online', raw: 'Online' });
  });

  it('maps ConnectionLost to offline and unmanaged instances to not-registered', async () => {
    emu.addInstance({ instanceId: 'i-0aaaaaaaaaaaaaaa3', pingStatus: 'ConnectionLost' });
    emu.addInstance({ instanceId: 'i-0aaaaaaaaaaaaaaa4', pingStatus: null });
    const lost = await aws.gatherCloudFacts((await aws.describeInstance('i-0aaaaaaaaaaaaaaa3'))!, { clientIps: [], port: 22 });
    const none = await aws.gatherCloudFacts((await aws.describeInstance('i-0aaaaaaaaaaaaaaa4'))!, { clientIps: [], port: 22 });
    expect((lost.facts as Partial<CloudFacts>).agent?.status).toBe('offline');
    expect((none.facts as Partial<CloudFacts>).agent?.status).toBe('not-registered');
  });

  it('names what it could not inspect and why, and keeps the rest', async () => {
    emu.faults.accessDenied.add('DescribeSecurityGroups');
    emu.faults.throttle = { DescribeInstanceInformation: 100 };
    const inst = (await aws.describeInstance(ID))!;
    const { facts, notInspected } = await aws.gatherCloudFacts(inst, { clientIps: [], port: 22 });
    expect(notInspected).toEqual([
      { what: 'security groups', reason: 'ec2:DescribeSecurityGroups was denied (HTTP 403, UnauthorizedOperation): grant it in the IAM policy' },
      { what: 'SSM Agent status', reason: 'ssm:DescribeInstanceInformation was throttled past every retry (HTTP 400, ThrottlingException)' },
    ]);
    expect((facts as Partial<CloudFacts>).networkAcl).toHaveLength(3);
    expect((facts as Partial<CloudFacts>).securityGroupRules).toBeUndefined();
  });

  it('lists instances by tag across pages', async () => {
    for (let n = 0; n < 5; n++) emu.addInstance({ instanceId: `i-0bbbbbbbbbbbbbbb${n}`, tags: { sshdoctor: 'on' } });
    emu.addInstance({ instanceId: 'i-0ccccccccccccccc0', tags: { sshdoctor: 'off' } });
    const list = await aws.listInstancesByTag!('sshdoctor', 'on');
    expect(list.map((i) => i.instanceId).sort()).toEqual([ID, ...[0, 1, 2, 3, 4].map((n) => `i-0bbbbbbbbbbbbbbb${n}`)].sort());
  });

  it('cancels what a fleet run has not finished by its deadline, and says so', async () => {
    const ids = ['i-0ddddddddddddddd0', 'i-0ddddddddddddddd1'];
    for (const id of ids) emu.addInstance({ instanceId: id, executor: fixedExecutor('late\n') });
    emu.faults.deliveryDelayMs = 60_000;
    const out = await aws.runFleet!(ids, { script: 'echo hi', args: [], timeoutMs: 2_000 });
    for (const id of ids) expect(out.get(id)).toMatchObject({ status: 'timeout', reason: 'no result within 2 s; the command was cancelled' });
    expect(emu.count('CancelCommand')).toBe(1);
  });

  it('runs a fleet in batches of 50 ids per SendCommand and returns every result', async () => {
    const ids = Array.from({ length: 120 }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`);
    for (const id of ids) emu.addInstance({ instanceId: id, executor: fixedExecutor(`hello ${id}\n`, 50) });
    emu.addInstance({ instanceId: ids[7]!, pingStatus: 'ConnectionLost' });
    emu.addInstance({ instanceId: ids[9]!, executor: async () => ({ stdout: 'partial\n', stderr: '', exitCode: 3, timedOut: false }) });
    const out = await aws.runFleet!(ids, { script: 'echo hi', args: ['203.0.113.7'], timeoutMs: 20_000 });
    expect(out.size).toBe(120);
    expect(out.get(ids[0]!)).toMatchObject({ status: 'success', stdout: `hello ${ids[0]}\n` });
    expect(out.get(ids[7]!)?.status).toBe('agent-offline');
    // A failed collector names its exit code, as with a single instance.
    expect(out.get(ids[9]!)).toMatchObject({ status: 'failed', exitCode: 3, stdout: 'partial\n', reason: 'the collector exited with code 3' });
    expect(emu.count('SendCommand')).toBe(3);
    expect(emu.calls.filter((c) => c.action === 'SendCommand').map((c) => (c.params.InstanceIds as string[]).length)).toEqual([50, 50, 20]);
  });
});
