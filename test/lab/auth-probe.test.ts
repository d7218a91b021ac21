/**
 * The outside authentication stage against a real sshd, with a real user and real key pairs;
 * the real OpenSSH client (holding the private key, which sshdoctor never sees) is the judge.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../lib/auth/validate';
import { probeAuth } from '../../lib/probe/auth-probe';
import { runCheckJson } from '../support/cli';

const collectorSource = readFileSync(new URL('../../lib/collector/collector.sh', import.meta.url), 'utf8');
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';
import { keygen, sshLogsIn } from './ssh-client';

const labReady = labGate();

let lab: LabInstance;
let dir: string;
const keys: Record<'ed' | 'rsa' | 'other', { priv: string; pub: string }> = {} as never;

describe.runIf(labReady)('outside authentication stage (ssh2) on a lab instance', () => {
  beforeAll(async () => {
    await cleanupStale();
    dir = mkdtempSync(join(tmpdir(), 'sshdoctor-auth-'));
    keys.ed = keygen(dir, 'ed', 'ed25519');
    keys.rsa = keygen(dir, 'rsa', 'rsa');
    keys.other = keygen(dir, 'other', 'ed25519');
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
    expect(sshLogsIn(lab.ip, 'alice', keys.ed.priv)).toBe(true);
  });

  it('reports an unlisted key as refused, as the real client is refused', async () => {
    const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: parsePublicKey(keys.other.pub) } });
    expect(r.outcome).toBe('refused');
    expect(r.key?.accepted).toBe(false);
    expect(r.methods).toContain('publickey');
    expect(sshLogsIn(lab.ip, 'alice', keys.other.priv)).toBe(false);
  });

  it('reports a key for a user who does not exist as refused', async () => {
    const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'nobody-here', publicKey: parsePublicKey(keys.ed.pub) } });
    expect(r.outcome).toBe('refused');
    expect(sshLogsIn(lab.ip, 'nobody-here', keys.ed.priv)).toBe(false);
  });

  it('reports an RSA key refused by PubkeyAcceptedAlgorithms ssh-ed25519, as the real client is refused', async () => {
    await lab.exec("printf 'PubkeyAcceptedAlgorithms ssh-ed25519\\n' > /etc/ssh/sshd_config.d/50-lab.conf");
    await lab.restartSshd();
    try {
      const r = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: parsePublicKey(keys.rsa.pub) } });
      expect(r.outcome).toBe('refused');
      expect(sshLogsIn(lab.ip, 'alice', keys.rsa.priv)).toBe(false);
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
      expect(sshLogsIn(lab.ip, 'alice', keys.ed.priv)).toBe(true);
      const { report } = await runCheckJson(['--via', lab.via, '--host', lab.ip, '--user', 'alice', '--public-key', join(dir, 'ed.pub')], {
        timeoutMs: 60_000,
      });
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

  // Each failure mode reproduced for real: the real OpenSSH client fails, and the named check
  // fails with the right evidence; the lab is put back after each.
  const SCENARIOS: {
    name: string;
    setup: string;
    undo: string;
    user?: string;
    key?: 'ed' | 'rsa' | 'other';
    restart?: boolean;
    check: string;
    evidence: RegExp;
    /** The printed plan (backup, sed, sshd -t) run by hand must let the real client in. */
    plan?: boolean;
    /** sshd's own log line about the user, shown by auth-log. */
    log?: RegExp;
  }[] = [
    {
      name: 'authorized_keys mode 0666',
      log: /Authentication refused: bad ownership or modes for file \/home\/alice\/\.ssh\/authorized_keys/,
      setup: 'chmod 666 /home/alice/.ssh/authorized_keys',
      undo: 'chmod 600 /home/alice/.ssh/authorized_keys',
      check: 'key-permissions',
      evidence: /666 alice:alice .*authorized_keys/,
    },
    {
      name: 'home directory 0777',
      setup: 'chmod 777 /home/alice',
      undo: 'chmod 755 /home/alice',
      check: 'key-permissions',
      evidence: /777 alice:alice directory \/home\/alice$/,
    },
    {
      name: '.ssh owned by another user',
      setup: 'chown nobody /home/alice/.ssh',
      undo: 'chown alice /home/alice/.ssh',
      check: 'key-permissions',
      evidence: /nobody:alice directory \/home\/alice\/\.ssh/,
    },
    { name: 'key not listed', setup: 'true', undo: 'true', key: 'other', check: 'authorized-key', evidence: /none is SHA256:/ },
    {
      name: 'AllowUsers without the user',
      setup: "printf 'AllowUsers root\\n' > /etc/ssh/sshd_config.d/50-lab.conf",
      undo: 'rm -f /etc/ssh/sshd_config.d/50-lab.conf',
      restart: true,
      plan: true,
      check: 'user-access',
      evidence: /allowusers root/,
    },
    {
      name: 'DenyUsers with the user',
      log: /User alice from \S+ not allowed because listed in DenyUsers/,
      setup: "printf 'DenyUsers alice\\n' > /etc/ssh/sshd_config.d/50-lab.conf",
      undo: 'rm -f /etc/ssh/sshd_config.d/50-lab.conf',
      restart: true,
      plan: true,
      check: 'user-access',
      evidence: /denyusers alice/,
    },
    {
      name: 'an RSA key with PubkeyAcceptedAlgorithms ssh-ed25519',
      setup: "printf 'PubkeyAcceptedAlgorithms ssh-ed25519\\n' > /etc/ssh/sshd_config.d/50-lab.conf",
      undo: 'rm -f /etc/ssh/sshd_config.d/50-lab.conf',
      restart: true,
      key: 'rsa',
      check: 'authorized-key',
      evidence: /pubkeyacceptedalgorithms ssh-ed25519/,
    },
    {
      name: 'a Match Address block disabling public keys for the client',
      setup: "printf 'Match Address 10.231.0.0/16\\n  PubkeyAuthentication no\\n' > /etc/ssh/sshd_config.d/50-lab.conf",
      undo: 'rm -f /etc/ssh/sshd_config.d/50-lab.conf',
      restart: true,
      plan: true,
      check: 'user-access',
      evidence: /pubkeyauthentication no/,
    },
    { name: 'an expired account', setup: 'usermod -e 1970-01-02 alice', undo: "usermod -e '' alice", check: 'user-account', evidence: /account expiry day 1 / },
    {
      name: 'a nologin shell',
      setup: 'usermod -s /usr/sbin/nologin alice',
      undo: 'usermod -s /bin/sh alice',
      check: 'user-account',
      evidence: /shell=\/usr\/sbin\/nologin/,
    },
    {
      name: '/etc/nologin',
      setup: "echo 'maintenance until 18:00' > /etc/nologin",
      undo: 'rm -f /etc/nologin',
      check: 'user-account',
      evidence: /maintenance until 18:00/,
    },
    {
      name: 'AuthorizedKeysFile pointing elsewhere',
      setup: "printf 'AuthorizedKeysFile /etc/ssh/keys/%%u\\n' > /etc/ssh/sshd_config.d/50-lab.conf",
      undo: 'rm -f /etc/ssh/sshd_config.d/50-lab.conf',
      restart: true,
      check: 'authorized-key',
      evidence: /authorizedkeysfile \/etc\/ssh\/keys\/%u/,
    },
    {
      name: 'PermitRootLogin no for root',
      setup:
        "mkdir -p -m 700 /root/.ssh && cp /home/alice/.ssh/authorized_keys /root/.ssh/ && printf 'PermitRootLogin no\\n' > /etc/ssh/sshd_config.d/50-lab.conf",
      undo: 'rm -f /etc/ssh/sshd_config.d/50-lab.conf /root/.ssh/authorized_keys',
      restart: true,
      user: 'root',
      plan: true,
      check: 'user-access',
      evidence: /permitrootlogin no/,
    },
    {
      name: 'pam_access denying the user (access.conf)',
      setup:
        "cp -p /etc/pam.d/sshd /etc/pam.d/sshd.lab && cp -p /etc/security/access.conf /etc/security/access.conf.lab && printf 'account required pam_access.so\\n' >> /etc/pam.d/sshd && printf -- '- : alice : ALL\\n' >> /etc/security/access.conf",
      undo: 'mv /etc/pam.d/sshd.lab /etc/pam.d/sshd && mv /etc/security/access.conf.lab /etc/security/access.conf',
      check: 'user-access',
      evidence: /access\.conf:\d+ - : alice : ALL/,
    },
    {
      name: 'a from= option excluding the client',
      setup: 'sed -i \'s/^ssh-ed25519/from="192.0.2.0\\/24" ssh-ed25519/\' /home/alice/.ssh/authorized_keys',
      undo: 'sed -i \'s/^from="192.0.2.0\\/24" //\' /home/alice/.ssh/authorized_keys',
      check: 'authorized-key',
      evidence: /from="192\.0\.2\.0\/24"/,
    },
  ];

  for (const sc of SCENARIOS) {
    it(`diagnoses ${sc.name}: the real client is refused, and ${sc.check} fails with the evidence`, async () => {
      const user = sc.user ?? 'alice';
      const key = keys[sc.key ?? 'ed'];
      expect((await lab.exec(sc.setup)).code).toBe(0);
      if (sc.restart) await lab.restartSshd();
      try {
        expect(sshLogsIn(lab.ip, user, key.priv)).toBe(false);
        const { report, code } = await runCheckJson(['--via', lab.via, '--host', lab.ip, '--user', user, '--public-key', `${key.priv}.pub`], {
          timeoutMs: 60_000,
        });
        const c = report.checks.find((x) => x.id === sc.check)!;
        expect(c.status, c.summary).toBe('fail');
        expect(c.evidence.map((e) => `${e.source}${e.line ? `:${e.line}` : ''} ${e.text}`).join('\n')).toMatch(sc.evidence);
        expect(report.verdict.status).toBe('blocked');
        expect(report.verdict.causes).toContain(sc.check);
        expect(code).toBe(1);
        if (sc.log) {
          const log = report.checks.find((x) => x.id === 'auth-log')!;
          expect(['warn', 'fail']).toContain(log.status);
          expect(log.evidence.map((e) => e.text).join('\n')).toMatch(sc.log);
        }
        if (sc.plan) {
          // The lab has no systemd: every command but the reload, then a restart.
          const cmds = c.fix!.commands.filter((x) => !x.includes('systemctl'));
          expect(cmds.some((x) => x.startsWith('sed -i '))).toBe(true);
          for (const cmd of cmds) expect((await lab.exec(cmd)).code, cmd).toBe(0);
          await lab.restartSshd();
          expect(sshLogsIn(lab.ip, user, key.priv)).toBe(true);
        }
      } finally {
        await lab.exec(sc.undo);
        if (sc.restart) await lab.restartSshd();
      }
    });
  }

  it('a healthy login: the real client logs in, no check fails, reachable', async () => {
    expect(sshLogsIn(lab.ip, 'alice', keys.ed.priv)).toBe(true);
    const { report, code } = await runCheckJson(['--via', lab.via, '--host', lab.ip, '--user', 'alice', '--public-key', `${keys.ed.priv}.pub`], {
      timeoutMs: 60_000,
    });
    expect(report.checks.filter((c) => c.status === 'fail' || c.status === 'error')).toEqual([]);
    for (const id of ['user-account', 'user-access', 'authorized-key', 'key-permissions']) expect(report.checks.find((c) => c.id === id)?.status).toBe('pass');
    expect(report.verdict.status).toBe('reachable');
    expect(code).toBe(0);
  });

  it('the collector document never carries any part of the password hash', async () => {
    await lab.exec("echo 'alice:Sup3r-Secret-pw' | chpasswd");
    try {
      const shadow = (await lab.exec('awk -F: \'$1 == "alice" { print $2 }\' /etc/shadow')).stdout.trim();
      expect(shadow.length).toBeGreaterThan(20);
      const r = await lab.exec(`sh -s -- ${lab.hostIp} user=alice`, { input: collectorSource });
      expect(r.stdout).toContain('@section user');
      expect(r.stdout).toContain('shadow-locked=0');
      // No 8-character run of the hash (salt or digest) appears anywhere.
      for (let i = 0; i + 8 <= shadow.length; i += 4) expect(r.stdout).not.toContain(shadow.slice(i, i + 8));
    } finally {
      await lab.exec("usermod -p '*' alice");
    }
  });
});
