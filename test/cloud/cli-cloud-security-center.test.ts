/**
 * `sshdoctor fix INSTANCE_ID --provider alibaba --apply` as a real process against a Security
 * Center custom block: the CLI builds the real openapi-core clients from ALIBABA_CLOUD_* env,
 * the emulator verifies every signature, and Cloud Assistant runs the collector (and apply.sh)
 * inside a lab instance. The emulated block lives in the SAS API only (nothing drops packets on
 * the wire), so the re-check proves the lift by the next DescribeCustomBlockRecords.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shellExecutor, type AlibabaEmulator } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, alibabaEmulatorEnv, startEmulator } from './alibaba-support';
import { createLab, labGate, type LabInstance } from '../lab/lab';
import { denyByIp } from '../lab/scenarios';
import { runFixJson } from '../support/cli';

const UUID = 'uuid-lab-sas';
// Fails the run in CI when the lab cannot be built; elsewhere skips with the reason.
const labReady = labGate();

describe.skipIf(!labReady)('sshdoctor fix lifts Security Center blocks (CLI process, emulated SAS, lab instance)', () => {
  let emu: AlibabaEmulator;
  let inst: LabInstance;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    [emu, inst] = await Promise.all([startEmulator(), createLab()]);
    env = alibabaEmulatorEnv(emu);
  });
  afterAll(async () => {
    await Promise.all([emu?.close(), inst?.destroy()]);
  });
  beforeEach(() => {
    emu.reset();
    emu.addInstance({ instanceId: INSTANCE_ID, privateIps: [inst.ip], sasUuid: UUID, executor: shellExecutor(inst.via.split(' ')) });
  });

  const blockClient = (id: number) =>
    emu.customBlockRecords.push({ Id: id, BlockIp: inst.hostIp, Bound: 'in', Status: 1, TargetList: [{ Target: UUID, TargetType: 'uuid' }] });

  const fix = (extra: string[]) =>
    runFixJson([INSTANCE_ID, '--provider', 'alibaba', '--region', 'cn-hangzhou', '--client-ip', inst.hostIp, ...extra], { env, timeoutMs: 120_000 });
  const deletes = () => emu.callsOf('yundun-sas:DeleteCustomBlockRecord');

  it('dry run plans the API step and deletes nothing; --apply deletes the custom block record, the re-check passes, the audit records it', {
    timeout: 240_000,
  }, async () => {
    blockClient(381);
    const dry = await fix([]);
    expect(dry.code).toBe(1);
    expect(dry.outcome).toBeNull();
    expect(dry.plan.steps).toEqual([
      expect.objectContaining({ checkId: 'security-center', action: { kind: 'security-center-unblock', recordId: '381', ip: inst.hostIp }, args: null }),
    ]);
    expect(deletes()).toHaveLength(0);
    expect(emu.customBlockRecords).toHaveLength(1);

    const applied = await fix(['--apply']);
    expect(applied.outcome?.summary).toMatch(/Fixed and verified: security-center now pass/);
    expect(applied.outcome?.status).toBe('fixed');
    expect(applied.code).toBe(0);
    expect(applied.outcome?.audit).toEqual([
      expect.objectContaining({
        checkId: 'security-center',
        result: 'changed',
        before: `block record 381 for ${inst.hostIp}`,
        after: 'record deleted',
        verified: true,
        rolledBack: false,
        who: expect.stringContaining('@'),
      }),
    ]);
    expect(applied.outcome?.after?.checks.find((c) => c.id === 'security-center')?.status).toBe('pass');
    expect(deletes().map((c) => c.params.Id)).toEqual(['381']);
    expect(emu.customBlockRecords).toEqual([]);
    // No host change was sent for an API-only fix.
    expect(emu.callsOf('ecs:RunCommand').filter((c) => c.params.Name === 'sshdoctor-remediation')).toHaveLength(0);

    const again = await fix(['--apply']);
    expect(again.plan.steps).toHaveLength(0);
    expect(again.outcome?.status).toBe('nothing-to-do');
    expect(deletes()).toHaveLength(1);
  });

  it('without yundun-sas:DeleteCustomBlockRecord: the step fails naming the grant, the host step before it is rolled back, the record stays', {
    timeout: 240_000,
  }, async () => {
    blockClient(382);
    emu.faults.forbidden.add('yundun-sas:DeleteCustomBlockRecord');
    await denyByIp(inst, inst.hostIp);
    const deny = await inst.readFile('/etc/hosts.deny');
    try {
      const r = await fix(['--apply']);
      expect(r.plan.steps.map((s) => `${s.checkId}:${s.action.kind}`)).toEqual(['tcp-wrappers:comment-line', 'security-center:security-center-unblock']);
      expect(r.outcome?.status).toBe('failed');
      expect(r.code).toBe(1);
      expect(r.outcome?.summary).toMatch(
        /Delete Security Center custom block record 382 .* failed: .*yundun-sas:DeleteCustomBlockRecord failed: Forbidden\.RAM/,
      );
      expect(r.outcome?.summary).toMatch(/All 1 change was rolled back\./);
      const [host, sas] = r.outcome?.audit ?? [];
      expect(host).toMatchObject({ checkId: 'tcp-wrappers', result: 'changed', rolledBack: true });
      expect(sas).toMatchObject({ checkId: 'security-center', result: 'failed', rolledBack: false });
      expect(sas?.detail).toMatch(/Forbidden\.RAM.*infra\/ram-policy\.json/);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
      expect(emu.customBlockRecords.map((x) => x.Id)).toEqual([382]);
      expect(deletes().map((c) => c.code)).toEqual(['Forbidden.RAM']);
    } finally {
      await inst.exec(': > /etc/hosts.deny');
    }
  });

  it('a brute-force block is lifted through DisableBruteForceRecord with the custom record: both audited, the re-check passes', {
    timeout: 240_000,
  }, async () => {
    emu.bruteForceRecords.push({ Id: 4411, BlockIp: inst.hostIp, Status: 1, Port: '22', Uuid: UUID, RuleName: 'ssh-default' });
    blockClient(383);
    const dry = await fix([]);
    expect(dry.plan.manual.filter((m) => m.checkId === 'security-center')).toEqual([]);
    expect(dry.plan.steps.map((s) => s.action)).toEqual([
      { kind: 'security-center-unblock', recordId: '383', ip: inst.hostIp },
      { kind: 'security-center-unblock', recordId: '4411', ip: inst.hostIp, source: 'brute-force' },
    ]);
    expect(emu.callsOf('yundun-sas:DisableBruteForceRecord')).toHaveLength(0);

    const applied = await fix(['--apply']);
    expect(applied.outcome?.audit.map((a) => [a.result, a.before, a.after])).toEqual([
      ['changed', `block record 383 for ${inst.hostIp}`, 'record deleted'],
      ['changed', `brute-force block record 4411 for ${inst.hostIp}`, 'record disabled'],
    ]);
    expect(applied.outcome?.status).toBe('fixed');
    expect(applied.code).toBe(0);
    expect(emu.callsOf('yundun-sas:DisableBruteForceRecord').map((c) => c.params)).toEqual([
      { Id: '4411', BlockIp: inst.hostIp, Uuid: UUID, Port: '22', Bound: 'in' },
    ]);
    expect(emu.bruteForceRecords[0]!.Status).toBe(0);
  });
});
