/**
 * sshd's own rules for this user and client, read from `sshd -T -C user=,host=,addr=` so Match
 * blocks count: DenyUsers/AllowUsers, DenyGroups/AllowGroups (sshd applies them in that order),
 * PermitRootLogin, PubkeyAuthentication and AuthenticationMethods.
 */
import type { Check } from './types';
import type { Evidence, Fix } from '../report/types';
import { result, shq } from './support/result';
import { configLineFor, isCheckResult, matchPatternList, userOr } from './support/user-facts';
import { judgeAccessConf } from './support/pam-access';

export const USER_ACCESS_TEXT = {
  denyUsers: (u: string, v: string) => `sshd's DenyUsers (${v}) names ${u}: "User ${u} from ... not allowed because listed in DenyUsers".`,
  allowUsers: (u: string, v: string) => `sshd's AllowUsers (${v}) does not include ${u}: every other user is refused.`,
  denyGroups: (u: string, v: string) => `sshd's DenyGroups (${v}) names a group of ${u}.`,
  allowGroups: (u: string, v: string) => `sshd's AllowGroups (${v}) includes none of ${u}'s groups.`,
  root: (v: string) => `PermitRootLogin ${v}: sshd refuses root${v === 'no' ? '' : ' with a key'} ("ROOT LOGIN REFUSED").`,
  pubkey: (u: string, client: string) => `PubkeyAuthentication is off for ${u} from ${client} (a Match block or the global setting): no key is accepted.`,
  methods: (v: string) => `AuthenticationMethods ${v}: a key alone is not enough to log in.`,
  pamAccess: (u: string, client: string, line: number) =>
    `pam_access refuses ${u} from ${client}: /etc/security/access.conf line ${line} denies it ("Access denied ... by PAM account configuration").`,
  pamAccessUnknown: (u: string, client: string, why: string) =>
    `pam_access decides whether ${u} may log in from ${client}, and its rules could not be judged here (${why}).`,
  unread: (why: string) => `sshd -T -C could not run (${why}): sshd's rules for this user were not inspected.`,
  ok: (u: string) => `sshd's Allow/Deny rules, PermitRootLogin and public-key settings let ${u} in from these clients.`,
} as const;

/** A plan only (it changes who may log in): back the file up, change the line, test, reload. */
const editFix = (keyword: string, where: { file: string; line: number; text: string } | undefined, edit: string | null): Fix => {
  if (!where || !edit) {
    return {
      summary: `Change ${keyword} in sshd's configuration (this changes who may log in), then check with sshd -t and reload sshd.`,
      commands: [
        `grep -rni '^[[:space:]]*${keyword}' /etc/ssh/sshd_config /etc/ssh/sshd_config.d/`,
        'sshd -t && (systemctl reload ssh || systemctl reload sshd)',
      ],
    };
  }
  const f = shq(where.file);
  return {
    summary: `Change ${where.file} line ${where.line} (${where.text.trim()}) (this changes who may log in), then check with sshd -t and reload sshd.`,
    commands: [
      `cp -p ${f} ${f}.sshdoctor-$(date -u +%Y%m%dT%H%M%SZ)`,
      `sed -i ${shq(`${where.line}${edit}`)} ${f}`,
      'sshd -t && (systemctl reload ssh || systemctl reload sshd)',
    ],
  };
};

/** sed edits for one line: add a word, drop a word (or comment the line out), set a value. */
const EDIT = {
  add: (word: string) => `s/$/ ${word}/`,
  // Dropping the only word would leave "DenyUsers" with no argument, which sshd refuses: comment it out.
  drop: (text: string, word: string) =>
    text.trim().split(/\s+/).slice(1).includes(word) && text.trim().split(/\s+/).length > 2
      ? `s/[[:space:]]${word.replace(/[.]/g, '\\.')}\\([[:space:]]\\|$\\)/\\1/`
      : 's/^/# sshdoctor: /',
  set: (keyword: string, value: string) => `s/^\\([[:space:]]*\\)[A-Za-z]*.*/\\1${keyword} ${value}/`,
  comment: () => 's/^/# sshdoctor: /',
};

