/**
 * sshd's StrictModes rule for the authorized-keys file and every directory above it: each
 * must be owned by root or the user and not writable by group or others ("Authentication
 * refused: bad ownership or modes"). Debian and Ubuntu patch sshd to accept group-writable when
 * the group is the user's private group with no other member; upstream (RHEL, Amazon Linux,
 * Alibaba Cloud Linux) does not.
 */
import type { Check } from './types';
import type { Evidence, Fix, FixAction } from '../report/types';
import { result, shq } from './support/result';
import { isCheckResult, userOr } from './support/user-facts';
import type { UserFacts } from '../collector/facts';

export const KEY_PERMISSIONS_TEXT = {
  bad: (u: string, paths: string[]) =>
    `StrictModes refuses ${u}'s keys: ${paths.join(', ')} ${paths.length > 1 ? 'have' : 'has'} a wrong owner or is writable by others ("Authentication refused: bad ownership or modes").`,
  label: (u: string, label: string, want: string) => `SELinux is enforcing and ${u}'s ~/.ssh is labelled ${label}, not ${want}: sshd may not read the keys.`,
  off: (u: string) => `StrictModes is off: sshd does not check the modes of ${u}'s key files.`,
  unread: (u: string) => `needs root: run with sudo or --via sudo (the path to ${u}'s authorized keys could not be read).`,
  ok: (u: string) => `${u}'s authorized-keys files and the directories above them have owners and modes StrictModes accepts.`,
} as const;

export const KEY_PERMISSIONS_FIX = {
  chain: (u: string, home: string, bad: UserFacts['authorizedKeys'][number]['chain']): Fix => {
    const inHome = (p: string) => p === home || p.startsWith(`${home}/`);
    // Only the user's own tree is changed automatically (owner: the user); a directory above
    // the home (e.g. /home at 0777) is the administrator's to judge: commands only.
    const actions: FixAction[] | undefined =
      home.startsWith('/') && home !== '/' && bad.every((b) => inHome(b.path))
        ? bad.map((b) => ({ kind: 'user-path-mode', user: u, path: b.path, mode: wantedMode(b) }))
        : undefined;
    return {
      summary: `Give ${bad.map((b) => b.path).join(', ')} the owner and modes sshd requires.`,
      commands: bad.flatMap((b) => {
        const owner = inHome(b.path) ? u : 'root';
        return [`chown ${shq(owner)} ${shq(b.path)}`, `chmod ${wantedMode(b)} ${shq(b.path)}`];
      }),
      ...(actions ? { actions } : {}),
    };
  },
} as const;

/** 700 for ~/.ssh, 600 for a key file, other directories keep their mode without group/other write. */
function wantedMode(b: { path: string; type: string; mode: string }): string {
  if (b.type !== 'directory') return '600';
  if (b.path.endsWith('/.ssh')) return '700';
  return (parseInt(b.mode, 8) & 0o755).toString(8).padStart(3, '0');
}

const DEBIAN_FAMILY = /^(debian|ubuntu)$/;

export const keyPermissionsCheck: Check = {
  id: 'key-permissions',
  title: 'Key file permissions (StrictModes)',
  description:
    "With --user: owner and mode of every path component from / to each authorized-keys file, judged by sshd's StrictModes rule (with Debian's private-group exception where it applies).",
  needs: ['host'],
  run(facts) {
    const u = userOr(this, facts);
    if (isCheckResult(u)) return u;
    if (!u.exists) return result(this, 'skip', `There is no user ${u.name}: see user-account.`);
    const eff = u.effective.find((e) => !e.error)?.options ?? {};
    if (eff.strictmodes?.[0] === 'no') return result(this, 'pass', KEY_PERMISSIONS_TEXT.off(u.name));
    const host = facts.host!;
    const debian = DEBIAN_FAMILY.test(host.os.id) || host.os.idLike.some((x) => DEBIAN_FAMILY.test(x));
    const privateGroup = u.primaryGroup && u.primaryGroup.name === u.name && u.primaryGroup.members.every((m) => m === u.name) ? u.primaryGroup.name : null;
    const existing = u.authorizedKeys.filter((f) => f.chain.length && !f.missing);
    if (!existing.length) {
      if (u.authorizedKeys.some((f) => f.unreadable || (f.missing && host.meta.uid !== 0))) return result(this, 'skip', KEY_PERMISSIONS_TEXT.unread(u.name));
      return result(this, 'skip', `No authorized-keys file of ${u.name} exists: see authorized-key.`);
    }
    const bad = new Map<string, UserFacts['authorizedKeys'][number]['chain'][number]>();
    for (const f of existing) {
      for (const c of f.chain) {
        const mode = parseInt(c.mode, 8);
        const ownerOk = c.owner === 'root' || c.owner === u.name;
        const worldWritable = (mode & 0o002) !== 0;
        const groupWritable = (mode & 0o020) !== 0 && !(debian && privateGroup !== null && c.group === privateGroup);
        // sshd checks the home directory and everything above it only up to the user's home
        // and /; the file itself must not be group/world-writable either.
        if (!ownerOk || worldWritable || groupWritable) bad.set(c.path, c);
      }
    }
    if (!bad.size) {
      // SELinux enforcing: sshd (sshd_t) reads keys only with the ssh_home_t type on ~/.ssh.
      const type = (label: string | null) => label?.split(':')[2] ?? null;
      const want = type(u.selinuxExpected) ?? 'ssh_home_t';
      if (u.selinux === 'Enforcing' && u.selinuxLabel && type(u.selinuxLabel) !== want) {
        return result(
          this,
          'fail',
          KEY_PERMISSIONS_TEXT.label(u.name, u.selinuxLabel, want),
          [{ source: 'stat -c %C', text: `${u.selinuxLabel} ${u.home}/.ssh` }],
          {
            summary: `Restore the SELinux labels of ${u.home}/.ssh.`,
            commands: [`restorecon -Rv ${shq(`${u.home}/.ssh`)}`],
            actions: [{ kind: 'user-restorecon', user: u.name }],
          },
        );
      }
      return result(this, 'pass', KEY_PERMISSIONS_TEXT.ok(u.name));
    }
    const list = [...bad.values()];
    const evidence: Evidence[] = list.map((c) => ({ source: 'stat', text: `${c.mode} ${c.owner}:${c.group} ${c.type} ${c.path}` }));
    return result(
      this,
      'fail',
      KEY_PERMISSIONS_TEXT.bad(
        u.name,
        list.map((c) => c.path),
      ),
      evidence,
      KEY_PERMISSIONS_FIX.chain(u.name, u.home, list),
    );
  },
};
