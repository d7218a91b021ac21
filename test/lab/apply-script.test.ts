/**
 * lib/remediation/apply.sh on its own, inside a lab instance: it validates its argv again,
 * re-checks preconditions, and applyPlan undoes earlier steps when a later one finds the
 * host changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, applyScript, parseScriptOutput } from '../../lib/remediation/apply';
import { buildPlan } from '../../lib/remediation/plan';
import { createLocalRunner, splitCommand } from '../../lib/runners/local-runner';
import type { CheckResult, Report } from '../../lib/report/types';
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';

const labReady = labGate();

describe.skipIf(!labReady)('apply.sh in a lab instance', () => {
  let lab: LabInstance;
  const run = (args: string[]) => createLocalRunner({ via: splitCommand(lab.via) }).run({ script: applyScript, args, timeoutMs: 20_000 });

  /** A report whose tcp-wrappers check fails, fixed by commenting out the given hosts.deny lines. */
  const denyReport = (lines: { line: number; text: string }[]): Report => {
    const check: CheckResult = {
      id: 'tcp-wrappers',
      title: 'TCP wrappers',
      status: 'fail',
      summary: 'denied',
      evidence: [],
      fix: { summary: 'comment out', commands: [], actions: lines.map((l) => ({ kind: 'comment-line' as const, file: '/etc/hosts.deny', ...l })) },
    };
    return { target: { host: lab.ip, port: 22 }, clients: [], probe: null, checks: [check] } as unknown as Report;
  };
  /** applyPlan through the lab's runner; `reverify` counts its calls and answers the report unchanged. */
  const applyIn = (report: Report, over: Partial<Parameters<typeof applyPlan>[1]> = {}) => {
    const calls = { reverified: 0 };
    const outcome = applyPlan(buildPlan(report), {
      runner: createLocalRunner({ via: splitCommand(lab.via) }),
      reverify: async () => {
        calls.reverified++;
        return report;
      },
      identity: 'tester@lab',
      ...over,
    });
    return { outcome, calls };
  };

  beforeAll(async () => {
    await cleanupStale();
    lab = await createLab();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it.each([
    [['comment-line', '/etc/../root/.bashrc', '1', 'x'], /FILE: must be a plain absolute path/],
    [['comment-line', '/root/.bashrc', '1', 'x'], /FILE: must be under \/etc/],
    [['comment-line', '/etc/hosts.deny', '1;id', 'x'], /LINE: must be decimal digits/],
    [['insert-line-before', '/etc/hosts.allow', '0', 'sshd: ALL\nALL: ALL'], /TEXT: must be one line/],
    [['fail2ban-unban', 'sshd$(id)', '10.0.0.1'], /JAIL: must be letters/],
    [['fail2ban-unban', 'sshd', '10.0.0.1 --x'], /IP: must be an IPv4 or IPv6 address/],
    [['symlink', '/etc/ld.so.preload', 'x.so'], /LINK: must be under a library directory/],
    [['symlink', '/usr/lib/libx.so.1', '../x'], /TARGET: must be a file name/],
    [['firewall-delete-rule', 'ipv4', 'filter', 'INPUT', '-A OUTPUT -j DROP'], /RULE: must start with "-A INPUT "/],
    [['service-start', 'direct', '/tmp/evil'], /SERVICE: must be an absolute path ending in \/sshd/],
    [['rollback', 'file', '/etc/hosts.deny', '/etc/shadow'], /BACKUP: must be a sshdoctor backup of FILE/],
    [['user-path-mode', 'root;id', '/root', '700'], /USER: must be a user name/],
    [['user-path-mode', 'root', '/etc/shadow', '600'], /PATH: must be \/root or below it/],
    [['user-path-mode', 'root', '/root/../etc/shadow', '600'], /PATH: must be a plain absolute path/],
    [['user-path-mode', 'root', '/root/.ssh', '7777'], /MODE: must be an octal mode/],
    [['authorize-key', 'root', '/root/.ssh/authorized_keys', 'ssh-ed25519 AAAA$(id)'], /KEY: must be type base64/],
    [['authorize-key', 'root', '/etc/ssh/authorized_keys', 'ssh-ed25519 AAAA'], /PATH: must be \/root or below it/],
    [['rollback', 'user-file', 'root', '/root/.ssh/authorized_keys', '/etc/shadow'], /BACKUP: must be a sshdoctor backup of FILE/],
    [['user-restorecon', 'root;id'], /USER: must be a user name/],
    [['rollback', 'labels', 'root', '/etc/shadow'], /BACKUP: must be a sshdoctor label record of USER/],
    [['reboot'], /ACTION: must be/],
  ])('refuses %j with exit 2, naming the argument and the rule', async (args, message) => {
    const r = await run(args);
    expect(r.exitCode).toBe(2);
    const out = parseScriptOutput(r.stdout);
    expect(out?.result).toBe('usage-error');
    expect(out?.detail).toMatch(message);
  });

  it("sets a user path's owner and mode and restores both from the rollback arguments; refuses a symbolic link", async () => {
    await lab.exec('useradd -m carol 2>/dev/null; mkdir -p /home/carol/.ssh && chown root:root /home/carol/.ssh && chmod 777 /home/carol/.ssh');
    const r = await run(['user-path-mode', 'carol', '/home/carol/.ssh', '700']);
    const out = parseScriptOutput(r.stdout)!;
    expect(out.result).toBe('changed');
    expect((await lab.exec("stat -c '%a %U %G' /home/carol/.ssh")).stdout.trim()).toBe('700 carol root');
    const back = await run(out.rollbackArgs);
    expect(parseScriptOutput(back.stdout)!.result).toBe('restored');
    expect((await lab.exec("stat -c '%a %U %G' /home/carol/.ssh")).stdout.trim()).toBe('777 root root');
    await lab.exec('ln -s /etc /home/carol/link');
    const link = await run(['user-path-mode', 'carol', '/home/carol/link/shadow', '600']);
    expect(link.exitCode).toBe(3);
    expect(parseScriptOutput(link.stdout)!.detail).toContain('symbolic link');
    expect((await lab.exec("stat -c '%a %U' /etc/shadow")).stdout.trim()).not.toBe('600 carol');
  });

  it('creates a missing privilege-separation directory root:root 0755 and the rollback removes it', async () => {
    await lab.exec('rm -rf /var/empty');
    const r = await run(['privsep-dir', '/var/empty']);
    const out = parseScriptOutput(r.stdout)!;
    expect(out.result).toBe('changed');
    expect((await lab.exec("stat -c '%a %U %G' /var/empty")).stdout.trim()).toBe('755 root root');
    expect(parseScriptOutput((await run(['privsep-dir', '/var/empty'])).stdout)!.result).toBe('unchanged');
    expect(parseScriptOutput((await run(out.rollbackArgs)).stdout)!.result).toBe('restored');
    expect((await lab.exec('test -e /var/empty')).code).not.toBe(0);
    expect((await run(['privsep-dir', '/tmp/x'])).exitCode).toBe(2);
  });

  it('refuses restorecon where SELinux cannot relabel (exit 3, the reason named, nothing changed)', async () => {
    const r = await run(['user-restorecon', 'root']);
    expect(r.exitCode).toBe(3);
    expect(parseScriptOutput(r.stdout)!.detail).toMatch(/restorecon is not installed|SELinux is (not installed|disabled)/);
  });

  it('appends a key once, backed up, and the rollback restores the file byte for byte', async () => {
    await lab.exec("mkdir -p /home/carol/.ssh && printf '# keep\\n' > /home/carol/.ssh/authorized_keys");
    const before = (await lab.exec('sha256sum /home/carol/.ssh/authorized_keys')).stdout;
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    const r = await run(['authorize-key', 'carol', '/home/carol/.ssh/authorized_keys', key]);
    const out = parseScriptOutput(r.stdout)!;
    expect(out.result).toBe('changed');
    expect((await lab.exec('cat /home/carol/.ssh/authorized_keys')).stdout).toBe(`# keep\n${key}\n`);
    expect(parseScriptOutput((await run(['authorize-key', 'carol', '/home/carol/.ssh/authorized_keys', key])).stdout)!.result).toBe('unchanged');
    await run(out.rollbackArgs);
    expect((await lab.exec('sha256sum /home/carol/.ssh/authorized_keys')).stdout).toBe(before);
  });

  it('refuses to comment out a line whose text changed since the diagnosis (exit 3, file untouched)', async () => {
    await lab.writeFile('/etc/hosts.deny', 'sshd: 10.9.9.9\n');
    const r = await run(['comment-line', '/etc/hosts.deny', '1', 'sshd: 10.9.9.8']);
    expect(r.exitCode).toBe(3);
    expect(parseScriptOutput(r.stdout)).toMatchObject({ result: 'precondition-failed', before: 'sshd: 10.9.9.9' });
    expect(await lab.readFile('/etc/hosts.deny')).toBe('sshd: 10.9.9.9\n');
    expect((await lab.exec('ls /etc/hosts.deny.sshdoctor-* 2>/dev/null')).stdout).toBe('');
  });

  it("refuses a link to a file that is not an ELF library of sshd's architecture", async () => {
    await lab.writeFile('/usr/lib/x86_64-linux-gnu/libsdfake.so.1.0', 'not an ELF file\n');
    const r = await run(['symlink', '/usr/lib/x86_64-linux-gnu/libsdfake.so.1', 'libsdfake.so.1.0']);
    expect(r.exitCode).toBe(3);
    expect(parseScriptOutput(r.stdout)?.detail).toMatch(/is not an ELF file/);
    expect((await lab.exec('test -e /usr/lib/x86_64-linux-gnu/libsdfake.so.1 || test -L /usr/lib/x86_64-linux-gnu/libsdfake.so.1')).code).toBe(1);
  });

  it('undoes the earlier steps of a plan when a later step finds the host changed', async () => {
    await lab.writeFile('/etc/hosts.deny', 'sshd: 10.9.9.1\nsshd: 10.9.9.2\n');
    const before = await lab.readFile('/etc/hosts.deny');
    // Stale: line 2 says 10.9.9.2 by now.
    const { outcome: pending, calls } = applyIn(
      denyReport([
        { line: 1, text: 'sshd: 10.9.9.1' },
        { line: 2, text: 'sshd: 10.9.9.3' },
      ]),
    );
    const outcome = await pending;
    expect(outcome.status).toBe('failed');
    expect(outcome.audit.map((a) => [a.result, a.rolledBack])).toEqual([
      ['changed', true],
      ['precondition-failed', false],
    ]);
    expect(outcome.summary).toMatch(/found the host changed.*All 1 change was rolled back/);
    expect(calls.reverified).toBe(0);
    expect(await lab.readFile('/etc/hosts.deny')).toBe(before);
  });

  it('rolls a step back and runs no further step when its audit record cannot be written', async () => {
    await lab.writeFile('/etc/hosts.deny', 'sshd: 10.9.9.1\nsshd: 10.9.9.2\n');
    const before = await lab.readFile('/etc/hosts.deny');
    const { outcome: pending, calls } = applyIn(
      denyReport([
        { line: 1, text: 'sshd: 10.9.9.1' },
        { line: 2, text: 'sshd: 10.9.9.2' },
      ]),
      {
        onStepRan: async () => {
          throw new Error('DynamoDB PutItem (fix audit) failed');
        },
      },
    );
    const outcome = await pending;
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toMatch(
      /could not be written \(DynamoDB PutItem \(fix audit\) failed\): no change is kept off the record\. All 1 change was rolled back/,
    );
    expect(outcome.audit.map((a) => [a.result, a.rolledBack])).toEqual([
      ['changed', true],
      ['not-run', false],
    ]);
    expect(calls.reverified).toBe(0);
    expect(await lab.readFile('/etc/hosts.deny')).toBe(before);
  });

  it('rolls the changes back when the verifying diagnosis itself fails', async () => {
    await lab.writeFile('/etc/hosts.deny', 'sshd: 10.9.9.1\n');
    const before = await lab.readFile('/etc/hosts.deny');
    const { outcome: pending } = applyIn(denyReport([{ line: 1, text: 'sshd: 10.9.9.1' }]), {
      reverify: async () => {
        throw new Error('ssm:SendCommand was throttled past every retry');
      },
    });
    const outcome = await pending;
    expect(outcome.status).toBe('rolled-back');
    expect(outcome.summary).toMatch(/^Verification could not run \(ssm:SendCommand was throttled past every retry\).*All 1 change was rolled back/);
    expect(outcome.audit.map((a) => [a.result, a.verified, a.rolledBack])).toEqual([['changed', false, true]]);
    expect(await lab.readFile('/etc/hosts.deny')).toBe(before);
  });
});
