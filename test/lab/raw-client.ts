/**
 * A deliberately small SSH client for proving the lab at the socket level: it sends its
 * identification string as soon as TCP is up, as OpenSSH does (which is what turns a
 * libwrap refusal into a reset rather than a clean close), then reads one line.
 * Independent of lib/probe on purpose, so the lab is not proven with the code under test.
 */
import { connect } from 'node:net';

export type RawOutcome = 'banner' | 'reset' | 'closed' | 'refused' | 'timeout' | 'silent' | 'not-ssh' | 'error';

export interface RawResult {
  outcome: RawOutcome;
  /** First line received (banner or not), printable ASCII only. */
  firstLine?: string;
  /** OS error code, e.g. ECONNRESET, ECONNREFUSED. */
  errorCode?: string;
  /** Milliseconds from TCP established to the end of the connection (reset or close). */
  closeMs?: number;
  localAddress?: string;
}

export interface RawOptions {
  localAddress?: string;
  connectTimeoutMs?: number;
  /** How long to wait for data after connect; must exceed libwrap's 5 s sleep to see its reset. */
  readTimeoutMs?: number;
}

export const CLIENT_IDENT = 'SSH-2.0-OpenSSH_9.2p1 sdlab-raw-client\r\n';

/** Connects to host:port, sends an SSH identification string first, classifies what happens. */
export function rawProbe(host: string, port: number, opts: RawOptions = {}): Promise<RawResult> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 3_000;
  const readTimeoutMs = opts.readTimeoutMs ?? 10_000;
  return new Promise((resolve) => {
    const s = connect({ host, port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    let connectedAt: number | undefined;
    let localAddress: string | undefined;
    let buf = '';
    let done = false;
    const finish = (r: RawResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ ...r, ...(localAddress ? { localAddress } : {}) });
    };
    const since = () => (connectedAt === undefined ? undefined : performance.now() - connectedAt);
    let timer = setTimeout(() => finish({ outcome: 'timeout' }), connectTimeoutMs);
    s.on('connect', () => {
      connectedAt = performance.now();
      localAddress = s.localAddress;
      clearTimeout(timer);
      timer = setTimeout(() => finish({ outcome: 'silent' }), readTimeoutMs);
      s.write(CLIENT_IDENT);
    });
    s.on('data', (b: Buffer) => {
      buf += b.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length < 256) return;
      const firstLine = buf.slice(0, nl < 0 ? 256 : nl).replace(/[^\x20-\x7e]/g, '');
      finish({ outcome: firstLine.startsWith('SSH-') ? 'banner' : 'not-ssh', firstLine });
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'UNKNOWN';
      const closeMs = since();
      const outcome: RawOutcome = code === 'ECONNRESET' ? 'reset' : code === 'ECONNREFUSED' ? 'refused' : 'error';
      finish({ outcome, errorCode: code, ...(closeMs !== undefined ? { closeMs } : {}) });
    });
    s.on('close', () => {
      const closeMs = since();
      finish({ outcome: 'closed', ...(closeMs !== undefined ? { closeMs } : {}) });
    });
  });
}
