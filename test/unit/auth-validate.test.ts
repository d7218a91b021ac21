/** The user name and public key a diagnosis asks about: strict, and never a private key. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePublicKey, validateUserName } from '../../lib/auth/validate';
import { runCli } from '../support/cli';
import { hostileArgs } from '../support/hostile-args';

const dir = mkdtempSync(join(tmpdir(), 'sshdoctor-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(type: string): { priv: string; pub: string; fingerprint: string } {
  const f = join(dir, `${type}-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'me@example', '-f', f]);
  return { priv: f, pub: readFileSync(`${f}.pub`, 'utf8'), fingerprint: execFileSync('ssh-keygen', ['-lf', `${f}.pub`], { encoding: 'utf8' }).split(' ')[1]! };
}

describe('validateUserName', () => {
  it.each(['alice', 'ec2-user', 'a.b_c-d', '_svc', 'machine$', 'A'.repeat(32)])('accepts %s', (n) => expect(validateUserName(n)).toBe(n));
  it.each(['', '-rf', '1abc', '.hidden', 'a b', 'a;id', '$(id)', 'a/b', 'A'.repeat(33), 'root\n'])('refuses %j', (n) => {
    expect(() => validateUserName(n)).toThrow(/must be a user name/);
  });
});

describe('parsePublicKey', () => {
  it.each(['ed25519', 'rsa', 'ecdsa'])('reads a real %s .pub with the fingerprint ssh-keygen prints', (type) => {
    const k = keygen(type);
    const parsed = parsePublicKey(k.pub);
    expect(parsed.sha256).toBe(k.fingerprint);
    expect(parsed.comment).toBe('me@example');
    expect(k.pub).toContain(`${parsed.type} ${parsed.base64}`);
  });

  it('refuses a private key, saying none is ever accepted', () => {
    const k = keygen('ed25519');
    expect(() => parsePublicKey(readFileSync(k.priv, 'utf8'))).toThrow(/never accepts a private key/);
  });

  it('refuses a key whose data is of another type than it declares', () => {
    const ed = parsePublicKey(keygen('ed25519').pub);
    expect(() => parsePublicKey(`ssh-rsa ${ed.base64}`)).toThrow(/does not match its declared type ssh-rsa/);
  });

  it.each([
    ['not a key', /key type must be one of/],
    ['ssh-ed25519', /must be an OpenSSH public key line/],
    ['ssh-dss AAAAB3NzaC1kc3M= x', /key type must be one of/],
    ['', /exactly one OpenSSH public key line/],
    ['ssh-ed25519 AAAA;id', /must be an OpenSSH public key line/],
  ])('refuses %j', (text, rule) => {
    expect(() => parsePublicKey(text)).toThrow(rule);
  });

  it('refuses two key lines', () => {
    const a = keygen('ed25519').pub;
    expect(() => parsePublicKey(a + a)).toThrow(/exactly one/);
  });
});

describe('sshdoctor check --user / --public-key: bad input', () => {
  it('hostile --user values exit 2 naming --user, and none reaches a shell', async () => {
    const h = hostileArgs();
    try {
      for (const bad of h.args) {
        const r = await runCli(['check', '--user', bad, '--port', '1']);
        expect(r.code, bad).toBe(2);
        // Values that start with "-" are refused by the option parser itself, also naming --user.
        expect(r.stderr).toMatch(/--user: (must be a user name|Option '--user)/);
      }
      expect(h.touched()).toEqual([]);
    } finally {
      h.cleanup();
    }
  });

  it('--public-key pointing at a private key exits 2 and says no private key is accepted', async () => {
    const k = keygen('ed25519');
    const r = await runCli(['check', '--user', 'alice', '--public-key', k.priv, '--port', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--public-key: looks like a private key');
  });

  it('--public-key without --user exits 2', async () => {
    const r = await runCli(['check', '--public-key', '/dev/null', '--port', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--public-key: needs --user');
  });

  it('--public-key that cannot be read exits 2 naming it', async () => {
    const r = await runCli(['check', '--user', 'alice', '--public-key', join(dir, 'missing.pub'), '--port', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--public-key: cannot read .*missing\.pub: ENOENT/);
  });
});
