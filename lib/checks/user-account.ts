/**
 * The account itself: it exists, has a real login shell, is not expired or locked, and
 * /etc/nologin does not keep non-root users out. Each shows to the client as a refusal after
 * authentication ("This account is currently not available", "Your account has expired").
 */
import type { Check } from './types';
import type { Evidence, Fix } from '../report/types';
import { result, shq } from './support/result';
import { isCheckResult, userOr } from './support/user-facts';
import type { UserFacts } from '../collector/facts';

export const USER_ACCOUNT_TEXT = {
  missing: (u: string) => `There is no user ${u} on the instance: sshd refuses every key for it.`,
  shell: (u: string, shell: string) => `${u}'s login shell ${shell} is not a usable login shell ("This account is currently not available").`,
  expired: (u: string, day: number) => `${u}'s account expired on ${new Date(day * 86_400_000).toISOString().slice(0, 10)} ("Your account has expired").`,
  locked: (u: string) => `${u}'s password is locked and sshd does not use PAM: sshd refuses the account even with a valid key.`,
  nologin: (u: string) => `/etc/nologin exists: sshd lets only root in, not ${u}.`,
  faillock: (u: string, n: number, deny: number, last: string) =>
    `pam_faillock has locked ${u}: ${n} failed logins (deny=${deny}), the last at ${last} host time. It stops password and keyboard-interactive logins; sshd's public-key logins skip PAM's auth stack and still work.`,
  nologinNoPam: (u: string) => `/etc/nologin exists but sshd's PAM stack has no pam_nologin: it does not keep ${u} out.`,
  noShadow: (u: string) => `${u} exists with a login shell; account expiry and lock could not be read (needs root: run with sudo or --via sudo).`,
  ok: (u: string) => `${u} exists, has a login shell, is not expired or locked, and /etc/nologin is absent.`,
} as const;

export const USER_ACCOUNT_FIX = {
  shell: (u: string): Fix => ({ summary: `Give ${u} a login shell (this changes who may log in).`, commands: [`usermod -s /bin/bash ${shq(u)}`] }),
  expiry: (u: string): Fix => ({ summary: `Remove ${u}'s account expiry (this changes who may log in).`, commands: [`chage -E -1 ${shq(u)}`] }),
  unlock: (u: string): Fix => ({
    summary: `Mark ${u}'s password as "no password" instead of locked, so key logins work without PAM.`,
    commands: [`usermod -p '*' ${shq(u)}`],
  }),
  faillock: (u: string): Fix => ({
    summary: `Reset ${u}'s failure tally (pam_faillock).`,
    commands: [`faillock --user ${shq(u)} --reset`],
    actions: [{ kind: 'faillock-reset', user: u }],
  }),
  nologin: {
    summary: 'Remove /etc/nologin (it is created during shutdown and by admins to keep users out).',
    commands: ['cp -p /etc/nologin /etc/nologin.sshdoctor-$(date +%Y%m%d%H%M%S)', 'rm -f /etc/nologin'],
  } as Fix,
} as const;

