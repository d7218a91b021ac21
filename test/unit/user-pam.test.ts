/**
 * The PAM side of a login for --user: pam_access rules, pam_faillock's lock and pam_nologin,
 * judged from a collector `user` section on a document captured from a real lab instance.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostFacts } from '../../lib/collector/facts';
import { HOST_CHECKS } from '../../lib/checks';
import type { Facts } from '../../lib/checks/types';
import type { CheckResult } from '../../lib/report/types';
import { parsePublicKey } from '../../lib/auth/validate';
import { judgeAccessConf } from '../../lib/checks/support/pam-access';
import { userAccessCheck } from '../../lib/checks/user-access';

const doc = readFileSync('test/fixtures/collector/healthy.txt', 'utf8');
const client = '10.9.0.7';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@x';

/** A `user` section as the collector prints it for alice, with `extra` lines. */
function userSection(extra: string[]): string {
  const lines = [
    'name=alice',
    'exists=1',
    'uid=1000',
    'home=/home/alice',
    'shell=/bin/bash',
    'shell-executable=1',
    'shell-listed=1',
    'groups=alice staff',
    'primary-group=alice',
    'primary-group-members=',
    'shadow-locked=0',
    'shadow-nopassword=1',
    'shadow-lastchg=20000',
    'shadow-max=99999',
    'shadow-inactive=',
    'shadow-expire=',
    'today=20500',
    `T ${client} usepam yes`,
    `T ${client} strictmodes yes`,
    `T ${client} authorizedkeysfile .ssh/authorized_keys`,
    `T ${client} pubkeyauthentication yes`,
    '#akfile /home/alice/.ssh/authorized_keys',
    'chain 755 root root directory /home',
    'chain 755 alice alice directory /home/alice',
    'chain 700 alice alice directory /home/alice/.ssh',
    'chain 600 alice alice regular file /home/alice/.ssh/authorized_keys',
    'akfile-lines 1',
    'keyline 1 ',
    ...extra,
  ];
  return `@section user\n${lines.map((l) => `|${l}\n`).join('')}@end user rc=0 chars=0 dropped=0 cut=0\n`;
}

