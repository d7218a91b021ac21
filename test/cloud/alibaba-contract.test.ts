/**
 * The emulator may not invent fields, and the adapters may not read fields the real API lacks.
 * ECS keys come from the model classes of `@alicloud/ecs20140526` (names()/types()); Security
 * Center keys from the SDK model sources (no npm package; see test/emulators/alibaba-sas.ts).
 * Every provider entry point runs against the emulator; every answer is then checked key by key
 * against its response model, and the adapter sources are scanned for the API keys they read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INSTANCE_ID, providerFor, useAlibabaEmulator } from './alibaba-support';
import { SAS_RESPONSES, allKeys, ecsModel, undeclaredKeys, type Schema } from '../support/api-schema';
import type { InstanceInfo } from '../../lib/inventory/types';

const ECS_ACTIONS = [
  'DescribeInstances',
  'DescribeSecurityGroupAttribute',
  'DescribePortRangeListEntries',
  'DescribeCloudAssistantStatus',
  'RunCommand',
  'DescribeInvocationResults',
  'StopInvocation',
] as const;

function responseSchema(action: string): Schema {
  const [service, name] = action.split(':') as [string, string];
  if (service === 'ecs') return ecsModel(`${name}ResponseBody`);
  const sas = SAS_RESPONSES[name];
  if (!sas) throw new Error(`no response schema for ${action}`);
  return sas;
}

/** PascalCase properties read in a source file (`r.InvocationStatus`, `obj(res.Instances).Instance`). */
function keysRead(file: string): string[] {
  // Comments and string literals name error codes ('Forbidden.RAM') and request keys ('Tag.1.Key'), not reads.
  const text = readFileSync(join(__dirname, '../..', file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
  const found = new Set<string>();
  for (const m of text.matchAll(/\.([A-Z][A-Za-z0-9]*)\b/g)) found.add(m[1]!);
  // Not API keys: Node's net.SocketAddress.
  found.delete('SocketAddress');
  return [...found].sort();
}

const emu = useAlibabaEmulator();
const UUID = 'f2d6e901-1004-4ca8-9dae-53ec04a9aaaa';

describe('Alibaba Cloud API contract', () => {
  it('reads the key names the ECS SDK models declare', () => {
    const body = ecsModel('DescribeInvocationResultsResponseBody');
    expect([...allKeys(body)]).toEqual(expect.arrayContaining(['Invocation', 'InvocationResults', 'InvocationResult', 'InvocationStatus', 'ErrorCode']));
    expect(allKeys(ecsModel('DescribeSecurityGroupAttributeResponseBody')).has('PortRangeListId')).toBe(true);
  });

  it('flags a key the model lacks, at its path (the check can fail)', () => {
    const bad = { MachineList: [{ Id: 1, Uuid: UUID, InstanceId: INSTANCE_ID, EndTime: 1, Reason: 'x' }], PageInfo: { TotalCount: 1 } };
    expect(undeclaredKeys(bad, responseSchema('yundun-sas:DescribeBruteForceRecords'))).toEqual([
      'MachineList[0].InstanceId',
      'MachineList[0].EndTime',
      'MachineList[0].Reason',
    ]);
    const stopped = { Invocation: { InvocationResults: { InvocationResult: [{ InvocationStatus: 'Stopped', Stopped: true }] } } };
    expect(undeclaredKeys(stopped, responseSchema('ecs:DescribeInvocationResults'))).toEqual(['Invocation.InvocationResults.InvocationResult[0].Stopped']);
  });

  it('the emulator answers every call of every entry point with declared keys only', async () => {
    emu.addInstance({
      instanceId: INSTANCE_ID,
      publicIps: ['47.96.1.10'],
      eip: '47.96.2.20',
      securityGroupIds: ['sg-bp1aaa'],
      sasUuid: UUID,
      tags: { sshdoctor: 'on' },
    });
    emu.securityGroups.set('sg-bp1aaa', [
      {
        Direction: 'ingress',
        Policy: 'Accept',
        Priority: '1',
        IpProtocol: 'TCP',
        PortRange: '22/22',
        SourceCidrIp: '0.0.0.0/0',
        SecurityGroupRuleId: 'sgr-1',
        Description: 'ssh',
      },
      { Direction: 'ingress', Policy: 'Drop', Priority: '1', IpProtocol: 'TCP', PortRange: '', PortRangeListId: 'prl-web', SourceCidrIp: '0.0.0.0/0' },
    ]);
    emu.portRangeLists.set('prl-web', [{ PortRange: '80/80', Description: 'http' }]);
    emu.bruteForceRecords.push({
      Id: 7,
      BlockIp: '203.0.113.7',
      Status: 1,
      Port: '22',
      Uuid: UUID,
      BlockExpireDate: 1893456000000,
      RuleName: 'r',
      BlockType: 'ip',
    });
    emu.customBlockRecords.push({ Id: 8, BlockIp: '203.0.113.7', Bound: 'in', Status: 1, TargetList: [{ Target: UUID, TargetType: 'uuid' }] });
    const p = providerFor(emu);
    const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
    await p.gatherCloudFacts(inst, { clientIps: ['203.0.113.7'], port: 22 });
    await p.runner(inst).run({ script: 'echo ok; exit 3', args: [], timeoutMs: 15_000 });
    await p.runFleet!([INSTANCE_ID], { script: 'echo ok', args: [], timeoutMs: 15_000 });
    await p.listInstancesByTag!('sshdoctor', 'on');
    await p.securityCenter!.unblock('8', '203.0.113.7');
    await p.securityCenter!.unblock('7', '203.0.113.7', 'brute-force');
    emu.instances.get(INSTANCE_ID)!.fault = 'StuckPending';
    await p.runner(inst).run({ script: 'echo never', args: [], timeoutMs: 1_000 });

    const ok = emu.calls.filter((c) => c.status === 200);
    const actions = new Set(ok.map((c) => c.action));
    expect([...actions].filter((a) => a.startsWith('ecs:')).sort()).toEqual(ECS_ACTIONS.map((a) => `ecs:${a}`).sort());
    expect([...actions].filter((a) => a.startsWith('yundun-sas:')).sort()).toEqual(
      Object.keys(SAS_RESPONSES)
        .map((a) => `yundun-sas:${a}`)
        .sort(),
    );
    const invented = ok.flatMap((c) => undeclaredKeys(c.response, responseSchema(c.action)).map((k) => `${c.action}: ${k}`));
    expect([...new Set(invented)]).toEqual([]);
  });

  it.each([
    ['lib/inventory/ecs-inventory.ts', ['DescribeInstances', 'DescribeSecurityGroupAttribute', 'DescribePortRangeListEntries', 'DescribeCloudAssistantStatus']],
    ['lib/runners/cloud-assistant-runner.ts', ['RunCommand', 'DescribeInvocationResults', 'StopInvocation']],
  ] as const)('%s reads only keys its ECS response models declare', (file, actions) => {
    const declared = new Set(actions.flatMap((a) => [...allKeys(ecsModel(`${a}ResponseBody`))]));
    const read = keysRead(file);
    expect(read.length).toBeGreaterThan(3);
    expect(read.filter((k) => !declared.has(k))).toEqual([]);
  });

  it('lib/cloud/sas-client.ts reads only keys of the Security Center models', () => {
    const declared = new Set(Object.values(SAS_RESPONSES).flatMap((s) => [...allKeys(s)]));
    const read = keysRead('lib/cloud/sas-client.ts');
    expect(read).toEqual(expect.arrayContaining(['BlockExpireDate', 'RuleName', 'Uuid']));
    expect(read.filter((k) => !declared.has(k))).toEqual([]);
  });
});
