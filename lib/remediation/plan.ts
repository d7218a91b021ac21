/**
 * Report -> fix plan: the machine-readable fix actions of the failing checks, validated,
 * de-duplicated and ordered so that each step still finds what it expects (repairs before
 * the service start that needs them, comment-outs before inserts that shift lines).
 */
import net from 'node:net';
import type { ClientIp, FixAction, Report } from '../report/types';
import type { ProbeOutcome } from '../probe/types';
import { ALL_CHECKS } from '../checks';
import { shq } from '../checks/support/result';
import { FixActionValidationError, FixSelectionError } from './errors';

/** One action of the plan, with what a human reads and what `apply.sh` receives. */
export interface PlanStep {
  checkId: string;
  checkTitle: string;
  action: FixAction;
  /** One sentence: what this step changes. */
  description: string;
  /** The equivalent shell commands, for an operator who prefers to run them by hand. */
  commands: string[];
  /** argv for `apply.sh`; null when the step is not run on the host (Security Center API). */
  args: string[] | null;
}

/** A failing check that `fix --apply` will not change, and why. */
export interface PlanManualItem {
  checkId: string;
  reason: string;
  summary?: string;
  commands: string[];
}

export interface FixPlan {
  target: Report['target'];
  clients: ClientIp[];
  /** What the outside probe saw when the plan was made; null when no probe ran. */
  probeBefore: ProbeOutcome | null;
  steps: PlanStep[];
  manual: PlanManualItem[];
}

export interface PlanOptions {
  /** Check ids to fix (default: every failing check). */
  only?: readonly string[];
  /** Steps that change who may log in (adding a key) are planned only with this (--authorize-key). */
  allowAccessChanges?: boolean;
}

/** Actions that change who may log in: never applied without their own explicit flag. */
export function changesAccess(a: FixAction): boolean {
  return a.kind === 'authorize-key';
}

/** Every check id, for `--only` validation. */
export const KNOWN_CHECK_IDS: readonly string[] = ALL_CHECKS.map((c) => c.id);

/** Parses `--only a,b`: known check ids, no empties. Throws {@link FixSelectionError}. */
export function parseOnly(text: string): string[] {
  const ids = text.split(',').map((s) => s.trim());
  if (ids.some((s) => s === '')) throw new FixSelectionError(['(empty)'], KNOWN_CHECK_IDS);
  const unknown = ids.filter((id) => !KNOWN_CHECK_IDS.includes(id));
  if (unknown.length) throw new FixSelectionError(unknown, KNOWN_CHECK_IDS);
  return [...new Set(ids)];
}

// Same rules as apply.sh (which checks them again): plain absolute paths, no "..".
const SAFE_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9_.+@-]+)+$/;
const LIB_DIRS = ['/lib/', '/lib64/', '/lib32/', '/usr/lib/', '/usr/lib64/', '/usr/lib32/', '/usr/local/lib/'];
const NAME = /^[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,63}$/;
const FILE_NAME = /^(?!\.\.?$)[A-Za-z0-9_.+-]+$/;
const CHAIN = /^(?!-)[A-Za-z0-9_.-]{1,28}$/;
const TABLES = ['filter', 'nat', 'mangle', 'raw', 'security'];

function fail(field: string, rule: string): never {
  throw new FixActionValidationError(field, rule);
}

function etcPath(field: string, p: string): string {
  if (!SAFE_PATH.test(p) || !p.startsWith('/etc/')) fail(field, 'must be a plain absolute path under /etc');
  return p;
}

function lineText(field: string, t: string): string {
  // One printable line (tab allowed): a newline would add a second rule to the file.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses
  if (!t || t.length > 400 || /[\x00-\x08\x0a-\x1f\x7f]/.test(t)) fail(field, 'must be one non-empty line of printable characters (at most 400)');
  return t;
}

function lineNo(field: string, n: number, min: number): string {
  if (!Number.isInteger(n) || n < min || n > 9_999_999) fail(field, `must be an integer from ${min} to 9999999`);
  return String(n);
}

