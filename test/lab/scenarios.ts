/**
 * Failure modes, each applied for real to a lab instance. Used by the lab's own tests,
 * the diagnosis tests and the remediation tests. Every helper verifies inside the
 * instance that the failure took effect, and rejects with a LabError otherwise.
 */
import { isIP, connect, type Socket } from 'node:net';
import { LabError, type LabInstance } from './lab';

const SSH_PORT = 22;

function ipArg(ip: string): string {
  if (isIP(ip) === 0) throw new LabError(`scenario: ip must be an IPv4 or IPv6 address, got ${JSON.stringify(ip)}`);
  return ip;
}

async function must(lab: LabInstance, what: string, script: string): Promise<string> {
  const r = await lab.exec(script);
  if (r.code !== 0) throw new LabError(`${lab.name}: ${what} failed (exit ${r.code}): ${(r.stdout + r.stderr).trim()}`);
  return r.stdout;
}

async function appendFile(lab: LabInstance, path: string, text: string): Promise<void> {
  const r = await lab.exec(`cat >> ${path}`, { input: text });
  if (r.code !== 0) throw new LabError(`${lab.name}: append to ${path} failed: ${r.stderr.trim()}`);
}

/** Bounded wait inside the instance for a line matching an ERE in /var/log/auth.log. */
export async function waitForAuthLog(lab: LabInstance, ere: string, timeoutMs = 10_000): Promise<string> {
  const tries = Math.ceil(timeoutMs / 50);
  const quoted = `'${ere.replace(/'/g, `'\\''`)}'`;
  const r = await lab.exec(`i=0; while [ "$i" -lt ${tries} ]; do grep -E -- ${quoted} /var/log/auth.log && exit 0; i=$((i + 1)); sleep 0.05; done; exit 1`);
  if (r.code !== 0) throw new LabError(`${lab.name}: no auth.log line matching /${ere}/ within ${timeoutMs} ms`);
  return r.stdout;
}

/** Appends `sshd: IP` to /etc/hosts.deny: libwrap refuses IP (reset after its ~5 s sleep). */
export async function denyByIp(lab: LabInstance, ip: string): Promise<void> {
  await appendFile(lab, '/etc/hosts.deny', `sshd: ${ipArg(ip)}\n`);
}

/** `all:all:deny` in /etc/hosts.allow: the options syntax denies everyone from the allow file. */
export async function denyAllOptionSyntax(lab: LabInstance): Promise<void> {
  await appendFile(lab, '/etc/hosts.allow', 'all:all:deny\n');
}

/** `sshd: IP` in hosts.allow and `ALL: ALL` in hosts.deny: IP gets in, everyone else is refused. */
export async function allowOverridesDeny(lab: LabInstance, ip: string): Promise<void> {
  await appendFile(lab, '/etc/hosts.allow', `sshd: ${ipArg(ip)}\n`);
  await appendFile(lab, '/etc/hosts.deny', 'ALL: ALL\n');
}

/** iptables DROP of TCP/22 from IP inside the instance: the client's SYN goes unanswered (timeout). */
export async function iptablesDrop(lab: LabInstance, ip: string): Promise<void> {
  await must(lab, 'iptables DROP', `iptables -I INPUT -s '${ipArg(ip)}' -p tcp --dport ${SSH_PORT} -j DROP`);
}

/** iptables REJECT (icmp-port-unreachable) of TCP/22 from IP: the client sees connection refused. */
export async function iptablesReject(lab: LabInstance, ip: string): Promise<void> {
  await must(lab, 'iptables REJECT', `iptables -I INPUT -s '${ipArg(ip)}' -p tcp --dport ${SSH_PORT} -j REJECT`);
}

/** Bans IP in the real fail2ban `sshd` jail (starting fail2ban if needed); waits for its iptables rule. */
export async function fail2banBan(lab: LabInstance, ip: string): Promise<void> {
  const addr = ipArg(ip);
  const ping = await lab.exec('fail2ban-client ping >/dev/null 2>&1');
  if (ping.code !== 0) await lab.startFail2ban();
  await must(lab, 'fail2ban banip', `fail2ban-client set sshd banip '${addr}'`);
  await must(
    lab,
    'wait for the fail2ban iptables rule',
    `i=0; while [ "$i" -lt 250 ]; do iptables -S f2b-sshd 2>/dev/null | grep -q -- '-s ${addr}/' && exit 0; i=$((i + 1)); sleep 0.02; done; exit 1`,
  );
}

/**
 * Removes the liblz4.so.1 symlink (a whiteout in the overlay) and restarts sshd, which
 * then cannot start: the dynamic loader fails before sshd runs. Returns the real names
 * involved so tests can expect the exact fix.
 */
export async function removeLz4Link(lab: LabInstance): Promise<{ link: string; target: string; startError: string }> {
  const out = await must(
    lab,
    'find liblz4.so.1',
    `for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
       if [ -L "$d/liblz4.so.1" ]; then printf '%s %s\\n' "$d/liblz4.so.1" "$(readlink "$d/liblz4.so.1")"; exit 0; fi
     done; exit 1`,
  );
  const [link, target] = out.trim().split(' ') as [string, string];
  await lab.stopSshd();
  await must(lab, 'remove liblz4.so.1', `rm -f '${link}'`);
  const start = await lab.startSshd().then(
    () => undefined,
    (e: Error) => e.message,
  );
  if (start === undefined) throw new LabError(`${lab.name}: sshd still starts without ${link}`);
  if (!/liblz4\.so\.1/.test(start)) throw new LabError(`${lab.name}: sshd failed for another reason: ${start}`);
  return { link, target, startError: start };
}

/** Stops sshd: nothing listens on port 22 (connection refused). */
export async function stopSshd(lab: LabInstance): Promise<void> {
  await lab.stopSshd();
}

/** Appends an unknown option to sshd_config and restarts sshd, which refuses to start. */
export async function breakSshdConfig(lab: LabInstance): Promise<{ line: string; startError: string }> {
  const line = 'PermitRootLoginn yes';
  await lab.stopSshd();
  await appendFile(lab, '/etc/ssh/sshd_config', `${line}\n`);
  const start = await lab.startSshd().then(
    () => undefined,
    (e: Error) => e.message,
  );
  if (start === undefined) throw new LabError(`${lab.name}: sshd still starts with "${line}"`);
  return { line, startError: start };
}

/** Moves sshd to another port (appends `Port N`, restarts): port 22 refuses, N answers. */
export async function movePort(lab: LabInstance, port = 2222): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535 || port === SSH_PORT) {
    throw new LabError(`scenario: port must be an integer 1-65535 other than 22, got ${port}`);
  }
  await appendFile(lab, '/etc/ssh/sshd_config', `Port ${port}\n`);
  await lab.restartSshd();
}

/** Opens a TCP connection from the host and resolves once the SSH banner arrived (bounded). */
function holdConnection(lab: LabInstance, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: lab.ip, port: SSH_PORT, localAddress: lab.hostIp });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new LabError(`${lab.name}: no banner on a held connection within ${timeoutMs} ms`));
    }, timeoutMs);
    let got = '';
    s.on('data', (b: Buffer) => {
      got += b.toString('latin1');
      if (got.includes('\n')) {
        clearTimeout(timer);
        s.removeAllListeners('data');
        resolve(s);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(new LabError(`${lab.name}: held connection failed: ${e.message}`, { cause: e }));
    });
  });
}

/**
 * Sets `MaxStartups N` (start = full = N: every connection beyond N unauthenticated
 * ones is dropped), restarts sshd, holds N unauthenticated connections open from the
 * host, then makes one more so sshd logs `past MaxStartups`. `release()` closes the
 * held connections.
 */
export async function exhaustMaxStartups(lab: LabInstance, held = 2): Promise<{ release(): void; logLine: string }> {
  await appendFile(lab, '/etc/ssh/sshd_config', `MaxStartups ${held}\n`);
  await lab.restartSshd();
  const sockets: Socket[] = [];
  const release = () => {
    for (const s of sockets) s.destroy();
  };
  try {
    for (let i = 0; i < held; i++) sockets.push(await holdConnection(lab, 10_000));
    await new Promise<void>((resolve) => {
      const extra = connect({ host: lab.ip, port: SSH_PORT, localAddress: lab.hostIp });
      const timer = setTimeout(() => extra.destroy(), 5_000);
      extra.on('error', () => undefined);
      extra.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      extra.on('data', () => undefined);
    });
    const logLine = await waitForAuthLog(lab, 'past MaxStartups');
    return { release, logLine: logLine.trim() };
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * Stops sshd and puts busybox httpd on port 22: a TCP service that answers an SSH
 * identification string with HTTP.
 */
export async function nonSshOn22(lab: LabInstance): Promise<void> {
  await lab.stopSshd();
  await must(
    lab,
    'start busybox httpd on 22',
    `mkdir -p /run/sdlab-www && busybox httpd -p ${SSH_PORT} -h /run/sdlab-www &&
     i=0; while [ "$i" -lt 250 ]; do ss -Hltn "sport = :${SSH_PORT}" | grep -q . && exit 0; i=$((i + 1)); sleep 0.02; done; exit 1`,
  );
}

/**
 * Writes a DenyHosts-style /etc/hosts.deny of `lines` lines (`sshd: 198.51.x.y`), with
 * the client's own line in the middle. Returns that line's 1-based number.
 */
export async function hugeHostsDeny(lab: LabInstance, clientIp: string, lines = 20_000): Promise<{ line: number }> {
  const ip = ipArg(clientIp);
  if (!Number.isInteger(lines) || lines < 2 || lines > 60_000) {
    throw new LabError(`scenario: lines must be an integer 2-60000, got ${lines}`);
  }
  const header = ['# DenyHosts: generated by sdlab', '# sshd: entries below are blocked'];
  const body: string[] = [];
  const filler = lines - header.length - 1;
  const clientAt = header.length + Math.floor(filler / 2);
  for (let i = 0; i < filler; i++) {
    if (header.length + body.length === clientAt) body.push(`sshd: ${ip}`);
    body.push(`sshd: 198.51.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`);
  }
  if (!body.includes(`sshd: ${ip}`)) body.push(`sshd: ${ip}`);
  const text = `${[...header, ...body].join('\n')}\n`;
  await lab.writeFile('/etc/hosts.deny', text);
  return { line: clientAt + 1 };
}
