/**
 * Remediation errors. Expected outcomes (a precondition that no longer holds, a fix whose
 * verification failed and was rolled back) are values in the audit, not exceptions; these
 * classes are for input that breaks a rule and for a broken transport.
 */

/** A fix action field broke a rule (a path outside /etc, a line number that is not a number, ...). */
export class FixActionValidationError extends Error {
  override readonly name = 'FixActionValidationError';
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** `--only` named something that is not a check id. */
export class FixSelectionError extends Error {
  override readonly name = 'FixSelectionError';
  constructor(
    readonly ids: readonly string[],
    readonly known: readonly string[],
  ) {
    super(`unknown check id${ids.length > 1 ? 's' : ''} ${ids.join(', ')} (known: ${known.join(', ')})`);
  }
}
