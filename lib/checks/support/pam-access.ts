/**
 * pam_access's /etc/security/access.conf, judged as pam_access does for one user and one
 * client address: `permission : users : origins`, first matching line wins, no match allows.
 * A user token matches the name or, as pam_access does without `nodefgroup`, a group of that
 * name; `(group)` a group. Origins are matched against PAM_RHOST, which sshd sets to the
 * client's address (with UseDNS no, the default). Tokens this cannot judge (netgroups,
 * user@host, host names and domains) make the answer `unknown`, never `allow`.
 */
import { cidrContains } from '../../cloud/cidr';

export interface AccessAnswer {
  verdict: 'allow' | 'deny' | 'unknown';
  rule?: { line: number; text: string };
  why?: string;
}

type Tri = boolean | null;

/** `A B EXCEPT C D`: any of A B and none of C D; null when a token cannot be judged. */
function listMatch(tokens: string[], match: (t: string) => Tri): Tri {
  const i = tokens.findIndex((t) => t.toUpperCase() === 'EXCEPT');
  const head = i < 0 ? tokens : tokens.slice(0, i);
  const rest = i < 0 ? [] : tokens.slice(i + 1);
  let hit: Tri = false;
  for (const t of head) {
    const m = match(t);
    if (m === true) {
      hit = true;
      break;
    }
    if (m === null) hit = null;
  }
  if (hit !== true) return hit;
  if (!rest.length) return true;
  const except = listMatch(rest, match);
  return except === null ? null : !except;
}

function userToken(t: string, user: string, groups: readonly string[]): Tri {
  if (t.toUpperCase() === 'ALL') return true;
  if (t.startsWith('@') || t.includes('@')) return null;
  const g = /^\((.+)\)$/.exec(t);
  if (g) return groups.includes(g[1]!);
  return t === user || groups.includes(t);
}

function originToken(t: string, ip: string): Tri {
  const up = t.toUpperCase();
  if (up === 'ALL') return true;
  // LOCAL matches a PAM_RHOST without a dot: never an IPv4 client address.
  if (up === 'LOCAL') return ip.includes('.') ? false : null;
  if (/^[\d.]+$/.test(t)) return t.endsWith('.') ? ip.startsWith(t) : ip === t;
  if (/^[\d.]+\/\d+$/.test(t)) {
    try {
      return cidrContains(t, ip);
    } catch {
      return null;
    }
  }
  if (/^[\d.]+\/[\d.]+$/.test(t)) return null;
  if (t.includes(':')) return t.replace(/^\[|\]$/g, '') === ip;
  return null;
}

export function judgeAccessConf(rules: readonly { line: number; text: string }[], user: string, groups: readonly string[], ip: string): AccessAnswer {
  for (const r of rules) {
    const a = r.text.indexOf(':');
    const b = a < 0 ? -1 : r.text.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const perm = r.text.slice(0, a).trim();
    if (perm !== '+' && perm !== '-') continue;
    const users = listMatch(
      r.text
        .slice(a + 1, b)
        .trim()
        .split(/\s+/)
        .filter(Boolean),
      (t) => userToken(t, user, groups),
    );
    if (users === false) continue;
    const origins = listMatch(
      r.text
        .slice(b + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean),
      (t) => originToken(t, ip),
    );
    if (origins === false) continue;
    if (users === null || origins === null) return { verdict: 'unknown', rule: r, why: 'a netgroup, user@host, host name or domain this cannot match' };
    return { verdict: perm === '+' ? 'allow' : 'deny', rule: r };
  }
  return { verdict: 'allow' };
}
