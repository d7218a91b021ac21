import { describe, expect, it } from 'vitest';
import { decide, linesFromText, parseHostsFile, type WrappersPolicy } from '../../lib/wrappers/index';

function policy(allow: string, deny: string, files: Record<string, string> = {}): WrappersPolicy {
  return {
    allow: parseHostsFile({ path: '/etc/hosts.allow', lines: linesFromText(allow) }),
    deny: parseHostsFile({ path: '/etc/hosts.deny', lines: linesFromText(deny) }),
    readPatternFile: (p) => files[p],
  };
}

describe('wrappers engine: decisions', () => {
  it('reports the hosts.deny line that denies the client, with a comment-out fix for a DenyHosts line', () => {
    const p = policy('', '# DenyHosts\nsshd: 10.0.0.1\nsshd: 203.0.113.9\n');
    const d = decide(p, 'sshd', { addr: '203.0.113.9' });
    expect(d).toMatchObject({ decision: 'deny', file: '/etc/hosts.deny', line: 3, rule: 'sshd: 203.0.113.9', via: 'hosts.deny' });
    expect(d.fix).toEqual({ kind: 'comment-out', file: '/etc/hosts.deny', line: 3, text: 'sshd: 203.0.113.9' });
    expect(decide(p, 'sshd', { addr: '203.0.113.10' })).toMatchObject({ decision: 'allow', via: 'default', file: null });
  });

  it('keeps first-match order when exact-address rules and pattern rules interleave', () => {
    const p = policy('', 'sshd: 10.0.0.1 : allow\nsshd: 10.0.0.0/8 : allow\nsshd: 10.0.0.2\nALL: 10.0.0.3\n');
    expect(decide(p, 'sshd', { addr: '10.0.0.2' })).toMatchObject({ decision: 'allow', line: 2, via: 'option-allow' });
    expect(decide(p, 'sshd', { addr: '10.0.0.1' })).toMatchObject({ decision: 'allow', line: 1 });
    expect(decide(p, 'sshd', { addr: '11.0.0.3' })).toMatchObject({ decision: 'allow', via: 'default' });
  });

  it('offers an allow rule instead of comment-out when another rule would still deny', () => {
    const p = policy('sshd: 192.168.0.0/16\n', 'sshd: 10.0.0.1\nALL: ALL\n');
    const d = decide(p, 'sshd', { addr: '10.0.0.1' });
    expect(d.fix).toEqual({ kind: 'insert-allow', file: '/etc/hosts.allow', beforeLine: null, text: 'sshd: 10.0.0.1' });
    const v6 = decide(p, 'sshd', { addr: '2001:DB8:0::1' });
    expect(v6.client).toBe('2001:db8::1');
    expect(v6.fix).toMatchObject({ kind: 'insert-allow', text: 'sshd: [2001:db8::1]' });
  });

  it('treats twist as blocking sshd and places the allow rule before it', () => {
    const p = policy('# x\nsshd: ALL : spawn /bin/true : twist /bin/echo bye\n', '');
    const d = decide(p, 'sshd', { addr: '1.2.3.4' });
    expect(d).toMatchObject({ decision: 'deny', via: 'twist', line: 2 });
    expect(d.fix).toMatchObject({ kind: 'insert-allow', beforeLine: 2 });
  });

  it('denies when a matched rule has a bad option, even in hosts.allow', () => {
    const p = policy('sshd: 1.2.3.4 : severity bogus\n', '');
    expect(decide(p, 'sshd', { addr: '1.2.3.4' })).toMatchObject({ decision: 'deny', via: 'option-deny' });
    expect(p.allow.diagnostics[0]?.message).toMatch(/bad syslog facility or severity/);
  });

  it('uses --client-name for name patterns and says so when the name is unknown', () => {
    const p = policy('sshd: .example.com EXCEPT bad.example.com\n', 'sshd: ALL\n');
    const unnamed = decide(p, 'sshd', { addr: '198.51.100.7' });
    expect(unnamed.decision).toBe('deny');
    expect(unnamed.caveats.join('\n')).toMatch(/".example.com" depends on the client's host name/);
    expect(decide(p, 'sshd', { addr: '198.51.100.7', name: 'ok.example.com' })).toMatchObject({ decision: 'allow', line: 1, caveats: [] });
    expect(decide(p, 'sshd', { addr: '198.51.100.7', name: 'BAD.example.com' }).decision).toBe('deny');
  });

  it('evaluates LOCAL, KNOWN, UNKNOWN and PARANOID against the client name', () => {
    const p = policy('sshd: LOCAL\nsshd: PARANOID : deny\nsshd: KNOWN\n', 'sshd: UNKNOWN\n');
    expect(decide(p, 'sshd', { addr: '10.1.1.1', name: 'build01' })).toMatchObject({ decision: 'allow', line: 1 });
    expect(decide(p, 'sshd', { addr: '10.1.1.1', name: 'paranoid' })).toMatchObject({ decision: 'deny', line: 2 });
    expect(decide(p, 'sshd', { addr: '10.1.1.1', name: 'a.b.example' })).toMatchObject({ decision: 'allow', line: 3 });
    expect(decide(p, 'sshd', { addr: '10.1.1.1' })).toMatchObject({ decision: 'deny', file: '/etc/hosts.deny' });
  });

  it('reads /path pattern files and reports an unreadable one', () => {
    const p = policy('', 'sshd: /etc/blocked /etc/missing\n', { '/etc/blocked': '# not a comment\n10.9.0.0/16\t192.0.2.1\n' });
    expect(decide(p, 'sshd', { addr: '10.9.3.3' })).toMatchObject({ decision: 'deny', line: 1 });
    const d = decide(p, 'sshd', { addr: '10.8.3.3' });
    expect(d.decision).toBe('allow');
    expect(d.caveats.join('\n')).toMatch(/\/etc\/missing could not be read/);
  });

  it('reports @netgroup as not evaluable and user@host as an ident lookup', () => {
    const p = policy('', 'sshd: @admins, root@10.0.0.1\n');
    const d = decide(p, 'sshd', { addr: '10.0.0.1' });
    expect(d.decision).toBe('allow');
    expect(d.caveats.join('\n')).toMatch(/netgroup pattern "@admins" cannot be evaluated/);
    expect(d.caveats.join('\n')).toMatch(/ident \(RFC 931\)/);
  });

  it('fails closed when hosts.deny ends without a newline, as Debian libwrap does', () => {
    const p = policy('', 'sshd: 10.0.0.1\nftpd: 10.0.0.2');
    const d = decide(p, 'sshd', { addr: '192.0.2.55' });
    expect(d).toMatchObject({ decision: 'deny', file: '/etc/hosts.deny', line: 2, rule: 'ftpd: 10.0.0.2' });
    expect(d.caveats.join('\n')).toMatch(/missing newline/);
    expect(d.fix).toMatchObject({ kind: 'insert-allow', beforeLine: null });
  });

  it('reports the first line of a continued rule and skips malformed lines', () => {
    const allow = parseHostsFile({ path: 'a', lines: linesFromText('sshd 10.0.0.1\nsshd: 10.0.0.2, \\\n  10.0.0.3\n') });
    expect(allow.diagnostics[0]).toMatchObject({ line: 1, severity: 'error' });
    expect(allow.rules).toHaveLength(1);
    expect(allow.rules[0]).toMatchObject({ line: 2, lastLine: 3, clients: ['10.0.0.2', '10.0.0.3'] });
  });

  it('accepts sparse collector lines and keeps their numbers', () => {
    const deny = parseHostsFile({
      path: 'd',
      lines: [
        { no: 40, text: 'sshd: 10.0.0.1' },
        { no: 7, text: 'ALL: 10.0.0.2' },
      ],
    });
    expect(deny.rules.map((r) => r.line)).toEqual([7, 40]);
    const d = decide({ allow: parseHostsFile({ path: 'a', lines: [] }), deny }, 'sshd', { addr: '10.0.0.1' });
    expect(d.line).toBe(40);
  });

  it('matches daemon@host only when the server address is given', () => {
    const p = policy('', 'sshd@192.0.2.1: ALL\n');
    const noServer = decide(p, 'sshd', { addr: '10.0.0.1' });
    expect(noServer.decision).toBe('allow');
    expect(noServer.caveats.join('\n')).toMatch(/depends on the server's address/);
    expect(decide(p, 'sshd', { addr: '10.0.0.1' }, { addr: '192.0.2.1' }).decision).toBe('deny');
  });
});
