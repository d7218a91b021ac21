/**
 * infra/ram-policy.json grants exactly the Alibaba Cloud API actions the code calls: every
 * provider entry point runs against the emulator with that policy enforced (any other action is
 * Forbidden.RAM), and the sources are scanned for the actions they name, so an action added in
 * code but not in the policy, or left in the policy after the code stopped calling it, fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlibabaEmulator } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, providerFor, startEmulator } from '../cloud/alibaba-support';
import type { InstanceInfo } from '../../lib/inventory/types';

interface RamStatement {
  Effect: string;
  Action: string | string[];
}
const policy = JSON.parse(readFileSync(join(__dirname, '../../infra/ram-policy.json'), 'utf8')) as { Version: string; Statement: RamStatement[] };
const granted = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

/** Files that call Alibaba APIs, and the service code of each. */
const ALIBABA_SOURCES: Record<string, 'ecs' | 'yundun-sas'> = {
  'lib/inventory/ecs-inventory.ts': 'ecs',
  'lib/runners/cloud-assistant-runner.ts': 'ecs',
  'lib/cloud/sas-client.ts': 'yundun-sas',
};

function actionsNamedInSources(): Set<string> {
  const out = new Set<string>();
  const root = join(__dirname, '../..');
  for (const [file, service] of Object.entries(ALIBABA_SOURCES)) {
    const text = readFileSync(join(root, file), 'utf8');
    // An action is the first argument of call(...) or pages(call, ...).
    for (const m of text.matchAll(/(?:call\(|pages\(call, )'([A-Z][A-Za-z]+)'/g)) out.add(`${service}:${m[1]}`);
  }
  return out;
}

let emu: AlibabaEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

describe('infra/ram-policy.json', () => {
  it('is a RAM policy document with only Allow statements', () => {
    expect(policy.Version).toBe('1');
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
    expect([...granted].every((a) => /^(ecs|yundun-sas):[A-Z][A-Za-z]+$/.test(a))).toBe(true);
  });

  it('grants every action the sources name, and nothing else', () => {
    const named = actionsNamedInSources();
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((a) => !granted.has(a)).sort()).toEqual([]);
    expect([...granted].filter((a) => !named.has(a)).sort()).toEqual([]);
  });

  it('lets every provider entry point work with the policy enforced, and every grant is used', async () => {
    emu.allowedActions = granted;
    emu.addInstance({ instanceId: INSTANCE_ID, securityGroupIds: ['sg-bp1aaa'], sasUuid: 'uuid-1', tags: { sshdoctor: 'on' } });
    emu.securityGroups.set('sg-bp1aaa', [
      { Direction: 'ingress', Policy: 'Accept', Priority: '1', IpProtocol: 'TCP', PortRange: '22/22', SourceCidrIp: '0.0.0.0/0' },
      { Direction: 'ingress', Policy: 'Drop', Priority: '1', IpProtocol: 'TCP', PortRange: '', PortRangeListId: 'prl-web', SourceCidrIp: '0.0.0.0/0' },
    ]);
    emu.portRangeLists.set('prl-web', [{ PortRange: '80/80' }]);
    const p = providerFor(emu);
    const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
    const gathered = await p.gatherCloudFacts(inst, { clientIps: ['203.0.113.7'], port: 22 });
    const run = await p.runner(inst).run({ script: 'echo ok', args: ['203.0.113.7'], timeoutMs: 15_000 });
    const fleet = await p.runFleet!([INSTANCE_ID], { script: 'echo ok', args: [], timeoutMs: 15_000 });
    const tagged = await p.listInstancesByTag!('sshdoctor', 'on');
    emu.customBlockRecords.push({ Id: 912, BlockIp: '203.0.113.7', Bound: 'in', Status: 1, TargetList: [] });
    const unblocked = await p.securityCenter!.unblock('912', '203.0.113.7');
    emu.bruteForceRecords.push({ Id: 913, BlockIp: '203.0.113.7', Status: 1, Port: '22', Uuid: 'uuid-1' });
    const disabled = await p.securityCenter!.unblock('913', '203.0.113.7', 'brute-force');
    // A command never picked up before the deadline is stopped.
    emu.instances.get(INSTANCE_ID)!.fault = 'StuckPending';
    const stuck = await p.runner(inst).run({ script: 'echo never', args: [], timeoutMs: 1_000 });

    expect(gathered.notInspected).toEqual([]);
    expect(run.status).toBe('success');
    expect(fleet.get(INSTANCE_ID)?.status).toBe('success');
    expect(tagged).toHaveLength(1);
    expect(unblocked.result).toBe('changed');
    expect(disabled.result).toBe('changed');
    expect(stuck.reason).toMatch(/stopped, it will not start later/);
    const denied = emu.calls.filter((c) => c.code === 'Forbidden.RAM').map((c) => c.action);
    expect(denied).toEqual([]);
    const called = new Set(emu.calls.map((c) => c.action));
    expect([...granted].filter((a) => !called.has(a)).sort()).toEqual([]);
  });
});
