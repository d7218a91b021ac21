/** Outcome of one outside probe of an SSH port, as an OpenSSH client would see it. */
/**
 * `silent`: the TCP connection was accepted but no identification came within the budget
 * (sshd hung or stopped, every MaxStartups slot held for LoginGraceTime, a middlebox that
 * accepts and holds): a host-side problem, unlike `timeout` (the TCP handshake never completed).
 */
export const PROBE_OUTCOMES = ['banner', 'reset', 'closed', 'refused', 'timeout', 'silent', 'unreachable', 'not-ssh'] as const;
export type ProbeOutcome = (typeof PROBE_OUTCOMES)[number];

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
  /** First bytes received, sanitised, when the peer is not SSH. */
  firstBytes?: string;
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