/** pam_faillock's lock in force: enough valid failures, the newest within unlock_time (0: until reset). */
function faillocked(
  u: UserFacts,
  localTime: string | null,
): { n: number; deny: number; last: string; pam: { file: string; line: number; text: string } } | null {
  const pam = u.pam?.find((p) => /^auth\s.*pam_faillock\.so/.test(p.text));
  if (!pam || u.faillock.valid === null || !u.faillock.last) return null;
  const arg = (k: string) => new RegExp(`\\b${k}=(\\d+)`).exec(pam.text)?.[1] ?? u.faillock.conf[k];
  const deny = Number(arg('deny') ?? 3);
  const unlock = arg('unlock_time') === 'never' ? 0 : Number(arg('unlock_time') ?? 600);
  if (u.faillock.valid < deny) return null;
  const at = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`);
  const now = localTime ? at(localTime) : NaN;
  if (unlock > 0 && Number.isFinite(now) && now - at(u.faillock.last) > unlock * 1000) return null;
  return { n: u.faillock.valid, deny, last: u.faillock.last, pam };
}

const NOT_A_SHELL = /(^|\/)(nologin|false)$/;

export const userAccountCheck: Check = {
  id: 'user-account',
  title: 'User account',
  description: 'With --user: the passwd entry, login shell, account expiry and lock (derived from the shadow line, never the hash), and /etc/nologin.',
  needs: ['host'],
  run(facts) {
    const u = userOr(this, facts);
    if (isCheckResult(u)) return u;
    if (!u.exists) return result(this, 'fail', USER_ACCOUNT_TEXT.missing(u.name), [{ source: 'getent passwd', text: `no entry for ${u.name}` }]);
    const ev: Evidence[] = [{ source: '/etc/passwd', text: `${u.name} uid=${u.uid ?? '?'} home=${u.home} shell=${u.shell}` }];
    if (NOT_A_SHELL.test(u.shell) || !u.shellExecutable)
      return result(this, 'fail', USER_ACCOUNT_TEXT.shell(u.name, u.shell), ev, USER_ACCOUNT_FIX.shell(u.name));
    if (u.shadow && u.today !== null && u.shadow.expireDay !== null && u.shadow.expireDay >= 0 && u.shadow.expireDay <= u.today) {
      return result(
        this,
        'fail',
        USER_ACCOUNT_TEXT.expired(u.name, u.shadow.expireDay),
        [...ev, { source: '/etc/shadow', text: `account expiry day ${u.shadow.expireDay} (today ${u.today})` }],
        USER_ACCOUNT_FIX.expiry(u.name),
      );
    }
    const usePam = u.effective[0]?.options.usepam?.[0];
    if (u.shadow?.locked && usePam === 'no') {
      return result(
        this,
        'fail',
        USER_ACCOUNT_TEXT.locked(u.name),
        [...ev, { source: '/etc/shadow', text: 'password field starts with "!" (locked)' }, { source: 'sshd -T', text: 'usepam no' }],
        USER_ACCOUNT_FIX.unlock(u.name),
      );
    }
    const pamOn = usePam !== 'no';
    if (u.nologin !== null && u.name !== 'root' && pamOn && u.pam && !u.pam.some((p) => /pam_nologin\.so/.test(p.text))) {
      return result(this, 'pass', USER_ACCOUNT_TEXT.nologinNoPam(u.name), [{ source: '/etc/pam.d/sshd', text: 'no pam_nologin line' }]);
    }
    if (u.nologin !== null && u.name !== 'root') {
      return result(
        this,
        'fail',
        USER_ACCOUNT_TEXT.nologin(u.name),
        [{ source: '/etc/nologin', line: 1, text: u.nologin || '(empty)' }],
        USER_ACCOUNT_FIX.nologin,
      );
    }
    const locked = pamOn ? faillocked(u, facts.host!.meta.localTime) : null;
    if (locked) {
      // A key login skips PAM's auth stack, where pam_faillock counts and refuses.
      const status = facts.user?.publicKey ? 'warn' : 'fail';
      return result(
        this,
        status,
        USER_ACCOUNT_TEXT.faillock(u.name, locked.n, locked.deny, locked.last),
        [
          { source: locked.pam.file, line: locked.pam.line, text: locked.pam.text },
          { source: `faillock --user ${u.name}`, text: `${locked.n} valid failure(s), last ${locked.last}` },
        ],
        USER_ACCOUNT_FIX.faillock(u.name),
      );
    }
    if (!u.shadow) return result(this, 'skip', `needs root: run with sudo or --via sudo (${USER_ACCOUNT_TEXT.noShadow(u.name)})`, ev);
    return result(this, 'pass', USER_ACCOUNT_TEXT.ok(u.name), ev);
  },
};
