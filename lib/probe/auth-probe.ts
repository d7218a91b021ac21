/**
 * The authentication stage of the outside probe: completes the SSH key exchange with the `ssh2`
 * library, asks the server with the `none` method which methods it allows USER, and, given a
 * public key, asks whether it would accept that key (RFC 4252 section 7, a query without a
 * signature). The key is offered through an agent that holds only the public key: ssh2 calls
 * its sign() only after the server answered SSH_MSG_USERAUTH_PK_OK, so reaching sign() means
 * "accepted"; it then refuses to sign and the connection closes. No password, no private key,
 * no session.
 *
 * It runs as a second connection after the classic probe got a banner, so the first
 * connection's outcomes (libwrap's 5 s reset, MaxStartups drops) are observed exactly as an
 * OpenSSH client sees them, untouched by ssh2's own timing.
 */
import ssh2, { type ParsedKey } from 'ssh2';
import type { AuthTarget } from '../auth/types';

// ssh2 is CommonJS: its default export is the whole module under Node's ESM loader.
const { BaseAgent, Client, utils } = ssh2;

export const AUTH_OUTCOMES = ['accepted', 'refused', 'methods', 'no-auth-needed', 'kex-failed', 'error', 'timeout'] as const;
/**
 * `accepted`: the server would accept the key for USER. `refused`: it would not. `methods`: no
 * key given; `methods` lists what the server allows USER. `no-auth-needed`: the `none` request
 * succeeded. `kex-failed`: no algorithm in common (see `offered`). `error`/`timeout`: the stage
 * could not finish; nothing is known about USER.
 */
export type AuthOutcome = (typeof AUTH_OUTCOMES)[number];

export interface AuthProbeResult {
  user: string;
  outcome: AuthOutcome;
  /** Algorithms the key exchange settled on. */
  algorithms?: { kex: string; hostKey: string; cipher: string; mac: string };
  /** What the server offered, when the key exchange failed (from ssh2's handshake lines). */
  offered?: string[];
  /** Methods the server allows USER (its answer to `none`). */
  methods?: string[];
  /** The key asked about: its type and fingerprint, and the server's answer. */
  key?: { type: string; sha256: string; accepted: boolean };
  /** Why the stage could not finish, or the key-exchange failure. */
  error?: string;
  /** Milliseconds until the key exchange finished, and in all. */
  kexMs?: number;
  totalMs: number;
}

export interface AuthProbeOptions {
  host: string;
  port: number;
  user: AuthTarget;
  /** Whole-stage budget. */
  timeoutMs?: number;
}

/** Holds one public key; reaching sign() means the server accepted it, and we never sign. */
class PublicKeyOnlyAgent extends BaseAgent {
  signRequested = false;
  constructor(private readonly key: ParsedKey) {
    super();
  }
  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }
  override sign(_pub: ParsedKey | Buffer | string, _data: Buffer, options: unknown, cb?: (err: Error | undefined, signature?: Buffer) => void): void {
    this.signRequested = true;
    const done = (typeof options === 'function' ? options : cb) as (err: Error | undefined) => void;
    done(new Error('sshdoctor asks whether a key is accepted and never signs'));
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Never throws: every outcome is a value. */
export function probeAuth(opts: AuthProbeOptions): Promise<AuthProbeResult> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 8000;
  const user = opts.user.name;
  let agent: PublicKeyOnlyAgent | undefined;
  if (opts.user.publicKey) {
    const parsed = utils.parseKey(`${opts.user.publicKey.type} ${opts.user.publicKey.base64}`);
    if (parsed instanceof Error || Array.isArray(parsed)) {
      return Promise.resolve({
        user,
        outcome: 'error',
        error: `ssh2 cannot use this key: ${parsed instanceof Error ? parsed.message : 'several keys'}`,
        totalMs: 0,
      });
    }
    agent = new PublicKeyOnlyAgent(parsed);
  }

  return new Promise((resolve) => {
    const conn = new Client();
    const remote: string[] = [];
    const result: AuthProbeResult = { user, outcome: 'error', totalMs: 0 };
    let done = false;
    let askedNone = false;
    let askedKey = false;
    const finish = (outcome: AuthOutcome, extra: Partial<AuthProbeResult> = {}) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      Object.assign(result, extra, { outcome, totalMs: round(performance.now() - started) });
      if (agent && result.key) result.key.accepted = agent.signRequested;
      conn.end();
      // ssh2 may emit more errors while closing; they change nothing now.
      conn.on('error', () => undefined);
      resolve(result);
    };
    const timer = setTimeout(() => finish('timeout', { error: `no answer within ${timeoutMs} ms` }), timeoutMs);

    conn.on('handshake', (n) => {
      result.kexMs = round(performance.now() - started);
      result.algorithms = { kex: n.kex, hostKey: n.serverHostKey, cipher: n.cs.cipher, mac: n.cs.mac || '(implicit: AEAD cipher)' };
    });
    conn.on('ready', () => {
      // Only `none` can succeed here: the agent never signs.
      finish('no-auth-needed');
    });
    conn.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'handshake' || /^Handshake failed/.test(err.message)) {
        finish('kex-failed', { error: err.message, offered: remote });
        return;
      }
      // The agent's refusal to sign surfaces here after PK_OK: the key was accepted.
      if (agent?.signRequested) {
        finish('accepted', {});
        return;
      }
      if (err.level === 'client-authentication') {
        finish(askedKey ? 'refused' : 'methods', {});
        return;
      }
      finish('error', { error: err.message });
    });

    conn.connect({
      host: opts.host,
      port: opts.port,
      username: user,
      readyTimeout: timeoutMs,
      tryKeyboard: false,
      keepaliveInterval: 0,
      ident: 'sshdoctor_auth',
      debug: (line: string) => {
        // "Handshake: (remote) Host key format: ssh-ed25519,..." lines name what the server offers.
        const m = /^Handshake: \(remote\) (.+)$/.exec(line);
        if (m && remote.length < 12) remote.push(m[1]!.slice(0, 300));
      },
      authHandler: (methodsLeft, _partial, next) => {
        // With a key, the key query comes first: its failure answer lists the methods too, and
        // one round trip (and the server's delay on a failed attempt) less keeps the stage short.
        if (!askedNone && !agent) {
          askedNone = true;
          return next({ type: 'none', username: user });
        }
        // ssh2 does not pass on the methods listed in an agent key's failure: ask `none` for them.
        if (agent && askedKey && !askedNone && !agent.signRequested) {
          askedNone = true;
          return next({ type: 'none', username: user });
        }
        if (methodsLeft && !result.methods) result.methods = [...methodsLeft];
        if (agent && !askedKey && (!methodsLeft || methodsLeft.includes('publickey'))) {
          askedKey = true;
          result.key = { type: opts.user.publicKey!.type, sha256: opts.user.publicKey!.sha256, accepted: false };
          return next({ type: 'agent', username: user, agent });
        }
        // Nothing more to ask: the methods (and the key's answer) are known.
        if (agent && !askedKey) result.key = { type: opts.user.publicKey!.type, sha256: opts.user.publicKey!.sha256, accepted: false };
        return next(false as never);
      },
    });
  });
}
