/**
 * Does sshd accept its configuration? `sshd -t` is what sshd itself runs before starting;
 * a bad line keeps it from (re)starting, which shows as "Connection refused".
 */
import type { Check } from './types';
import type { Evidence, Fix } from '../report/types';
import { backupCommand, hostOr, isResult, result, shq } from './support/result';
import { needsRootResult } from './support/host-access';
import { activeSocketUnit, sshdListener } from './support/sshd-facts';

export const SSHD_CONFIG_TEXT = {
  ok: 'sshd -t accepts the configuration.',
  socketPrivsep: (dir: string, unit: string) =>
    `sshd -t read the configuration and the host keys and stopped only at the privilege-separation directory ${dir}, which systemd creates when ${unit} starts the service (socket activation): normal before the first connection.`,
  bad: (msg: string) => `sshd rejects its configuration: ${msg}`,
  privsep: (dir: string) =>
    `sshd -t could not run because its privilege-separation directory ${dir} is missing (systemd creates it when it starts the service; a manual start needs it).`,
  noHostKeys: 'sshd has no host keys: it exits at start ("no hostkeys available").',
  keysUnusable: 'sshd has no usable host keys (the keys exist but it refuses them: see permissions): it exits at start.',
  noBinary: 'No sshd binary to test the configuration with.',
  cannotRun: (msg: string) => `sshd -t could not run (${msg}); the configuration is untested: see sshd-libraries.`,
} as const;

export const SSHD_CONFIG_FIX = {
  commentOut: (file: string, line: number, text: string): Fix => ({
    summary: `Comment out ${file} line ${line} (${text}), then check the configuration with sshd -t before restarting.`,
    commands: [backupCommand(file), `sed -i '${line}s/^/# sshdoctor: /' ${shq(file)}`, 'sshd -t'],
    actions: [{ kind: 'comment-line', file, line, text }],
  }),
  privsep: (dir: string): Fix => ({
    summary: `Create ${dir} (root-owned, mode 0755).`,
    commands: [`mkdir -p ${dir} && chown root:root ${dir} && chmod 0755 ${dir}`, 'sshd -t'],
    actions: [{ kind: 'privsep-dir', path: dir }],
  }),
  hostKeys: { summary: 'Generate the missing host keys.', commands: ['ssh-keygen -A', 'sshd -t'], actions: [{ kind: 'hostkeys-generate' }] } as Fix,
} as const;

// "/etc/ssh/sshd_config line 12: Bad configuration option: Foo" and
// "/etc/ssh/sshd_config: line 12: Bad configuration option: Foo" (both forms exist).
const LINE_ERROR = /^(\/\S+?):? line (\d+): (.*)$/;

export const sshdConfigCheck: Check = {
  id: 'sshd-config',
  title: 'sshd configuration valid',
  description: 'Runs sshd -t on the host and points at the exact file and line it rejects.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const t = host.sshd.test;
    if (!host.sshd.path) return result(this, 'skip', SSHD_CONFIG_TEXT.noBinary);
    const loader = t.output.find((l) => /error while loading shared libraries/.test(l));
    if (loader) return result(this, 'skip', SSHD_CONFIG_TEXT.cannotRun(loader.replace(/^.*error while loading shared libraries: /, 'missing ')));
    if (t.rc === 0) return result(this, 'pass', SSHD_CONFIG_TEXT.ok);
    // Without root sshd -t cannot read the private host keys and fails for that alone.
    const unprivileged = needsRootResult(this, host, 'sshd -t (it reads the private host keys)');
    if (unprivileged) return unprivileged;
    const evidence: Evidence[] = t.output.slice(0, 5).map((text) => ({ source: 'sshd -t', text }));
    const privsep = t.output.map((l) => /Missing privilege separation directory: (\S+)/.exec(l)).find(Boolean);
    // sshd checks the directory after the configuration and the host keys, just before -t exits.
    const socket = activeSocketUnit(host);
    if (privsep && socket && !sshdListener(host) && t.output.length === 1)
      return result(this, 'pass', SSHD_CONFIG_TEXT.socketPrivsep(privsep[1]!, socket), evidence);
    if (privsep) {
      // systemd creates /run/sshd (RuntimeDirectory) when it starts the service; any other
      // directory (RHEL's /usr/share/empty.sshd, /var/empty) or a start without systemd fails.
      const systemdMakesIt = host.meta.init === 'systemd' && /^\/(var\/)?run\/sshd$/.test(privsep[1]!);
      return result(this, systemdMakesIt ? 'warn' : 'fail', SSHD_CONFIG_TEXT.privsep(privsep[1]!), evidence, SSHD_CONFIG_FIX.privsep(privsep[1]!));
    }
    if (t.output.some((l) => /no hostkeys available/.test(l))) {
      // Keys that exist but are too open are the permissions check's finding (and fix);
      // generating keys helps only when there are none.
      const keysExist = host.permissions.some((p) => /\/ssh_host_[a-z0-9]+_key$/.test(p.path));
      return result(
        this,
        'fail',
        keysExist ? SSHD_CONFIG_TEXT.keysUnusable : SSHD_CONFIG_TEXT.noHostKeys,
        evidence,
        keysExist ? null : SSHD_CONFIG_FIX.hostKeys,
      );
    }
    const located = t.output.map((l) => LINE_ERROR.exec(l)).find(Boolean);
    if (located) {
      const [, file, no, msg] = located;
      const line = Number(no);
      const text = host.sshd.configLines.find((l) => l.file === file && l.line === line)?.text ?? '';
      return result(
        this,
        'fail',
        SSHD_CONFIG_TEXT.bad(`${file} line ${line}: ${msg}`),
        [{ source: file!, line, text: text || msg! }, ...evidence],
        text ? SSHD_CONFIG_FIX.commentOut(file!, line, text) : null,
      );
    }
    return result(this, 'fail', SSHD_CONFIG_TEXT.bad(t.output[0] ?? `exit code ${t.rc}`), evidence);
  },
};
