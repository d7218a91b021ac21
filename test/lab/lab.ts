/**
 * Lab instances: real Debian sshd (libwrap), busybox syslogd, iptables and fail2ban in
 * their own network, mount and PID namespaces over a copy-on-write overlay of `/`.
 * The heavy lifting is in lab.sh; this module gives tests and benchmarks a typed handle.
 * Root only. Nothing of the host's /etc, iptables or services changes.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LAB_SH = fileURLToPath(new URL('./lab.sh', import.meta.url));
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' };
const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
const BOOT_TIMEOUT_MS = 10_000;

/** Outcome of a command run inside an instance: exit code and full output. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LabInstance {
  readonly name: string;
  /** Instance address, the probe target (10.231.N.2). */
  readonly ip: string;
  /** Root-namespace side (10.231.N.1): the source address of probes from this machine. */
  readonly hostIp: string;
  /** A second root-namespace address (10.231.N.3), for tests that need two client IPs. */
  readonly altHostIp: string;
  /** Host PID of the instance's PID 1. */
  readonly pid: number;
  /** `nsenter -t <pid> -m -n -p -r -w`: `<via> sh -s` runs a script inside the instance. */
  readonly via: string;
  /** `sh -c script` inside the instance (trusted test code only). */
  exec(script: string, opts?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  writeFile(path: string, content: string): Promise<void>;
  readFile(path: string): Promise<string>;
  /** Starts sshd and waits (bounded) until it listens; rejects with sshd's own output if it cannot start. */
  startSshd(): Promise<void>;
  /** Stops sshd's listener (no-op when not running); open sessions stay, as with systemd's KillMode=process. */
  stopSshd(): Promise<void>;
  restartSshd(): Promise<void>;
  /** Starts fail2ban with an `sshd` jail on /var/log/auth.log (iptables-multiport); waits for `ping`. */
  startFail2ban(): Promise<void>;
  /** Kills every process of the instance, deletes its veth and netns. Idempotent. */
  destroy(): Promise<void>;
}

export interface LabOptions {
  /** Start sshd (default true). */
  sshd?: boolean;
  /** Start fail2ban (default false). */
  fail2ban?: boolean;
  /** Appended to /etc/ssh/sshd_config before sshd starts. */
  sshdConfigExtra?: string;
}

/** Any failure to build, drive or tear down a lab instance. */
export class LabError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
  }
}

interface Running {
  name: string;
  boot: ChildProcess;
}

const live = new Map<string, Running>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for a test that forgot destroy(): cleanupStale() covers crashed runs.
  process.on('exit', () => {
    for (const name of live.keys()) {
      try {
        execFileSync('sh', [LAB_SH, 'destroy', name], { env: ENV, stdio: 'ignore', timeout: 10_000 });
      } catch {
        // Nothing more can be done while exiting; cleanupStale() will find it.
      }
    }
  });
}

function run(file: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new LabError(`could not run ${file}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(new LabError(`${file} ${args.join(' ').slice(0, 200)}: timed out after ${timeoutMs} ms\n${stderr}`));
        return;
      }
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => {
      // The child may exit before reading all input (EPIPE); its exit code tells the story.
    });
    child.stdin.end(opts.input ?? '');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function poll<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const tries = Math.ceil(timeoutMs / 10);
  for (let i = 0; i < tries; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(10);
  }
  throw new LabError(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

let availability: { ok: boolean; reason?: string } | undefined;

/** Whether lab instances can be built here: root, Linux, overlayfs and the tools lab.sh uses. */
export function labAvailable(): { ok: boolean; reason?: string } {
  if (availability) return availability;
  availability = checkAvailable();
  return availability;
}

function checkAvailable(): { ok: boolean; reason?: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `lab needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'lab needs root (namespaces, mounts, veth)' };
  if (!/\toverlay\n/.test(readOr('/proc/filesystems', ''))) return { ok: false, reason: 'kernel has no overlayfs' };
  const tools = [
    'ip',
    'nsenter',
    'unshare',
    'setsid',
    'flock',
    'perl',
    'busybox',
    'ss',
    'iptables',
    'iptables-save',
    'fail2ban-client',
    'fail2ban-server',
    'ssh-keygen',
    // The judges and tools the lab tests use: the real OpenSSH client (and sshpass for password
    // logins), nft and ufw for the firewall labs, curl and openssl for the README's requests.
    'ssh',
    'sshpass',
    'nft',
    'ufw',
    'curl',
    'openssl',
  ];
  const missing = tools.filter((t) => !ENV.PATH.split(':').some((d) => existsSync(`${d}/${t}`)));
  if (!existsSync('/usr/sbin/sshd')) missing.push('/usr/sbin/sshd (openssh-server)');
  if (missing.length > 0) return { ok: false, reason: `lab tools missing: ${missing.join(', ')}` };
  const ldd = spawnSync('ldd', ['/usr/sbin/sshd'], { env: ENV, encoding: 'utf8' });
  if (!/libwrap\.so/.test(ldd.stdout ?? '')) return { ok: false, reason: '/usr/sbin/sshd is not linked with libwrap (tcpd)' };
  return { ok: true };
}

