/**
 * `npm start` in a network namespace of its own, watched by the kernel: loopback plus one
 * veth leg holding the default route, so a connection to any other address is really
 * attempted (and goes nowhere), and an nftables output hook adds every new connection's
 * destination (address, protocol, port) to a set. The test reaches the stack's loopback ports,
 * and the stack reaches the test's chat stand-in, only through Unix sockets bridged inside the
 * namespace (netns-bridge.mjs). Needs root, unshare, nsenter, ip and nft.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ports inside the namespace: the defaults a person gets from `npm start`, and the chat stand-in. */
export const PORTS = { http: 3000, lambda: 3002, dynalite: 4567, chat: 4600 } as const;
/** What the stack may post chat callbacks to: the stand-in, on the namespace's loopback. */
export const CHAT_ORIGIN = `http://127.0.0.1:${PORTS.chat}`;

export interface Posted {
  path: string;
  body: unknown;
}

export interface Answer {
  status: number;
  text: string;
}

/** A destination the namespace's output hook saw a new connection to. */
export interface Connection {
  address: string;
  proto: string;
  port: number;
}

export interface ObservedStack {
  /** A request to the stack's HTTP API (or with `lambda`, its Lambda invoke port). */
  request(method: string, path: string, init?: { headers?: Record<string, string>; body?: string; lambda?: boolean }): Promise<Answer>;
  /** Every POST the chat stand-in received, in order. */
  posted: Posted[];
  waitForPost(what: string, match: (p: Posted) => boolean, timeoutMs?: number): Promise<Posted>;
  /** What `npm start` printed so far. */
  log(): string;
  /** Destinations of every connection opened in the namespace since it was built. */
  connections(): Connection[];
  /**
   * Those that went anywhere but the stack's own loopback ports, the chat stand-in and the local
   * probe's 127.0.0.1:22 (as `address proto port`).
   */
  unexpectedConnections(): string[];
  /** `ss -Hltn` inside the namespace. */
  listening(): string;
  /** Runs `bash -c script` inside the namespace (curl as a person would, a canary for the observer). */
  inNamespace(script: string): { status: number | null; stdout: string; stderr: string };
  close(): Promise<void>;
}

const TOOLS = ['unshare', 'nsenter', 'ip', 'nft', 'ss', 'bash'];

/** Whether the stack can be observed here: Linux, root and the namespace tools. */
export function observedStackAvailable(): { ok: boolean; reason?: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (a network namespace and nftables)' };
  const path = (process.env.PATH ?? '').split(':');
  const missing = TOOLS.filter((t) => !path.some((d) => existsSync(join(d, t))));
  return missing.length ? { ok: false, reason: `missing ${missing.join(', ')}` } : { ok: true };
}

/** Like labGate(): in CI an unobservable stack fails the run; elsewhere the tests skip, saying why. */
export function observedStackGate(): boolean {
  const avail = observedStackAvailable();
  if (!avail.ok && process.env.CI === 'true') throw new Error(`observed npm start unavailable in CI: ${avail.reason}`);
  if (!avail.ok) console.warn(`skipping observed npm start tests: ${avail.reason}`);
  return avail.ok;
}

// 198.18.0.0/15 is the benchmarking range: nothing answers there, and nothing here routes it out.
const NAMESPACE_SETUP = `set -e
ip link set lo up
ip link add sdobs0 type veth peer name sdobs1
ip addr add 198.18.0.1/24 dev sdobs0
ip link set sdobs0 up
ip link set sdobs1 up
ip route add default dev sdobs0
ip -6 route add default dev sdobs0 2>/dev/null || true
nft -f - <<'NFT'
table inet sdobs {
  set seen4 { type ipv4_addr . inet_proto . inet_service; flags dynamic; }
  set seen6 { type ipv6_addr . inet_proto . inet_service; flags dynamic; }
  chain out {
    type filter hook output priority 0;
    ct state new meta nfproto ipv4 meta l4proto { tcp, udp } add @seen4 { ip daddr . meta l4proto . th dport }
    ct state new meta nfproto ipv6 meta l4proto { tcp, udp } add @seen6 { ip6 daddr . meta l4proto . th dport }
  }
}
NFT
`;

