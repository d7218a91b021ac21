/**
 * `sshdoctor check --local` run by an ordinary user (the README's first command without sudo):
 * whatever needs root is reported as not inspected, never passed or failed. Runs the built CLI
 * as `nobody` through runuser (root needed to switch users; CI runs as root).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../lib/report/types';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const isRoot = process.getuid?.() === 0;
if (!isRoot && process.env.CI === 'true') throw new Error('cli-nonroot: CI must run as root to switch to an ordinary user');

// The checkout may sit under a directory nobody cannot enter: run a world-readable copy.
const dir = mkdtempSync(join(tmpdir(), 'sshdoctor-nonroot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(isRoot)('check --local as an ordinary user', () => {
  it('marks the firewall, fail2ban, sshd -t and the sshd log as needing root, and lists them as not inspected', () => {
    cpSync(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true });
    cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
    chmodSync(dir, 0o755);
    spawnSync('chmod', ['-R', 'a+rX', dir]);
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, join(dir, 'bin', 'sshdoctor.js'), 'check', '--local', '--json'], {
      cwd: '/',
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
    });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(byId.firewall).toMatchObject({ status: 'skip' });
    expect(byId.firewall!.summary).toMatch(/^needs root: run with sudo or --via sudo/);
    expect(byId.fail2ban!.status).not.toBe('pass');
    // sshd -t as nobody cannot read the host keys: never reported as a broken configuration.
    expect(byId['sshd-config']!.status).not.toBe('fail');
    expect(byId['auth-log']!.status).not.toBe('pass');
    const notInspected = report.notInspected.map((n) => n.what);
    expect(notInspected).toContain('firewall (Host firewall (iptables / nftables))');
    for (const c of report.checks.filter((x) => x.summary.startsWith('needs root'))) expect(c.status).toBe('skip');
  });
});
