/**
 * Host firewalls beyond plain iptables, reproduced for real on lab instances and diagnosed
 * through the CLI: a native nftables `policy drop`, an nftables set banning the client, ufw's
 * default deny, and an iptables accept scoped to another interface. The probe's own failure
 * proves each is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';
import { runCheckJson } from '../support/cli';

const labReady = labGate();
const labs: LabInstance[] = [];

async function labWith(script: string): Promise<LabInstance> {
  const l = await createLab();
  labs.push(l);
  const r = await l.exec(script);
  if (r.code !== 0) throw new Error(`lab set-up failed (${r.code}): ${r.stderr}`);
  return l;
}

function firewallOf(report: Awaited<ReturnType<typeof runCheckJson>>['report']) {
  return report.checks.find((c) => c.id === 'firewall')!;
}

describe.runIf(labReady).concurrent('host firewalls on lab instances', () => {
  beforeAll(async () => {
    await cleanupStale();
  });
  afterAll(async () => {
    await Promise.all(labs.map((l) => l.destroy()));
  });

  it('an nftables input chain with policy drop and no SSH accept: blocked, citing the policy', async () => {
    const l = await labWith(
      "nft add table inet lab && nft add chain inet lab input '{ type filter hook input priority 0; policy drop; }' && nft add rule inet lab input ct state established,related accept && nft add rule inet lab input iif lo accept",
    );
    const { report, code } = await runCheckJson(['--via', l.via, '--host', l.ip], { timeoutMs: 60_000 });
    expect(report.probe?.outcome).toBe('timeout');
    const fw = firewallOf(report);
    expect(fw.status).toBe('fail');
    expect(fw.summary).toContain('inet lab input policy drop');
    expect(fw.fix?.commands.join('\n')).toContain(`nft insert rule inet lab input ip saddr ${l.hostIp} tcp dport 22 accept`);
    expect(report.verdict).toMatchObject({ status: 'blocked', confirmed: true });
    expect(report.verdict.causes[0]).toBe('firewall');
    expect(code).toBe(1);
  });

  it('an nftables set that bans the client: blocked, citing the rule and its handle', async () => {
    const l = await createLab();
    labs.push(l);
    const r = await l.exec(
      `nft add table inet ban && nft add set inet ban banned '{ type ipv4_addr; }' && nft add element inet ban banned '{ ${l.hostIp} }' && nft add chain inet ban input '{ type filter hook input priority -10; policy accept; }' && nft add rule inet ban input ip saddr @banned tcp dport 22 drop`,
    );
    expect(r.code).toBe(0);
    const { report } = await runCheckJson(['--via', l.via, '--host', l.ip], { timeoutMs: 60_000 });
    expect(report.probe?.outcome).toBe('timeout');
    const fw = firewallOf(report);
    expect(fw.status).toBe('fail');
    expect(fw.evidence[0]?.text).toMatch(/^inet ban input handle \d+: .*saddr @banned.*drop/);
    expect(fw.fix?.commands.join('\n')).toMatch(/nft delete rule inet ban input handle \d+/);
    // Another client, not in the set, is let in by the same ruleset.
    const other = await runCheckJson(['--via', l.via, '--host', l.ip, '--client-ip', '198.51.100.7'], { timeoutMs: 60_000 });
    expect(firewallOf(other.report).status).toBe('pass');
  });

  it("ufw's default deny with no SSH rule: blocked, with the ufw command as the fix", async () => {
    const l = await labWith('ufw --force enable >/dev/null');
    const { report } = await runCheckJson(['--via', l.via, '--host', l.ip], { timeoutMs: 60_000 });
    expect(report.probe?.outcome).toBe('timeout');
    const fw = firewallOf(report);
    expect(fw.status).toBe('fail');
    expect(fw.fix?.commands).toContain(`ufw allow from ${l.hostIp} to any port 22 proto tcp`);
  });

  it('an iptables accept on another interface before a DROP does not let the client in', async () => {
    const l = await labWith('iptables -A INPUT -i eth1 -j ACCEPT && iptables -A INPUT -p tcp --dport 22 -j DROP');
    const { report } = await runCheckJson(['--via', l.via, '--host', l.ip], { timeoutMs: 60_000 });
    expect(report.probe?.outcome).toBe('timeout');
    const fw = firewallOf(report);
    expect(fw.status).toBe('fail');
    expect(fw.evidence[0]?.text).toBe('-A INPUT -p tcp -m tcp --dport 22 -j DROP');
  });
});
