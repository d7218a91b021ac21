import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, createLab, labGate, type LabInstance } from './lab';
import { rawProbe } from './raw-client';
import {
  allowOverridesDeny,
  breakSshdConfig,
  denyAllOptionSyntax,
  denyByIp,
  exhaustMaxStartups,
  fail2banBan,
  hugeHostsDeny,
  iptablesDrop,
  iptablesReject,
  movePort,
  nonSshOn22,
  removeLz4Link,
  stopSshd,
  waitForAuthLog,
} from './scenarios';

const labReady = labGate();

const LAB_SH = fileURLToPath(new URL('./lab.sh', import.meta.url));
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
// libwrap's refuse() sleeps 5 s before exiting; a reset well before that is something else.
const LIBWRAP_MIN_MS = 4_000;

function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { env: ENV, encoding: 'utf8' });
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function hostSnapshot(): Record<string, string> {
  const files = ['/etc/hosts.allow', '/etc/hosts.deny', '/etc/ssh/sshd_config', '/etc/fail2ban/jail.d'];
  const snap: Record<string, string> = {};
  for (const f of files) {
    const text = existsSync(f) ? (f.endsWith('.d') ? readdirSync(f).sort().join('\n') : readFileSync(f, 'utf8')) : '<absent>';
    snap[f] = createHash('sha256').update(text).digest('hex');
  }
  snap['liblz4.so.1'] = sh('readlink /usr/lib/x86_64-linux-gnu/liblz4.so.1 || echo absent');
  snap['root iptables'] = sh("iptables-save | grep -v '^#' || true");
  return snap;
}

/** Probes port 22 from the lab's client address (with `opts`) and from its second address, at once. */
function probeBothClients(lab: LabInstance, opts: { connectTimeoutMs?: number } = {}) {
  return Promise.all([rawProbe(lab.ip, 22, { localAddress: lab.hostIp, ...opts }), rawProbe(lab.ip, 22, { localAddress: lab.altHostIp })]);
}

/** Creates a lab for one test and destroys it afterwards, whatever happens. */
async function withLab(opts: Parameters<typeof createLab>[0], fn: (lab: LabInstance) => Promise<void>): Promise<void> {
  const lab = await createLab(opts);
  try {
    await fn(lab);
  } finally {
    await lab.destroy();
  }
}

