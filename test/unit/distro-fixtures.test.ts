/**
 * Collector documents of other distributions (Amazon Linux 2023, RHEL 9, Ubuntu 24.04, Alibaba
 * Cloud Linux 3, CentOS 7), each judged by every check through lib/judge.ts. Each fixture's
 * header says which parts are documented rather than captured.
 */
import { describe, expect, it } from 'vitest';
import { parseHostFacts } from '../../lib/collector/facts';
import type { CheckResult } from '../../lib/report/types';
import { editSection, fixture, withNftJson, withSection } from '../support/fixture-doc';
import { byId, judgeDocument } from '../support/judge-doc';

function judged(doc: string, client: string): Record<string, CheckResult> {
  return byId(judgeDocument(doc, [client]));
}

const HEALTHY_HOST = ['sshd-service', 'sshd-listen', 'sshd-config', 'sshd-libraries', 'fail2ban', 'max-startups', 'auth-log', 'disk', 'permissions'];

describe.each(['al2023', 'rhel9', 'ubuntu2404', 'alinux3', 'centos7'])('%s fixture', (name) => {
  it('says in its header what is documented rather than captured', () => {
    const { doc } = fixture(name);
    const header = doc.slice(0, doc.indexOf('#sshdoctor-collector 1'));
    expect(header).toMatch(/^# .*\n/);
    expect(header).toContain('DOCUMENTED, not captured');
  });

  it('is a healthy host: the sshd, log, disk and permission checks pass, nothing fails or errs', () => {
    const { doc, client } = fixture(name);
    const r = judged(doc, client);
    for (const id of HEALTHY_HOST) expect([id, r[id]!.status]).toEqual([id, 'pass']);
    expect(Object.values(r).filter((c) => c.status === 'fail' || c.status === 'error')).toEqual([]);
  });
});

describe('Amazon Linux 2023', () => {
  const { doc, client } = fixture('al2023');

  it('skips tcp-wrappers (sshd is not linked with libwrap) although hosts.deny holds "sshd: ALL"', () => {
    const facts = parseHostFacts(doc);
    expect(facts.sshd.linksLibwrap).toBe(false);
    expect(facts.wrappers.deny.lines).toEqual([{ no: 2, text: 'sshd: ALL' }]);
    const tw = judged(doc, client)['tcp-wrappers']!;
    expect(tw.status).toBe('skip');
    expect(tw.summary).toBe(`sshd is not linked with libwrap, so the rules that would deny ${client} in /etc/hosts.deny have no effect on SSH.`);
    expect(tw.fix).toBeNull();
  });

  it('reads the sshd log from the journal (no /var/log/secure) and judges its recent lines', () => {
    expect(parseHostFacts(doc).authLog.source).toBe('journal');
    const refused = editSection(doc, 'auth-log', (l) => [
      ...l,
      `client 2026-11-21T13:15:00+00:00 ip-172-31-20-5 sshd[2210]: Connection closed by ${client} port 50022 [preauth]`,
      `client 2026-11-21T13:16:40+00:00 ip-172-31-20-5 sshd[2214]: User ec2-user from ${client} not allowed because not listed in AllowUsers`,
    ]);
    const r = judged(refused, client)['auth-log']!;
    expect(r.status).toBe('fail');
    expect(r.evidence.map((e) => e.source)).toEqual(['journal']);
  });

  it('names sshd.service (not ssh) in the fix when sshd is stopped', () => {
    const stopped = withSection(doc, 'service', [
      'unit sshd.service active=inactive enabled=enabled SubState=dead Result=success ExecMainStatus=0 NRestarts=0 ',
    ]);
    const r = judged(stopped, client)['sshd-service']!;
    expect(r.status).toBe('fail');
    expect(r.fix?.commands).toContain('systemctl enable --now sshd');
  });
});

describe('RHEL 9', () => {
  const { doc, client } = fixture('rhel9');
  const withoutSsh = withNftJson(doc, (items) =>
    items.filter((i) => !(JSON.stringify(i).includes('"filter_IN_public_allow"') && JSON.stringify(i).includes('"right":22'))),
  );

  it("follows the client through firewalld's nftables chains to the ssh service accept", () => {
    const r = judged(doc, client).firewall!;
    expect(r).toMatchObject({ status: 'pass', summary: `The host firewall lets tcp/22 in from ${client}.` });
  });

  it('fails with the firewalld fix when zone public lacks ssh: the rule is the final reject of filter_INPUT', () => {
    const r = judged(withoutSsh, client).firewall!;
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/^nftables rejects tcp\/22 from 203\.0\.113\.20: inet firewalld filter_INPUT/);
    expect(r.fix?.commands).toEqual(['firewall-cmd --permanent --zone=public --add-service=ssh', 'firewall-cmd --reload']);
  });

  it('skips tcp-wrappers and reads /var/log/secure', () => {
    const r = judged(doc, client);
    expect(r['tcp-wrappers']).toMatchObject({
      status: 'skip',
      summary: 'sshd is not linked with libwrap: /etc/hosts.allow and /etc/hosts.deny do not affect SSH.',
    });
    expect(r['auth-log']!.summary).toBe('No sshd refusals or errors in the recent log (/var/log/secure).');
  });
});

