/**
 * Full filesystems: sshd, PAM and the login records need to write to /var and /run; a full
 * root or inode table can stop sshd from starting or sessions from opening.
 */
import type { Check } from './types';
import type { Evidence, Fix } from '../report/types';
import { hostOr, isResult, result } from './support/result';

export const DISK_TEXT = {
  full: (what: string[]) => `Full: ${what.join(', ')}. sshd may fail to start, and logins may fail to record sessions.`,
  nearly: (what: string[]) => `Nearly full: ${what.join(', ')}.`,
  ok: 'Filesystems have free space and inodes.',
  unknown: 'Disk usage was not collected.',
} as const;

export const DISK_FIX: Fix = {
  summary: 'Free space: find the largest directories and old logs, and clean the journal.',
  commands: ['du -xh --max-depth=2 /var | sort -rh | head -20', 'journalctl --vacuum-size=200M', 'find /var/log -name "*.gz" -mtime +7 -delete'],
};

export const diskCheck: Check = {
  id: 'disk',
  title: 'Disk space and inodes',
  description: 'Reads df for /, /var, /var/log, /run and /tmp: space and inodes.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const { space, inodes } = host.disk;
    if (!space.length && !inodes.length) return result(this, 'skip', DISK_TEXT.unknown);
    const full = [
      ...space.filter((s) => s.usePercent >= 100 || s.availableKb === 0).map((s) => `${s.mount} (space)`),
      ...inodes.filter((i) => i.usePercent >= 100).map((i) => `${i.mount} (inodes)`),
    ];
    const nearly = [
      ...space.filter((s) => s.usePercent >= 95 && s.usePercent < 100).map((s) => `${s.mount} ${s.usePercent}%`),
      ...inodes.filter((i) => i.usePercent >= 95 && i.usePercent < 100).map((i) => `${i.mount} inodes ${i.usePercent}%`),
    ];
    const ev: Evidence[] = [
      ...space.map((s) => ({ source: 'df -P', text: `${s.mount} ${s.usePercent}% used` })),
      ...inodes.map((i) => ({ source: 'df -Pi', text: `${i.mount} ${i.usePercent}% inodes used` })),
    ];
    if (full.length) return result(this, 'fail', DISK_TEXT.full(full), ev, DISK_FIX);
    if (nearly.length) return result(this, 'warn', DISK_TEXT.nearly(nearly), ev, DISK_FIX);
    return result(this, 'pass', DISK_TEXT.ok);
  },
};