function ip(field: string, a: string): string {
  if (net.isIP(a) === 0 || !/^[0-9a-fA-F.:]+$/.test(a)) fail(field, 'must be an IPv4 or IPv6 address');
  return a;
}

/** The `apply.sh` argv for one action; throws {@link FixActionValidationError} for a field that breaks a rule. */
export function actionArgs(a: FixAction): string[] | null {
  switch (a.kind) {
    case 'comment-line':
      return [a.kind, etcPath('file', a.file), lineNo('line', a.line, 1), lineText('text', a.text)];
    case 'insert-line-before':
      return [a.kind, etcPath('file', a.file), lineNo('line', a.line, 0), lineText('text', a.text)];
    case 'fail2ban-unban':
      if (!NAME.test(a.jail)) fail('jail', 'must be letters, digits, _ . @ - (at most 64)');
      return [a.kind, a.jail, ip('ip', a.ip)];
    case 'firewall-delete-rule':
    case 'firewall-insert-accept': {
      if (a.family !== 'ipv4' && a.family !== 'ipv6') fail('family', 'must be ipv4 or ipv6');
      if (!TABLES.includes(a.table)) fail('table', `must be one of ${TABLES.join(', ')}`);
      if (!CHAIN.test(a.chain)) fail('chain', 'must be letters, digits, _ . - (at most 28)');
      if (a.kind === 'firewall-delete-rule') {
        if (!lineText('rule', a.rule).startsWith(`-A ${a.chain} `)) fail('rule', `must start with "-A ${a.chain} " as iptables-save prints it`);
        return [a.kind, a.family, a.table, a.chain, a.rule];
      }
      if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) fail('port', 'must be an integer from 1 to 65535');
      return [a.kind, a.family, a.table, a.chain, ip('ip', a.ip), String(a.port)];
    }
    case 'symlink':
      if (!SAFE_PATH.test(a.link) || !LIB_DIRS.some((d) => a.link.startsWith(d))) fail('link', `must be a plain path under ${LIB_DIRS.join(', ')}`);
      if (!FILE_NAME.test(a.target)) fail('target', "must be a file name in the link's directory");
      return [a.kind, a.link, a.target];
    case 'service-start':
      if (a.manager === 'direct') {
        if (!SAFE_PATH.test(a.service) || !a.service.endsWith('/sshd')) fail('service', 'must be an absolute path ending in /sshd');
      } else if (a.manager === 'systemd' || a.manager === 'sysv') {
        if (!NAME.test(a.service)) fail('service', 'must be a unit or init script name');
      } else fail('manager', 'must be systemd, sysv or direct');
      return [a.kind, a.manager, a.service];
    case 'security-center-unblock':
      if (!/^\d{1,20}$/.test(a.recordId)) fail('recordId', 'must be decimal digits');
      if (a.source !== undefined && a.source !== 'brute-force') fail('source', 'must be brute-force or absent (a custom block record)');
      ip('ip', a.ip);
      return null;
    case 'set-mode':
      if (!SSHD_OWN_PATH.test(a.path)) fail('path', 'must be a private host key (/etc/ssh/ssh_host_*_key), /etc/ssh or a privilege-separation directory');
      if (!/^0?[0-7]{3}$/.test(a.mode)) fail('mode', 'must be an octal mode such as 600');
      if (!NAME.test(a.owner)) fail('owner', 'must be a user name');
      if (!NAME.test(a.group)) fail('group', 'must be a group name');
      return [a.kind, a.path, a.mode, a.owner, a.group];
    case 'hostkeys-generate':
      return [a.kind];
    case 'faillock-reset':
    case 'user-restorecon':
      if (!USER_NAME.test(a.user)) fail('user', 'must be a user name');
      return [a.kind, a.user];
    case 'privsep-dir':
      if (!PRIVSEP_DIR.test(a.path))
        fail('path', 'must be a privilege-separation directory (/run/sshd, /var/run/sshd, /var/empty/sshd, /var/empty, /usr/share/empty.sshd)');
      return [a.kind, a.path];
    case 'user-path-mode':
      if (!USER_NAME.test(a.user)) fail('user', 'must be a user name');
      if (!SAFE_PATH.test(a.path) || !a.path.startsWith('/')) fail('path', 'must be a plain absolute path');
      if (!/^0?[0-7]{3}$/.test(a.mode)) fail('mode', 'must be an octal mode such as 700');
      return [a.kind, a.user, a.path, a.mode];
    case 'authorize-key': {
      if (!USER_NAME.test(a.user)) fail('user', 'must be a user name');
      if (!SAFE_PATH.test(a.file) || !a.file.startsWith('/')) fail('file', 'must be a plain absolute path');
      const m =
        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,2}$/.exec(
          a.key,
        );
      if (!m) fail('key', 'must be "type base64" of an OpenSSH public key');
      return [a.kind, a.user, a.file, a.key];
    }
  }
}

