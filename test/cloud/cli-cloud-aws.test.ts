/**
 * AWS readings that change what a user is told, through the CLI process against the EC2/SSM
 * emulator (real wire protocol, real field names) and a lab instance: the probed address's own
 * interface, IPv4-mapped clients, a network ACL without entries, a failing agent-status API,
 * and security-group evidence that names what was evaluated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLabNetwork, startAwsEmulator, type AwsEmulator } from '../emulators/aws-emulator';
import { viaExecutor } from '../emulators/executors';
import { awsEmulatorEnv } from '../support/aws-env';
import { createLab, labGate, type LabInstance } from '../lab/lab';
import { runCheckJson } from '../support/cli';

const AWS_ID = 'i-0123456789abcdef0';
const labReady = labGate();

describe.skipIf(!labReady)('AWS readings through the CLI (emulated EC2 and SSM, lab instance)', () => {
  let aws: AwsEmulator;
  let inst: LabInstance;
  let env: NodeJS.ProcessEnv;
  const check = (args: string[]) => runCheckJson([AWS_ID, '--provider', 'aws', '--region', 'eu-west-1', ...args], { env });
  const checkOf = (report: Awaited<ReturnType<typeof check>>['report'], id: string) => report.checks.find((c) => c.id === id)!;

  beforeAll(async () => {
    [aws, inst] = await Promise.all([startAwsEmulator(), createLab()]);
    env = awsEmulatorEnv(aws.url);
  });
  afterAll(async () => {
    await Promise.all([aws?.close(), inst?.destroy()]);
  });

  function reset(over: Record<string, unknown> = {}) {
    aws.reset();
    addLabNetwork(aws);
    aws.addInstance({
      instanceId: AWS_ID,
      privateIp: inst.ip,
      securityGroupIds: ['sg-0aaa0aaa'],
      subnetId: 'subnet-0aaa0aaa',
      executor: viaExecutor(inst.via),
      ...over,
    });
  }

  it('judges the groups and subnet of the interface that holds the probed address, naming it', async () => {
    reset({
      privateIp: '10.99.0.5',
      extraInterfaces: [{ id: 'eni-0bbb0bbb', privateIp: '10.98.0.7', publicIp: inst.ip, subnetId: 'subnet-0bbb0bbb', securityGroupIds: ['sg-0bbb0bbb'] }],
    });
    aws.addSecurityGroup({ groupId: 'sg-0bbb0bbb', vpcId: 'vpc-0aaa0aaa', ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['192.0.2.0/24'] }] });
    aws.addNetworkAcl({
      aclId: 'acl-0bbb0bbb',
      vpcId: 'vpc-0aaa0aaa',
      subnetIds: ['subnet-0bbb0bbb'],
      entries: [
        { ruleNumber: 100, egress: false, action: 'allow', protocol: '-1', cidr: '0.0.0.0/0' },
        { ruleNumber: 100, egress: true, action: 'allow', protocol: '-1', cidr: '0.0.0.0/0' },
      ],
    });
    const { report } = await check(['--client-ip', inst.hostIp]);
    expect(report.target.host).toBe(inst.ip);
    const sg = checkOf(report, 'security-group');
    // The primary interface's sg-0aaa0aaa would let the lab in; the probed interface's group does not.
    expect(sg.status).toBe('fail');
    const text = sg.evidence.map((e) => e.text).join('\n');
    expect(text).toContain('groups evaluated: sg-0bbb0bbb (those of eni-0bbb0bbb, the interface holding the probed address)');
    expect(text).toContain(`sg-0bbb0bbb: allow tcp 22 from 192.0.2.0/24: does not include ${inst.hostIp}`);
    expect(sg.fix?.commands.join('\n')).toContain('--group-id sg-0bbb0bbb');
    expect(
      checkOf(report, 'network-acl')
        .evidence.map((e) => e.text)
        .join('\n'),
    ).toContain('acl-0bbb0bbb');
    expect(aws.calls.find((c) => c.action === 'DescribeSecurityGroups')?.params).toMatchObject({ 'GroupId.1': 'sg-0bbb0bbb' });
  });

  it('reads an IPv4-mapped IPv6 client as the IPv4 client it is', async () => {
    reset();
    const { report } = await check(['--client-ip', `::ffff:${inst.hostIp}`]);
    expect(report.clients.map((c) => c.ip)).toEqual([inst.hostIp]);
    expect(checkOf(report, 'security-group').status).toBe('pass');
    expect(checkOf(report, 'network-acl').status).toBe('pass');
  });

  it('names a custom network ACL without entries in its fix', async () => {
    reset({ subnetId: 'subnet-0ccc0ccc' });
    aws.addNetworkAcl({ aclId: 'acl-0ccc0ccc', vpcId: 'vpc-0aaa0aaa', subnetIds: ['subnet-0ccc0ccc'], entries: [] });
    const { report } = await check(['--client-ip', inst.hostIp]);
    const acl = checkOf(report, 'network-acl');
    expect(acl.status).toBe('fail');
    expect(acl.fix?.commands.join('\n')).toContain('--network-acl-id acl-0ccc0ccc');
    expect(acl.fix?.commands.join('\n')).not.toMatch(/--network-acl-id acl\b(?!-)/);
  });

  it('reports a failing agent-status API as an error with its HTTP status and code, not a skip', async () => {
    reset();
    aws.faults.accessDenied.add('DescribeInstanceInformation');
    const { report } = await check(['--client-ip', inst.hostIp]);
    const agent = checkOf(report, 'run-command-agent');
    expect(agent.status).toBe('error');
    expect(agent.summary).toMatch(/ssm:DescribeInstanceInformation was denied \(HTTP 400, AccessDeniedException\)/);
    expect(agent.summary).not.toMatch(/JSON|Unexpected token/);
  });
});
