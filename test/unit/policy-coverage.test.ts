/**
 * infra/iam-policy.json grants exactly the AWS actions the diagnosis and fleet code calls:
 * statically (every SDK Command the sources use), and at run time (every provider entry point
 * runs against the emulator with the policy enforced; anything else would be AccessDenied).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsActionsInSources, iamAllowedActions } from '../support/policy-scan';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws-emulator';
import { fixedExecutor } from '../emulators/executors';
import { useAwsEmulatorEnv } from '../support/aws-env';
import { createAwsProvider } from '../../lib/cloud/aws-provider';

const ROOT = join(__dirname, '../..');
const policy = JSON.parse(readFileSync(join(ROOT, 'infra/iam-policy.json'), 'utf8')) as {
  Version: string;
  Statement: { Sid?: string; Effect: string; Action: string[]; Resource: string | string[] }[];
};
const granted = iamAllowedActions(policy);
/** The instance-facing services; the service's own DynamoDB/SQS/SNS rights live with its deployment. */
const SERVICES = ['ec2', 'ssm', 's3'];

describe('infra/iam-policy.json', () => {
  it('is an IAM policy with Allow statements only, no wildcard actions', () => {
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
    expect([...granted].every((a) => /^(ec2|ssm|s3):[A-Z][A-Za-z]+$/.test(a))).toBe(true);
  });

  it('grants every action the code calls, and nothing the code never calls', () => {
    const called = awsActionsInSources(ROOT, ['lib', 'functions'], SERVICES);
    expect(called.size).toBeGreaterThan(5);
    const missing = [...called.keys()].filter((a) => !granted.has(a)).map((a) => `${a} (${called.get(a)!.join(', ')})`);
    expect(missing).toEqual([]);
    expect([...granted].filter((a) => !called.has(a)).sort()).toEqual([]);
  });

  it('finds the EC2 actions called through the Query client, in the inventory', () => {
    const called = awsActionsInSources(ROOT, ['lib'], ['ec2']);
    expect([...called.keys()].sort()).toEqual(['ec2:DescribeInstances', 'ec2:DescribeNetworkAcls', 'ec2:DescribeSecurityGroups']);
    expect(called.get('ec2:DescribeNetworkAcls')).toEqual(['lib/inventory/ec2-inventory.ts']);
  });

  it('counts .request() actions only in files that import a Query client, and only for the scanned services', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-scan-'));
    try {
      mkdirSync(join(dir, 'lib/a'), { recursive: true });
      writeFileSync(join(dir, 'lib/a/uses.ts'), "import { x } from '../cloud/ec2-query-client';\nawait ec2.request('DescribeVpcs', {});\n");
      writeFileSync(join(dir, 'lib/a/other.ts'), "import { x } from './http';\nawait api.request('DescribeImages', {});\n");
      writeFileSync(join(dir, 'lib/a/ssm.ts'), "import { x } from './ssm-query-client';\nawait c.request('GetParameter', {});\n");
      const found = awsActionsInSources(dir, ['lib'], ['ec2']);
      expect([...found.entries()]).toEqual([['ec2:DescribeVpcs', ['lib/a/uses.ts']]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds s3:GetObject in the S3 output reader, called through the signed-HTTP client', () => {
    const called = awsActionsInSources(ROOT, ['lib'], ['s3']);
    expect([...called.entries()]).toEqual([['s3:GetObject', ['lib/cloud/s3-output-store.ts']]]);
  });

  it('counts action literals only in files that import the signed-HTTP client', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-scan-'));
    try {
      mkdirSync(join(dir, 'lib/cloud'), { recursive: true });
      writeFileSync(
        join(dir, 'lib/cloud/s3-x.ts'),
        "import { createAwsSignedHttp } from './aws-signed-http';\nhttp.send({ action: 's3:PutObject', method: 'PUT' });\n",
      );
      writeFileSync(join(dir, 'lib/cloud/other.ts'), "import { x } from './http';\nsend({ action: 's3:DeleteObject' });\n");
      writeFileSync(
        join(dir, 'lib/cloud/ec2.ts'),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a source file that uses a template literal, written on purpose
        "import { x } from '../cloud/aws-signed-http';\nsend({ action: `ec2:${a}` }); send({ action: 'sns:Publish' });\n",
      );
      const found = awsActionsInSources(dir, ['lib'], ['s3', 'ec2']);
      expect([...found.entries()]).toEqual([['s3:PutObject', ['lib/cloud/s3-x.ts']]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('restricts SendCommand to the shell document and instances', () => {
    const send = policy.Statement.find((s) => s.Action.includes('ssm:SendCommand'))!;
    expect(send.Action).toEqual(['ssm:SendCommand']);
    expect(send.Resource).toEqual(['arn:aws:ssm:*::document/AWS-RunShellScript', 'arn:aws:ec2:*:*:instance/*']);
  });
});

describe('the AWS provider under the IAM policy (emulator enforcing it)', () => {
  let emu: AwsEmulator;
  let restore: () => void;
  beforeAll(async () => {
    emu = await startAwsEmulator();
    restore = useAwsEmulatorEnv(emu.url);
  });
  afterAll(async () => {
    restore?.();
    await emu?.close();
  });

  it('every entry point succeeds with only the granted actions, and uses each of them', async () => {
    emu.faults.allowOnly = new Set(granted);
    const big = `${'x'.repeat(99)}\n`.repeat(300);
    emu.addInstance({ instanceId: 'i-0123456789abcdef0', securityGroupIds: ['sg-0aaa0aaa'], tags: { sshdoctor: 'on' }, executor: fixedExecutor(big) });
    emu.addInstance({ instanceId: 'i-0123456789abcdef1', tags: { sshdoctor: 'on' }, executor: fixedExecutor('ok\n', 60_000) });
    emu.addSecurityGroup({ groupId: 'sg-0aaa0aaa', vpcId: 'vpc-0aaa0aaa', ingress: [] });
    emu.addNetworkAcl({ aclId: 'acl-0aaa0aaa', vpcId: 'vpc-0aaa0aaa', subnetIds: ['subnet-0aaa0aaa'], entries: [] });
    const aws = createAwsProvider({ region: 'eu-west-1', outputBucket: 'diag-out' });
    const inst = (await aws.describeInstance('i-0123456789abcdef0'))!;
    const gathered = await aws.gatherCloudFacts(inst, { clientIps: [], port: 22 });
    expect(gathered.notInspected).toEqual([]);
    const run = await aws.runner(inst).run({ script: 'true', args: [], timeoutMs: 10_000 });
    expect([run.status, run.truncated]).toEqual(['success', false]);
    const tagged = await aws.listInstancesByTag!('sshdoctor', 'on');
    expect(tagged).toHaveLength(2);
    const fleet = await aws.runFleet!(
      tagged.map((i) => i.instanceId),
      { script: 'true', args: [], timeoutMs: 3_000 },
    );
    expect([...fleet.values()].map((r) => r.status).sort()).toEqual(['success', 'timeout']);
    // A command never picked up is cancelled at the deadline.
    emu.faults.deliveryDelayMs = 60_000;
    expect((await aws.runner(inst).run({ script: 'true', args: [], timeoutMs: 1_500 })).status).toBe('timeout');
    const used = new Set(emu.calls.map((c) => `${c.service}:${c.action}`));
    expect([...used].filter((a) => !granted.has(a))).toEqual([]);
    expect([...granted].filter((a) => !used.has(a)).sort()).toEqual([]);
  });
});
