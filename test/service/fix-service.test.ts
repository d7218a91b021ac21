/**
 * The service's fix path end to end: a stored report (DynamoDB on dynalite) of an ECS
 * instance (emulated Alibaba APIs, Cloud Assistant running scripts inside a real lab
 * instance) whose hosts.deny blocks the client; `runFix` plans, applies through the
 * provider's runner (apply.sh's argv as validated text), verifies with a fresh diagnosis and
 * the outside probe, and writes the audit to DynamoDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../lib/auth/validate';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlibabaEmulator } from '../emulators/alibaba-emulator';
import { shellExecutor } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, providerFor, startEmulator } from '../cloud/alibaba-support';
import { createLab, labGate, type LabInstance } from '../lab/lab';
import { denyByIp } from '../lab/scenarios';
import { rawProbe } from '../lab/raw-client';
import { keygen, sshLogsIn } from '../lab/ssh-client';
import { diagnoseInstance } from '../../lib/cloud/diagnose-instance';
import { createDynamoReportStore } from '../../lib/service/stores/report-store';
import { createDynamoFixAuditStore } from '../../lib/service/stores/fix-audit-store';
import { runFix, type FixDeps } from '../../lib/service/fix/fix-service';
import { ForbiddenError, NotFoundError } from '../../lib/service/errors';
import { createFixAuditTable, startDynalite, TABLES, type LocalDynamo } from './support/dynalite';

// Fails the run in CI when the lab cannot be built; elsewhere skips with the reason.
const labReady = labGate();
const TAG = { key: 'sshdoctor', value: 'enabled' };

describe.skipIf(!labReady)('POST /checks/{id}/fix core (runFix)', () => {
  let emu: AlibabaEmulator;
  let inst: LabInstance;
  let dynamo: LocalDynamo;
  let deps: FixDeps;

  beforeAll(async () => {
    [inst, emu, dynamo] = await Promise.all([createLab(), startEmulator(), startDynalite()]);
    await createFixAuditTable(dynamo.client, 'fix-audit');
    emu.addInstance({ instanceId: INSTANCE_ID, publicIps: [inst.ip], tags: { [TAG.key]: TAG.value }, executor: shellExecutor(inst.via.split(' ')) });
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    const provider = providerFor(emu, { poll: {} });
    deps = {
      config: { enabledProviders: ['alibaba'], optInTag: TAG },
      store: createDynamoReportStore({ client: doc, tables: TABLES, reportTtlDays: 1, historyTtlDays: 1 }),
      providers: async () => provider,
      diagnoser: { instance: (p, o) => diagnoseInstance(p, o) },
      audit: createDynamoFixAuditStore({ client: doc, table: 'fix-audit', ttlDays: 1 }),
    };
  });
  afterAll(async () => {
    await emu?.close();
    await dynamo?.close();
    await inst?.destroy();
  });

  it('plans without changing anything, then applies through Cloud Assistant: a real SSH banner afterwards, audited; a second run changes nothing', {
    timeout: 180_000,
  }, async () => {
    await denyByIp(inst, inst.hostIp);
    const provider = await deps.providers('alibaba', 'cn-hangzhou');
    const report = await diagnoseInstance(provider, { instanceId: INSTANCE_ID, clientIps: [] });
    expect(report.checks.find((c) => c.id === 'tcp-wrappers')?.status).toBe('fail');
    expect(report.probe?.outcome).toBe('reset');
    const reportId = '2b1f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
    await deps.store.put(reportId, report);
    const deny = await inst.readFile('/etc/hosts.deny');

    const dry = await runFix({ reportId, apply: false }, 'slack:T1/U0123ABC', deps);
    expect(dry.outcome).toBeNull();
    expect(dry.plan.steps.map((s) => s.action.kind)).toEqual(['comment-line']);
    expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
    expect(emu.callsOf('ecs:RunCommand').filter((c) => c.params.Name === 'sshdoctor-remediation')).toHaveLength(0);

    const applied = await runFix({ reportId, apply: true }, 'slack:T1/U0123ABC', deps);
    expect(applied.outcome?.summary).toMatch(/Fixed and verified/);
    expect(applied.outcome?.status).toBe('fixed');
    expect(emu.callsOf('ecs:RunCommand').filter((c) => c.params.Name === 'sshdoctor-remediation')).toHaveLength(1);
    const after = await inst.readFile('/etc/hosts.deny');
    expect(after).toBe(deny.replace(`\nsshd: ${inst.hostIp}\n`, `\n# sshdoctor: sshd: ${inst.hostIp}\n`));
    expect(after).not.toBe(deny);
    const banner = await rawProbe(inst.ip, 22, { localAddress: inst.hostIp });
    expect(banner.outcome).toBe('banner');
    expect(banner.firstLine).toMatch(/^SSH-2\.0-OpenSSH/);
    const audit = await deps.audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      who: 'slack:T1/U0123ABC',
      runId: reportId,
      checkId: 'tcp-wrappers',
      result: 'changed',
      verified: true,
      rolledBack: false,
    });
    expect(audit[0]!.backup).toMatch(/^\/etc\/hosts\.deny\.sshdoctor-/);

    // The same stored report again: the step finds its fix in place and changes nothing.
    const fixedText = await inst.readFile('/etc/hosts.deny');
    const again = await runFix({ reportId, apply: true }, 'slack:T1/U0123ABC', deps);
    expect(again.outcome?.status).toBe('nothing-to-do');
    expect(again.outcome?.audit.map((a) => a.result)).toEqual(['unchanged']);
    expect(await inst.readFile('/etc/hosts.deny')).toBe(fixedText);
    await inst.exec(': > /etc/hosts.deny');
  });

  it("fixes a user's key chain from a stored --user report: verified by asking the server again, and the real client logs in", {
    timeout: 180_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sshdoctor-fixsvc-'));
    try {
      const { priv, pub } = keygen(dir, 'id');
      await inst.exec("id dora >/dev/null 2>&1 || useradd -m -s /bin/sh dora; usermod -p '*' dora; mkdir -p -m 700 /home/dora/.ssh");
      await inst.writeFile('/home/dora/.ssh/authorized_keys', pub);
      await inst.exec('chown -R dora:dora /home/dora/.ssh && chmod 666 /home/dora/.ssh/authorized_keys');
      const login = () => sshLogsIn(inst.ip, 'dora', priv);
      expect(login()).toBe(false);
      const provider = await deps.providers('alibaba', 'cn-hangzhou');
      const report = await diagnoseInstance(provider, { instanceId: INSTANCE_ID, clientIps: [], user: { name: 'dora', publicKey: parsePublicKey(pub) } });
      expect(report.verdict.status).toBe('blocked');
      expect(report.target.user).toEqual({ name: 'dora', publicKey: pub.trim().split(' ').slice(0, 2).join(' ') });
      const reportId = '3c2e3d2f-1e8b-4b68-8d66-1e3c2e3d2f1e';
      await deps.store.put(reportId, report);
      const applied = await runFix({ reportId, apply: true }, 'slack:T1/U0123ABC', deps);
      expect(applied.plan.steps.map((s) => s.action.kind)).toEqual(['user-path-mode']);
      expect(applied.outcome?.status, applied.outcome?.summary).toBe('fixed');
      expect(applied.outcome?.after?.probe?.auth?.outcome).toBe('accepted');
      expect(login()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rolls a cloud fix back when verification fails on purpose (the re-check probe is made to fail)', { timeout: 180_000 }, async () => {
    await denyByIp(inst, inst.hostIp);
    const provider = await deps.providers('alibaba', 'cn-hangzhou');
    const report = await diagnoseInstance(provider, { instanceId: INSTANCE_ID, clientIps: [] });
    const reportId = '4d3f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
    await deps.store.put(reportId, report);
    const deny = await inst.readFile('/etc/hosts.deny');
    // Verification re-diagnoses with a probe that cannot get a banner: the fix must be undone.
    let onRecordDuringVerification: Awaited<ReturnType<FixDeps['audit']['list']>> = [];
    const failing: FixDeps = {
      ...deps,
      diagnoser: {
        instance: async (p, o) => {
          onRecordDuringVerification = await deps.audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`);
          const r = await diagnoseInstance(p, o);
          return { ...r, probe: r.probe ? { ...r.probe, outcome: 'refused' } : r.probe };
        },
      },
    };
    const run = await runFix({ reportId, apply: true }, 'iam:arn:aws:iam::123456789012:user/ops', failing);
    expect(run.outcome?.status).toBe('rolled-back');
    expect(run.outcome?.summary).toMatch(/rolled back/);
    expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
    // The change was on record before the verification ran, then finished as rolled back.
    expect(onRecordDuringVerification.find((a) => a.runId === reportId)).toMatchObject({
      result: 'changed',
      verified: null,
      rolledBack: false,
      unfinished: true,
    });
    const audit = await deps.audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`);
    expect(audit.find((a) => a.runId === reportId)).toMatchObject({ result: 'changed', verified: false, rolledBack: true });
    expect(audit.find((a) => a.runId === reportId)?.unfinished).toBeUndefined();
    await inst.exec(': > /etc/hosts.deny');
  });

  it('lifts a Security Center custom block through the SAS API for an ECS instance, verified and audited in DynamoDB', { timeout: 180_000 }, async () => {
    emu.instances.get(INSTANCE_ID)!.sasUuid = 'uuid-fix-service';
    emu.customBlockRecords.push({ Id: 5150, BlockIp: inst.hostIp, Bound: 'in', Status: 1, TargetList: [{ Target: 'uuid-fix-service', TargetType: 'uuid' }] });
    try {
      const provider = await deps.providers('alibaba', 'cn-hangzhou');
      const report = await diagnoseInstance(provider, { instanceId: INSTANCE_ID, clientIps: [inst.hostIp] });
      expect(report.checks.find((c) => c.id === 'security-center')?.status).toBe('fail');
      const reportId = '5e3f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      await deps.store.put(reportId, report);
      const run = await runFix({ reportId, apply: true }, 'slack:T1/U0SAS', deps);
      expect(run.outcome?.status).toBe('fixed');
      expect(emu.customBlockRecords).toEqual([]);
      expect(emu.callsOf('yundun-sas:DeleteCustomBlockRecord').map((c) => c.params.Id)).toEqual(['5150']);
      const audit = await deps.audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`);
      expect(audit.find((a) => a.runId === reportId)).toMatchObject({
        who: 'slack:T1/U0SAS',
        checkId: 'security-center',
        result: 'changed',
        after: 'record deleted',
        verified: true,
      });
    } finally {
      emu.customBlockRecords.length = 0;
      delete emu.instances.get(INSTANCE_ID)!.sasUuid;
    }
  });

  it('answers 404 for an unknown report and 403 once the opt-in tag is gone', async () => {
    await expect(runFix({ reportId: '00000000-0000-4000-8000-000000000000', apply: true }, 'x', deps)).rejects.toBeInstanceOf(NotFoundError);
    const provider = await deps.providers('alibaba', 'cn-hangzhou');
    const report = await diagnoseInstance(provider, { instanceId: INSTANCE_ID, clientIps: [] });
    const reportId = '3c2f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
    await deps.store.put(reportId, report);
    const strict = { ...deps, config: { ...deps.config, optInTag: { key: 'sshdoctor', value: 'fix-allowed' } } };
    await expect(runFix({ reportId, apply: true }, 'x', strict)).rejects.toBeInstanceOf(ForbiddenError);
  });
});