const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

const PRIVSEP_DIR = /^(\/run\/sshd|\/var\/run\/sshd|\/var\/empty\/sshd|\/var\/empty|\/usr\/share\/empty\.sshd)$/;

/** The only paths set-mode may touch: sshd's host keys and directories. */
const SSHD_OWN_PATH =
  /^(\/etc\/ssh\/ssh_host_[a-z0-9]+_key|\/etc\/ssh|\/run\/sshd|\/var\/run\/sshd|\/var\/empty\/sshd|\/var\/empty|\/usr\/share\/empty\.sshd)$/;

/** DisableBruteForceRecord takes the record's Uuid and Port too (read from DescribeBruteForceRecords). */
const SAS_DISABLE = (id: string, ip: string) => `aliyun sas DisableBruteForceRecord --Id ${id} --BlockIp ${ip} --Bound in`;

const FW = (family: 'ipv4' | 'ipv6') => (family === 'ipv4' ? 'iptables' : 'ip6tables');
const BACKUP = (file: string) => `cp -p ${shq(file)} ${shq(file)}.sshdoctor-$(date -u +%Y%m%dT%H%M%SZ)`;
const SAVE_TABLE = (family: 'ipv4' | 'ipv6', table: string) =>
  `${FW(family)}-save -t ${table} > /var/backups/sshdoctor/${FW(family)}-${table}-$(date -u +%Y%m%dT%H%M%SZ).rules`;

/** What a step changes, in one sentence. */
export function describeAction(a: FixAction): string {
  switch (a.kind) {
    case 'comment-line':
      return `Comment out ${a.file} line ${a.line} ("${a.text}"), after a timestamped backup next to it.`;
    case 'insert-line-before':
      return `Insert "${a.text}" into ${a.file} ${a.line ? `before line ${a.line}` : 'at the end'}, after a timestamped backup next to it.`;
    case 'fail2ban-unban':
      return `Unban ${a.ip} in fail2ban jail ${a.jail}.`;
    case 'firewall-delete-rule':
      return `Delete the ${FW(a.family)} rule "${a.rule}" (table ${a.table}), after saving the table to /var/backups/sshdoctor.`;
    case 'firewall-insert-accept':
      return `Accept tcp/${a.port} from ${a.ip} at the top of ${FW(a.family)} chain ${a.chain} (table ${a.table}), after saving the table to /var/backups/sshdoctor.`;
    case 'symlink':
      return `Recreate ${a.link} -> ${a.target}, once ${a.target} is checked to be a regular ELF file of sshd's architecture.`;
    case 'service-start':
      return a.manager === 'direct'
        ? `Start ${a.service} directly (creating /run/sshd if needed), once sshd -t passes.`
        : `Start the ${a.service} service (${a.manager}), once sshd -t passes.`;
    case 'security-center-unblock':
      return a.source === 'brute-force'
        ? `Disable Security Center brute-force block record ${a.recordId} (blocks ${a.ip}), once re-read and still blocking ${a.ip}.`
        : `Delete Security Center custom block record ${a.recordId} (blocks ${a.ip}).`;
    case 'set-mode':
      return `Set ${a.path} to ${a.owner}:${a.group} mode ${a.mode} (the previous owner and mode are recorded for the rollback).`;
    case 'hostkeys-generate':
      return 'Create the missing host keys with ssh-keygen -A (the rollback removes only the keys it created).';
    case 'user-restorecon':
      return `Restore the SELinux labels of ${a.user}'s ~/.ssh (restorecon -R; each label before is recorded for the rollback).`;
    case 'faillock-reset':
      return `Reset ${a.user}'s pam_faillock tally (the tally file is backed up; the rollback restores it).`;
    case 'privsep-dir':
      return `Create sshd's privilege-separation directory ${a.path} (root:root 0755; the rollback removes it).`;
    case 'user-path-mode':
      return `Give ${a.path} owner ${a.user} and mode ${a.mode}, as sshd's StrictModes requires (the previous owner and mode are recorded for the rollback).`;
    case 'authorize-key':
      return `Append the given public key to ${a.file} for ${a.user} (changes who may log in; only with --authorize-key).`;
  }
}

