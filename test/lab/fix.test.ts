/**
 * `sshdoctor fix --apply` against real failures in lab instances: each blocked instance
 * must answer with a real SSH banner afterwards (seen by a raw socket client independent of
 * lib/probe), a second run must change nothing, backups must exist, and a fix whose
 * verification fails must be rolled back to the byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main';
import type { ApplyOutcome } from '../../lib/remediation/apply';
import type { FixPlan } from '../../lib/remediation/plan';
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';
import { rawProbe } from './raw-client';
import { breakSshdConfig, denyAllOptionSyntax, denyByIp, fail2banBan, iptablesDrop, iptablesReject, removeLz4Link, stopSshd } from './scenarios';

const labReady = labGate();

interface FixRun {
  code: number;
  stderr: string;
  plan: FixPlan;
  outcome: ApplyOutcome | null;
}

async function fix(lab: LabInstance, extra: string[] = []): Promise<FixRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(['fix', '--via', lab.via, '--host', lab.ip, '--json', ...extra], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    color: false,
  });
  if (!stdout.trim()) throw new Error(`sshdoctor fix printed nothing (exit ${code}): ${stderr}`);
  const parsed = JSON.parse(stdout) as { plan: FixPlan; outcome: ApplyOutcome | null };
  return { code, stderr, ...parsed };
}

/** Everything a fix may touch inside the instance, hashed: files, rules, bans, links, sshd. */
async function state(lab: LabInstance): Promise<string> {
  const r = await lab.exec(`
    sha256sum /etc/hosts.allow /etc/hosts.deny /etc/ssh/sshd_config
    ls /etc/*.sshdoctor-* /etc/ssh/*.sshdoctor-* /var/backups/sshdoctor 2>/dev/null | sort
    iptables-save | grep -v '^#' | sed 's/\\[[0-9:]*\\]//'
    fail2ban-client status sshd 2>/dev/null | grep 'Banned IP list' || true
    readlink /usr/lib/x86_64-linux-gnu/liblz4.so.1 || echo no-link
    stat -c '%a %U %G %n' /etc/ssh/ssh_host_*_key 2>/dev/null || echo no-host-keys
    cat /run/sshd.pid 2>/dev/null || echo no-pid`);
  return r.stdout;
}

async function withLab(fn: (lab: LabInstance) => Promise<void>): Promise<void> {
  const lab = await createLab();
  try {
    await fn(lab);
  } finally {
    await lab.destroy();
  }
}

const scenarios: { name: string; check: string; make: (lab: LabInstance) => Promise<unknown> }[] = [
  { name: 'a hosts.deny line naming the client', check: 'tcp-wrappers', make: (lab) => denyByIp(lab, lab.hostIp) },
  { name: 'all:all:deny in hosts.allow', check: 'tcp-wrappers', make: (lab) => denyAllOptionSyntax(lab) },
  { name: 'an iptables DROP of the client', check: 'firewall', make: (lab) => iptablesDrop(lab, lab.hostIp) },
  { name: 'an iptables REJECT of the client', check: 'firewall', make: (lab) => iptablesReject(lab, lab.hostIp) },
  { name: 'a fail2ban ban of the client', check: 'fail2ban', make: (lab) => fail2banBan(lab, lab.hostIp) },
  { name: 'a removed liblz4.so.1 link', check: 'sshd-libraries', make: (lab) => removeLz4Link(lab) },
  { name: 'a stopped sshd', check: 'sshd-service', make: (lab) => stopSshd(lab) },
  { name: 'a broken sshd_config', check: 'sshd-config', make: (lab) => breakSshdConfig(lab) },
  // sshd will not start: the root cause, not "no sshd running", is what gets fixed.
  {
    name: 'private host keys at 0644 (sshd refuses to start)',
    check: 'permissions',
    make: (lab) => lab.stopSshd().then(() => lab.exec('chmod 644 /etc/ssh/ssh_host_*_key')),
  },
  {
    name: 'all host keys deleted (sshd refuses to start)',
    check: 'sshd-config',
    make: (lab) => lab.stopSshd().then(() => lab.exec('rm -f /etc/ssh/ssh_host_*')),
  },
  {
    name: 'a missing privilege-separation directory, sshd started without systemd',
    check: 'sshd-config',
    make: (lab) => lab.stopSshd().then(() => lab.exec('rm -rf /run/sshd')),
  },
];

