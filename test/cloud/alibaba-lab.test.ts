/**
 * End to end on a lab instance: the real collector travels through RunCommand (Base64) to an
 * emulated Cloud Assistant that runs it inside a namespaced Debian instance, and comes back
 * through DescribeInvocationResults as a complete collector document.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlibabaEmulator } from '../emulators/alibaba-emulator';
import { shellExecutor } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, providerFor, startEmulator } from './alibaba-support';
import { createLab, labGate, type LabInstance } from '../lab/lab';
import { collectorScript } from '../../lib/collector/script';
import { parseDocument } from '../../lib/collector/document';
import type { InstanceInfo } from '../../lib/inventory/types';

// Fails the run in CI when the lab cannot be built; elsewhere skips with the reason.
const labReady = labGate();

// Both suites only read the instance (collector, probe): they share one lab and one emulator.
describe.skipIf(!labReady)('Alibaba Cloud on a lab instance', () => {
  let emu: AlibabaEmulator;
  let inst: LabInstance;
  beforeAll(async () => {
    inst = await createLab();
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu?.close();
    await inst?.destroy();
  });
  beforeEach(() => emu.reset());

  describe('Cloud Assistant runner on a lab instance', () => {
    it('runs the real collector inside the instance with the client IP as its argument', async () => {
      emu.addInstance({ instanceId: INSTANCE_ID, privateIps: [inst.ip], executor: shellExecutor(inst.via.split(' ')) });
      const p = providerFor(emu, { poll: {} });
      const info = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
      const r = await p.runner(info).run({ script: collectorScript, args: [inst.hostIp], timeoutMs: 30_000 });
      expect(r.reason).toBeUndefined();
      expect(r.status).toBe('success');
      expect(r.truncated).toBe(false);
      const doc = parseDocument(r.stdout);
      expect(doc.complete).toBe(true);
      const meta = doc.sections.get('meta')?.lines ?? [];
      expect(meta).toContain(`clients= ${inst.hostIp}`);
      expect(meta).toContain('badargs=0');
      // The script that ran is the collector, sent Base64 in one RunCommand.
      const sent = emu.callsOf('ecs:RunCommand')[0]!.params;
      expect(Buffer.from(sent.CommandContent!, 'base64').toString('utf8')).toContain(`set -- '${inst.hostIp}'`);
    });
  });

  describe('diagnosis of an ECS instance through the Alibaba provider (lab instance, emulated APIs)', () => {
    it('reports the Security Center block alongside the host facts collected through Cloud Assistant', async () => {
      const { diagnose } = await import('../../lib/diagnose');
      emu.addInstance({
        instanceId: INSTANCE_ID,
        publicIps: [inst.ip],
        securityGroupIds: ['sg-bp1lab'],
        sasUuid: 'uuid-lab',
        executor: shellExecutor(inst.via.split(' ')),
      });
      emu.securityGroups.set('sg-bp1lab', [
        { Direction: 'ingress', Policy: 'Accept', Priority: '1', IpProtocol: 'TCP', PortRange: '22/22', SourceCidrIp: '0.0.0.0/0' },
      ]);
      emu.customBlockRecords.push({ Id: 77, BlockIp: inst.altHostIp, Bound: 'in', Status: 1, TargetList: [{ Target: 'uuid-lab', TargetType: 'uuid' }] });
      const p = providerFor(emu, { poll: {} });
      const info = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
      const clientIps = [inst.hostIp, inst.altHostIp];
      const gathered = await p.gatherCloudFacts(info, { clientIps, port: 22 });
      const report = await diagnose({
        target: { host: info.publicIps[0]!, port: 22, instanceId: INSTANCE_ID, provider: 'alibaba', region: 'cn-hangzhou' },
        clientIps,
        runner: p.runner(info),
        cloud: { instance: info, ...gathered.facts },
        notInspected: gathered.notInspected,
      });
      expect(report.collector).toMatchObject({ status: 'ok', runner: 'cloud-assistant', truncated: false });
      expect(report.probe?.outcome).toBe('banner');
      const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
      expect(byId['security-center']).toMatchObject({ status: 'fail', summary: `Security Center blocks ${inst.altHostIp} from reaching this instance.` });
      expect(byId['security-center']?.fix?.actions).toEqual([{ kind: 'security-center-unblock', recordId: '77', ip: inst.altHostIp }]);
      expect(byId['run-command-agent']?.status).toBe('pass');
      expect(byId['security-group']?.status).toBe('pass');
      expect(report.notInspected).toEqual([]);
    });
  });
});
