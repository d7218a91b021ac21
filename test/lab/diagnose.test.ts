/**
 * Each failure mode reproduced for real on a lab instance (real sshd with libwrap, syslog,
 * iptables, fail2ban in namespaces), then diagnosed through the CLI exactly as a user would:
 * `sshdoctor check --via "nsenter ..." --host <instance> --json`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, createLab, labGate, type LabInstance, type LabOptions } from './lab';
import * as sc from './scenarios';
import { runCheckJson } from '../support/cli';
import { PROBE_SOURCE_CAVEAT, type CheckResult, type Report } from '../../lib/report/types';

const labReady = labGate();

const labs: LabInstance[] = [];
async function newLab(opts?: LabOptions): Promise<LabInstance> {
  const l = await createLab(opts);
  labs.push(l);
  return l;
}

function check(report: Report, id: string): CheckResult {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in report`);
  return c;
}

async function diagnoseLab(l: LabInstance, extra: string[] = []) {
  return runCheckJson(['--via', l.via, '--host', l.ip, ...extra], { timeoutMs: 60_000 });
}

describe.runIf(labReady).concurrent('diagnosis of real failures on lab instances', () => {
  beforeAll(async () => {
    await cleanupStale();
  });
  afterAll(async () => {
    await Promise.all(labs.map((l) => l.destroy()));
  });

  it('reports a healthy instance as reachable, with every host check passing', async () => {
    const l = await newLab();
    const { code, report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('banner');
    expect(report.probe?.banner?.software).toMatch(/^OpenSSH_/);
    expect(report.verdict.status).toBe('reachable');
    expect(report.collector.status).toBe('ok');
    expect(report.clients).toEqual([{ ip: l.hostIp, source: 'probe-source', caveat: PROBE_SOURCE_CAVEAT }]);
    const failing = report.checks.filter((c) => c.status === 'fail' || c.status === 'error');
    expect(failing).toEqual([]);
    expect(code).toBe(0);
  });

  it('reports the hosts.deny line that denies the client, confirmed by a reset ~5 s after connect', async () => {
    const l = await newLab();
    await sc.denyByIp(l, l.hostIp);
    const { code, report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('reset');
    expect(report.probe?.closeMs).toBeGreaterThan(3500);
    const tw = check(report, 'tcp-wrappers');
    expect(tw.status).toBe('fail');
    const lines = (await l.readFile('/etc/hosts.deny')).split('\n');
    const no = lines.indexOf(`sshd: ${l.hostIp}`) + 1;
    expect(tw.evidence[0]).toMatchObject({ source: '/etc/hosts.deny', line: no });
    expect(tw.fix?.commands).toContain(`sed -i '${no}s/^/# sshdoctor: /' /etc/hosts.deny`);
    expect(report.verdict).toMatchObject({ status: 'blocked', confirmed: true });
    expect(report.verdict.causes[0]).toBe('tcp-wrappers');
    expect(code).toBe(1);
  });

  it('reports a stopped sshd that still holds its socket as silent, explained on the host side, not the network', async () => {
    const l = await newLab();
    // SIGSTOP: the kernel still completes TCP handshakes into the listen backlog, nobody answers.
    await l.exec('kill -STOP "$(cat /run/sshd.pid)"');
    try {
      const { code, report } = await diagnoseLab(l);
      expect(report.probe?.outcome).toBe('silent');
      expect(report.probe?.connectMs).toBeLessThan(1000);
      expect(report.verdict.status).toBe('blocked');
      expect(report.verdict.summary).toContain('accepted the TCP connection but never sent an SSH banner');
      expect(report.verdict.summary).not.toContain('suspect the network');
      expect(report.verdict.causes).not.toContain('security-group');
      expect(code).toBe(1);
    } finally {
      await l.exec('kill -CONT "$(cat /run/sshd.pid)"');
    }
  });

  it('names why sshd cannot start (host keys readable by others), not just that it is not running', async () => {
    const l = await newLab();
    await l.stopSshd();
    await l.exec('chmod 644 /etc/ssh/ssh_host_*_key');
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('refused');
    expect(report.verdict.causes.slice(0, 2)).toEqual(['permissions', 'sshd-config']);
    expect(report.verdict.summary).toMatch(/confirmed cause: Private host keys .* readable by others: sshd ignores them .* cannot start/);
    const perm = check(report, 'permissions');
    expect(perm.evidence.map((e) => e.text)).toContain('644 root:root /etc/ssh/ssh_host_ed25519_key');
    expect(perm.fix?.actions).toContainEqual({ kind: 'set-mode', path: '/etc/ssh/ssh_host_ed25519_key', mode: '600', owner: 'root', group: 'root' });
    expect(check(report, 'sshd-config').fix).toBeNull();
  });

  it('reads the all:all:deny option syntax in hosts.allow as a denial from the allow file', async () => {
    const l = await newLab();
    await sc.denyAllOptionSyntax(l);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('reset');
    const tw = check(report, 'tcp-wrappers');
    expect(tw.status).toBe('fail');
    expect(tw.evidence[0]?.source).toBe('/etc/hosts.allow');
    expect(tw.evidence[0]?.text).toMatch(/all:all:deny/i);
    expect(report.verdict.causes[0]).toBe('tcp-wrappers');
  });

  it('lets an allow rule override ALL: ALL in hosts.deny, but judges another named client denied', async () => {
    const l = await newLab();
    await sc.allowOverridesDeny(l, l.hostIp);
    const own = await diagnoseLab(l);
    expect(own.report.probe?.outcome).toBe('banner');
    expect(check(own.report, 'tcp-wrappers').status).toBe('pass');
    expect(own.report.verdict.status).toBe('reachable');

    const other = await diagnoseLab(l, ['--client-ip', '203.0.113.9']);
    expect(other.report.clients).toEqual([{ ip: '203.0.113.9', source: 'user' }]);
    const tw = check(other.report, 'tcp-wrappers');
    expect(tw.status).toBe('fail');
    expect(tw.summary).toContain('203.0.113.9');
    expect(other.report.verdict.status).toBe('blocked');
    expect(other.code).toBe(1);
  });

  it('names the iptables DROP rule behind a timeout', async () => {
    const l = await newLab();
    await sc.iptablesDrop(l, l.hostIp);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('timeout');
    const fw = check(report, 'firewall');
    expect(fw.status).toBe('fail');
    expect(fw.evidence[0]?.text).toMatch(new RegExp(`-s ${l.hostIp.replace(/\./g, '\\.')}/32 .*-j DROP`));
    expect(fw.fix?.commands.some((c) => c.startsWith('iptables -w -t filter -D INPUT'))).toBe(true);
    expect(report.verdict.causes[0]).toBe('firewall');
  });

  it('names the iptables REJECT rule behind a refusal', async () => {
    const l = await newLab();
    await sc.iptablesReject(l, l.hostIp);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('refused');
    const fw = check(report, 'firewall');
    expect(fw.status).toBe('fail');
    expect(fw.evidence[0]?.text).toMatch(/-j REJECT/);
    expect(report.verdict.causes).toContain('firewall');
    expect(check(report, 'sshd-service').status).toBe('pass');
  });

  it('names the fail2ban jail that banned the client and the unban command', async () => {
    const l = await newLab({ fail2ban: true });
    await sc.fail2banBan(l, l.hostIp);
    const { report } = await diagnoseLab(l);
    expect(['refused', 'timeout', 'unreachable']).toContain(report.probe?.outcome);
    const f2b = check(report, 'fail2ban');
    expect(f2b.status).toBe('fail');
    expect(f2b.fix?.commands).toContain(`fail2ban-client set sshd unbanip ${l.hostIp}`);
    const fw = check(report, 'firewall');
    expect(fw.summary).toContain('fail2ban');
    expect(report.verdict.causes[0]).toBe('fail2ban');
  });

  it('finds the missing liblz4.so.1 link and the exact ln -s to recreate it', async () => {
    const l = await newLab();
    const { link, target } = await sc.removeLz4Link(l);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('refused');
    const libs = check(report, 'sshd-libraries');
    expect(libs.status).toBe('fail');
    expect(libs.summary).toContain('liblz4.so.1');
    const dir = link.slice(0, link.lastIndexOf('/'));
    const expectedLink = `${dir.replace(/^\/lib\//, '/usr/lib/')}/liblz4.so.1`;
    expect(libs.fix?.commands[0]).toBe(`ln -sf ${target.split('/').pop()} ${expectedLink}`);
    expect(report.verdict.causes[0]).toBe('sshd-libraries');
  });

  it('reports sshd stopped behind a refusal', async () => {
    const l = await newLab();
    await sc.stopSshd(l);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('refused');
    expect(check(report, 'sshd-service').status).toBe('fail');
    expect(report.verdict).toMatchObject({ status: 'blocked', confirmed: true });
    expect(report.verdict.causes[0]).toBe('sshd-service');
  });

  it('points at the sshd_config line sshd rejects', async () => {
    const l = await newLab();
    const { line } = await sc.breakSshdConfig(l);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('refused');
    const cfg = check(report, 'sshd-config');
    expect(cfg.status).toBe('fail');
    const lines = (await l.readFile('/etc/ssh/sshd_config')).split('\n');
    expect(cfg.evidence[0]).toMatchObject({ source: '/etc/ssh/sshd_config', line: lines.indexOf(line) + 1, text: line });
    expect(report.verdict.causes[0]).toBe('sshd-config');
  });

  it('finds sshd listening on another port', async () => {
    const l = await newLab();
    await sc.movePort(l, 2222);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('refused');
    const listen = check(report, 'sshd-listen');
    expect(listen.status).toBe('fail');
    expect(listen.summary).toContain('2222');
    expect(report.verdict.causes[0]).toBe('sshd-listen');
  });

  it('reports connections dropped past MaxStartups', async () => {
    const l = await newLab();
    const held = await sc.exhaustMaxStartups(l, 2);
    try {
      const { report } = await diagnoseLab(l);
      expect(['reset', 'closed']).toContain(report.probe?.outcome);
      const ms = check(report, 'max-startups');
      expect(ms.status).toBe('fail');
      expect(ms.evidence.some((e) => /past MaxStartups/.test(e.text))).toBe(true);
      expect(report.verdict.causes).toContain('max-startups');
    } finally {
      held.release();
    }
  });

  it('recognises a non-SSH service on port 22', async () => {
    const l = await newLab();
    await sc.nonSshOn22(l);
    const { report } = await diagnoseLab(l);
    expect(report.probe?.outcome).toBe('not-ssh');
    expect(report.probe?.peer).toBe('http');
    expect(report.probe?.firstBytes).toBeUndefined();
    const listen = check(report, 'sshd-listen');
    expect(listen.status).toBe('fail');
    expect(report.verdict.causes[0]).toBe('sshd-listen');
  });

  it("names the process holding port 22 and sshd's own last error when sshd cannot bind", async () => {
    const l = await newLab();
    await sc.nonSshOn22(l);
    const start = await l.startSshd().then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(start).not.toBe('started');
    await sc.waitForAuthLog(l, 'sshd\\[[0-9]+\\]: .*(Cannot bind any address|Bind to port 22)');
    const { report } = await diagnoseLab(l);
    expect(check(report, 'sshd-listen').summary).toMatch(/Port 22 is held by busybox, not sshd/);
    const svc = check(report, 'sshd-service');
    expect(svc.status).toBe('fail');
    expect(svc.summary).toMatch(/sshd's last error: ".*(Cannot bind any address|Bind to port 22 .* failed)/);
    expect(report.verdict.causes[0]).toBe('sshd-listen');
  });

  it('finds the exact line in a 20,000-line DenyHosts hosts.deny within the output limit', async () => {
    const l = await newLab();
    const { line } = await sc.hugeHostsDeny(l, l.hostIp, 20_000);
    const { report } = await diagnoseLab(l);
    expect(report.collector.outputChars).toBeLessThan(24_000);
    expect(report.collector.truncated).toBe(false);
    const tw = check(report, 'tcp-wrappers');
    expect(tw.status).toBe('fail');
    expect(tw.evidence[0]).toMatchObject({ source: '/etc/hosts.deny', line });
    expect(report.probe?.outcome).toBe('reset');
  });
});
