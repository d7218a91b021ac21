/** Small readings of host facts shared by the sshd-* checks (no judgement here). */
import type { HostFacts } from '../../collector/facts';

/** The systemd unit name of the SSH server on this distribution family. */
export function sshServiceName(host: HostFacts): string {
  const unit = host.service.units.find((u) => u.name === 'ssh.service' || u.name === 'sshd.service');
  if (unit) return unit.name.replace(/\.service$/, '');
  const family = [host.os.id, ...host.os.idLike];
  return family.some((f) => f === 'debian' || f === 'ubuntu') ? 'ssh' : 'sshd';
}

/** The listening sshd process (not a per-connection child), if one runs. */
export function sshdListener(host: HostFacts): { pid: number; args: string } | undefined {
  return host.service.processes.find((p) => /\[listener\]/.test(p.args) || /^(\S*\/)?sshd(\s+-\S+(\s+\S+)?)*\s*$/.test(p.args.trim()));
}

/** Ports sshd is configured to listen on (from `sshd -T`), or undefined when unknown. */
export function configuredPorts(host: HostFacts): number[] | undefined {
  const ports = host.sshd.effective.options.port;
  if (ports?.length) return ports.map(Number).filter((n) => Number.isInteger(n));
  const fromConfig = host.sshd.configLines.filter((l) => /^\s*port\s+\d+/i.test(l.text)).map((l) => Number(l.text.trim().split(/\s+/)[1]));
  return fromConfig.length ? fromConfig : undefined;
}

/** Active socket unit that starts sshd on demand (Ubuntu 22.10+ `ssh.socket`). */
export function activeSocketUnit(host: HostFacts): string | undefined {
  return host.service.units.find((u) => u.name.endsWith('.socket') && u.active === 'active')?.name;
}
