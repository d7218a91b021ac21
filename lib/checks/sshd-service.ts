/**
 * Is an SSH server running? A listening sshd process, an active ssh.service, or an active
 * ssh.socket (Ubuntu 22.10+ socket activation: the service is inactive until a client
 * connects, and that is healthy).
 */
import type { Check } from './types';
import type { Fix } from '../report/types';
import { hostOr, isResult, result } from './support/result';
import { RECENT_MINUTES, recentLines } from './support/host-access';
import { activeSocketUnit, sshdListener, sshServiceName } from './support/sshd-facts';

export const SSHD_SERVICE_TEXT = {
  running: (args: string, pid: number) => `sshd is running (pid ${pid}: ${args}).`,
  socket: (unit: string) => `sshd is started on demand by ${unit} (socket activation); the service being inactive is normal.`,
  failed: (unit: string, result: string) => `${unit} has failed (result: ${result || 'unknown'}) and no sshd is running.`,
  stopped: 'No sshd process is running: nothing accepts SSH connections.',
  noBinary: 'No sshd binary was found: the SSH server is not installed.',
  lastWords: (line: string) => `sshd's last error: "${line}".`,
} as const;

export const SSHD_SERVICE_FIX = {
  systemd: (service: string): Fix => ({
    summary: `Start and enable ${service} (after sshd -t passes).`,
    commands: ['sshd -t', `systemctl enable --now ${service}`, `systemctl status ${service} --no-pager`],
    actions: [{ kind: 'service-start', service, manager: 'systemd' }],
  }),
  direct: (sshd: string): Fix => ({
    summary: 'Start sshd directly (no systemd here): create its privilege-separation directory, test the config, start it.',
    commands: ['mkdir -p /run/sshd && chmod 0755 /run/sshd', `${sshd} -t`, sshd],
    actions: [{ kind: 'service-start', service: sshd, manager: 'direct' }],
  }),
  install: (osId: string): Fix => ({
    summary: 'Install the OpenSSH server.',
    commands: [['debian', 'ubuntu'].includes(osId) ? 'apt-get install -y openssh-server' : 'dnf install -y openssh-server || yum install -y openssh-server'],
  }),
} as const;

/** Lines sshd writes when it cannot start or serve (bind, config, keys, privilege separation, libraries). */
const FATAL =
  /\bsshd(?:-session)?\[\d+\]:.*(\bfatal\b|Bind to port .* failed|Cannot bind any address|Missing privilege separation directory|no hostkeys available|Unable to load host key|Bad configuration option|terminating, \d+ bad configuration|error while loading shared libraries)/i;

export const sshdServiceCheck: Check = {
  id: 'sshd-service',
  title: 'SSH server running',
  description: 'Looks for a listening sshd process and the state of ssh/sshd service and socket units. A stopped sshd shows as "Connection refused".',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const listener = sshdListener(host);
    if (listener)
      return result(this, 'pass', SSHD_SERVICE_TEXT.running(listener.args, listener.pid), [{ source: 'ps', text: `${listener.pid} ${listener.args}` }]);
    const socket = activeSocketUnit(host);
    if (socket) return result(this, 'pass', SSHD_SERVICE_TEXT.socket(socket), [{ source: 'systemctl', text: `${socket} active` }]);
    if (!host.sshd.path) return result(this, 'fail', SSHD_SERVICE_TEXT.noBinary, [], SSHD_SERVICE_FIX.install(host.os.id));
    const evidence = host.service.units.map((u) => ({ source: 'systemctl', text: `${u.name} active=${u.active} enabled=${u.enabled} result=${u.result}` }));
    const fix = host.meta.init === 'systemd' ? SSHD_SERVICE_FIX.systemd(sshServiceName(host)) : SSHD_SERVICE_FIX.direct(host.sshd.path);
    const failed = host.service.units.find((u) => u.active === 'failed');
    // sshd's own last words when it refused to start: the cause, where the unit state is the symptom.
    // Only a recent line is named as the cause; an older one is evidence, marked as such.
    const last = [...recentLines(host.authLog.lines, host).recent].reverse().find((l) => FATAL.test(l));
    const older = last ? undefined : [...host.authLog.lines].reverse().find((l) => FATAL.test(l));
    if (last) evidence.push({ source: host.authLog.source ?? 'sshd log', text: last.slice(0, 300) });
    else if (older)
      evidence.push({ source: host.authLog.source ?? 'sshd log', text: `(older than ${RECENT_MINUTES} minutes, or of unknown age) ${older.slice(0, 280)}` });
    const summary = failed ? SSHD_SERVICE_TEXT.failed(failed.name, failed.result) : SSHD_SERVICE_TEXT.stopped;
    return result(
      this,
      'fail',
      last ? `${summary} ${SSHD_SERVICE_TEXT.lastWords(last.replace(/^.*?\bsshd(?:-session)?\[\d+\]:\s*/, '').slice(0, 200))}` : summary,
      evidence,
      fix,
    );
  },
};
