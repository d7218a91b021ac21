/**
 * ECS calls go through `@alicloud/ecs20140526` (typed request models, the SDK's own methods and
 * response models), and that SDK is loaded only when an Alibaba API is first called.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_AK, TEST_SECRET, INSTANCE_ID, useAlibabaEmulator } from './alibaba-support';
import { ECS_PRODUCT, createRpcCaller } from '../../lib/cloud/alibaba-rpc';
import { AlibabaRequestError } from '../../lib/cloud/alibaba-errors';
import { createEcsClient, ecsInvoke } from '../../lib/cloud/alibaba-sdk';
import { ECS_SDK_ACTIONS } from '../../lib/cloud/ecs-sdk';

const emu = useAlibabaEmulator();

function ecsCaller() {
  const [host, port] = emu.host.split(':');
  const client = createEcsClient({
    endpoint: `${host}:${port}`,
    protocol: 'http',
    regionId: 'cn-hangzhou',
    readTimeout: 5000,
    connectTimeout: 5000,
    accessKeyId: TEST_AK,
    accessKeySecret: TEST_SECRET,
  });
  return createRpcCaller(client, ECS_PRODUCT, { baseDelayMs: 1, maxDelayMs: 2 }, ecsInvoke(client));
}

describe('ECS through @alicloud/ecs20140526', () => {
  it('builds requests with the SDK request model: Tag.N.Key becomes its Tag list and arrives as the same wire keys', async () => {
    emu.addInstance({ instanceId: INSTANCE_ID, tags: { team: 'ops' } });
    const res = await ecsCaller()('DescribeInstances', { RegionId: 'cn-hangzhou', 'Tag.1.Key': 'team', 'Tag.1.Value': 'ops', MaxResults: 10 });
    expect((res.Instances as { Instance: { InstanceId: string }[] }).Instance.map((i) => i.InstanceId)).toEqual([INSTANCE_ID]);
    expect(emu.callsOf('ecs:DescribeInstances')[0]!.params).toMatchObject({ 'Tag.1.Key': 'team', 'Tag.1.Value': 'ops', MaxResults: '10' });
  });

  it.each([
    ['DescribeInstances', 'InstanceIdList'],
    ['DescribeInstances', 'Tag.1.Name'],
    ['DescribeInvocationResults', 'InvocationStatus'],
    ['RunCommand', 'Script'],
  ])('refuses %s with %s, a key its SDK request model lacks, naming it, before anything is sent', async (action, key) => {
    const err = await ecsCaller()(action, { RegionId: 'cn-hangzhou', [key]: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlibabaRequestError);
    expect((err as AlibabaRequestError).field).toBe(key);
    expect((err as Error).message).toBe(`ecs:${action}: ${key} is not a parameter of the SDK's ${action}Request model`);
    expect(emu.calls).toEqual([]);
  });

  it('covers exactly the ECS actions the adapters call', () => {
    expect([...ECS_SDK_ACTIONS].sort()).toEqual([
      'DescribeCloudAssistantStatus',
      'DescribeInstances',
      'DescribeInvocationResults',
      'DescribePortRangeListEntries',
      'DescribeSecurityGroupAttribute',
      'RunCommand',
      'StopInvocation',
    ]);
  });

  it('is loaded lazily: building providers (AWS or Alibaba) loads no Alibaba SDK; the first Alibaba call does', () => {
    const root = join(__dirname, '../..');
    const script = `
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).filter((k) => /@alicloud[\\\\/](ecs20140526|openapi-core)[\\\\/]/.test(k)).length > 0;
      const { createAlibabaProvider } = await import('./lib/cloud/alibaba-provider.ts');
      await import('./lib/cloud/aws-provider.ts');
      createAlibabaProvider({ region: 'cn-hangzhou', env: {} });
      const before = loaded();
      await import('./lib/cloud/alibaba-sdk.ts');
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, after: true });
  });
});
