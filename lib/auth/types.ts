/**
 * The authentication question a diagnosis can carry: can USER log in with this public key?
 * No private key is ever asked for, read or accepted.
 */

/** An OpenSSH public key, validated (lib/auth/validate.ts). */
export interface PublicKeyFacts {
  /** Key type as written in the key line, e.g. `ssh-ed25519`. */
  type: string;
  /** The key blob, base64. */
  base64: string;
  /** The free-text comment of the key line (never passed to an instance). */
  comment?: string;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  sha256: string;
}

/** Who wants to log in, and with which key. */
export interface AuthTarget {
  name: string;
  publicKey?: PublicKeyFacts;
}
