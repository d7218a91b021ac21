/**
 * Errors of the cloud area. Expected outcomes (agent offline, command timed out, access
 * denied to one API) are values in the report; these are for the cases where no report can
 * be made at all, or where the caller's input broke a rule.
 */

/** Input broke a rule (instance id, region, client IP, port). Names the field and the rule. */
export class CloudValidationError extends Error {
  override readonly name = 'CloudValidationError';
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** The cloud API says the instance does not exist in this region/account. */
export class InstanceNotFoundError extends Error {
  override readonly name = 'InstanceNotFoundError';
  constructor(
    readonly provider: 'aws' | 'alibaba',
    readonly region: string,
    readonly instanceId: string,
    options?: { cause?: unknown },
  ) {
    super(`instance ${instanceId} not found in ${provider} region ${region}`, options);
  }
}

/** The instance runs a platform sshdoctor does not diagnose (Windows). */
export class UnsupportedPlatformError extends Error {
  override readonly name = 'UnsupportedPlatformError';
  constructor(
    readonly instanceId: string,
    readonly platform: string,
  ) {
    super(`instance ${instanceId} runs ${platform}: not supported (sshdoctor diagnoses OpenSSH on Linux/Unix)`);
  }
}

/** `--address public|private` asked for an address the API did not return for the instance. */
export class AddressNotAvailableError extends Error {
  override readonly name = 'AddressNotAvailableError';
  constructor(
    readonly instanceId: string,
    readonly kind: 'public' | 'private',
  ) {
    super(`address: instance ${instanceId} has no ${kind} address`);
  }
}

/**
 * A cloud API call failed in a way that prevents any diagnosis (e.g. describing the instance).
 * `action` is `service:Action`; `code` is the provider's error code when it sent one.
 */
export class CloudApiError extends Error {
  override readonly name = 'CloudApiError';
  constructor(
    readonly action: string,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${action} failed${code ? ` (${code})` : ''}: ${message}`, options);
  }
}
