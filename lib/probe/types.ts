/** Outcome of one outside probe of an SSH port, as an OpenSSH client would see it. */
/**
 * `silent`: the TCP connection was accepted but no identification came within the budget
 * (sshd hung or stopped, every MaxStartups slot held for LoginGraceTime, a middlebox that
 * accepts and holds): a host-side problem, unlike `timeout` (the TCP handshake never completed).
 */
export const PROBE_OUTCOMES = ['banner', 'reset', 'closed', 'refused', 'timeout', 'silent', 'unreachable', 'not-ssh'] as const;
export type ProbeOutcome = (typeof PROBE_OUTCOMES)[number];

export const PEER_KINDS = ['http', 'tls', 'smtp', 'ftp', 'pop3', 'imap', 'redis', 'mysql', 'unknown'] as const;
export type PeerKind = (typeof PEER_KINDS)[number];

export interface SshBanner {
  /** The identification line, sanitised (printable ASCII only). */
  raw: string;
  protoVersion: string;
  /** e.g. `OpenSSH_9.2p1` */
  software: string;
  /** e.g. `Debian-2+deb12u3` */
  comments?: string;
}

export interface ProbeResult {
  /** The authentication stage (only with a user to ask about, and only after a banner). */
  auth?: import('./auth-probe').AuthProbeResult;
  host: string;
  port: number;
  outcome: ProbeOutcome;
  banner?: SshBanner;
  /**
   * First bytes received, sanitised, only when they are SSH's own (a partial identification,
   * sshd's "Exceeded MaxStartups" before a close). Another service's bytes are never kept: a
   * greeting can carry a token or a version worth hiding; `peer` classifies it instead.
   */
  firstBytes?: string;
  /** What answered when it was not SSH (or not only SSH), by its first bytes. */
  peer?: PeerKind;
  /** Local (source) address and port the connection used. */
  localAddress?: string;
  localPort?: number;
  /** Milliseconds from start to TCP established. */
  connectMs?: number;
  /** Milliseconds from TCP established to banner. */
  bannerMs?: number;
  /** Milliseconds from TCP established to reset/close (the libwrap signature is ~5000). */
  closeMs?: number;
  totalMs: number;
  /** OS error code behind refused/unreachable/reset (ECONNREFUSED, EHOSTUNREACH, ...). */
  errorCode?: string;
}