describe.skipIf(!labReady)('sshdoctor fix --apply on lab instances', () => {
  beforeAll(async () => {
    await cleanupStale();
  });
  afterAll(async () => {
    await cleanupStale();
  });

  describe.concurrent('makes the blocked instance reachable, then changes nothing', () => {
    for (const s of scenarios) {
      it(`fixes ${s.name}`, { timeout: 120_000 }, async () => {
        await withLab(async (lab) => {
          await s.make(lab);
          const blocked = await rawProbe(lab.ip, 22, { localAddress: lab.hostIp, readTimeoutMs: 8_000 });
          expect(blocked.outcome).not.toBe('banner');

          const dry = await fix(lab);
          expect(dry.outcome).toBeNull();
          expect(dry.plan.steps.map((st) => st.checkId)).toContain(s.check);
          const untouched = await state(lab);

          const first = await fix(lab, ['--apply']);
          expect(first.outcome?.summary).toMatch(/^Fixed and verified/);
          expect(first.outcome?.status).toBe('fixed');
          expect(first.code).toBe(0);
          expect(untouched).not.toBe(await state(lab));
          const audit = first.outcome!.audit;
          expect(audit.length).toBeGreaterThan(0);
          for (const a of audit) {
            expect(a.result).toBe('changed');
            expect(a.verified).toBe(true);
            expect(a.rolledBack).toBe(false);
            expect(a.who).toMatch(/.@./);
            if (a.backup) expect((await lab.exec(`test -s '${a.backup}'`)).code).toBe(0);
          }
          // Files and firewall tables are backed up before they change.
          const needsBackup = audit.filter((a) => /comment-line|insert-line-before|firewall-/.test(a.action.kind));
          for (const a of needsBackup) expect(a.backup).toMatch(/sshdoctor/);

          const open = await rawProbe(lab.ip, 22, { localAddress: lab.hostIp });
          expect(open.outcome).toBe('banner');
          expect(open.firstLine).toMatch(/^SSH-2\.0-OpenSSH_/);

          const fixed = await state(lab);
          const second = await fix(lab, ['--apply']);
          expect(second.plan.steps).toEqual([]);
          expect(second.outcome?.status).toBe('nothing-to-do');
          expect(second.outcome?.audit).toEqual([]);
          expect(await state(lab)).toBe(fixed);
        });
      });
    }
  });

  it('rolls a fix back, byte for byte, when the instance stays unreachable', { timeout: 120_000 }, async () => {
    await withLab(async (lab) => {
      await iptablesDrop(lab, lab.hostIp);
      await denyByIp(lab, lab.hostIp);
      const deny = await lab.readFile('/etc/hosts.deny');

      const run = await fix(lab, ['--only', 'tcp-wrappers', '--apply']);
      expect(run.plan.steps.map((s) => s.action.kind)).toEqual(['comment-line']);
      expect(run.outcome?.status).toBe('rolled-back');
      expect(run.outcome?.summary).toMatch(/instead of an SSH banner/);
      expect(run.code).toBe(1);
      const [step] = run.outcome!.audit;
      expect(step).toMatchObject({ result: 'changed', verified: false, rolledBack: true });
      // The verification saw the change in place (tcp-wrappers passed) before it was undone.
      expect(run.outcome?.stillFailing).toEqual([]);

      expect(await lab.readFile('/etc/hosts.deny')).toBe(deny);
      expect((await lab.exec(`test -s '${step!.backup}'`)).code).toBe(0);
      const still = await rawProbe(lab.ip, 22, { localAddress: lab.hostIp, connectTimeoutMs: 1_500 });
      expect(still.outcome).toBe('timeout');
    });
  });

  it('refuses --only with an unknown check id (usage error, nothing changed)', async () => {
    let err = '';
    const code = await main(['fix', '--only', 'tcp-wrappers,nope', '--apply'], { stdout: () => undefined, stderr: (t) => void (err += t), color: false });
    expect(code).toBe(2);
    expect(err).toMatch(/--only: unknown check id nope/);
  });
});
