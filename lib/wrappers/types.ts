/**
 * Types of the TCP wrappers engine: what libwrap 7.6.q (as Debian builds it) decides for a
 * daemon and a client, given hosts.allow and hosts.deny.
 */

/** One physical line of a hosts file. `no` is 1-based. */
export interface HostsLine {
  no: number;
  /** The line without its terminating newline. */
  text: string;
  /**
   * True when the line had no terminating newline (the last line of a file). libwrap skips
   * such a line ("missing newline or line too long"). Default false.
   */
  unterminated?: boolean;
}

/** A hosts file as read: `lines` may be sparse (the collector may omit lines). */
export interface HostsFileInput {
  path: string;
  lines: HostsLine[];
}

export type DiagnosticSeverity = 'error' | 'warning';

/** A problem tcpdchk would report; the offending rule is skipped (errors) or kept (warnings). */
export interface Diagnostic {
  file: string;
  line: number;
  severity: DiagnosticSeverity;
  message: string;
}

/** What happens when a rule matches, from its option field (hosts_options(5)). */
export type RuleAction =
  /** No decision-changing option: the file decides (allow for hosts.allow, deny for hosts.deny). */
  | { kind: 'file' }
  | { kind: 'allow' }
  | { kind: 'deny' }
  /** `twist` replaces the daemon: sshd never runs. */
  | { kind: 'twist'; command: string }
  /** libwrap aborts option processing and denies (tcpd_jump). */
  | { kind: 'error'; message: string };

/** One access rule (a logical line: continuation lines joined). */
export interface Rule {
  file: string;
  /** First physical line of the rule. */
  line: number;
  /** Last physical line of the rule (libwrap's own log names this one). */
  lastLine: number;
  /** The logical line, continuation joined, without its newline. */
  text: string;
  /** The first physical line as it reads in the file (what a comment-out edit changes). */
  firstLineText: string;
  daemons: string[];
  clients: string[];
  /** The raw option field after the second `:`, or null. */
  options: string | null;
  action: RuleAction;
  /** Remarks about the options that matter to a reader (e.g. user database dependency). */
  optionCaveats: string[];
}

/** A parsed hosts file. */
export interface HostsFile {
  path: string;
  rules: Rule[];
  diagnostics: Diagnostic[];
  /**
   * Where libwrap stops reading the file with an error (a rule too long for its buffer, a last
   * line without a newline, an unreadable file). A client that reaches this point is denied
   * when it is hosts.deny, and passes on to hosts.deny when it is hosts.allow.
   */
  stop?: { line: number | null; text: string; reason: string };
}

/** Both access control tables, plus how to read `/path` pattern files named in client lists. */
export interface WrappersPolicy {
  allow: HostsFile;
  deny: HostsFile;
  /** Returns the file's text, or undefined when it cannot be read (libwrap: no match). */
  readPatternFile?: (path: string) => string | undefined;
}

/** The connecting client. `name` is its verified reverse-DNS name when known. */
export interface WrappersClient {
  addr: string;
  name?: string;
}

export type WrappersFix =
  | { kind: 'comment-out'; file: string; line: number; text: string }
  | { kind: 'insert-allow'; file: string; beforeLine: number | null; text: string };

/** libwrap's decision for one client, with the deciding rule. */
export interface WrappersDecision {
  client: string;
  clientName?: string;
  daemon: string;
  decision: 'allow' | 'deny';
  file: string | null;
  line: number | null;
  rule: string | null;
  via: 'hosts.allow' | 'hosts.deny' | 'option-allow' | 'option-deny' | 'twist' | 'default';
  caveats: string[];
  /** For a denial: the smallest edit that lets the client in. */
  fix?: WrappersFix;
}
