/**
 * Alibaba security groups end to end: the emulated ECS API (real key names, port lists through
 * DescribePortRangeListEntries) read by the provider, judged by the security-group check.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_ID, providerFor, useAlibabaEmulator } from './alibaba-support';
import { securityGroupCheck } from '../../lib/checks/security-group';
import type { Facts } from '../../lib/checks/types';
import type { CloudFacts, InstanceInfo } from '../../lib/inventory/types';

const CLIENT = '203.0.113.7';
const emu = useAlibabaEmulator();
beforeEach(() => {
  emu.addInstance({ instanceId: INSTANCE_ID, publicIps: ['47.96.1.10'], securityGroupIds: ['sg-bp1aaa'] });
});

const accept = (extra: Record<string, unknown> = {}) => ({
  Direction: 'ingress',
  Policy: 'Accept',
  Priority: '10',
  IpProtocol: 'TCP',
  PortRange: '22/22',
  SourceCidrIp: '0.0.0.0/0',
  ...extra,
});
const dropList = (listId: string, priority = '1') => ({
  Direction: 'ingress',
  Policy: 'Drop',
  Priority: priority,
  IpProtocol: 'TCP',
  PortRange: '',
  PortRangeListId: listId,
  SourceCidrIp: '203.0.113.0/24',
  SecurityGroupRuleId: 'sgr-bp1drop',
});

async function judge(): Promise<{ facts: Facts; notInspected: { what: string; reason: string }[] }> {
  const p = providerFor(emu);
  const instance = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
  const { facts, notInspected } = await p.gatherCloudFacts(instance, { clientIps: [CLIENT], port: 22 });
  const cloud: CloudFacts = { instance, ...(facts as Partial<CloudFacts>) };
  return { notInspected, facts: { port: 22, clients: [{ ip: CLIENT, source: 'user' }], probe: null, host: null, hostError: null, cloud } };
}

describe('security groups with port lists (PortRangeListId)', () => {
  it('judges a drop on a port list by its entries: a list of 80 and 443 does not block SSH', async () => {
    emu.securityGroups.set('sg-bp1aaa', [accept(), dropList('prl-bp1web')]);
    emu.portRangeLists.set('prl-bp1web', [{ PortRange: '80/80', Description: 'http' }, { PortRange: '443/443' }]);
    const { facts } = await judge();
    const r = securityGroupCheck.run(facts);
    expect(r.status).toBe('pass');
    expect(facts.cloud!.securityGroupRules!.filter((x) => x.action === 'deny').map((x) => [x.portFrom, x.portTo])).toEqual([
      [80, 80],
      [443, 443],
    ]);
    expect(emu.callsOf('ecs:DescribePortRangeListEntries').map((c) => c.params.PortRangeListId)).toEqual(['prl-bp1web']);
  });

  it('a drop on a port list holding 22 blocks the client, citing the list', async () => {
    emu.securityGroups.set('sg-bp1aaa', [accept(), dropList('prl-bp1ssh')]);
    emu.portRangeLists.set('prl-bp1ssh', [{ PortRange: '20/23' }]);
    const r = securityGroupCheck.run((await judge()).facts);
    expect(r.status).toBe('fail');
    expect(r.evidence.map((e) => e.text)).toContain('sg-bp1aaa: drop tcp 20-23 (port list prl-bp1ssh) from 203.0.113.0/24 (priority 1)');
  });

  it('a priority-1 drop cannot be outranked: the fix revokes it by SecurityGroupRuleId before the accept', async () => {
    emu.securityGroups.set('sg-bp1aaa', [accept(), dropList('prl-bp1ssh')]);
    emu.portRangeLists.set('prl-bp1ssh', [{ PortRange: '22/22' }]);
    const r = securityGroupCheck.run((await judge()).facts);
    expect(r.fix?.commands).toEqual([
      'aliyun ecs RevokeSecurityGroup --RegionId cn-hangzhou --SecurityGroupId sg-bp1aaa --SecurityGroupRuleId.1 sgr-bp1drop',
      `aliyun ecs AuthorizeSecurityGroup --RegionId cn-hangzhou --SecurityGroupId sg-bp1aaa --Permissions.1.IpProtocol tcp --Permissions.1.PortRange 22/22 --Permissions.1.SourceCidrIp ${CLIENT}/32 --Permissions.1.Policy accept --Permissions.1.Priority 1`,
    ]);
  });

  it('a port list that cannot be read makes the rule not evaluable (warn), never all ports', async () => {
    emu.securityGroups.set('sg-bp1aaa', [accept(), dropList('prl-bp1gone')]);
    emu.faults.forbidden.add('ecs:DescribePortRangeListEntries');
    const r = securityGroupCheck.run((await judge()).facts);
    expect(r.status).toBe('warn');
    expect(r.summary).toMatch(/whose ports could not be read/);
    expect(r.evidence.map((e) => e.text).join('\n')).toMatch(/unknown ports .*not evaluable: port list prl-bp1gone could not be read: .*Forbidden\.RAM/);
  });

  it('an empty PortRange without a port list is not read as all ports', async () => {
    emu.securityGroups.set('sg-bp1aaa', [accept(), { ...dropList('x'), PortRangeListId: '' }]);
    const r = securityGroupCheck.run((await judge()).facts);
    expect(r.status).toBe('warn');
    expect(r.evidence.map((e) => e.text).join('\n')).toMatch(/not evaluable: PortRange is empty/);
  });
});
