/**
 * The real OpenSSH client as the judge of whether a login works, and real key pairs for it.
 * sshdoctor itself never sees the private keys made here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A new key pair in DIR (no passphrase): the private key's path and the public key line. */
export function keygen(dir: string, name: string, type = 'ed25519'): { priv: string; pub: string } {
  const priv = join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', `${name}@sshdoctor-lab`, '-f', priv]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  return { priv, pub: readFileSync(`${priv}.pub`, 'utf8') };
}

const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR'];

/** Does USER log in to HOST with this password (sshpass answers the one prompt)? */
export function passwordLogsIn(host: string, user: string, password: string): boolean {
  const r = spawnSync(
    'sshpass',
    [
      '-p',
      password,
      'ssh',
      '-o',
      'PreferredAuthentications=password',
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'NumberOfPasswordPrompts=1',
      ...CLIENT_OPTS,
      `${user}@${host}`,
      'true',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return r.status === 0;
}

/** Does USER log in to HOST with this private key (batch mode, no agent, no other identity)? */
export function sshLogsIn(host: string, user: string, priv: string): boolean {
  const r = spawnSync(
    'ssh',
    [
      '-i',
      priv,
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=5',
      '-o',
      'LogLevel=ERROR',
      `${user}@${host}`,
      'true',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return r.status === 0;
}
