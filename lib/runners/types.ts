/**
 * The port every runner implements: run the collector script on one instance, wait,
 * return its output. Adapters (local, via, SSM, Cloud Assistant) translate their own
 * statuses into {@link RunStatus}; expected failures are values, never exceptions.
 */
export const RUN_STATUSES = [
  'success',
  'failed',
  'timeout',
  'undeliverable',
  'agent-offline',
  'instance-not-running',
  'access-denied',
  'throttled',
  'cancelled',
  'error',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * What the script arguments are: `ip` (default) canonical IP addresses only; `validated-text`
 * arguments the caller validated for their meaning (the remediation argv), which runners still
 * limit to printable ASCII on one line, and always pass as one literal word each.
 */
export type RunArgsKind = 'ip' | 'validated-text';

export interface RunRequest {
  /** POSIX sh script text, passed verbatim (never templated with user input). */
  script: string;
  /**
   * Positional arguments for the script. Only values that passed strict validation may be
   * placed here (see {@link argsKind}); runners pass them as `sh -s -- ARGS` or an
   * equivalent that never re-parses them as shell code.
   */
  args: readonly string[];
  /** How `args` were validated; default `ip`. */
  argsKind?: RunArgsKind;
  /** Upper bound for the whole run, including delivery. */
  timeoutMs: number;
}

export interface RunResult {
  status: RunStatus;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** True when the transport cut stdout (SSM 24,000 chars inline, Cloud Assistant `Dropped`). */
  truncated: boolean;
  /** Human-readable reason for any status but success. */
  reason?: string;
  durationMs: number;
}

export interface CommandRunner {
  /** Short name used in reports: `local`, `via`, `ssm`, `cloud-assistant`. */
  readonly name: string;
  run(request: RunRequest): Promise<RunResult>;
}