describe.skipIf(!labReady)('lab instances reproduce each failure for real', () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    await cleanupStale();
    before = hostSnapshot();
  });
  afterAll(() => {
    // The overlay and namespaces must have kept every change inside the instances.
    expect(hostSnapshot()).toEqual(before);
  });

  describe.concurrent('at the socket level', () => {
    it('a healthy instance answers with the OpenSSH banner and logs the connection to auth.log', async () => {
      await withLab({}, async (lab) => {
        // No localAddress: the kernel must pick hostIp, the address the API promises.
        const r = await rawProbe(lab.ip, 22);
        expect(r.outcome).toBe('banner');
        expect(r.firstLine).toMatch(/^SSH-2\.0-OpenSSH_\S+/);
        expect(r.localAddress).toBe(lab.hostIp);
        const lines = await waitForAuthLog(lab, `sshd\\[[0-9]+\\]: .* ${lab.hostIp.replace(/\./g, '\\.')} port [0-9]+`);
        expect(lines).toContain(lab.hostIp);
        expect(await lab.readFile('/var/log/auth.log')).toMatch(/sshd\[\d+\]: Server listening on 0\.0\.0\.0 port 22\./);
      });
    });

    it('hosts.deny by IP: libwrap resets that client after its ~5 s sleep, others get the banner', async () => {
      await withLab({}, async (lab) => {
        await denyByIp(lab, lab.hostIp);
        const [denied, other] = await probeBothClients(lab);
        expect(denied.outcome).toBe('reset');
        expect(denied.closeMs).toBeGreaterThanOrEqual(LIBWRAP_MIN_MS);
        expect(other.outcome).toBe('banner');
        await waitForAuthLog(lab, `refused connect from ${lab.hostIp.replace(/\./g, '\\.')}`);
      });
    });

    it('all:all:deny in hosts.allow refuses every client through libwrap', async () => {
      await withLab({}, async (lab) => {
        await denyAllOptionSyntax(lab);
        const [a, b] = await probeBothClients(lab);
        expect([a.outcome, b.outcome]).toEqual(['reset', 'reset']);
        expect(a.closeMs).toBeGreaterThanOrEqual(LIBWRAP_MIN_MS);
      });
    });

    it('an allow entry overrides ALL: ALL in hosts.deny for that client only', async () => {
      await withLab({}, async (lab) => {
        await allowOverridesDeny(lab, lab.hostIp);
        const [allowed, other] = await probeBothClients(lab);
        expect(allowed.outcome).toBe('banner');
        expect(other.outcome).toBe('reset');
        expect(other.closeMs).toBeGreaterThanOrEqual(LIBWRAP_MIN_MS);
      });
    });

    it('iptables DROP makes the connection time out for that client only', async () => {
      await withLab({}, async (lab) => {
        await iptablesDrop(lab, lab.hostIp);
        const [dropped, other] = await probeBothClients(lab, { connectTimeoutMs: 2_000 });
        expect(dropped.outcome).toBe('timeout');
        expect(other.outcome).toBe('banner');
      });
    });

    it('iptables REJECT makes the connection refused for that client only', async () => {
      await withLab({}, async (lab) => {
        await iptablesReject(lab, lab.hostIp);
        const [rejected, other] = await probeBothClients(lab);
        expect(rejected.outcome).toBe('refused');
        expect(other.outcome).toBe('banner');
        expect((await lab.exec('iptables-save')).stdout).toMatch(/-A INPUT -s 10\.231\.\d+\.1\/32 -p tcp -m tcp --dport 22 -j REJECT/);
      });
    });

    it('a fail2ban ban of the sshd jail refuses that client through its iptables action', async () => {
      await withLab({ fail2ban: true }, async (lab) => {
        await fail2banBan(lab, lab.hostIp);
        const [banned, other] = await probeBothClients(lab);
        expect(banned.outcome).toBe('refused');
        expect(other.outcome).toBe('banner');
        const status = await lab.exec('fail2ban-client status sshd');
        expect(status.stdout).toMatch(new RegExp(`Banned IP list:\\s.*${lab.hostIp.replace(/\./g, '\\.')}`));
      });
    });

    it('without the liblz4.so.1 link sshd cannot start, nothing listens, ldd says not found', async () => {
      await withLab({}, async (lab) => {
        const { link, target, startError } = await removeLz4Link(lab);
        expect(startError).toMatch(/liblz4\.so\.1: cannot open shared object file/);
        expect(target).toMatch(/^liblz4\.so\.1\.\d/);
        expect((await rawProbe(lab.ip, 22, { localAddress: lab.hostIp })).outcome).toBe('refused');
        expect((await lab.exec('ldd /usr/sbin/sshd')).stdout).toMatch(/liblz4\.so\.1 => not found/);
        expect((await lab.exec(`ls ${link.replace(/\.so\.1$/, '')}.so.1.*`)).stdout).toContain(target);
      });
    });

    it('a stopped sshd refuses connections', async () => {
      await withLab({}, async (lab) => {
        await stopSshd(lab);
        expect((await rawProbe(lab.ip, 22, { localAddress: lab.hostIp })).outcome).toBe('refused');
        expect((await lab.exec('ss -Hltn "sport = :22"')).stdout.trim()).toBe('');
      });
    });

    it('a bad sshd_config line keeps sshd from starting; sshd -t names it', async () => {
      await withLab({}, async (lab) => {
        const { line } = await breakSshdConfig(lab);
        expect((await rawProbe(lab.ip, 22, { localAddress: lab.hostIp })).outcome).toBe('refused');
        const t = await lab.exec('sshd -t');
        expect(t.code).not.toBe(0);
        expect(t.stderr).toContain(line.split(' ')[0]);
      });
    });

    it('sshd moved to port 2222 refuses on 22 and answers on 2222', async () => {
      await withLab({}, async (lab) => {
        await movePort(lab, 2222);
        const [on22, on2222] = await Promise.all([rawProbe(lab.ip, 22, { localAddress: lab.hostIp }), rawProbe(lab.ip, 2222, { localAddress: lab.hostIp })]);
        expect(on22.outcome).toBe('refused');
        expect(on2222.outcome).toBe('banner');
      });
    });

    it('MaxStartups exhausted: the next connection is dropped without banner and logged, then recovers', async () => {
      await withLab({}, async (lab) => {
        const { release, logLine } = await exhaustMaxStartups(lab, 2);
        try {
          expect(logLine).toMatch(/drop connection #\d+ from \[10\.231\.\d+\.1\]:\d+ on \[10\.231\.\d+\.2\]:22 past MaxStartups/);
          // OpenSSH >= 8.x writes a best-effort notice before closing a dropped connection.
          const dropped = await rawProbe(lab.ip, 22, { localAddress: lab.hostIp });
          expect(dropped.outcome).toBe('not-ssh');
          expect(dropped.firstLine).toBe('Exceeded MaxStartups');
        } finally {
          release();
        }
        // Once the held connections go, sshd accepts again (it notices the closes at once,
        // but give it a few bounded tries).
        let after = await rawProbe(lab.ip, 22, { localAddress: lab.hostIp });
        for (let i = 0; i < 20 && after.outcome !== 'banner'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          after = await rawProbe(lab.ip, 22, { localAddress: lab.hostIp });
        }
        expect(after.outcome).toBe('banner');
      });
    });

    it('a non-SSH service on port 22 answers with non-SSH bytes', async () => {
      await withLab({}, async (lab) => {
        await nonSshOn22(lab);
        const r = await rawProbe(lab.ip, 22, { localAddress: lab.hostIp });
        expect(r.outcome).toBe('not-ssh');
        expect(r.firstLine).toMatch(/^HTTP\/1\.[01] \d{3}/);
      });
    });

    it('a 20,000-line DenyHosts-style hosts.deny refuses the client listed in its middle', async () => {
      await withLab({}, async (lab) => {
        const { line } = await hugeHostsDeny(lab, lab.hostIp, 20_000);
        const text = await lab.readFile('/etc/hosts.deny');
        const lines = text.split('\n').slice(0, -1);
        expect(lines).toHaveLength(20_000);
        expect(lines[line - 1]).toBe(`sshd: ${lab.hostIp}`);
        expect(line).toBeGreaterThan(5_000);
        expect(line).toBeLessThan(15_000);
        const [denied, other] = await probeBothClients(lab);
        expect(denied.outcome).toBe('reset');
        expect(denied.closeMs).toBeGreaterThanOrEqual(LIBWRAP_MIN_MS);
        expect(other.outcome).toBe('banner');
      });
    });
  });

  describe('lifecycle', () => {
    it('runs a script through `via` inside the instance, like `sshdoctor check --via`', async () => {
      await withLab({ sshd: false }, async (lab) => {
        const [cmd, ...args] = lab.via.split(' ') as [string, ...string[]];
        const out = execFileSync(cmd, [...args, 'sh', '-s', '--', 'x y'], {
          input: 'echo "$1"; hostname -I 2>/dev/null || ip -4 -o addr show; readlink /proc/1/exe; ls /etc/ssh/sshd_config',
          env: ENV,
          encoding: 'utf8',
        });
        expect(out).toContain('x y');
        expect(out).toContain(lab.ip);
        expect(out).toContain('perl');
      });
    });

    it('keeps instance writes in the overlay and applies sshdConfigExtra before sshd starts', async () => {
      await withLab({ sshdConfigExtra: 'MaxStartups 7:30:9' }, async (lab) => {
        expect((await lab.exec('sshd -T | grep -i ^maxstartups')).stdout.trim()).toBe('maxstartups 7:30:9');
        await lab.writeFile('/etc/sdlab-marker', 'inside\n');
        expect(await lab.readFile('/etc/sdlab-marker')).toBe('inside\n');
        expect(existsSync('/etc/sdlab-marker')).toBe(false);
      });
    });

    it('restartSshd rejects with sshd output when sshd cannot start, and recovers after the fix', async () => {
      await withLab({}, async (lab) => {
        await lab.exec("printf 'Port notaport\\n' >> /etc/ssh/sshd_config");
        await expect(lab.restartSshd()).rejects.toThrow(/port/i);
        await lab.exec("sed -i '/^Port notaport$/d' /etc/ssh/sshd_config");
        await lab.startSshd();
        expect((await rawProbe(lab.ip, 22, { localAddress: lab.hostIp })).outcome).toBe('banner');
      });
    });

    it('PID 1 of the instance reaps orphaned processes', async () => {
      await withLab({ sshd: false }, async (lab) => {
        // The backgrounded sleeps are orphaned when their shell exits, so only PID 1 can reap them.
        await lab.exec('for i in 1 2 3 4 5; do sleep 0.1 & done; exit 0');
        let zombies = 'x';
        for (let i = 0; i < 50 && zombies !== ''; i++) {
          await new Promise((r) => setTimeout(r, 50));
          zombies = (await lab.exec("ps -eo stat=,pid=,comm= | awk '$1 ~ /^Z/'")).stdout.trim();
        }
        expect(zombies).toBe('');
        expect((await lab.exec('ps -eo pid=,comm= | grep -c " sleep$" || true')).stdout.trim()).toBe('0');
      });
    });

    it("createLab rejects with sshd's reason when sshd cannot start, and leaves no instance behind", async () => {
      const ours = () =>
        sh('ip netns list')
          .split('\n')
          .filter((l) => l.startsWith(`sdlab-`) && l.includes(`-${process.pid}-`));
      const before = ours();
      await expect(createLab({ sshdConfigExtra: 'NoSuchSshdOption yes' })).rejects.toThrow(/NoSuchSshdOption/);
      expect(ours()).toEqual(before);
    });

    it('destroy leaves no netns, veth, mount or process behind', async () => {
      const lab = await createLab({ fail2ban: true });
      const n = lab.ip.split('.')[2];
      const pids = sh(`ip netns pids ${lab.name}`).trim().split('\n');
      expect(pids.length).toBeGreaterThanOrEqual(4); // init, syslogd, sshd, fail2ban...
      const labNetNs = readlinkSync(`/proc/${lab.pid}/ns/net`);
      await lab.destroy();
      expect(sh('ip netns list')).not.toContain(lab.name);
      expect(existsSync(`/run/netns/${lab.name}`)).toBe(false);
      // Another run may already reuse N for its own lab: the link must not be ours any more.
      expect(readOr(`/sys/class/net/sdlab${n}h/ifalias`).trim()).not.toBe(lab.name);
      const nsOf = (p: string) => {
        try {
          return readlinkSync(`/proc/${p}/ns/net`);
        } catch {
          return 'gone';
        }
      };
      const survivors = pids.filter((p) => nsOf(p) === labNetNs);
      expect(survivors).toEqual([]);
      expect(existsSync(`/proc/${lab.pid}/root/run/sdlab-ready`)).toBe(false);
      const mounts = sh(`cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -c -- ' ${lab.name} ' || true`).trim();
      expect(mounts).toBe('0');
      await lab.destroy(); // idempotent
    });

    it('cleanupStale removes the lab of an owner that died, and leaves live owners alone', async () => {
      const owner = spawn('sleep', ['60'], { stdio: 'ignore' });
      const ownerPid = owner.pid as number;
      const stale = sh(`sh ${LAB_SH} up ${ownerPid}`).trim().split(' ');
      const staleName = stale[0] as string;
      const liveLab = await createLab({ sshd: false });
      try {
        owner.kill('SIGKILL');
        await new Promise((r) => owner.once('exit', r));
        expect(sh('ip netns list')).toContain(staleName);
        await cleanupStale();
        expect(sh('ip netns list')).not.toContain(staleName);
        expect(existsSync(`/proc/${stale[2]}/root/run/sdlab-ready`)).toBe(false);
        expect(sh('ip netns list')).toContain(liveLab.name);
        expect((await liveLab.exec('echo alive')).stdout).toBe('alive\n');
      } finally {
        await liveLab.destroy();
      }
    });
  });
});