/**
 * Starts `npm start` in an observed namespace, with the given local secrets (default: the
 * start script's own); resolves when serverless-offline is ready.
 */
export async function startObservedStack(secrets?: { slack: string; dingtalk: string }, readyMs = 120_000): Promise<ObservedStack> {
  const dir = mkdtempSync(join(tmpdir(), 'sdobs-'));
  const sock = (name: string) => join(dir, `${name}.sock`);
  const posted: Posted[] = [];
  const chat: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      posted.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"errcode":0}');
    });
  });
  await new Promise<void>((r) => chat.listen(sock('chat'), r));

  const bridge = [`unix:${sock('api')}=tcp:${PORTS.http}`, `unix:${sock('lambda')}=tcp:${PORTS.lambda}`, `tcp:${PORTS.chat}=unix:${sock('chat')}`];
  const script = `${NAMESPACE_SETUP}\n"${process.execPath}" test/service/support/netns-bridge.mjs ${bridge.map((b) => `'${b}'`).join(' ')} &\nexec npm start`;
  let out = '';
  const { LOCAL_SLACK_SIGNING_SECRET: _s, LOCAL_DINGTALK_APP_SECRET: _d, ...inherited } = process.env;
  const child: ChildProcess = spawn('unshare', ['-n', 'bash', '-c', script], {
    cwd: process.cwd(),
    env: {
      ...inherited,
      ...(secrets ? { LOCAL_SLACK_SIGNING_SECRET: secrets.slack, LOCAL_DINGTALK_APP_SECRET: secrets.dingtalk } : {}),
      LOCAL_SLACK_CALLBACK_ORIGINS: CHAT_ORIGIN,
      LOCAL_DINGTALK_CALLBACK_ORIGINS: CHAT_ORIGIN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', (d) => void (out += d));
  child.stderr!.on('data', (d) => void (out += d));
  const pid = child.pid!;
  const ns = (args: string[]) => spawnSync('nsenter', ['-t', String(pid), '-n', ...args], { encoding: 'utf8' });

  const close = async () => {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => chat.close(r));
    rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + readyMs;
  while (!(/Server ready/.test(out) && /bridge ready/.test(out))) {
    if (Date.now() > end || child.exitCode !== null) {
      await close();
      throw new Error(`npm start did not come up in its namespace:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const connections = (): Connection[] => {
    const r = ns(['nft', '-j', 'list', 'table', 'inet', 'sdobs']);
    if (r.status !== 0) throw new Error(`nft list failed: ${r.stderr}`);
    type Key = [string, string, number];
    // A set element is the bare concatenation, or wrapped ({elem: {val}}) when it carries a timeout.
    const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: { concat?: Key; elem?: { val: { concat: Key } } }[] } }[] };
    return doc.nftables
      .flatMap((e) => e.set?.elem ?? [])
      .map((e) => e.concat ?? e.elem!.val.concat)
      .map(([address, proto, port]) => ({ address, proto, port }));
  };

  return {
    request: (method, path, init = {}) =>
      new Promise<Answer>((resolve, reject) => {
        const req = httpRequest({ socketPath: sock(init.lambda ? 'lambda' : 'api'), method, path, headers: { ...init.headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(init.body);
      }),
    posted,
    async waitForPost(what, match, timeoutMs = 60_000) {
      const stop = Date.now() + timeoutMs;
      for (;;) {
        const hit = posted.find(match);
        if (hit) return hit;
        if (Date.now() > stop) throw new Error(`${what} within ${timeoutMs} ms; npm start printed:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    log: () => out,
    connections,
    unexpectedConnections() {
      const ssm = Number(/local parameter store on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      const allowed = new Set([PORTS.http, PORTS.lambda, PORTS.dynalite, PORTS.chat, ssm, 22].map((p) => `127.0.0.1 tcp ${p}`));
      return connections()
        .map((c) => `${c.address} ${c.proto} ${c.port}`)
        .filter((c) => !allowed.has(c));
    },
    listening: () => ns(['ss', '-Hltn']).stdout,
    inNamespace(script) {
      const r = ns(['bash', '-c', script]);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    close,
  };
}
