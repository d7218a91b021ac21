/**
 * Cloud Assistant outcomes the Alibaba emulator can inject per instance, as DescribeInvocationResults
 * reports them: the documented per-instance `InvocationStatus` values (Pending, Invalid, Aborted,
 * Running, Success, Failed, Error, Timeout, Cancelled, Stopping, Terminated, Scheduled; no
 * `Stopped`) and `ErrorCode` values (no ClientNetworkBlocked or ClientNotOnline).
 */

export const INVOCATION_STATUSES = [
  'Pending',
  'Invalid',
  'Aborted',
  'Running',
  'Success',
  'Failed',
  'Error',
  'Timeout',
  'Cancelled',
  'Stopping',
  'Terminated',
  'Scheduled',
] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

export const INVOCATION_ERROR_CODES = [
  'InstanceNotExists',
  'InstanceReleased',
  'InstanceNotRunning',
  'CommandNotApplicable',
  'ClientNotRunning',
  'ClientNotResponse',
  'ClientIsUpgrading',
  'ClientNeedUpgrade',
  'DeliveryTimeout',
  'ExecutionTimeout',
  'ExecutionException',
  'ExecutionInterrupted',
  'ExitCodeNonzero',
  'SecurityGroupRuleDenied',
] as const;
export type InvocationErrorCode = (typeof INVOCATION_ERROR_CODES)[number];

/** An injected outcome: an error code (with the status it comes with), a bare status, or never delivered. */
export type InvocationFault = InvocationErrorCode | 'Aborted' | 'Invalid' | 'Error' | 'Terminated' | 'StuckPending';

/** The final status and error code a fault ends in (StuckPending never ends). */
export function faultOutcome(fault: Exclude<InvocationFault, 'StuckPending'>): { status: InvocationStatus; code: InvocationErrorCode | ''; info: string } {
  switch (fault) {
    case 'Aborted':
      return { status: 'Aborted', code: '', info: 'the command could not be sent to the instance' };
    case 'Invalid':
      return { status: 'Invalid', code: 'CommandNotApplicable', info: 'the command type is not supported on this instance' };
    case 'Error':
      return { status: 'Error', code: 'ExecutionException', info: 'an exception occurred while the command ran' };
    case 'Terminated':
      return { status: 'Terminated', code: 'ExecutionInterrupted', info: 'the process was terminated' };
    case 'ExecutionTimeout':
      return { status: 'Timeout', code: fault, info: 'the command did not finish within the timeout' };
    default:
      return { status: 'Failed', code: fault, info: `emulated ${fault}` };
  }
}