describe('Ubuntu 24.04', () => {
  const { doc, client } = fixture('ubuntu2404');

  it('is not "sshd stopped": ssh.socket is active, ssh.service inactive and no sshd runs (socket activation)', () => {
    const facts = parseHostFacts(doc);
    expect(facts.service.processes).toEqual([]);
    expect(facts.service.units.map((u) => `${u.name} ${u.active}`)).toEqual(['ssh.service inactive', 'ssh.socket active']);
    const r = judged(doc, client);
    expect(r['sshd-service']!.summary).toBe('sshd is started on demand by ssh.socket (socket activation); the service being inactive is normal.');
    expect(r['sshd-listen']!.status).toBe('pass');
  });

  it('does not blame the missing /run/sshd while ssh.socket waits for the first connection', () => {
    const r = judged(doc, client)['sshd-config']!;
    expect(r.status).toBe('pass');
    expect(r.summary).toContain('stopped only at the privilege-separation directory /run/sshd');
    // Without the socket, the same sshd -t output is a warning with its fix.
    const noSocket = editSection(doc, 'service', (l) => l.map((x) => x.replace('unit ssh.socket active=active', 'unit ssh.socket active=inactive')));
    expect(judged(noSocket, client)['sshd-config']!.status).toBe('warn');
    expect(judged(noSocket, client)['sshd-service']!.status).toBe('fail');
  });

  it('judges hosts.allow/deny (sshd is linked with libwrap)', () => {
    expect(parseHostFacts(doc).sshd.linksLibwrap).toBe(true);
    expect(judged(doc, client)['tcp-wrappers']!.status).toBe('pass');
    const denied = withSection(doc, 'hosts.deny', ['1\tsshd: ALL', '#lines=1 omitted=0 comments=0 unterminated=0']);
    expect(judged(denied, client)['tcp-wrappers']!.status).toBe('fail');
  });

  it("follows ufw's chains (ufw-not-local returns for a local destination) to its allow 22/tcp", () => {
    expect(parseHostFacts(doc).firewall.nftJson.text).toBe(
      '{"nftables":[{"metainfo":{"version":"1.0.6","release_name":"Lester Gooch #5","json_schema_version":1}}]}',
    );
    expect(judged(doc, client).firewall).toMatchObject({ status: 'pass', summary: `The host firewall lets tcp/22 in from ${client}.` });
  });

  it('never passes, nor blames the policy, on an iptables ruleset the size cap cut', () => {
    // The accept rule is in the part that was cut: walking what is left ends at policy DROP.
    const cut = editSection(doc, 'iptables', (l) => l.filter((x) => !x.startsWith('-A ufw-user-input'))).replace(
      /(@end iptables rc=0 chars=\d+ )dropped=0/,
      '$1dropped=3',
    );
    const r = judged(cut, client).firewall!;
    expect(r.status).toBe('warn');
    expect(r.summary).toBe(
      "iptables-save output was cut by the collector's size cap: a rule in the missing part could drop SSH, so the firewall is not evaluable; review it.",
    );
  });

  it('without the allow rule, blames the INPUT policy and gives the ufw fix', () => {
    const closed = editSection(doc, 'iptables', (l) => l.filter((x) => x !== '-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT'));
    const r = judged(closed, client).firewall!;
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('by the INPUT policy DROP');
    expect(r.fix?.commands).toContain(`ufw allow from ${client} to any port 22 proto tcp`);
  });
});

