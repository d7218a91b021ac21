/** A user name or public key that fails validation; the message names the rule. */
export class AuthInputError extends Error {
  constructor(
    readonly field: 'user' | 'publicKey',
    message: string,
  ) {
    super(message);
    this.name = 'AuthInputError';
  }
}
