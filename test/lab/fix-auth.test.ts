/**
 * `sshdoctor fix --user --public-key` on lab instances: the real OpenSSH client, holding the
 * private key sshdoctor never sees, must be refused before and log in after `fix --apply`.
 * Adding a key changes who may log in: without --authorize-key it stays a manual step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main';
import type { ApplyOutcome } from '../../lib/remediation/apply';
import type { FixPlan } from '../../lib/remediation/plan';
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';
import { keygen, sshLogsIn } from './ssh-client';

const labReady = labGate();

let lab: LabInstance;
let dir: string;
let key: { priv: string; pub: string; pubFile: string };

async function fix(extra: string[]): Promise<{ code: number; plan: FixPlan; outcome: ApplyOutcome | null; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['fix', '--via', lab.via, '--host', lab.ip, '--json', '--user', 'alice', '--public-key', key.pubFile, ...extra], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    color: false,
  });
  if (!stdout.trim()) throw new Error(`sshdoctor fix printed nothing (exit ${code}): ${stderr}`);
  return { code, stderr, ...(JSON.parse(stdout) as { plan: FixPlan; outcome: ApplyOutcome | null }) };
}

async function sh(cmd: string): Promise<string> {
  const r = await lab.exec(cmd);
  if (r.code !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** alice with a healthy key setup: 755 home, 700 .ssh, 600 authorized_keys holding the key. */
async function healthy(): Promise<void> {
  await sh('rm -rf /home/alice/.ssh && chmod 755 /home/alice && chown alice:alice /home/alice && mkdir -m 700 /home/alice/.ssh');
  await lab.writeFile('/home/alice/.ssh/authorized_keys', key.pub);
  await sh('chmod 600 /home/alice/.ssh/authorized_keys && chown -R alice:alice /home/alice/.ssh');
}

describe.runIf(labReady)('sshdoctor fix for the authentication stage on lab instances', () => {
  beforeAll(async () => {
    await cleanupStale();
    dir = mkdtempSync(join(tmpdir(), 'sshdoctor-fixauth-'));
    const k = keygen(dir, 'id');
    key = { ...k, pubFile: `${k.priv}.pub` };
    lab = await createLab();
    await sh("useradd -m -s /bin/sh alice && usermod -p '*' alice && useradd -m -s /bin/sh bob");
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(healthy);

  const chains: [string, string, string][] = [
    ['authorized_keys at 0666', 'chmod 666 /home/alice/.ssh/authorized_keys', '600 alice'],
    ['a home directory at 0777', 'chmod 777 /home/alice', '755 alice'],
    ['.ssh owned by another user', 'chown bob /home/alice/.ssh', '700 alice'],
  ];
  for (const [name, breakIt, want] of chains) {
    it(`fixes ${name}: refused before, logs in after, reversible record, idempotent`, { timeout: 120_000 }, async () => {
      expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(true);
      await sh(breakIt);
      expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(false);

      const dry = await fix([]);
      expect(dry.outcome).toBeNull();
      const steps = dry.plan.steps.filter((s) => s.checkId === 'key-permissions');
      expect(steps.length).toBe(1);
      expect(steps[0]!.action.kind).toBe('user-path-mode');
      expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(false);

      const applied = await fix(['--apply']);
      expect(applied.outcome?.status, applied.outcome?.summary).toBe('fixed');
      expect(applied.outcome?.summary).toContain("accepts alice's key");
      const path = (steps[0]!.action as { path: string }).path;
      const record = applied.outcome?.audit.find((a) => a.action.kind === 'user-path-mode');
      expect(record?.before).toContain(path);
      expect(record?.after).toBe(`${want} alice ${path}`);
      expect((await sh(`stat -c '%a %U' ${path}`)).trim()).toBe(want);
      expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(true);

      const again = await fix(['--apply']);
      expect(again.plan.steps).toEqual([]);
      expect(again.code).toBe(0);
    });
  }

  it('plans adding an unlisted key only as a manual step without --authorize-key, and changes nothing', { timeout: 120_000 }, async () => {
    await lab.writeFile('/home/alice/.ssh/authorized_keys', '');
    expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(false);
    const before = await sh('sha256sum /home/alice/.ssh/authorized_keys');
    const run = await fix(['--apply']);
    expect(run.plan.steps.some((s) => s.action.kind === 'authorize-key')).toBe(false);
    const manual = run.plan.manual.find((m) => m.checkId === 'authorized-key');
    expect(manual?.reason).toContain('--authorize-key');
    expect(manual?.commands.join('\n')).toContain('/home/alice/.ssh/authorized_keys');
    expect(run.code).toBe(1);
    expect(await sh('sha256sum /home/alice/.ssh/authorized_keys')).toBe(before);
    expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(false);
  });

  it('adds the key with --authorize-key (backed up, verified from outside), and the real client logs in', { timeout: 120_000 }, async () => {
    await lab.writeFile('/home/alice/.ssh/authorized_keys', '# no keys yet\n');
    expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(false);
    const run = await fix(['--apply', '--authorize-key']);
    expect(run.plan.steps.map((s) => s.action.kind)).toContain('authorize-key');
    expect(run.outcome?.status, run.outcome?.summary).toBe('fixed');
    expect(sshLogsIn(lab.ip, 'alice', key.priv)).toBe(true);
    expect(await sh('ls /home/alice/.ssh/')).toMatch(/authorized_keys\.sshdoctor-\d{8}T\d{6}Z/);
    expect((await sh("stat -c '%a %U' /home/alice/.ssh/authorized_keys")).trim()).toBe('600 alice');
  });

  it('refuses --authorize-key without a public key, naming the flag', async () => {
    let err = '';
    const code = await main(['fix', '--via', lab.via, '--host', lab.ip, '--user', 'alice', '--authorize-key'], {
      stdout: () => undefined,
      stderr: (t) => void (err += t),
      color: false,
    });
    expect(code).toBe(2);
    expect(err).toContain('--authorize-key');
  });
});
