/**
 * Modes sshd insists on: it ignores group/world-readable private host keys ("UNPROTECTED
 * PRIVATE KEY FILE", then "no hostkeys available") and refuses a privilege-separation
 * directory that is missing or writable by others.
 */
import type { Check } from './types';
import type { Evidence, Fix, FixAction } from '../report/types';
import { hostOr, isResult, result } from './support/result';

export const PERMISSIONS_TEXT = {
  ok: 'Host keys, /etc/ssh and the privilege-separation directory have safe modes.',
  problems: (n: number) => `${n} permission problem${n > 1 ? 's' : ''} that sshd refuses to work with.`,
  keys: (paths: string[], running: boolean) =>
    `Private host key${paths.length > 1 ? 's' : ''} ${paths.join(', ')} ${paths.length > 1 ? 'are' : 'is'} readable by others: sshd ignores ${paths.length > 1 ? 'them' : 'it'} ("UNPROTECTED PRIVATE KEY FILE")${running ? '' : ', and with no usable host key it cannot start'}.`,
  noPrivsep: 'The privilege-separation directory (/run/sshd) is missing; systemd creates it when it starts ssh, a manual start needs it.',
  unknown: 'File modes were not collected.',
} as const;

export const PERMISSIONS_FIX = {
  restore: (commands: string[]): Fix => ({ summary: 'Restore the modes sshd requires, then test the configuration.', commands: [...commands, 'sshd -t'] }),
  privsep: { summary: 'Create /run/sshd.', commands: ['mkdir -p /run/sshd && chmod 0755 /run/sshd'] } as Fix,
} as const;

const PRIVSEP_DIRS = ['/run/sshd', '/var/run/sshd', '/var/empty/sshd', '/var/empty', '/usr/share/empty.sshd'];

export const permissionsCheck: Check = {
  id: 'permissions',
  title: 'Permissions of /etc/ssh, host keys and privilege separation',
  description: 'Checks modes and owners of /etc/ssh, the private host keys and the privilege-separation directory.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const entries = host.permissions;
    if (!entries.length) return result(this, 'skip', PERMISSIONS_TEXT.unknown);
    const evidence: Evidence[] = [];
    const commands: string[] = [];
    const actions: FixAction[] = [];
    const badKeys: string[] = [];
    const mode = (m: string) => parseInt(m, 8);
    for (const e of entries) {
      const isKey = /ssh_host_.*_key$/.test(e.path);
      const bad =
        (isKey && ((mode(e.mode) & 0o037) !== 0 || (e.group !== 'ssh_keys' && (mode(e.mode) & 0o040) !== 0) || e.owner !== 'root')) ||
        ((e.path === '/etc/ssh' || PRIVSEP_DIRS.includes(e.path)) && ((mode(e.mode) & 0o022) !== 0 || e.owner !== 'root'));
      if (!bad) continue;
      evidence.push({ source: 'stat', text: `${e.mode} ${e.owner}:${e.group} ${e.path}` });
      // RHEL, Amazon Linux and Alibaba Cloud Linux keep host keys root:ssh_keys 0640 (their
      // sshd-keygen and ssh-keysign need it); Debian and Ubuntu keep them root:root 0600.
      const want = isKey ? (e.group === 'ssh_keys' ? { mode: '640', group: 'ssh_keys' } : { mode: '600', group: 'root' }) : { mode: '755', group: 'root' };
      commands.push(`chown root:${want.group} ${e.path} && chmod ${want.mode} ${e.path}`);
      actions.push({ kind: 'set-mode', path: e.path, mode: want.mode, owner: 'root', group: want.group });
      if (isKey) badKeys.push(e.path);
    }
    if (evidence.length) {
      const running = host.service.processes.some((p) => /sshd/.test(p.args));
      const summary = badKeys.length === evidence.length ? PERMISSIONS_TEXT.keys(badKeys, running) : PERMISSIONS_TEXT.problems(evidence.length);
      return result(this, 'fail', summary, evidence, { ...PERMISSIONS_FIX.restore(commands), actions });
    }
    const hasPrivsep = entries.some((e) => PRIVSEP_DIRS.includes(e.path) && e.type === 'directory');
    const running = host.service.processes.length > 0;
    if (!hasPrivsep && !running && host.meta.init !== 'systemd') {
      return result(this, 'warn', PERMISSIONS_TEXT.noPrivsep, [], PERMISSIONS_FIX.privsep);
    }
    return result(this, 'pass', PERMISSIONS_TEXT.ok);
  },
};
