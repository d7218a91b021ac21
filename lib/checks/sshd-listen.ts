/**
 * Does something listen on the port the client uses, and is it sshd? Catches sshd moved to
 * another port, bound to loopback only, or port 22 taken by another service.
 */
import type { Check } from './types';
import type { Fix } from '../report/types';
import { hostOr, isResult, result } from './support/result';
import { configuredPorts } from './support/sshd-facts';

export const SSHD_LISTEN_TEXT = {
  ok: (port: number, where: string) => `sshd listens on port ${port} (${where}).`,
  otherPort: (port: number, ports: number[]) => `sshd listens on port ${ports.join(', ')}, not on ${port}.`,
  loopbackOnly: (port: number) => `Port ${port} listens on loopback only: remote clients cannot connect.`,
  otherProcess: (port: number, proc: string) => `Port ${port} is held by ${proc}, not sshd.`,
  nothing: (port: number) => `Nothing listens on port ${port}.`,
} as const;

export const SSHD_LISTEN_FIX = {
  usePort: (ports: number[]): Fix => ({
    summary: `Connect to port ${ports[0]} (ssh -p ${ports[0]} ...), or set "Port 22" in /etc/ssh/sshd_config and restart sshd.`,
    commands: [`ssh -p ${ports[0]} USER@HOST`],
  }),
  listenAddress: <Fix>{
    summary: 'Make sshd listen on all addresses: remove or widen ListenAddress in /etc/ssh/sshd_config, then test and restart sshd.',
    commands: [
      "grep -n -i '^ *ListenAddress' /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf",
      'sshd -t && systemctl restart sshd || systemctl restart ssh',
    ],
  },
  otherProcess: (port: number, proc: string): Fix => ({
    summary: `Stop ${proc} or move it off port ${port}, then start sshd.`,
    commands: [`ss -tlnp 'sport = :${port}'`],
  }),
} as const;

const LOOPBACK = /^(127\.|::1$)/;

export const sshdListenCheck: Check = {
  id: 'sshd-listen',
  title: 'sshd listens on the SSH port',
  description: "Compares the kernel's listening sockets with the port probed and sshd's configured Port and ListenAddress.",
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const port = facts.port;
    const on = host.listening.filter((s) => s.port === port);
    const configured = configuredPorts(host);
    const evidence = on.map((s) => ({ source: '/proc/net/tcp', text: `${s.address}:${s.port} LISTEN${s.process ? ` ${s.process}` : ''}` }));
    if (on.length) {
      const proc = on.find((s) => s.process)?.process;
      if (proc && !/sshd|systemd/.test(proc))
        return result(this, 'fail', SSHD_LISTEN_TEXT.otherProcess(port, proc), evidence, SSHD_LISTEN_FIX.otherProcess(port, proc));
      if (on.every((s) => LOOPBACK.test(s.address)) && !facts.clients.every((c) => LOOPBACK.test(c.ip))) {
        return result(this, 'fail', SSHD_LISTEN_TEXT.loopbackOnly(port), evidence, SSHD_LISTEN_FIX.listenAddress);
      }
      if (!proc && configured && !configured.includes(port)) {
        return result(
          this,
          'fail',
          SSHD_LISTEN_TEXT.otherProcess(port, `a process that is not sshd (sshd is configured for port ${configured.join(', ')})`),
          evidence,
        );
      }
      return result(this, 'pass', SSHD_LISTEN_TEXT.ok(port, on.map((s) => s.address).join(', ')), evidence);
    }
    const sshdPorts = [...new Set(host.listening.filter((s) => s.process === 'sshd').map((s) => s.port))];
    const elsewhere = sshdPorts.length ? sshdPorts : configured?.filter((p) => p !== port && host.listening.some((s) => s.port === p));
    if (elsewhere?.length) {
      const ev = host.listening
        .filter((s) => elsewhere.includes(s.port))
        .map((s) => ({ source: '/proc/net/tcp', text: `${s.address}:${s.port} LISTEN${s.process ? ` ${s.process}` : ''}` }));
      const cfg = host.sshd.configLines.filter((l) => /^\s*port\s/i.test(l.text)).map((l) => ({ source: l.file, line: l.line, text: l.text }));
      return result(this, 'fail', SSHD_LISTEN_TEXT.otherPort(port, elsewhere), [...cfg, ...ev], SSHD_LISTEN_FIX.usePort(elsewhere));
    }
    return result(this, 'fail', SSHD_LISTEN_TEXT.nothing(port));
  },
};