describe('Alibaba Cloud Linux 3', () => {
  const { doc, client } = fixture('alinux3');

  it('skips tcp-wrappers although hosts.deny names the client: sshd is not linked with libwrap (as RHEL 8)', () => {
    const tw = judged(doc, client)['tcp-wrappers']!;
    expect(tw.status).toBe('skip');
    expect(tw.summary).toContain(`would deny ${client}`);
    expect(tw.evidence[0]).toMatchObject({ source: '/etc/hosts.deny', line: 1 });
  });

  it('reads a stopped firewalld from its zone XML and finds no rules in the way', () => {
    const facts = parseHostFacts(doc);
    expect(facts.firewall.firewalld).toMatchObject({ present: true, running: false, defaultZone: 'public' });
    expect(judged(doc, client).firewall!.status).toBe('pass');
  });

  it('recognises the RHEL 8 sshd command line (-D -oCiphers=...) as the listener', () => {
    expect(judged(doc, client)['sshd-service']!.summary).toMatch(/^sshd is running \(pid 1180: \/usr\/sbin\/sshd -D -oCiphers=/);
  });
});

describe('CentOS 7', () => {
  const { doc, client } = fixture('centos7');

  it('reads systemd 219 units (no show --value, no NRestarts) and the pre-8.x sshd command line', () => {
    const facts = parseHostFacts(doc);
    expect(facts.service.units).toEqual([{ name: 'sshd.service', active: 'active', enabled: 'enabled', subState: 'running', result: 'success' }]);
    expect(judged(doc, client)['sshd-service']!.summary).toBe('sshd is running (pid 1029: /usr/sbin/sshd -D).');
    const stopped = withSection(doc, 'service', ['unit sshd.service active=failed enabled=enabled SubState=failed Result=exit-code ExecMainStatus=255 ']);
    const r = judged(stopped, client)['sshd-service']!;
    expect(r).toMatchObject({ status: 'fail', summary: 'sshd.service has failed (result: exit-code) and no sshd is running.' });
    expect(r.fix?.commands).toContain('systemctl enable --now sshd');
  });

  it('listens on 22 from /proc/net/tcp alone (ss from iproute 4.11 has no -H)', () => {
    expect(parseHostFacts(doc).listening.every((s) => s.process === undefined)).toBe(true);
    expect(judged(doc, client)['sshd-listen']!.summary).toBe('sshd listens on port 22 (0.0.0.0, ::).');
  });

  it('applies hosts.allow before hosts.deny (libwrap linked): 10/8 allowed, others denied by "sshd: ALL"', () => {
    expect(judged(doc, client)['tcp-wrappers']!.status).toBe('pass');
    const other = byId(judgeDocument(doc, ['192.0.2.50']))['tcp-wrappers']!;
    expect(other.status).toBe('fail');
    expect(other.evidence[0]).toMatchObject({ source: '/etc/hosts.deny', line: 4 });
  });

  it("follows iptables-services' rules: NEW tcp/22 accepted before the final REJECT", () => {
    expect(judged(doc, client).firewall!.status).toBe('pass');
    const closed = editSection(doc, 'iptables', (l) => l.filter((x) => !x.includes('--dport 22')));
    const r = judged(closed, client).firewall!;
    expect(r.status).toBe('fail');
    expect(r.summary).toBe(`iptables rejects tcp/22 from ${client}: -A INPUT -j REJECT --reject-with icmp-host-prohibited`);
  });
});
