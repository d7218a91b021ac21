/**
 * Cloud Assistant's per-instance result (DescribeInvocationResults `InvocationResult`) read into
 * the core's {@link RunStatus}, with a reason a user can act on. The statuses and error codes are
 * those the ECS API documents for `InvocationStatus` and `ErrorCode`; there is no `Stopped`
 * status, and no `ClientNetworkBlocked` or `ClientNotOnline` code.
 */
import type { RunResult, RunStatus } from './types';

/** One `InvocationResult` entry, read defensively. */
export interface InvocationResult {
  instanceId: string;
  invocationStatus: string;
  errorCode: string;
  errorInfo: string;
  exitCode: number | null;
  output: string;
  dropped: number;
}

/** Per-instance statuses that are not final yet: keep polling. */
export const PENDING_STATUSES: readonly string[] = ['Pending', 'Running', 'Stopping', 'Scheduled'];

/** Final per-instance statuses and what each means when no error code says more. */
export const FINAL_STATUSES: Record<string, { status: RunStatus; text: string }> = {
  Success: { status: 'success', text: '' },
  Failed: { status: 'failed', text: 'the command failed on the instance' },
  Error: { status: 'error', text: 'Cloud Assistant could not run the command (Error)' },
  Timeout: { status: 'timeout', text: 'the collector did not finish within the command timeout' },
  Invalid: { status: 'error', text: 'Cloud Assistant rejected the command as invalid for this instance (Invalid)' },
  Aborted: { status: 'undeliverable', text: 'the command could not be delivered to the instance (Aborted)' },
  Cancelled: { status: 'cancelled', text: 'the invocation was cancelled before it ran' },
  Terminated: { status: 'cancelled', text: 'the invocation was terminated while it ran' },
};

/** Every documented `ErrorCode`, and what it means for the report. */
export const ERROR_CODES: Record<string, { status: RunStatus; text: string }> = {
  InstanceNotExists: { status: 'instance-not-running', text: 'the instance does not exist' },
  InstanceReleased: { status: 'instance-not-running', text: 'the instance has been released' },
  InstanceNotRunning: { status: 'instance-not-running', text: 'the instance is not running' },
  CommandNotApplicable: { status: 'error', text: "the command type does not apply to the instance's operating system" },
  ClientNotRunning: { status: 'agent-offline', text: 'the Cloud Assistant agent is not running on the instance (agent offline)' },
  ClientNotResponse: { status: 'agent-offline', text: 'the Cloud Assistant agent on the instance does not respond (agent offline)' },
  ClientIsUpgrading: { status: 'agent-offline', text: 'the Cloud Assistant agent is being upgraded: try again in a few minutes' },
  ClientNeedUpgrade: { status: 'agent-offline', text: 'the Cloud Assistant agent is too old for this command: upgrade it' },
  DeliveryTimeout: { status: 'undeliverable', text: 'the command could not be delivered to the instance in time' },
  ExecutionTimeout: { status: 'timeout', text: 'the collector did not finish within the command timeout' },
  ExecutionException: { status: 'error', text: 'an exception on the instance stopped the command from running' },
  ExecutionInterrupted: { status: 'error', text: 'the command was interrupted on the instance (e.g. a restart or the agent stopping)' },
  ExitCodeNonzero: { status: 'failed', text: 'the collector exited with a non-zero code' },
  SecurityGroupRuleDenied: {
    status: 'undeliverable',
    text: "the command could not be delivered: a security-group rule blocks the Cloud Assistant agent's connection to its service",
  },
};

/**
 * Maps one result to our status, or null while it is still Pending, Running, Stopping or
 * Scheduled. A documented ErrorCode is more specific than the status and decides it; an
 * unknown status or code is reported by name, never guessed into success.
 */
export function mapInvocationResult(r: InvocationResult): Omit<RunResult, 'durationMs'> | null {
  if (PENDING_STATUSES.includes(r.invocationStatus)) return null;
  const base = { stdout: r.output, stderr: '', exitCode: r.exitCode, truncated: r.dropped > 0 };
  const code = r.errorCode;
  const byStatus = FINAL_STATUSES[r.invocationStatus];
  const byCode = ERROR_CODES[code];
  let status: RunStatus;
  let text: string;
  if (byCode) {
    status = byCode.status;
    text = code === 'ExitCodeNonzero' ? `the collector exited with code ${r.exitCode ?? 'unknown'}` : byCode.text;
    // Aborted always says it was not delivered, whatever the code adds.
    if (r.invocationStatus === 'Aborted' && byStatus) text = `${byStatus.text}: ${text}`;
  } else if (byStatus) {
    status = byStatus.status;
    text = status === 'failed' && r.exitCode !== null ? `the collector exited with code ${r.exitCode}` : byStatus.text;
  } else {
    status = 'error';
    text = `Cloud Assistant reported status ${r.invocationStatus || '(none)'}, which sshdoctor does not know`;
  }
  const detail = code ? ` (${code}${r.errorInfo ? `: ${r.errorInfo}` : ''})` : '';
  let reason = status === 'success' && !code ? undefined : oneLine(`${text}${detail}`);
  if (base.truncated) {
    const note = `output cut by Cloud Assistant (${r.dropped} bytes dropped)`;
    reason = reason ? `${reason}; ${note}` : note;
  }
  return reason === undefined ? { status, ...base } : { status, ...base, reason };
}

function oneLine(s: string): string {
  return s
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 500);
}
