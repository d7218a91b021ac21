/** A command-line argument broke a rule: exit code 2, message names the argument and the rule. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly argument: string,
    readonly rule: string,
  ) {
    super(`${argument}: ${rule}`);
  }
}
