/**
 * Errors of the Alibaba Cloud adapters (ECS, Cloud Assistant, Security Center). SDK failures
 * are wrapped here at the boundary; callers turn them into report values (`notInspected`,
 * a {@link RunStatus}), never into stack traces.
 */

/** How an API failure should be read by the report. */
export type AlibabaErrorKind = 'throttled' | 'access-denied' | 'not-found' | 'server' | 'client' | 'network';

/** An Alibaba Cloud API call failed (after retries, for throttling and 5xx). */
export class AlibabaApiError extends Error {
  override readonly name = 'AlibabaApiError';
  constructor(
    /** API action, e.g. `ecs:RunCommand`. */
    readonly action: string,
    /** Alibaba error code, e.g. `Throttling.User`, `Forbidden.RAM`; `NetworkError` when no response. */
    readonly code: string,
    readonly kind: AlibabaErrorKind,
    message: string,
    readonly statusCode?: number,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An endpoint override (ALIBABA_CLOUD_ECS_ENDPOINT, ALIBABA_CLOUD_SAS_ENDPOINT) is malformed. */
export class AlibabaEndpointError extends Error {
  override readonly name = 'AlibabaEndpointError';
}

/** A Security Center record is not what the fix expects (another address, a malformed id): nothing was deleted. */
export class SecurityCenterPreconditionError extends Error {
  override readonly name = 'SecurityCenterPreconditionError';
}

/** A request names a parameter the SDK's request model does not declare: nothing was sent. */
export class AlibabaRequestError extends Error {
  override readonly name = 'AlibabaRequestError';
  constructor(
    /** API action, e.g. `ecs:DescribeInstances`. */
    readonly action: string,
    /** The offending wire key, e.g. `Tag.1.Name`. */
    readonly field: string,
  ) {
    super(`${action}: ${field} is not a parameter of the SDK's ${action.split(':')[1] ?? action}Request model`);
  }
}
