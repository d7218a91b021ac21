/**
 * pam_faillock for real: three wrong passwords through the real OpenSSH client lock the user
 * (the right password is then refused too); `check --user` names the lock, `fix --apply` resets
 * the tally (backed up) and the right password logs in again. sshpass drives the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main';
import type { ApplyOutcome } from '../../lib/remediation/apply';
import type { FixPlan } from '../../lib/remediation/plan';
import { runCheckJson } from '../support/cli';
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';
import { passwordLogsIn } from './ssh-client';

const labReady = labGate();
const PASSWORD = 'Correct-horse-7';

let lab: LabInstance;

const passwordLogin = (password: string) => passwordLogsIn(lab.ip, 'erin', password);

async function sh(cmd: string): Promise<string> {
  const r = await lab.exec(cmd);
  if (r.code !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

describe.runIf(labReady)('pam_faillock on a lab instance', () => {
  beforeAll(async () => {
    await cleanupStale();
    lab = await createLab();
    await sh(`useradd -m -s /bin/sh erin && echo 'erin:${PASSWORD}' | chpasswd`);
    // Debian's documented pam_faillock stack (preauth, authfail, authsucc) around pam_unix.
    await lab.writeFile(
      '/etc/pam.d/common-auth',
      [
        'auth requisite pam_faillock.so preauth deny=3 unlock_time=600',
        'auth [success=1 default=ignore] pam_unix.so nullok',
        'auth [default=die] pam_faillock.so authfail deny=3 unlock_time=600',
        'auth sufficient pam_faillock.so authsucc deny=3 unlock_time=600',
        'auth requisite pam_deny.so',
        'auth required pam_permit.so',
        '',
      ].join('\n'),
    );
    await sh("printf 'PasswordAuthentication yes\\nKbdInteractiveAuthentication no\\nUsePAM yes\\n' > /etc/ssh/sshd_config.d/50-lab.conf");
    await lab.restartSshd();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('names the lock the real client runs into, resets it with fix --apply, and the password works again', { timeout: 180_000 }, async () => {
    expect(passwordLogin(PASSWORD)).toBe(true);
    for (let i = 0; i < 3; i++) expect(passwordLogin('wrong-password')).toBe(false);
    expect(passwordLogin(PASSWORD)).toBe(false);
    expect(await sh('faillock --user erin')).toMatch(/ V\s*$/m);

    const { report, code } = await runCheckJson(['--via', lab.via, '--host', lab.ip, '--user', 'erin'], { timeoutMs: 60_000 });
    const account = report.checks.find((c) => c.id === 'user-account')!;
    expect(account.status, account.summary).toBe('fail');
    expect(account.summary).toMatch(/pam_faillock has locked erin: [3-9] failed logins \(deny=3\)/);
    expect(account.evidence.map((e) => `${e.source}${e.line ? `:${e.line}` : ''} ${e.text}`).join('\n')).toMatch(
      /common-auth:1 auth requisite pam_faillock\.so preauth/,
    );
    expect(report.verdict.status).toBe('blocked');
    expect(code).toBe(1);

    let stdout = '';
    const fixCode = await main(['fix', '--via', lab.via, '--host', lab.ip, '--user', 'erin', '--apply', '--json'], {
      stdout: (t) => void (stdout += t),
      stderr: () => undefined,
      color: false,
    });
    const { plan, outcome } = JSON.parse(stdout) as { plan: FixPlan; outcome: ApplyOutcome };
    expect(plan.steps.map((s) => s.action.kind)).toEqual(['faillock-reset']);
    expect(outcome.status, outcome.summary).toBe('fixed');
    expect(fixCode).toBe(0);
    expect(outcome.audit[0]!.backup).toMatch(/^\/var\/backups\/sshdoctor\/faillock-erin-/);
    expect(passwordLogin(PASSWORD)).toBe(true);
  });
});
