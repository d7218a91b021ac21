/**
 * Strict validation of the user name and public key a diagnosis is asked about. Both travel to
 * instances as argv (and are validated again there), never inside a script.
 */
import { createHash } from 'node:crypto';
import { AuthInputError } from './errors';
import type { PublicKeyFacts } from './types';

/**
 * POSIX portable user names as shadow-utils and systemd accept them: letters, digits, `.`, `_`,
 * `-`, not starting with `-` or a digit-only name, an optional trailing `$` (Samba machine
 * accounts), at most 32 characters (useradd's limit on Linux).
 */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,30}[A-Za-z0-9_.$-]?$/;

/** OpenSSH public key types a key line may declare (certificates are not accepted here). */
export const KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

const MAX_KEY_LINE = 16 * 1024;

/** Returns the user name or throws AuthInputError naming the rule. */
export function validateUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new AuthInputError('user', 'must be a user name: 1-32 characters, letters, digits, ".", "_" or "-", not starting with "-", "." or a digit');
  }
  if (name === '.' || name === '..') throw new AuthInputError('user', 'must be a user name, not "." or ".."');
  return name;
}

/**
 * Parses one OpenSSH public key line (`type base64 [comment]`), as in `id_ed25519.pub` or an
 * authorized_keys line without options. Anything that looks like a private key is refused.
 */
export function parsePublicKey(text: string): PublicKeyFacts {
  if (/PRIVATE KEY|-----BEGIN|PuTTY-User-Key-File/.test(text)) {
    throw new AuthInputError('publicKey', 'looks like a private key: sshdoctor never accepts a private key; give the .pub file');
  }
  if (text.length > MAX_KEY_LINE) throw new AuthInputError('publicKey', `must be one OpenSSH public key line of at most ${MAX_KEY_LINE} characters`);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.length !== 1) throw new AuthInputError('publicKey', `must be exactly one OpenSSH public key line ("type base64 [comment]"), got ${lines.length}`);
  const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/.exec(lines[0]!);
  if (!m) throw new AuthInputError('publicKey', 'must be an OpenSSH public key line: "type base64 [comment]"');
  const [, type, base64, comment] = m;
  if (!(KEY_TYPES as readonly string[]).includes(type!))
    throw new AuthInputError('publicKey', `key type must be one of ${KEY_TYPES.join(', ')}; got ${type!.slice(0, 40)}`);
  const blob = Buffer.from(base64!, 'base64');
  // The blob starts with its own type string (RFC 4253 section 6.6): it must say the same.
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  const inner = len > 0 && len <= 64 && blob.length >= 4 + len ? blob.subarray(4, 4 + len).toString('latin1') : '';
  if (inner !== type) throw new AuthInputError('publicKey', `the key data does not match its declared type ${type}`);
  const sha256 = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const safeComment = comment?.replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  return { type: type!, base64: base64!, ...(safeComment ? { comment: safeComment } : {}), sha256 };
}
