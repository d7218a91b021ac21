/**
 * Checks judged on collector documents captured from real lab instances in each failure
 * mode (scripts/capture-fixtures.ts), and on variants of them for distributions the lab
 * does not run (no libwrap, socket activation, journal-only logging, full disks).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHostFacts } from '../../lib/collector/facts';
import { HOST_CHECKS } from '../../lib/checks';
import type { Facts } from '../../lib/checks/types';
import type { CheckResult } from '../../lib/report/types';

function fixture(name: string): { doc: string; client: string } {
  return {
    doc: readFileSync(`test/fixtures/collector/${name}.txt`, 'utf8'),
    client: readFileSync(`test/fixtures/collector/${name}.client`, 'utf8').trim(),
  };
}

/** Replaces the data lines of one section of a collector document. */
function withSection(doc: string, name: string, lines: string[], rc = 0): string {
  const re = new RegExp(`@section ${name.replace('.', '\\.')}\\n(?:\\|.*\\n)*@end ${name.replace('.', '\\.')} [^\\n]*`);
  expect(re.test(doc)).toBe(true);
  return doc.replace(re, `@section ${name}\n${lines.map((l) => `|${l}\n`).join('')}@end ${name} rc=${rc} chars=0 dropped=0 cut=0`);
}

function judge(doc: string, client: string, port = 22): Record<string, CheckResult> {
  const facts: Facts = { port, clients: [{ ip: client, source: 'user' }], probe: null, host: parseHostFacts(doc), hostError: null, cloud: null };
  return Object.fromEntries(HOST_CHECKS.map((c) => [c.id, c.run(facts)]));
}

function failing(results: Record<string, CheckResult>): string[] {
  return Object.values(results)
    .filter((r) => r.status === 'fail')
    .map((r) => r.id)
    .sort();
}

