/** The outside probe against real loopback servers that behave like the failure modes. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyServerBytes, parseIdentLine, probeSsh, CLIENT_IDENT } from '../../lib/probe/probe';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function serve(onConn: (s: net.Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      onConn(s);
    });
    servers.push(srv);
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
  });
}

describe('probeSsh', () => {
  it('reads the server identification and sends ours first', async () => {
    let got = '';
    let gotIdent!: () => void;
    const identArrived = new Promise<void>((r) => (gotIdent = r));
    const port = await serve((s) => {
      s.on('data', (d) => {
        got += d;
        if (got.endsWith('\n')) gotIdent();
      });
      s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    });
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    await identArrived;
    expect(r.outcome).toBe('banner');
    expect(r.banner).toEqual({ raw: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3', protoVersion: '2.0', software: 'OpenSSH_9.2p1', comments: 'Debian-2+deb12u3' });
    expect(r.localAddress).toBe('127.0.0.1');
    expect(got).toBe(CLIENT_IDENT);
  });

  it('accepts other lines before the identification (RFC 4253 4.2)', async () => {
    const port = await serve((s) => s.write('Welcome\r\nauthorised use only\r\nSSH-2.0-dropbear_2022.83\r\n'));
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r.outcome).toBe('banner');
    expect(r.banner?.software).toBe('dropbear_2022.83');
  });

  it('reports a reset when the server closes with our identification unread', async () => {
    const port = await serve((s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r.outcome).toBe('reset');
    expect(r.errorCode).toBe('ECONNRESET');
    // The server resets as soon as our identification arrives: well inside the 2 s budget.
    expect(r.closeMs).toBeGreaterThan(0);
    expect(r.closeMs).toBeLessThan(1000);
  });

  it('reports a clean close, keeping a pre-banner line such as "Exceeded MaxStartups"', async () => {
    const port = await serve((s) => s.end('Exceeded MaxStartups\r\n'));
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r.outcome).toBe('closed');
    expect(r.firstBytes).toBe('Exceeded MaxStartups\\r\\n');
  });

  it('reports a refusal on a closed port', async () => {
    const port = await serve(() => undefined);
    const srv = servers.pop()!;
    await new Promise((r) => srv.close(r));
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r.outcome).toBe('refused');
  });

  it('reports a server that accepts the connection and never speaks as silent, not a network timeout', async () => {
    const port = await serve(() => undefined);
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 300 });
    expect(r.outcome).toBe('silent');
    expect(r.connectMs).toBeLessThan(300);
    expect(r.totalMs).toBeGreaterThanOrEqual(290);
    expect(r.firstBytes).toBeUndefined();
  });

  it('reports a partial identification that never ends as silent, with the bytes seen', async () => {
    const port = await serve((s) => s.write('SSH-2.0-Open'));
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 300 });
    expect(r.outcome).toBe('silent');
    expect(r.firstBytes).toBe('SSH-2.0-Open');
  });

  it.each([
    ['redis', '-NOAUTH Authentication required. token=s3cr3t\r\n'],
    ['smtp', '220 mail.example ESMTP Postfix token=s3cr3t\r\n'],
    ['ftp', '220 ProFTPD Server token=s3cr3t\r\n'],
    ['imap', '* OK IMAP4rev1 token=s3cr3t\r\n'],
  ])('classifies a %s greeting and drops its text', async (kind, greeting) => {
    const port = await serve((s) => s.end(greeting));
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r.peer).toBe(kind);
    expect(JSON.stringify(r)).not.toContain('s3cr3t');
  });

  it('classifies a TLS server by its record header', async () => {
    const port = await serve((s) => s.once('data', () => s.end(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]))));
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r.peer).toBe('tls');
    expect(r.firstBytes).toBeUndefined();
  });

  it('reports a non-SSH service by its kind, never with its bytes', async () => {
    const port = await serve((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\x1b[31mX\r\n\r\n')));
    const r = await probeSsh({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(r.outcome).toBe('not-ssh');
    expect(r.peer).toBe('http');
    // Another service's bytes (a greeting may carry a token) are never kept.
    expect(r.firstBytes).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain('Bad Request');
  });
});

describe('identification parsing', () => {
  it('parses identification lines leniently and classifies other protocols', () => {
    expect(parseIdentLine('SSH-2.0')).toBeUndefined();
    expect(parseIdentLine('SSH-2.0-with-dash-ok')).toMatchObject({ software: 'with-dash-ok' });
    expect(classifyServerBytes(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')).kind).toBe('banner');
    expect(classifyServerBytes(Buffer.from('220 mail.example.com ESMTP\r\n')).kind).toBe('not-ssh');
    expect(classifyServerBytes(Buffer.from('SSH-2.0-Open')).kind).toBe('more');
    expect(classifyServerBytes(Buffer.alloc(9000, 0x41)).kind).toBe('not-ssh');
  });
});