function judge(extra: string[], opts: { key?: boolean; localtime?: string } = {}): Record<string, CheckResult> {
  let text = doc.replace(/#end\s*$/, `${userSection(extra)}#end\n`);
  if (opts.localtime)
    text = text.replace(/\|localtime=.*\n/, `|localtime=${opts.localtime}\n`).replace(/(@section meta\n)/, `$1|localtime=${opts.localtime}\n`);
  const facts: Facts = {
    port: 22,
    clients: [{ ip: client, source: 'user' }],
    probe: null,
    host: parseHostFacts(text),
    hostError: null,
    cloud: null,
    user: { name: 'alice', ...(opts.key !== false ? { publicKey: parsePublicKey(KEY) } : {}) },
  };
  return Object.fromEntries(HOST_CHECKS.map((c) => [c.id, c.run(facts)]));
}

describe('pam_access (access.conf) for the user and client', () => {
  const rules = (...texts: string[]) => texts.map((text, i) => ({ line: i + 1, text }));
  it.each([
    [['- : ALL EXCEPT root : ALL'], 'deny'],
    [['+ : alice : 10.9.0.0/24', '- : ALL : ALL'], 'allow'],
    [['+ : alice : 10.8.0.0/24', '- : ALL : ALL'], 'deny'],
    [['+ : (staff) : 10.9.0.', '- : ALL : ALL'], 'allow'],
    [['- : staff : ALL'], 'deny'],
    [['- : bob : ALL'], 'allow'],
    [['- : ALL : LOCAL'], 'allow'],
    [['- : ALL EXCEPT (wheel) : ALL EXCEPT 10.9.0.7'], 'allow'],
    [['- : @admins : ALL'], 'unknown'],
    [['- : alice : .example.com'], 'unknown'],
    [[], 'allow'],
  ])('%j -> %s for alice (groups alice, staff) from 10.9.0.7', (texts, verdict) => {
    expect(judgeAccessConf(rules(...texts), 'alice', ['alice', 'staff'], client).verdict).toBe(verdict);
  });

  it('fails user-access with the access.conf line when pam_access is in the account stack', () => {
    const r = judge(['pam /etc/pam.d/sshd:30 account  required     pam_access.so', 'access 12 - : ALL EXCEPT root : ALL'])['user-access']!;
    expect(r.status).toBe('fail');
    expect(r.evidence).toContainEqual({ source: '/etc/security/access.conf', line: 12, text: '- : ALL EXCEPT root : ALL' });
    expect(r.summary).toContain('pam_access refuses alice from 10.9.0.7');
  });

  it('ignores access.conf when pam_access is not in the stack', () => {
    expect(judge(['access 12 - : ALL EXCEPT root : ALL'])['user-access']!.status).toBe('pass');
  });

  it('warns, never passes, on a rule it cannot judge', () => {
    expect(judge(['pam /etc/pam.d/sshd:30 account required pam_access.so', 'access 3 - : @admins : ALL'])['user-access']!.status).toBe('warn');
  });
});

describe('pam_faillock', () => {
  const stack = ['pam /etc/pam.d/common-auth:3 auth required pam_faillock.so preauth deny=3 unlock_time=600'];
  it('fails the account of a password user locked by faillock, with the reset fix', () => {
    const r = judge([...stack, 'faillock-valid=4', 'faillock-last=2026-12-03 10:00:00'], { key: false, localtime: '2026-12-03T10:05:00' })['user-account']!;
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('4 failed logins (deny=3)');
    expect(r.fix?.commands).toEqual(['faillock --user alice --reset']);
  });
  it('only warns with a public key: key logins skip the auth stack', () => {
    expect(judge([...stack, 'faillock-valid=4', 'faillock-last=2026-12-03 10:00:00'], { localtime: '2026-12-03T10:05:00' })['user-account']!.status).toBe(
      'warn',
    );
  });
  it('lets a lock whose unlock_time has passed go', () => {
    expect(
      judge([...stack, 'faillock-valid=4', 'faillock-last=2026-12-03 10:00:00'], { key: false, localtime: '2026-12-03T10:20:00' })['user-account']!.status,
    ).toBe('pass');
  });
  it('counts below deny as no lock, and reads deny from faillock.conf', () => {
    const noArgs = ['pam /etc/pam.d/system-auth:4 auth required pam_faillock.so preauth silent'];
    expect(
      judge([...noArgs, 'faillock-valid=4', 'faillock-last=2026-12-03 10:00:00', 'faillock-conf deny=5'], { key: false, localtime: '2026-12-03T10:05:00' })[
        'user-account'
      ]!.status,
    ).toBe('pass');
    expect(
      judge([...noArgs, 'faillock-valid=5', 'faillock-last=2026-12-03 10:00:00', 'faillock-conf deny=5'], { key: false, localtime: '2026-12-03T10:05:00' })[
        'user-account'
      ]!.status,
    ).toBe('fail');
  });
});

describe('/etc/nologin and pam_nologin', () => {
  it('fails when pam_nologin is in the stack', () => {
    expect(judge(['nologin=maintenance', 'pam /etc/pam.d/sshd:20 account required pam_nologin.so'])['user-account']!.status).toBe('fail');
  });
  it('is not a cause when UsePAM is on and the stack has no pam_nologin', () => {
    const r = judge(['nologin=maintenance', 'pam /etc/pam.d/sshd:20 account required pam_access.so'])['user-account']!;
    expect(r.status).toBe('pass');
    expect(r.summary).toContain('no pam_nologin');
  });
  it('fails when the PAM stack could not be read (sshd checks /etc/nologin without PAM too)', () => {
    expect(judge(['nologin=maintenance', 'pam-missing /etc/pam.d/sshd'])['user-account']!.status).toBe('fail');
  });
});

describe('SELinux label of ~/.ssh', () => {
  it('fails key-permissions with restorecon when enforcing and the type is wrong', () => {
    const r = judge([
      'selinux=Enforcing',
      'selinux-label unconfined_u:object_r:user_home_t:s0 /home/alice/.ssh',
      'selinux-expected unconfined_u:object_r:ssh_home_t:s0',
    ])['key-permissions']!;
    expect(r.status).toBe('fail');
    expect(r.fix?.commands).toEqual(['restorecon -Rv /home/alice/.ssh']);
    expect(r.fix?.actions).toEqual([{ kind: 'user-restorecon', user: 'alice' }]);
  });
  it('passes the right type, and any label when SELinux is permissive', () => {
    expect(judge(['selinux=Enforcing', 'selinux-label unconfined_u:object_r:ssh_home_t:s0 /home/alice/.ssh'])['key-permissions']!.status).toBe('pass');
    expect(judge(['selinux=Permissive', 'selinux-label unconfined_u:object_r:user_home_t:s0 /home/alice/.ssh'])['key-permissions']!.status).toBe('pass');
  });
});

describe('user-access plans (run with the real sed on a copy of the file)', () => {
  const run = (configLine: string, effective: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'sshdoctor-plan-'));
    const file = join(dir, 'sshd_config');
    writeFileSync(file, `Port 22\n${configLine}\n`);
    // The effective value under test replaces the section's default one for that keyword.
    const section = userSection([`T ${client} ${effective}`]).replace(`|T ${client} ${effective.split(' ')[0]} yes\n`, '');
    const text = doc.replace(/#end\s*$/, `${section}#end\n`);
    const host = parseHostFacts(text);
    host.sshd.configLines.push({ file, line: 2, text: configLine });
    const r = userAccessCheck.run({
      port: 22,
      clients: [{ ip: client, source: 'user' }],
      probe: null,
      host,
      hostError: null,
      cloud: null,
      user: { name: 'alice', publicKey: parsePublicKey(KEY) },
    });
    const sed = r.fix!.commands.find((c) => c.startsWith('sed -i '))!;
    execFileSync('sh', ['-c', sed]);
    const out = readFileSync(file, 'utf8').split('\n')[1];
    rmSync(dir, { recursive: true, force: true });
    return { status: r.status, out };
  };
  it('drops the user from a DenyUsers list of several', () => {
    expect(run('DenyUsers bob alice carol', 'denyusers bob alice carol')).toEqual({ status: 'fail', out: 'DenyUsers bob carol' });
  });
  it('comments out a DenyUsers naming only the user (an empty list is a config error)', () => {
    expect(run('DenyUsers alice', 'denyusers alice').out).toBe('# sshdoctor: DenyUsers alice');
  });
  it('adds the user to AllowUsers', () => {
    expect(run('AllowUsers root ops', 'allowusers root ops').out).toBe('AllowUsers root ops alice');
  });
  it('sets PubkeyAuthentication yes inside a Match block, keeping the indentation', () => {
    expect(run('  PubkeyAuthentication no', 'pubkeyauthentication no').out).toBe('  PubkeyAuthentication yes');
  });
});
