/**
 * End to end on a lab instance: the real collector travels through RunCommand (Base64) to an
 * emulated Cloud Assistant that runs it inside a namespaced Debian instance, and comes back
 * through DescribeInvocationResults as a complete collector document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlibabaEmulator } from '../emulators/alibaba-emulator';
import { shellExecutor } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, providerFor, startEmulator } from './alibaba-support';
import { createLab, labAvailable, type LabInstance } from '../lab/lab';
import { collectorScript } from '../../lib/collector/script';
import { parseDocument } from '../../lib/collector/document';
import type { InstanceInfo } from '../../lib/inventory/types';

const lab = labAvailable();

describe.skipIf(!lab.ok)('Cloud Assistant runner on a lab instance', () => {
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