/** The shell commands an operator would run by hand for the same step. */
export function commandsFor(a: FixAction): string[] {
  switch (a.kind) {
    case 'comment-line':
      return [BACKUP(a.file), `sed -i '${a.line}s/^/# sshdoctor: /' ${shq(a.file)}`];
    case 'insert-line-before':
      return [
        BACKUP(a.file),
        a.line ? `sed -i '${a.line}i ${a.text.replace(/'/g, `'\\''`)}' ${shq(a.file)}` : `printf '%s\\n' ${shq(a.text)} >> ${shq(a.file)}`,
      ];
    case 'fail2ban-unban':
      return [`fail2ban-client set ${shq(a.jail)} unbanip ${a.ip}`];
    case 'firewall-delete-rule':
      return [SAVE_TABLE(a.family, a.table), `${FW(a.family)} -w -t ${a.table} ${a.rule.replace(/^-A /, '-D ')}`];
    case 'firewall-insert-accept':
      return [SAVE_TABLE(a.family, a.table), `${FW(a.family)} -w -t ${a.table} -I ${a.chain} 1 -s ${a.ip} -p tcp --dport ${a.port} -j ACCEPT`];
    case 'symlink':
      return [`ln -s ${shq(a.target)} ${shq(a.link)}`];
    case 'service-start':
      if (a.manager === 'systemd') return ['sshd -t', `systemctl start ${shq(a.service)}`];
      if (a.manager === 'sysv') return ['sshd -t', `/etc/init.d/${shq(a.service)} start`];
      return ['mkdir -p /run/sshd && chmod 0755 /run/sshd', `${shq(a.service)} -t`, shq(a.service)];
    case 'security-center-unblock':
      return a.source === 'brute-force'
        ? [`aliyun sas DescribeBruteForceRecords --BlockIp ${a.ip} --Status 1`, `${SAS_DISABLE(a.recordId, a.ip)} --Uuid UUID --Port PORT`]
        : [`aliyun sas DeleteCustomBlockRecord --Id ${a.recordId}`];
    case 'set-mode':
      return [`stat -c '%a %U %G %n' ${shq(a.path)}`, `chown ${shq(a.owner)}:${shq(a.group)} ${shq(a.path)} && chmod ${a.mode} ${shq(a.path)}`];
    case 'hostkeys-generate':
      return ['ssh-keygen -A'];
    case 'user-restorecon':
      return [`restorecon -Rv ~${a.user}/.ssh`];
    case 'faillock-reset':
      return [`faillock --user ${shq(a.user)}`, `faillock --user ${shq(a.user)} --reset`];
    case 'privsep-dir':
      return [`mkdir -m 0755 ${shq(a.path)} && chown root:root ${shq(a.path)}`];
    case 'user-path-mode':
      return [`stat -c '%a %U %G %n' ${shq(a.path)}`, `chown ${shq(a.user)} ${shq(a.path)} && chmod ${a.mode} ${shq(a.path)}`];
    case 'authorize-key':
      return [`cp -p ${shq(a.file)} ${shq(a.file)}.sshdoctor-$(date -u +%Y%m%dT%H%M%SZ) 2>/dev/null || true`, `printf '%s\n' ${shq(a.key)} >> ${shq(a.file)}`];
  }
}

/** Lower runs first: a service can only start once its config and libraries are repaired. */
function phase(s: { checkId: string; action: FixAction }): number {
  switch (s.action.kind) {
    case 'symlink':
    case 'set-mode':
    case 'hostkeys-generate':
    case 'privsep-dir':
    case 'faillock-reset':
    case 'user-restorecon':
    case 'user-path-mode':
    case 'authorize-key':
      return 0;
    case 'comment-line':
      return s.checkId === 'sshd-config' ? 1 : 2;
    case 'insert-line-before':
      return s.checkId === 'sshd-config' ? 1.5 : 2.5;
    case 'fail2ban-unban':
      return 3;
    case 'firewall-delete-rule':
    case 'firewall-insert-accept':
      return 4;
    case 'security-center-unblock':
      return 5;
    case 'service-start':
      return 6;
  }
}

/** Builds the plan for the failing checks of `report` (all of them, or those in `only`). */
export function buildPlan(report: Report, options: PlanOptions = {}): FixPlan {
  const only = options.only?.length ? new Set(options.only) : null;
  const steps: PlanStep[] = [];
  const manual: PlanManualItem[] = [];
  const seen = new Set<string>();
  for (const c of report.checks) {
    if (c.status !== 'fail' || (only && !only.has(c.id))) continue;
    const actions = c.fix?.actions ?? [];
    if (!actions.length) {
      manual.push({
        checkId: c.id,
        reason: c.fix ? 'no automatic fix: run the commands by hand' : 'no fix known for this finding',
        ...(c.fix ? { summary: c.fix.summary } : {}),
        commands: c.fix?.commands ?? [],
      });
      continue;
    }
    // Comment lines are instructions no action covers (e.g. a brute-force block, which only the
    // console lifts): keep them in the plan as a manual item rather than dropping them.
    const notes = (c.fix?.commands ?? []).filter((l) => l.startsWith('# '));
    if (notes.length) {
      manual.push({ checkId: c.id, reason: 'no API for this part: do it by hand', ...(c.fix ? { summary: c.fix.summary } : {}), commands: notes });
    }
    for (const action of actions) {
      if (changesAccess(action) && !options.allowAccessChanges) {
        manual.push({
          checkId: c.id,
          reason: 'changes who may log in: planned only with --authorize-key',
          summary: describeAction(action),
          commands: commandsFor(action),
        });
        continue;
      }
      const key = JSON.stringify(action);
      if (seen.has(key)) continue;
      seen.add(key);
      let args: string[] | null;
      try {
        args = actionArgs(action);
      } catch (err) {
        if (!(err instanceof FixActionValidationError)) throw err;
        manual.push({ checkId: c.id, reason: `not applied automatically: ${err.message}`, commands: commandsFor(action) });
        continue;
      }
      steps.push({ checkId: c.id, checkTitle: c.title, action, description: describeAction(action), commands: commandsFor(action), args });
    }
  }

  // fail2ban's unban removes its own f2b-<jail> rule; deleting the rule too would fight it.
  const unbans = steps.flatMap((s) => (s.action.kind === 'fail2ban-unban' ? [s.action] : []));
  const covered = (a: FixAction) => a.kind === 'firewall-delete-rule' && unbans.some((u) => a.chain === `f2b-${u.jail}` && a.rule.includes(` -s ${u.ip}/`));
  const kept = steps.filter((s) => !covered(s.action));

  const order = new Map(kept.map((s, i) => [s, i]));
  kept.sort((a, b) => {
    const d = phase(a) - phase(b);
    if (d) return d;
    // Inserts in one file: bottom first, so earlier line numbers stay true.
    if (a.action.kind === 'insert-line-before' && b.action.kind === 'insert-line-before' && a.action.file === b.action.file)
      return b.action.line - a.action.line;
    return order.get(a)! - order.get(b)!;
  });
  return { target: report.target, clients: report.clients, probeBefore: report.probe?.outcome ?? null, steps: kept, manual };
}
