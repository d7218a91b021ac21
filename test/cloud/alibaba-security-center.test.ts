import { beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_ID, providerFor, useAlibabaEmulator } from './alibaba-support';
import { securityCenterCheck } from '../../lib/checks/security-center';
import type { Facts } from '../../lib/checks/types';
import type { CloudFacts, InstanceInfo } from '../../lib/inventory/types';

const UUID = 'f2d6e901-1004-4ca8-9dae-53ec04a9aaaa';
const CLIENT = '203.0.113.7';

const emu = useAlibabaEmulator();
beforeEach(() => {
  emu.addInstance({ instanceId: INSTANCE_ID, publicIps: ['47.96.1.10'], sasUuid: UUID });
});

async function judge(clientIps: string[]): Promise<{ facts: Facts; notInspected: { what: string; reason: string }[] }> {
  const p = providerFor(emu);
  const instance = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
  const { facts, notInspected } = await p.gatherCloudFacts(instance, { clientIps, port: 22 });
  return {
    notInspected,
    facts: {
      port: 22,
      clients: clientIps.map((ip) => ({ ip, source: 'user' as const })),
      probe: null,
      host: null,
      hostError: null,
      cloud: { instance, ...(facts as Partial<CloudFacts>) },
    },
  };
}

describe('security-center over the emulated SAS API', () => {
  it('fails naming the brute-force record matched by the Uuid, its expiry (BlockExpireDate) and rule (RuleName), with DisableBruteForceRecord as the fix', async () => {
    emu.bruteForceRecords.push(
      {
        Id: 4411,
        BlockIp: CLIENT,
        Status: 1,
        Port: '22',
        Uuid: UUID,
        BlockExpireDate: 1893456000000,
        RuleName: 'ssh-default',
        InstanceName: 'web-1',
        BlockType: 'ip',
      },
      { Id: 4412, BlockIp: CLIENT, Status: 1, Port: '22', Uuid: 'other-uuid', InstanceName: 'web-2' },
      { Id: 4413, BlockIp: CLIENT, Status: 0, Port: '22', Uuid: UUID },
    );
    const { facts } = await judge([CLIENT]);
    const r = securityCenterCheck.run(facts);
    expect(r.status).toBe('fail');
    expect(r.summary).toBe(`Security Center blocks ${CLIENT} from reaching this instance.`);
    expect(r.evidence).toEqual([
      {
        source: 'yundun-sas:DescribeBruteForceRecords',
        text: `brute-force defence record 4411: ${CLIENT} blocked on port 22 until 2030-01-01T00:00:00.000Z (rule "ssh-default")`,
      },
    ]);
    expect(r.fix?.commands).toEqual([`aliyun sas DisableBruteForceRecord --Id 4411 --BlockIp ${CLIENT} --Bound in --Uuid ${UUID} --Port 22`]);
    expect(r.fix?.actions).toEqual([{ kind: 'security-center-unblock', recordId: '4411', ip: CLIENT, source: 'brute-force' }]);
    expect(emu.callsOf('yundun-sas:DescribeBruteForceRecords')[0]!.params.BlockIp).toBe(CLIENT);
  });

  it('without a Security Center Uuid for the instance: not inspected, naming why, and the check never passes', async () => {
    emu.instances.get(INSTANCE_ID)!.sasUuid = undefined;
    emu.bruteForceRecords.push({ Id: 4411, BlockIp: CLIENT, Status: 1, Port: '22', Uuid: UUID });
    const { facts, notInspected } = await judge([CLIENT]);
    expect(notInspected).toEqual([
      { what: 'Security Center', reason: expect.stringMatching(new RegExp(`no Uuid for ${INSTANCE_ID} \\(DescribeCloudCenterInstances`)) },
    ]);
    expect(facts.cloud?.securityCenter).toBeUndefined();
    expect(securityCenterCheck.run(facts).status).toBe('skip');
    expect(emu.callsOf('yundun-sas:DescribeBruteForceRecords')).toHaveLength(0);
  });

  it('the emulator refuses a brute-force record with a key the SDK model lacks (InstanceId): not inspected, never a pass', async () => {
    emu.bruteForceRecords.push({ Id: 1, BlockIp: CLIENT, Status: 1, Uuid: UUID, InstanceId: INSTANCE_ID });
    const { facts, notInspected } = await judge([CLIENT]);
    expect(notInspected[0]?.reason).toMatch(/InventedField.*InstanceId/);
    expect(securityCenterCheck.run(facts).status).toBe('skip');
  });

  it('fails on a custom block record targeting the instance, with the API that lifts it as a FixAction', async () => {
    emu.customBlockRecords.push({
      Id: 381,
      BlockIp: CLIENT,
      Bound: 'in',
      Status: 1,
      BlockExpireDate: 1893456000000,
      TargetList: [{ Target: UUID, TargetType: 'uuid' }],
    });
    const { facts } = await judge([CLIENT, '198.51.100.9']);
    const r = securityCenterCheck.run(facts);
    expect(r.status).toBe('fail');
    expect(r.evidence[0]).toEqual({
      source: 'yundun-sas:DescribeCustomBlockRecords',
      text: `custom block record 381: inbound traffic with ${CLIENT} blocked until 2030-01-01T00:00:00.000Z`,
    });
    expect(r.fix).toEqual({
      summary: 'Delete the Security Center custom block record(s) that block the client IP(s).',
      commands: ['aliyun sas DeleteCustomBlockRecord --Id 381'],
      actions: [{ kind: 'security-center-unblock', recordId: '381', ip: CLIENT }],
    });
  });

  it('passes when only other instances or other addresses are blocked', async () => {
    emu.customBlockRecords.push({ Id: 5, BlockIp: CLIENT, Bound: 'in', Status: 1, TargetList: [{ Target: 'another-uuid', TargetType: 'uuid' }] });
    emu.bruteForceRecords.push({ Id: 6, BlockIp: '192.0.2.66', Status: 1, Uuid: UUID });
    const { facts } = await judge([CLIENT]);
    const r = securityCenterCheck.run(facts);
    expect(r.status).toBe('pass');
    expect(r.summary).toBe('Security Center has no active block for this instance.');
  });

  it('without client IPs, lists every active block for the instance', async () => {
    emu.bruteForceRecords.push({ Id: 6, BlockIp: '192.0.2.66', Status: 1, Uuid: UUID });
    const { facts } = await judge([]);
    expect(facts.cloud?.securityCenter?.blocks.map((b) => b.ip)).toEqual(['192.0.2.66']);
    expect(securityCenterCheck.run(facts).status).toBe('pass');
  });

  it('skips, and names Security Center as not inspected, when RAM forbids the SAS API', async () => {
    emu.faults.forbidden.add('yundun-sas:DescribeBruteForceRecords');
    const { facts, notInspected } = await judge([CLIENT]);
    expect(notInspected).toEqual([{ what: 'Security Center', reason: expect.stringMatching(/yundun-sas:DescribeBruteForceRecords failed: Forbidden\.RAM/) }]);
    const r = securityCenterCheck.run(facts);
    expect(r.status).toBe('skip');
  });

  it('lifts a custom block through DeleteCustomBlockRecord once the record is seen to block that IP; a second lift changes nothing', async () => {
    emu.customBlockRecords.push({ Id: 381, BlockIp: CLIENT, Bound: 'in', Status: 1, TargetList: [] });
    emu.faults.throttle.set('yundun-sas:DeleteCustomBlockRecord', 1);
    const p = providerFor(emu);
    expect(await p.securityCenter!.unblock('381', CLIENT)).toEqual({ result: 'changed', detail: `custom block record 381 for ${CLIENT} deleted` });
    expect(emu.customBlockRecords).toEqual([]);
    expect(emu.callsOf('yundun-sas:DeleteCustomBlockRecord').map((c) => c.code ?? c.params.Id)).toEqual(['Throttling.User', '381']);
    expect((await p.securityCenter!.unblock('381', CLIENT)).result).toBe('unchanged');
    expect(emu.callsOf('yundun-sas:DeleteCustomBlockRecord')).toHaveLength(2);
  });

  it('does not delete a record that no longer blocks that IP (it names another address now): unchanged, nothing deleted', async () => {
    emu.customBlockRecords.push({ Id: 390, BlockIp: CLIENT, Bound: 'in', Status: 1, TargetList: [] });
    const p = providerFor(emu);
    // A stale report: record 390 was edited since and now blocks another address.
    emu.customBlockRecords[0]!.BlockIp = '198.51.100.9';
    expect((await p.securityCenter!.unblock('390', CLIENT)).result).toBe('unchanged');
    expect(emu.customBlockRecords).toHaveLength(1);
    expect(emu.callsOf('yundun-sas:DeleteCustomBlockRecord')).toHaveLength(0);
  });

  it('rejects, with Forbidden.RAM and the policy to fix, when RAM does not grant the delete', async () => {
    emu.customBlockRecords.push({ Id: 381, BlockIp: CLIENT, Bound: 'in', Status: 1, TargetList: [] });
    emu.faults.forbidden.add('yundun-sas:DeleteCustomBlockRecord');
    await expect(providerFor(emu).securityCenter!.unblock('381', CLIENT)).rejects.toThrow(
      /yundun-sas:DeleteCustomBlockRecord failed: Forbidden\.RAM.*infra\/ram-policy\.json/,
    );
    expect(emu.customBlockRecords).toHaveLength(1);
  });

  it('disables a brute-force block with the record as re-read (Id, BlockIp, Uuid, Port, Bound); a second lift changes nothing', async () => {
    emu.bruteForceRecords.push({ Id: 4411, BlockIp: CLIENT, Status: 1, Port: '22', Uuid: UUID, RuleName: 'ssh-default' });
    emu.faults.throttle.set('yundun-sas:DisableBruteForceRecord', 1);
    const p = providerFor(emu);
    expect(await p.securityCenter!.unblock('4411', CLIENT, 'brute-force')).toEqual({
      result: 'changed',
      detail: `brute-force block record 4411 for ${CLIENT} on port 22 disabled`,
    });
    const sent = emu.callsOf('yundun-sas:DisableBruteForceRecord').filter((c) => c.status === 200);
    expect(sent.map((c) => c.params)).toEqual([{ Id: '4411', BlockIp: CLIENT, Uuid: UUID, Port: '22', Bound: 'in' }]);
    expect(emu.bruteForceRecords[0]!.Status).toBe(0);
    expect((await p.securityCenter!.unblock('4411', CLIENT, 'brute-force')).result).toBe('unchanged');
    expect(emu.callsOf('yundun-sas:DisableBruteForceRecord')).toHaveLength(2);
    // A custom-block lift of the same id never touches the brute-force record.
    expect(emu.callsOf('yundun-sas:DeleteCustomBlockRecord')).toHaveLength(0);
  });

  it('does not disable a brute-force record that now blocks another address; without the RAM grant the lift fails naming it', async () => {
    emu.bruteForceRecords.push({ Id: 4411, BlockIp: '198.51.100.9', Status: 1, Port: '22', Uuid: UUID });
    const p = providerFor(emu);
    expect((await p.securityCenter!.unblock('4411', CLIENT, 'brute-force')).result).toBe('unchanged');
    emu.bruteForceRecords[0]!.BlockIp = CLIENT;
    emu.faults.forbidden.add('yundun-sas:DisableBruteForceRecord');
    await expect(p.securityCenter!.unblock('4411', CLIENT, 'brute-force')).rejects.toThrow(
      /yundun-sas:DisableBruteForceRecord failed: Forbidden\.RAM.*infra\/ram-policy\.json/,
    );
    expect(emu.bruteForceRecords[0]!.Status).toBe(1);
  });

  it('skips on AWS instances', () => {
    const r = securityCenterCheck.run({
      port: 22,
      clients: [],
      probe: null,
      host: null,
      hostError: null,
      cloud: {
        instance: {
          provider: 'aws',
          region: 'eu-west-1',
          instanceId: 'i-0123456789abcdef0',
          state: 'running',
          rawState: 'running',
          platform: 'linux',
          publicIps: [],
          privateIps: [],
          securityGroupIds: [],
          tags: {},
        },
      },
    });
    expect(r.status).toBe('skip');
  });
});
