/**
 * The report contract shared by every entry point (CLI, HTTP, Slack, fleet worker).
 * Documented in the README; `schemaVersion` changes when a field changes meaning.
 */
import type { ProbeResult } from '../probe/types';

/** Status of one check. */
export const CHECK_STATUSES = ['pass', 'fail', 'warn', 'skip', 'error'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** One piece of evidence: where a fact came from, and the text found there. */
export interface Evidence {
  /** File path, command, or API (e.g. `/etc/hosts.deny`, `sshd -t`, `ec2:DescribeSecurityGroups`). */
  source: string;
  /** 1-based line number in `source`, when it is a file. */
  line?: number;
  /** The line, rule or output excerpt (single line, sanitised). */
  text: string;
}

/**
 * A machine-readable remediation step. `fix.commands` is what a human runs; `actions` is
 * what `sshdoctor fix --apply` executes (each kind is implemented, backed up and reversed by
 * the remediation engine, never by string commands).
 */
export type FixAction =
  | { kind: 'comment-line'; file: string; line: number; text: string }
  | { kind: 'insert-line-before'; file: string; line: number; text: string }
  | { kind: 'fail2ban-unban'; jail: string; ip: string }
  | { kind: 'firewall-delete-rule'; family: 'ipv4' | 'ipv6'; table: string; chain: string; rule: string }
  | { kind: 'firewall-insert-accept'; family: 'ipv4' | 'ipv6'; table: string; chain: string; ip: string; port: number }
  | { kind: 'symlink'; link: string; target: string }
  | { kind: 'service-start'; service: string; manager: 'systemd' | 'sysv' | 'direct' }
  /** Owner and mode of a private host key or sshd's own directories (/etc/ssh, privilege separation). */
  | { kind: 'set-mode'; path: string; mode: string; owner: string; group: string }
  /** `ssh-keygen -A`: create the host keys that are missing (rollback removes only those). */
  | { kind: 'hostkeys-generate' }
  /** `faillock --user USER --reset`, the tally file backed up first (the rollback puts it back). */
  | { kind: 'faillock-reset'; user: string }
  /** Creates sshd's missing privilege-separation directory (root:root 0755; the rollback removes it). */
  | { kind: 'privsep-dir'; path: string }
  /** Owner (the user) and mode of a path in a user's key chain: the home directory or below it. */
  | { kind: 'user-path-mode'; user: string; path: string; mode: string }
  /** `restorecon -R ~USER/.ssh` (SELinux), each label before recorded for the rollback. */
  | { kind: 'user-restorecon'; user: string }
  /** Appends a public key to the user's authorized keys: changes who may log in (needs --authorize-key). */
  | { kind: 'authorize-key'; user: string; file: string; key: string }
  /** `source` absent: a custom block record (DeleteCustomBlockRecord); `brute-force`: DisableBruteForceRecord. */
  | { kind: 'security-center-unblock'; recordId: string; ip: string; source?: 'brute-force' };

export interface Fix {
  /** One sentence: what the fix does. */
  summary: string;
  /** Exact shell commands, using the real names found on the host. */
  commands: string[];
  /** Structured form of the same fix, for `sshdoctor fix`. */
  actions?: FixAction[];
}

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  evidence: Evidence[];
  fix: Fix | null;
}

export const VERDICT_STATUSES = ['reachable', 'blocked', 'unknown'] as const;
export type VerdictStatus = (typeof VERDICT_STATUSES)[number];

export interface Verdict {
  status: VerdictStatus;
  /** One line for humans. */
  summary: string;
  /** Ids of the checks that explain the probe outcome, strongest first. */
  causes: string[];
  /** True when the probe outcome and a host-side finding agree (e.g. reset ~5 s after connect + wrappers deny). */
  confirmed: boolean;
}

export interface ClientIp {
  ip: string;
  /** `user`: named with --client-ip / clientIp; `probe-source`: the probe's own source address. */
  source: 'user' | 'probe-source' | 'caller';
  /** Set when the address is a guess (the probe's own source address): what to keep in mind. */
  caveat?: string;
}

/** The caveat of a `probe-source` client: every renderer shows it. */
export const PROBE_SOURCE_CAVEAT =
  "the probe's own source address: behind NAT or a proxy the instance may see another address; pass --client-ip (clientIp) with yours";

export type CollectorStatus = 'ok' | 'partial' | 'failed' | 'skipped';

export interface CollectorSummary {
  status: CollectorStatus;
  /** Runner that executed the collector (`local`, `via`, `ssm`, `cloud-assistant`). */
  runner: string;
  /** Why the collector did not produce (all) facts, when it did not. */
  reason?: string;
  /** Output was cut (by the collector's own caps or by the cloud API's inline limit). */
  truncated: boolean;
  /** Sections the collector itself truncated, named. */
  truncatedSections: string[];
  durationMs?: number;
  outputChars?: number;
}

/** Something the report could not inspect, and why (agent offline, access denied, ...). */
export interface NotInspected {
  what: string;
  reason: string;
}

export interface Report {
  schemaVersion: 1;
  tool: { name: 'sshdoctor'; version: string };
  generatedAt: string;
  target: {
    host: string;
    port: number;
    instanceId?: string;
    provider?: 'local' | 'aws' | 'alibaba';
    region?: string;
    /** With --user: who was asked about, and the public key (type base64; public by nature, never a private key). */
    user?: { name: string; publicKey?: string };
  };
  clients: ClientIp[];
  probe: ProbeResult | null;
  collector: CollectorSummary;
  checks: CheckResult[];
  verdict: Verdict;
  /** Things that could not be inspected, and why (agent offline, access denied, ...). */
  notInspected: NotInspected[];
  timings: { probeMs?: number; collectorMs?: number; totalMs: number };
}