/**
 * For a lab test file: whether its tests can run here. An unavailable lab fails the run in CI,
 * and elsewhere skips the tests with the reason on stderr.
 */
export function labGate(): boolean {
  const avail = labAvailable();
  if (!avail.ok && process.env.CI === 'true') throw new Error(`lab unavailable in CI: ${avail.reason}`);
  if (!avail.ok) console.warn(`skipping lab tests: ${avail.reason}`);
  return avail.ok;
}

/** Removes lab instances (netns, veth, processes) left by runs whose owner process died. */
export async function cleanupStale(): Promise<void> {
  const r = await run('sh', [LAB_SH, 'cleanup-stale']);
  if (r.code !== 0) throw new LabError(`lab.sh cleanup-stale failed (${r.code}): ${r.stderr.trim()}`);
}

/** Builds one lab instance; with default options, sshd is listening on port 22 when it resolves. */
export async function createLab(opts: LabOptions = {}): Promise<LabInstance> {
  const avail = labAvailable();
  if (!avail.ok) throw new LabError(`lab unavailable: ${avail.reason}`);
  installExitHook();

  const net = await run('sh', [LAB_SH, 'net', String(process.pid)]);
  const m = /^(sdlab-(\d+)-\d+-[a-z0-9]+) (\d+)$/m.exec(net.stdout);
  if (net.code !== 0 || !m) throw new LabError(`lab.sh net failed (${net.code}): ${net.stderr.trim()}`);
  const name = m[1] as string;
  const n = Number(m[2]);

  const logPath = `/tmp/${name}.boot.log`;
  const logFd = openSync(logPath, 'w');
  const boot = spawn('sh', [LAB_SH, 'boot', name], { env: ENV, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  boot.unref();
  live.set(name, { name, boot });

  let pid: number;
  try {
    const bootPid = boot.pid;
    if (bootPid === undefined) throw new LabError('could not spawn lab.sh boot');
    pid = await poll(`PID 1 of ${name}`, BOOT_TIMEOUT_MS, () => {
      // Other children are lab.sh's own short-lived commands: pick the PID namespace's init.
      const children = readOr(`/proc/${bootPid}/task/${bootPid}/children`, '').trim().split(' ');
      const init = children.find((c) => c !== '' && /^NSpid:\s+\d+\s+1$/m.test(readOr(`/proc/${c}/status`, '')));
      return init === undefined ? undefined : Number(init);
    });
    await poll(`boot of ${name}`, BOOT_TIMEOUT_MS, () => (existsSync(`/proc/${pid}/root/run/sdlab-ready`) ? true : undefined));
  } catch (e) {
    const log = readOr(logPath, '');
    await destroyByName(name);
    throw new LabError(`${(e as Error).message}\n${log}`, { cause: e });
  }

  const lab = makeInstance(name, n, pid);
  try {
    if (opts.sshdConfigExtra) {
      const r = await lab.exec('cat >> /etc/ssh/sshd_config', { input: `\n${opts.sshdConfigExtra}\n` });
      if (r.code !== 0) throw new LabError(`could not extend sshd_config: ${r.stderr}`);
    }
    if (opts.sshd !== false) await lab.startSshd();
    if (opts.fail2ban) await lab.startFail2ban();
  } catch (e) {
    await lab.destroy();
    throw e;
  }
  return lab;
}

async function destroyByName(name: string): Promise<void> {
  const running = live.get(name);
  const r = await run('sh', [LAB_SH, 'destroy', name]);
  if (r.code !== 0) throw new LabError(`lab.sh destroy ${name} failed (${r.code}): ${r.stderr.trim()}`);
  if (running && running.boot.exitCode === null && running.boot.signalCode === null) {
    // `unshare` exits once its child (the instance's PID 1) is gone; reap it here.
    await Promise.race([new Promise((r) => running.boot.once('exit', r)), sleep(5_000)]);
  }
  live.delete(name);
  rmSync(`/tmp/${name}.boot.log`, { force: true });
}

const START_SSHD = `
/usr/sbin/sshd </dev/null >/run/sdlab-sshd.out 2>&1; rc=$?
cat /run/sdlab-sshd.out
[ "$rc" -eq 0 ] || exit "$rc"
i=0
while [ "$i" -lt 250 ]; do
  if [ -s /run/sshd.pid ] && ss -Hltnp | grep -q "pid=$(cat /run/sshd.pid),"; then exit 0; fi
  i=$((i + 1)); sleep 0.02
done
echo "sshd started but does not listen" >&2
exit 111
`;

const STOP_SSHD = `
[ -s /run/sshd.pid ] || exit 0
p=$(cat /run/sshd.pid)
kill "$p" 2>/dev/null || { rm -f /run/sshd.pid; exit 0; }
i=0
while kill -0 "$p" 2>/dev/null && [ "$i" -lt 250 ]; do i=$((i + 1)); sleep 0.02; done
if kill -0 "$p" 2>/dev/null; then echo "sshd $p did not stop" >&2; exit 1; fi
rm -f /run/sshd.pid
`;

const START_FAIL2BAN = `
rm -f /var/lib/fail2ban/fail2ban.sqlite3
cat > /etc/fail2ban/jail.d/zz-sdlab.local <<'EOF'
[sshd]
enabled = true
backend = polling
logpath = /var/log/auth.log
banaction = iptables-multiport
EOF
fail2ban-client -x start >/run/sdlab-f2b.out 2>&1 || { cat /run/sdlab-f2b.out; exit 1; }
i=0
while [ "$i" -lt 250 ]; do
  if fail2ban-client status sshd >/dev/null 2>&1; then exit 0; fi
  i=$((i + 1)); sleep 0.02
done
echo "fail2ban does not answer for jail sshd" >&2
exit 1
`;

function makeInstance(name: string, n: number, pid: number): LabInstance {
  const nsenter = ['-t', String(pid), '-m', '-n', '-p', '-r', '-w'];
  const execArgs = (script: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}) =>
    run('nsenter', [...nsenter, 'sh', '-c', script, 'sh', ...args], opts);
  const must = async (what: string, r: Promise<ExecResult>): Promise<ExecResult> => {
    const res = await r;
    if (res.code !== 0) {
      throw new LabError(`${name}: ${what} failed (exit ${res.code}): ${(res.stdout + res.stderr).trim()}`);
    }
    return res;
  };
  const lab: LabInstance = {
    name,
    ip: `10.231.${n}.2`,
    hostIp: `10.231.${n}.1`,
    altHostIp: `10.231.${n}.3`,
    pid,
    via: `nsenter ${nsenter.join(' ')}`,
    exec: (script, opts) => execArgs(script, [], opts),
    async writeFile(path, content) {
      await must(`write ${path}`, execArgs('cat > "$1"', [path], { input: content }));
    },
    async readFile(path) {
      return (await must(`read ${path}`, execArgs('cat -- "$1"', [path]))).stdout;
    },
    async startSshd() {
      await must('start sshd', execArgs(START_SSHD, []));
    },
    async stopSshd() {
      await must('stop sshd', execArgs(STOP_SSHD, []));
    },
    async restartSshd() {
      await lab.stopSshd();
      await lab.startSshd();
    },
    async startFail2ban() {
      await must('start fail2ban', execArgs(START_FAIL2BAN, [], { timeoutMs: 60_000 }));
    },
    async destroy() {
      if (!live.has(name) && !existsSync(`/run/netns/${name}`)) return;
      await destroyByName(name);
    },
  };
  return lab;
}
