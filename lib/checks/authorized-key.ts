/**
 * The key itself: is it in one of the files sshd reads for this user (AuthorizedKeysFile,
 * expanded), do its options let this client in (from=, expiry-time=), and does sshd accept its
 * algorithm (PubkeyAcceptedAlgorithms)?
 */
import type { Check } from './types';
import type { Evidence, Fix } from '../report/types';
import { result, shq } from './support/result';
import { isCheckResult, matchPatternList, userOr } from './support/user-facts';
import { cidrContains } from '../cloud/cidr';

export const AUTHORIZED_KEY_TEXT = {
  noKey: 'No public key given (pass --public-key): whether a key is listed was not checked.',
  notListed: (u: string, sha: string, files: string[]) => `Key ${sha} is not in ${u}'s authorized keys (${files.join(', ')}).`,
  commandOnly: (u: string) => `AuthorizedKeysCommand decides ${u}'s keys; the key could not be looked up in files.`,
  from: (client: string, pats: string) => `The key's from="${pats}" option does not include ${client}: sshd refuses the key from there.`,
  expired: (when: string) => `The key's expiry-time="${when}" has passed.`,
  algorithm: (type: string, accepted: string) => `sshd does not accept ${type} keys (PubkeyAcceptedAlgorithms ${accepted}).`,
  unreadable: (u: string) => `needs root: run with sudo or --via sudo (${u}'s authorized keys could not be read).`,
  ok: (sha: string, file: string, line: number) => `Key ${sha} is listed in ${file} line ${line}, with nothing that excludes these clients.`,
} as const;

export const AUTHORIZED_KEY_FIX = {
  add: (u: string, file: string, key: string): Fix => ({
    summary: `Add the key to ${file} (this changes who may log in: fix --apply does it only with --authorize-key).`,
    actions: [{ kind: 'authorize-key', user: u, file, key }],
    commands: [
      `install -d -m 700 -o ${shq(u)} -g "$(id -gn ${shq(u)})" ${shq(file.replace(/\/[^/]+$/, ''))}`,
      `printf '%s\\n' ${shq(key)} >> ${shq(file)}`,
      `chown ${shq(u)} ${shq(file)} && chmod 600 ${shq(file)}`,
    ],
  }),
} as const;

/** Key types and the signature algorithms that use them (what PubkeyAcceptedAlgorithms lists). */
const ALGORITHMS: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'sk-ssh-ed25519@openssh.com': ['sk-ssh-ed25519@openssh.com'],
  'sk-ecdsa-sha2-nistp256@openssh.com': ['sk-ecdsa-sha2-nistp256@openssh.com'],
};

/** One option value out of an authorized_keys options string (`from="a,b",no-pty`). */
function option(options: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|,)${name}="([^"]*)"`, 'i').exec(options);
  return m?.[1];
}

function fromAllows(patterns: string, client: string): boolean {
  const list = patterns
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  let ok = false;
  for (const p of list) {
    const neg = p.startsWith('!');
    const pat = neg ? p.slice(1) : p;
    const hit = pat.includes('/') ? safeCidr(pat, client) : matchPatternList([pat], client);
    if (hit && neg) return false;
    if (hit) ok = true;
  }
  return ok;
}

function safeCidr(cidr: string, ip: string): boolean {
  try {
    return cidrContains(cidr, ip);
  } catch {
    return false;
  }
}

export const authorizedKeyCheck: Check = {
  id: 'authorized-key',
  title: 'Public key listed and usable',
  description:
    "With --user --public-key: finds the key in the user's authorized-keys files (as sshd expands AuthorizedKeysFile), judges its from= and expiry-time= options for each client, and PubkeyAcceptedAlgorithms.",
  needs: ['host'],
  run(facts) {
    const u = userOr(this, facts);
    if (isCheckResult(u)) return u;
    const key = facts.user?.publicKey;
    if (!key) return result(this, 'skip', AUTHORIZED_KEY_TEXT.noKey);
    if (!u.exists) return result(this, 'skip', `There is no user ${u.name}: see user-account.`);
    const eff = u.effective.find((e) => !e.error)?.options ?? {};
    const accepted = (eff.pubkeyacceptedalgorithms ?? eff.pubkeyacceptedkeytypes ?? [])[0];
    if (accepted) {
      const list = accepted.split(',');
      if (!(ALGORITHMS[key.type] ?? [key.type]).some((a) => list.includes(a))) {
        return result(this, 'fail', AUTHORIZED_KEY_TEXT.algorithm(key.type, accepted), [{ source: 'sshd -T', text: `pubkeyacceptedalgorithms ${accepted}` }]);
      }
    }
    const found = u.authorizedKeys.flatMap((f) => f.keyLines.map((k) => ({ file: f.path, ...k })));
    if (!found.length) {
      if (u.authorizedKeys.some((f) => f.unreadable)) return result(this, 'skip', AUTHORIZED_KEY_TEXT.unreadable(u.name));
      const cmd = eff.authorizedkeyscommand?.[0];
      if (cmd && cmd !== 'none')
        return result(this, 'warn', AUTHORIZED_KEY_TEXT.commandOnly(u.name), [{ source: 'sshd -T', text: `authorizedkeyscommand ${cmd}` }]);
      const files = u.authorizedKeys.map((f) => f.path);
      const ev: Evidence[] = [{ source: 'sshd -T', text: `authorizedkeysfile ${(eff.authorizedkeysfile ?? []).join(' ') || '(default)'}` }];
      for (const f of u.authorizedKeys)
        ev.push({ source: f.path, text: f.missing ? `missing (${f.missing})` : `${f.lines ?? 0} key line(s), none is ${key.sha256}` });
      return result(
        this,
        'fail',
        AUTHORIZED_KEY_TEXT.notListed(u.name, key.sha256, files),
        ev,
        AUTHORIZED_KEY_FIX.add(u.name, files[0] ?? `${u.home}/.ssh/authorized_keys`, `${key.type} ${key.base64}`),
      );
    }
    const first = found[0]!;
    const evidence: Evidence[] = [{ source: first.file, line: first.line, text: `${first.options ? `${first.options} ` : ''}${key.type} ... (${key.sha256})` }];
    const from = option(first.options, 'from');
    if (from !== undefined) {
      const refused = (facts.clients ?? []).map((c) => c.ip).filter((ip) => !fromAllows(from, ip));
      if (refused.length) return result(this, 'fail', AUTHORIZED_KEY_TEXT.from(refused.join(', '), from), evidence);
    }
    const expiry = option(first.options, 'expiry-time');
    if (expiry && /^\d{8}/.test(expiry) && u.today !== null) {
      const day = Date.UTC(Number(expiry.slice(0, 4)), Number(expiry.slice(4, 6)) - 1, Number(expiry.slice(6, 8))) / 86_400_000;
      if (day < u.today) return result(this, 'fail', AUTHORIZED_KEY_TEXT.expired(expiry), evidence);
    }
    return result(this, 'pass', AUTHORIZED_KEY_TEXT.ok(key.sha256, first.file, first.line), evidence);
  },
};