describe('checks on documents captured from real failures', () => {
  it.each([
    ['healthy', []],
    ['hosts-deny-ip', ['tcp-wrappers']],
    ['all-all-deny', ['tcp-wrappers']],
    ['iptables-drop', ['firewall']],
    ['fail2ban-ban', ['fail2ban', 'firewall']],
    ['lz4-missing', ['sshd-libraries', 'sshd-listen', 'sshd-service']],
    ['sshd-stopped', ['sshd-listen', 'sshd-service']],
    ['bad-config', ['sshd-config', 'sshd-listen', 'sshd-service']],
    ['port-moved', ['sshd-listen']],
    ['non-ssh', ['sshd-listen', 'sshd-service']],
  ])('%s: fails exactly %j', (name, expected) => {
    const { doc, client } = fixture(name);
    const results = judge(doc, client);
    expect(failing(results)).toEqual(expected);
    for (const r of Object.values(results)) expect(r.status).not.toBe('error');
  });

  it('gives the exact comment-out fix for the denying hosts.deny line', () => {
    const { doc, client } = fixture('hosts-deny-ip');
    const tw = judge(doc, client)['tcp-wrappers']!;
    expect(tw.evidence[0]).toMatchObject({ source: '/etc/hosts.deny', text: expect.stringContaining(`sshd: ${client}`) });
    const line = tw.evidence[0]!.line!;
    expect(tw.fix?.actions).toEqual([{ kind: 'comment-line', file: '/etc/hosts.deny', line, text: `sshd: ${client}` }]);
  });

  it('recreates liblz4.so.1 pointing at the versioned file that is really there', () => {
    const { doc, client } = fixture('lz4-missing');
    const libs = judge(doc, client)['sshd-libraries']!;
    expect(libs.fix?.actions).toEqual([{ kind: 'symlink', link: '/usr/lib/x86_64-linux-gnu/liblz4.so.1', target: 'liblz4.so.1.9.4' }]);
    expect(libs.fix?.commands[0]).toBe('ln -sf liblz4.so.1.9.4 /usr/lib/x86_64-linux-gnu/liblz4.so.1');
  });

  it('refuses to link a library of another architecture', () => {
    const { doc, client } = fixture('lz4-missing');
    const armOnly = doc.replace(/(file \S+liblz4\.so\.1\.9\.4 elf-machine=)3e00/g, '$1b700');
    const libs = judge(armOnly, client)['sshd-libraries']!;
    expect(libs.status).toBe('fail');
    expect(libs.fix?.actions).toBeUndefined();
    expect(libs.summary).toMatch(/reinstall/);
  });

  it('does not blame hosts.deny when sshd is not linked with libwrap (RHEL 8+, AL2023)', () => {
    const { doc, client } = fixture('hosts-deny-ip');
    const facts = parseHostFacts(doc);
    const noWrap = withSection(
      doc,
      'sshd-libraries',
      facts.sshd.libraries.filter((l) => !l.name.startsWith('libwrap')).map((l) => `\t${l.name}${l.path ? ` => ${l.path}` : ''}`),
    );
    const tw = judge(noWrap, client)['tcp-wrappers']!;
    expect(tw.status).toBe('skip');
    expect(tw.summary).toMatch(/not linked with libwrap.*no effect/);
  });

  it("applies libwrap's missing-newline stop: an unterminated last line of hosts.deny denies everyone", () => {
    const { doc, client } = fixture('healthy');
    const deny = withSection(doc, 'hosts.deny', ['18\tsshd: 192.0.2.1', '#lines=18 omitted=0 comments=17 unterminated=1']);
    const tw = judge(deny, client)['tcp-wrappers']!;
    expect(tw.status).toBe('fail');
    expect(tw.summary).toContain(client);
    const terminated = withSection(doc, 'hosts.deny', ['18\tsshd: 192.0.2.1', '#lines=18 omitted=0 comments=17 unterminated=0']);
    expect(judge(terminated, client)['tcp-wrappers']!.status).toBe('pass');
  });

  it('accepts socket activation: ssh.socket active with no sshd process is healthy (Ubuntu 22.10+)', () => {
    const { doc, client } = fixture('sshd-stopped');
    const socketDoc = withSection(doc, 'service', [
      'unit ssh.service active=inactive enabled=disabled SubState=dead Result=success ',
      'unit ssh.socket active=active enabled=enabled SubState=listening Result=success ',
    ]);
    const r = judge(socketDoc, client);
    expect(r['sshd-service']!.status).toBe('pass');
    expect(r['sshd-service']!.summary).toMatch(/ssh\.socket/);
  });

  it('uses systemd to start a failed ssh.service', () => {
    const { doc, client } = fixture('sshd-stopped');
    const failed = withSection(withSection(doc, 'service', ['unit ssh.service active=failed enabled=enabled SubState=failed Result=exit-code ']), 'meta', [
      'init=systemd',
    ]);
    const svc = judge(failed, client)['sshd-service']!;
    expect(svc.status).toBe('fail');
    expect(svc.summary).toMatch(/ssh\.service has failed \(result: exit-code\)/);
    expect(svc.fix?.actions).toEqual([{ kind: 'service-start', service: 'ssh', manager: 'systemd' }]);
  });

  it('ignores a PerSourcePenalties refusal of the client from two days ago (stale evidence)', () => {
    const { doc, client } = fixture('healthy');
    const line = `2026-11-19T13:12:28+0000 ip-10-0-0-5 sshd[812]: drop connection #0 from [${client}]:51234 on [10.0.0.5]:22 penalty: failed authentication`;
    const r = judge(withSection(doc, 'auth-log', ['#journal', `client ${line}`, line]), client);
    expect(r['max-startups']!.status).toBe('pass');
    expect(r['max-startups']!.summary).toContain('last 30 minutes');
    expect(r['max-startups']!.summary).toContain('1 older or undated line not judged');
    expect(r['auth-log']!.status).not.toBe('fail');
  });

  it('ignores a recent PerSourcePenalties refusal of another address, even one that contains the client as a substring', () => {
    const { doc, client } = fixture('healthy');
    const other = `${client}5`; // 10.231.1.15 when the client is 10.231.1.1
    const line = `2026-11-21T13:12:28+0000 ip-10-0-0-5 sshd[812]: drop connection #0 from [${other}]:51234 on [10.0.0.5]:22 penalty: failed authentication`;
    const r = judge(withSection(doc, 'auth-log', ['#journal', `client ${line}`, line]), client);
    expect(r['max-startups']!.status).toBe('pass');
    expect(r['auth-log']!.status).not.toBe('fail');
  });

  it("judges year-less syslog stamps against the host's local clock", () => {
    const { doc, client } = fixture('healthy');
    // Local clock 8 h ahead of UTC (Asia/Shanghai): 21:12 local is 5 minutes ago, 13:12 local is 8 h ago.
    const local = doc.replace('|time=2026-11-21T13:17:28Z\n', '|time=2026-11-21T13:17:28Z\n|localtime=2026-11-21T21:17:28\n');
    const recent = `Nov 21 21:12:28 host sshd[812]: drop connection #0 from [${client}]:51234 on [10.0.0.5]:22 penalty: failed authentication`;
    const old = `Nov 21 13:12:28 host sshd[812]: drop connection #0 from [${client}]:51234 on [10.0.0.5]:22 penalty: failed authentication`;
    expect(judge(withSection(local, 'auth-log', ['#file /var/log/auth.log', `client ${recent}`]), client)['max-startups']!.status).toBe('fail');
    expect(judge(withSection(local, 'auth-log', ['#file /var/log/auth.log', `client ${old}`]), client)['max-startups']!.status).toBe('pass');
  });

  it('a collector run without root: checks that need root skip with "needs root", never pass', () => {
    const { doc, client } = fixture('healthy');
    const r = judge(doc.replace('|uid=0\n', '|uid=1000\n'), client);
    for (const id of ['firewall', 'fail2ban']) {
      expect(r[id]!.status).toBe('skip');
      expect(r[id]!.summary).toMatch(/^needs root: run with sudo or --via sudo/);
    }
  });

  it('sshd -t failing without root (host keys unreadable) is "needs root", not a broken configuration', () => {
    const { doc, client } = fixture('healthy');
    const nonRoot = withSection(
      doc.replace('|uid=0\n', '|uid=1000\n'),
      'sshd-test',
      ['Unable to load host key: /etc/ssh/ssh_host_rsa_key', 'sshd: no hostkeys available -- exiting.'],
      1,
    );
    const r = judge(nonRoot, client);
    expect(r['sshd-config']!.status).toBe('skip');
    expect(r['sshd-config']!.summary).toMatch(/^needs root/);
  });

  it('reads journal-only sshd logs (Amazon Linux 2023) for PerSourcePenalties refusals', () => {
    const { doc, client } = fixture('healthy');
    const journal = withSection(doc, 'auth-log', [
      '#journal',
      // The fixture's collector ran at 2026-11-21T13:17:28Z: these lines are 5 minutes old.
      `client 2026-11-21T13:12:28+0000 ip-10-0-0-5 sshd[812]: drop connection #0 from [${client}]:51234 on [10.0.0.5]:22 penalty: failed authentication`,
      `2026-11-21T13:12:28+0000 ip-10-0-0-5 sshd[812]: drop connection #0 from [${client}]:51234 on [10.0.0.5]:22 penalty: failed authentication`,
    ]);
    const r = judge(journal, client);
    expect(r['max-startups']!.status).toBe('fail');
    expect(r['max-startups']!.fix?.commands[0]).toContain(`PerSourcePenaltyExemptList ${client}`);
    expect(r['auth-log']!.status).toBe('fail');
  });

  it('fails on a full root filesystem or inode table', () => {
    const { doc, client } = fixture('healthy');
    const full = withSection(doc, 'disk', [
      'Filesystem 1024-blocks Used Available Capacity Mounted on',
      '/dev/vda1 1000 1000 0 100% /',
      '#inodes',
      'Filesystem Inodes IUsed IFree IUse% Mounted on',
      '/dev/vda1 100 100 0 100% /',
    ]);
    const d = judge(full, client).disk!;
    expect(d.status).toBe('fail');
    expect(d.summary).toMatch(/\/ \(space\), \/ \(inodes\)/);
  });

  it('flags a world-readable private host key', () => {
    const { doc, client } = fixture('healthy');
    const perms = parseHostFacts(doc).permissions.map((p) => `${p.path.endsWith('ed25519_key') ? '644' : p.mode} ${p.owner} ${p.group} ${p.type} ${p.path}`);
    const p = judge(withSection(doc, 'permissions', perms), client).permissions!;
    expect(p.status).toBe('fail');
    expect(p.fix?.commands[0]).toBe('chown root:root /etc/ssh/ssh_host_ed25519_key && chmod 600 /etc/ssh/ssh_host_ed25519_key');
  });

  it('reports errors, not passes, when the collector could not run', () => {
    const facts: Facts = { port: 22, clients: [], probe: null, host: null, hostError: 'agent-offline: SSM agent not connected', cloud: null };
    for (const c of HOST_CHECKS) {
      const r = c.run(facts);
      expect(r.status).toBe('error');
      expect(r.summary).toContain('agent-offline');
    }
  });
});
