/**
 * The outside authentication stage against a real sshd, with a real user and real key pairs;
 * the real OpenSSH client (holding the private key, which sshdoctor never sees) is the judge.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../lib/auth/validate';
import { probeAuth } from '../../lib/probe/auth-probe';
import { runCheckJson } from '../support/cli';
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';

const labReady = labGate();

let lab: LabInstance;
let dir: string;
const keys: Record<'ed' | 'rsa' | 'other', { priv: string; pub: string }> = {} as never;

function keygen(name: string, type: string): { priv: string; pub: string } {
  const priv = join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', `${name}@sshdoctor-lab`, '-f', priv]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  return { priv, pub: readFileSync(`${priv}.pub`, 'utf8') };
}

/** The real OpenSSH client: does USER log in with this private key? */
function sshLogsIn(user: string, priv: string): boolean {
  const r = spawnSync(
    'ssh',
    ['-i', priv, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `${user}@${lab.ip}`, 'true'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return r.status === 0;
}

describe.runIf(labReady)('outside authentication stage (ssh2) on a lab instance', () => {
  beforeAll(async () => {
    await cleanupStale();
    dir = mkdtempSync(join(tmpdir(), 'sshdoctor-auth-'));
    keys.ed = keygen('ed', 'ed25519');
    keys.rsa = keygen('rsa', 'rsa');
    keys.other = keygen('other', 'ed25519');
    lab = await createLab();
    const r = await lab.exec("useradd -m -s /bin/sh alice && usermod -p '*' alice && mkdir -m 700 /home/alice/.ssh");
    if (r.code !== 0) throw new Error(`lab user: ${r.stderr}`);
    await lab.writeFile('/home/alice/.ssh/authorized_keys', keys.ed.pub + keys.rsa.pub);
    const own = await lab.exec('chmod 600 /home/alice/.ssh/authorized_keys && chown -R alice:alice /home/alice/.ssh');
    if (own.code !== 0) throw new Error(`lab user: ${own.stderr}`);
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks without a credential which methods the server allows the user', async () => {
    const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice' } });
    expect(r.outcome).toBe('methods');
    expect(r.methods).toContain('publickey');
    expect(r.algorithms?.kex).toMatch(/curve25519|sntrup|mlkem|ecdh|diffie/);
    expect(r.algorithms?.hostKey).toMatch(/ssh-ed25519|ecdsa|rsa/);
    expect(r.key).toBeUndefined();
  });

  it('reports a listed key as accepted, as the real client logs in with its private key', async () => {
    const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: parsePublicKey(keys.ed.pub) } });
    expect(r.outcome).toBe('accepted');
    expect(r.key).toEqual({ type: 'ssh-ed25519', sha256: parsePublicKey(keys.ed.pub).sha256, accepted: true });
    expect(sshLogsIn('alice', keys.ed.priv)).toBe(true);
  });

  it('reports an unlisted key as refused, as the real client is refused', async () => {
    const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: parsePublicKey(keys.other.pub) } });
    expect(r.outcome).toBe('refused');
    expect(r.key?.accepted).toBe(false);
    expect(r.methods).toContain('publickey');
    expect(sshLogsIn('alice', keys.other.priv)).toBe(false);
  });

  it('reports a key for a user who does not exist as refused', async () => {
    const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'nobody-here', publicKey: parsePublicKey(keys.ed.pub) } });
    expect(r.outcome).toBe('refused');
    expect(sshLogsIn('nobody-here', keys.ed.priv)).toBe(false);
  });

  it('reports an RSA key refused by PubkeyAcceptedAlgorithms ssh-ed25519, as the real client is refused', async () => {
    await lab.exec("printf 'PubkeyAcceptedAlgorithms ssh-ed25519\\n' > /etc/ssh/sshd_config.d/50-lab.conf");
    await lab.restartSshd();
    try {
      const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: parsePublicKey(keys.rsa.pub) } });
      expect(r.outcome).toBe('refused');
      expect(sshLogsIn('alice', keys.rsa.priv)).toBe(false);
      expect((await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: parsePublicKey(keys.ed.pub) } })).outcome).toBe('accepted');
    } finally {
      await lab.exec('rm -f /etc/ssh/sshd_config.d/50-lab.conf');
      await lab.restartSshd();
    }
  });

  it('names what the server offered when the key exchange has no algorithm in common, without calling the host blocked', async () => {
    // OpenSSH speaks sntrup761x25519 and the real client logs in; ssh2 does not speak it.
    await lab.exec("printf 'KexAlgorithms sntrup761x25519-sha512@openssh.com\\n' > /etc/ssh/sshd_config.d/50-lab.conf");
    await lab.restartSshd();
    try {
      const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: parsePublicKey(keys.ed.pub) } });
      expect(`${r.outcome}: ${r.error}`).toMatch(/^kex-failed: Handshake failed: no matching key exchange algorithm/);
      expect(r.offered?.join(' ')).toMatch(/KEX method: .*sntrup761x25519-sha512@openssh\.com/);
      expect(sshLogsIn('alice', keys.ed.priv)).toBe(true);
      const { report } = await runCheckJson(['--via', lab.via, '--host', lab.ip, '--user', 'alice', '--public-key', join(dir, 'ed.pub')], { timeoutMs: 60_000 });
      expect(report.verdict.status).toBe('unknown');
      expect(report.verdict.summary).toContain('sntrup761x25519');
    } finally {
      await lab.exec('rm -f /etc/ssh/sshd_config.d/50-lab.conf');
      await lab.restartSshd();
    }
  });

  it('check --user --public-key through the CLI: reachable only when the key is accepted', async () => {
    const pub = join(dir, 'ed.pub');
    const good = await runCheckJson(['--via', lab.via, '--host', lab.ip, '--user', 'alice', '--public-key', pub], { timeoutMs: 60_000 });
    expect(good.report.probe?.auth).toMatchObject({ user: 'alice', outcome: 'accepted' });
    expect(good.report.verdict.status).toBe('reachable');
    expect(good.code).toBe(0);
    const bad = await runCheckJson(['--via', lab.via, '--host', lab.ip, '--user', 'alice', '--public-key', join(dir, 'other.pub')], { timeoutMs: 60_000 });
    expect(bad.report.probe?.outcome).toBe('banner');
    expect(bad.report.probe?.auth).toMatchObject({ user: 'alice', outcome: 'refused' });
    expect(bad.report.verdict.status).toBe('blocked');
    expect(bad.report.verdict.summary).toContain('alice');
    expect(bad.code).toBe(1);
  });
});
