/**
 * The outside probe: connect to host:port the way an OpenSSH client does and classify
 * what the server does with the connection.
 */
import net from 'node:net';
import type { PeerKind, ProbeOutcome, ProbeResult, SshBanner } from './types';

/** What we send at once after connecting, as OpenSSH does (RFC 4253 section 4.2). */
export const CLIENT_IDENT = 'SSH-2.0-sshdoctor_0.1\r\n';

export interface ProbeOptions {
  host: string;
  port: number;
  /**
   * Total time budget. It must exceed libwrap's refusal delay: sshd linked with libwrap
   * sleeps ~5 s in refuse() before exiting, so a denied client sees the reset only then.
   */
  timeoutMs?: number;
}

/** Time budget for the TCP handshake alone (a DROP rule shows as a connect timeout). */
const CONNECT_TIMEOUT_MS = 5000;

const MAX_PRE_BANNER_BYTES = 8192; // RFC 4253 allows other lines before the identification

/** Printable ASCII only, bounded: safe to show in any renderer. */
export function sanitizeBytes(buf: Buffer, max = 64): string {
  let out = '';
  for (const byte of buf.subarray(0, max)) {
    out += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : byte === 0x0a ? '\\n' : byte === 0x0d ? '\\r' : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Text only an SSH server sends before or instead of its identification. */
const SSH_OWN_TEXT = /^(SSH-|Exceeded MaxStartups|Not allowed at this time|Too many)/;

/** Which service answered, by its first bytes; never the bytes themselves. */
export function classifyPeer(buf: Buffer): PeerKind {
  if (buf.length >= 2 && (buf[0] === 0x16 || buf[0] === 0x15) && buf[1] === 0x03) return 'tls';
  const text = buf.subarray(0, 256).toString('latin1');
  if (/^HTTP\/\d/.test(text)) return 'http';
  if (/^220[ -].*FTP/i.test(text)) return 'ftp';
  if (/^220[ -]/.test(text)) return 'smtp';
  if (/^\+OK/.test(text)) return 'pop3';
  if (/^\* (OK|PREAUTH)/.test(text)) return 'imap';
  if (/^(-ERR|-NOAUTH|-DENIED|\$\d|\*\d|:\d)/.test(text)) return 'redis';
  // MySQL's greeting: 3-byte length, sequence 0, protocol version 10.
  if (buf.length > 5 && buf[3] === 0 && buf[4] === 0x0a) return 'mysql';
  return 'unknown';
}

/** Parses an `SSH-protoversion-softwareversion SP comments` line; undefined if it is not one. */
export function parseIdentLine(line: string): SshBanner | undefined {
  // RFC 4253 forbids '-' in softwareversion; real servers use it, and OpenSSH accepts them.
  const m = /^SSH-([0-9.]+)-([\x21-\x7e]+)(?: (.*))?$/.exec(line);
  if (!m) return undefined;
  const banner: SshBanner = { raw: sanitizeBytes(Buffer.from(line), 255), protoVersion: m[1]!, software: m[2]! };
  if (m[3]) banner.comments = sanitizeBytes(Buffer.from(m[3]), 200);
  return banner;
}

type Classified = { kind: 'banner'; banner: SshBanner } | { kind: 'not-ssh'; firstBytes: string } | { kind: 'more' };

/** Looks at what has arrived so far: an identification line, junk, or not enough yet. */
export function classifyServerBytes(buf: Buffer): Classified {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) {
      // Other lines before the identification are legal, so an unfinished line is only judged
      // once the buffer is too big to be a pre-banner line.
      return buf.length > MAX_PRE_BANNER_BYTES ? { kind: 'not-ssh', firstBytes: sanitizeBytes(buf) } : { kind: 'more' };
    }
    const line = buf.subarray(start, nl).toString('latin1').replace(/\r$/, '');
    if (line.startsWith('SSH-')) {
      const banner = parseIdentLine(line);
      return banner ? { kind: 'banner', banner } : { kind: 'not-ssh', firstBytes: sanitizeBytes(buf) };
    }
    // HTTP, SMTP and the like answer with a status line; RFC 4253 pre-banner lines are
    // rare and never look like protocol greetings, so a first line that does is not SSH.
    if (start === 0 && /^(HTTP\/|\d{3}[ -]|<|\+OK|\* OK|-ERR)/.test(line)) {
      return { kind: 'not-ssh', firstBytes: sanitizeBytes(buf) };
    }
    start = nl + 1;
  }
}

/**
 * Connects, sends the client identification at once, and waits for the server's.
 * Never throws: every network outcome is a {@link ProbeResult}.
 */
export function probeSsh(opts: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 8000;
  const connectTimeoutMs = Math.min(CONNECT_TIMEOUT_MS, timeoutMs);
  const started = performance.now();
  return new Promise((resolve) => {
    let connectedAt: number | undefined;
    let received = Buffer.alloc(0);
    let done = false;
    const socket = net.connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);

    const finish = (outcome: ProbeOutcome, extra: Partial<ProbeResult> = {}) => {
      if (done) return;
      done = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      const now = performance.now();
      const result: ProbeResult = { host: opts.host, port: opts.port, outcome, totalMs: round(now - started), ...extra };
      if (result.firstBytes !== undefined && !SSH_OWN_TEXT.test(received.toString('latin1'))) {
        delete result.firstBytes;
        result.peer = classifyPeer(received);
      }
      if (socket.localAddress) result.localAddress = socket.localAddress.replace(/^::ffff:/, '');
      if (socket.localPort) result.localPort = socket.localPort;
      if (connectedAt !== undefined) result.connectMs = round(connectedAt - started);
      if (connectedAt !== undefined && (outcome === 'reset' || outcome === 'closed')) result.closeMs = round(now - connectedAt);
      socket.destroy();
      resolve(result);
    };

    const connectTimer = setTimeout(() => {
      if (connectedAt === undefined) finish('timeout', { errorCode: 'ETIMEDOUT' });
    }, connectTimeoutMs);
    // Connected but nothing (or no complete identification) within the budget: the server side
    // holds the connection, which a security group or ACL never does (they drop the SYN).
    const totalTimer = setTimeout(
      () => finish(connectedAt === undefined ? 'timeout' : 'silent', received.length ? { firstBytes: sanitizeBytes(received) } : {}),
      timeoutMs,
    );

    socket.on('connect', () => {
      connectedAt = performance.now();
      socket.write(CLIENT_IDENT);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const c = classifyServerBytes(received);
      if (c.kind === 'banner') {
        finish('banner', { banner: c.banner, bannerMs: round(performance.now() - (connectedAt ?? started)) });
      } else if (c.kind === 'not-ssh') {
        finish('not-ssh', { firstBytes: c.firstBytes });
      }
    });
    // Text lines before a close are legal pre-banner lines (sshd writes "Exceeded
    // MaxStartups" before dropping): the client sees the close, so report that.
    const bytes = () => (received.length ? { firstBytes: sanitizeBytes(received) } : {});
    socket.on('end', () => finish('closed', bytes()));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'UNKNOWN';
      if (code === 'ECONNRESET' || code === 'EPIPE') {
        finish('reset', { errorCode: code, ...bytes() });
      } else if (code === 'ECONNREFUSED') {
        finish('refused', { errorCode: code });
      } else if (code === 'ETIMEDOUT') {
        finish('timeout', { errorCode: code });
      } else {
        // EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL, ENOTFOUND ...
        finish('unreachable', { errorCode: code });
      }
    });
    socket.on('close', () => finish('closed', bytes()));
  });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
