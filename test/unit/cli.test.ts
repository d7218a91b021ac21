/** The CLI as a real process: usage errors name the argument and exit 2; broken collectors become check errors. */
import { describe, expect, it } from 'vitest';
import { runCli, runCheckJson } from '../support/cli';

describe('sshdoctor check: bad input', () => {
  it.each([
    [['--port', '99999'], '--port: must be an integer from 1 to 65535'],
    [['--port', '22abc'], '--port: must be an integer from 1 to 65535'],
    [['--host', 'a;rm -rf /'], '--host: must be an IPv4/IPv6 address or a DNS host name'],
    [['--client-ip', '10.0.0.300'], '--client-ip: must be an IPv4 or IPv6 address'],
    [['--client-ip', '10.0.0.0/24'], '--client-ip: must be an IPv4 or IPv6 address'],
    [['--via', ''], '--via: expected a command'],
    [['--via', 'sudo "unterminated'], '--via: expected a command line'],
    [['--bogus'], '--bogus'],
    [['i-0123456789abcdef0'], "--provider: must be 'aws' or 'alibaba'"],
    [['i-0123456789abcdef0', '--provider', 'aws', '--region', 'eu-west-1', '--host', '10.0.0.5'], '--host: not allowed with an instance ID'],
    [['i-xyz', '--provider', 'aws', '--region', 'eu-west-1'], "INSTANCE_ID: must be 'i-' followed by 8 or 17 lowercase hex digits"],
    [['i-0123456789abcdef0', '--provider', 'aws', '--region', 'Mars'], '--region: must be an AWS region name'],
    [['--region', 'eu-west-1'], '--region: only applies with an instance ID'],
  ])('check %j exits 2 naming the argument', async (args, message) => {
    const r = await runCli(['check', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it.each([['check'], ['fix']])('%s: a host name that does not resolve is a usage error naming --host, not "unreachable"', async (command) => {
    const r = await runCli([command, '--host', 'no-such-host.invalid', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--host: no-such-host\.invalid does not resolve to an address \((ENOTFOUND|EAI_AGAIN|EAI_NONAME)\)/);
    expect(r.stdout).toBe('');
  });

  it("without --client-ip, the JSON report marks the client address as the probe's own, a guess behind NAT", async () => {
    const { report } = await runCheckJson(['--via', "sh -c 'echo not a document' x", '--port', '1']);
    expect(report.clients).toHaveLength(1);
    expect(report.clients[0]).toMatchObject({ ip: '127.0.0.1', source: 'probe-source' });
    expect(report.clients[0]!.caveat).toMatch(/behind NAT .* may see another address; pass --client-ip/);
    const withIp = await runCheckJson(['--via', "sh -c 'echo not a document' x", '--port', '1', '--client-ip', '198.51.100.7']);
    expect(withIp.report.clients).toEqual([{ ip: '198.51.100.7', source: 'user' }]);
  });

  it('rejects an unknown command with exit 2', async () => {
    const r = await runCli(['chekc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'chekc'");
  });
});

describe('sshdoctor check: broken collector', () => {
  it('reports host checks as errors with the reason, and keeps the probe result', async () => {
    const { code, report } = await runCheckJson(['--via', "sh -c 'echo not a document' x", '--port', '1']);
    expect(report.probe?.outcome).toBe('refused');
    expect(report.collector.status).toBe('failed');
    expect(report.collector.reason).toMatch(/unreadable collector output/);
    const statuses = new Set(report.checks.map((c) => c.status));
    expect([...statuses]).toEqual(['error']);
    expect(report.verdict.status).toBe('blocked');
    expect(code).toBe(1);
  });

  it('reports a wrapper that fails to start', async () => {
    const { report } = await runCheckJson(['--via', '/nonexistent/wrapper', '--port', '1']);
    expect(report.collector.status).toBe('failed');
    expect(report.collector.reason).toMatch(/command not found/);
  });
});