export const userAccessCheck: Check = {
  id: 'user-access',
  title: "sshd's rules for this user",
  description:
    'With --user: the effective DenyUsers, AllowUsers, DenyGroups, AllowGroups, PermitRootLogin, PubkeyAuthentication and AuthenticationMethods for the user and each client (sshd -T -C, so Match blocks apply), with the config line that sets them.',
  needs: ['host'],
  run(facts) {
    const u = userOr(this, facts);
    if (isCheckResult(u)) return u;
    if (!u.exists) return result(this, 'skip', `There is no user ${u.name}: see user-account.`);
    const lines = facts.host!.sshd.configLines;
    const errors = u.effective.filter((e) => e.error);
    if (!u.effective.length || errors.length === u.effective.length) {
      const why = errors[0]?.error ?? 'no output';
      if (facts.host!.meta.uid !== 0) return result(this, 'skip', `needs root: run with sudo or --via sudo (${USER_ACCESS_TEXT.unread(why)})`);
      return result(this, 'error', USER_ACCESS_TEXT.unread(why));
    }
    for (const e of u.effective.filter((x) => !x.error)) {
      const o = e.options;
      const src = `sshd -T -C user=${u.name},addr=${e.client}`;
      const hit = (keyword: string, summary: string, edit: (text: string) => string): ReturnType<typeof result> => {
        const where = configLineFor(lines, keyword);
        const ev: Evidence[] = [{ source: src, text: `${keyword.toLowerCase()} ${(o[keyword.toLowerCase()] ?? []).join(' ')}` }];
        if (where) ev.push({ source: where.file, line: where.line, text: where.text });
        return result(this, 'fail', summary, ev, editFix(keyword, where, where ? edit(where.text) : null));
      };
      const list = (k: string) => (o[k] ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
      // user@host patterns match on the user part here; the host part is the client's.
      const userMatches = (pats: string[]) =>
        matchPatternList(
          pats.map((p) => p.split('@')[0]!),
          u.name,
        );
      const deny = list('denyusers');
      if (deny.length && userMatches(deny)) return hit('DenyUsers', USER_ACCESS_TEXT.denyUsers(u.name, deny.join(' ')), (t) => EDIT.drop(t, u.name));
      const allow = list('allowusers');
      if (allow.length && !userMatches(allow)) return hit('AllowUsers', USER_ACCESS_TEXT.allowUsers(u.name, allow.join(' ')), () => EDIT.add(u.name));
      const denyG = list('denygroups');
      if (denyG.length && u.groups.some((g) => matchPatternList(denyG, g)))
        return hit('DenyGroups', USER_ACCESS_TEXT.denyGroups(u.name, denyG.join(' ')), (t) =>
          EDIT.drop(t, u.groups.find((g) => matchPatternList(denyG, g)) ?? ''),
        );
      const allowG = list('allowgroups');
      if (allowG.length && !u.groups.some((g) => matchPatternList(allowG, g)))
        return hit('AllowGroups', USER_ACCESS_TEXT.allowGroups(u.name, allowG.join(' ')), () => EDIT.add(u.primaryGroup?.name ?? u.groups[0] ?? u.name));
      const prl = o.permitrootlogin?.[0];
      if (u.uid === 0 && (prl === 'no' || (prl === 'forced-commands-only' && facts.user?.publicKey)))
        return hit('PermitRootLogin', USER_ACCESS_TEXT.root(prl), () => EDIT.set('PermitRootLogin', 'prohibit-password'));
      if (facts.user?.publicKey && o.pubkeyauthentication?.[0] === 'no')
        return hit('PubkeyAuthentication', USER_ACCESS_TEXT.pubkey(u.name, e.client), () => EDIT.set('PubkeyAuthentication', 'yes'));
      const methods = o.authenticationmethods?.[0];
      if (facts.user?.publicKey && methods && methods !== 'any' && !methods.split(/\s+/).some((m) => m === 'publickey')) {
        return hit('AuthenticationMethods', USER_ACCESS_TEXT.methods(methods), () => EDIT.comment());
      }
    }
    const usePam = u.effective.find((e) => !e.error)?.options.usepam?.[0] !== 'no';
    const access = u.pam?.find((p) => /^account\s.*pam_access\.so/.test(p.text));
    if (usePam && access) {
      for (const c of facts.clients ?? []) {
        const a = judgeAccessConf(u.accessRules, u.name, u.groups, c.ip);
        const ev: Evidence[] = [{ source: access.file, line: access.line, text: access.text }];
        if (a.rule) ev.push({ source: '/etc/security/access.conf', line: a.rule.line, text: a.rule.text });
        if (a.verdict === 'deny') {
          return result(this, 'fail', USER_ACCESS_TEXT.pamAccess(u.name, c.ip, a.rule!.line), ev, {
            summary: `Edit /etc/security/access.conf line ${a.rule!.line} (this changes who may log in).`,
            commands: [`sed -n '${a.rule!.line}p' /etc/security/access.conf   # the rule that denies ${u.name} from ${c.ip}`],
          });
        }
        if (a.verdict === 'unknown') return result(this, 'warn', USER_ACCESS_TEXT.pamAccessUnknown(u.name, c.ip, a.why!), ev);
      }
    }
    return result(this, 'pass', USER_ACCESS_TEXT.ok(u.name));
  },
};
