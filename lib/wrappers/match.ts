/**
 * Pattern matching as in Debian's libwrap 7.6.q hosts_access.c: list_match with nested
 * EXCEPT, daemon@host, user@host, host_match (netgroups, /files, KNOWN, LOCAL, net/mask,
 * [IPv6]/len) and string_match (wildcards, .suffix, prefix., ALL, KNOWN, exact).
 */
import { atoi, dotQuadAddr, parseIpv6 } from './addr';

export const UNKNOWN = 'unknown';
const PARANOID = 'paranoid';

/** One endpoint as libwrap's host_info sees it. */
export interface HostInfo {
  role: 'client' | 'server';
  /** Address text, or "unknown". */
  addr: string;
  v6: number[] | null;
  /** Host name, "unknown" when lookup failed, "paranoid" when name and address disagree. */
  name: string;
  /** True when the caller supplied this endpoint's name or address (no assumption made). */
  nameGiven: boolean;
  addrGiven: boolean;
}

/** Per-decision evaluation state: inputs plus caveats collected along the way. */
export interface MatchContext {
  daemon: string;
  client: HostInfo;
  server: HostInfo;
  /** Pattern files by path: tokens, or null when unreadable. */
  patternFile: (path: string) => string[] | null;
  /** Tokens whose outcome depended on a name we did not know. */
  nameDependent: Set<string>;
  serverDependent: Set<string>;
  notes: Set<string>;
  /** Pattern files being read, outermost first. */
  fileStack: string[];
  /** Pattern-file tokens left to evaluate in this decision. */
  fileBudget: number;
}

const eq = (a: string, b: string) => a.length === b.length && a.toLowerCase() === b.toLowerCase();

/** libwrap's split_at(): the first `delim` outside [brackets]; null when none. */
export function splitAt(s: string, delim: string): [string, string] | null {
  let bracket = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') bracket++;
    else if (c === ']') bracket--;
    else if (bracket === 0 && c === delim) return [s.slice(0, i), s.slice(i + 1)];
  }
  return null;
}

/** Case-insensitive glob with `*` and `?` (Debian's match_pattern_ylo). Iterative: no backtracking blow-up. */
export function wildcardMatch(text: string, pattern: string): boolean {
  const s = text.toLowerCase();
  const p = pattern.toLowerCase();
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP !== -1) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

const hostnameKnown = (name: string) => !eq(name, UNKNOWN) && !eq(name, PARANOID);

/** sscanf("%d"): digits required after optional blanks and sign. */
function scanInt(s: string): number | null {
  return /^[\s]*[+-]?\d/.test(s) ? atoi(s) : null;
}

function ipv6Words(s: string): number[] | null {
  return s.includes(':') ? parseIpv6(s) : null;
}

/** string_match(): `tok` against a daemon name, address text, host name or user. */
export function stringMatch(tok: string, s: string): boolean {
  if (tok.includes('*') || tok.includes('?')) return wildcardMatch(s, tok);
  if (tok[0] === '.') {
    const n = s.length - tok.length;
    return n > 0 && eq(tok, s.slice(n));
  }
  if (eq(tok, 'ALL')) return true;
  if (eq(tok, 'KNOWN')) return !eq(s, UNKNOWN);
  if (tok[tok.length - 1] === '.') return s.slice(0, tok.length).toLowerCase() === tok.toLowerCase();
  if (tok[0] === '[' && tok[tok.length - 1] === ']') {
    const pat = ipv6Words(tok.slice(1, -1));
    const addr = pat ? ipv6Words(s) : null;
    return pat !== null && addr !== null && pat.every((w, i) => w === addr[i]);
  }
  return eq(tok, s);
}

/** True when libwrap would also try `tok` against the host name (NOT_INADDR). */
export function notInaddr(tok: string): boolean {
  return /[^0-9./]/.test(tok);
}

/** masked_match(): `net/mask` or `[net]/prefixlen` against an address. */
export function maskedMatch(net: string, mask: string, host: HostInfo): boolean {
  if (net[0] === '[') {
    if (net[net.length - 1] !== ']') return false;
    const n = ipv6Words(net.slice(1, -1));
    // Unlike the IPv4 branch, a prefix without digits is atoi()'s 0: it matches every IPv6 client.
    const len = atoi(mask);
    if (!n || len < 0 || len > 128) return false;
    const a = host.v6;
    if (!a) return false;
    for (let i = 0; i < 8; i++) {
      const bits = Math.max(0, Math.min(16, len - i * 16));
      const m = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
      if (((a[i] as number) & m) !== ((n[i] as number) & m)) return false;
    }
    return true;
  }
  const addr = dotQuadAddr(host.addr);
  if (addr === null) return false;
  const netv = dotQuadAddr(net);
  if (netv === null) return false;
  let maskv = dotQuadAddr(mask);
  if (maskv === null) {
    const len = scanInt(mask);
    if (len === null || len <= 0 || len > 32) return false;
    maskv = len === 32 ? 0xffffffff : 0xffffffff - (2 ** (32 - len) - 1);
  }
  return (addr & maskv) >>> 0 === netv;
}

/** host_match(): one client (or server) pattern against an endpoint. */
export function hostMatch(tok: string, host: HostInfo, ctx: MatchContext): boolean {
  if (tok[0] === '@') {
    ctx.notes.add(`netgroup pattern "${tok}" cannot be evaluated here (NIS); treated as no match`);
    return false;
  }
  if (tok[0] === '/') return fileMatch(tok, host, ctx);
  if (eq(tok, 'KNOWN')) {
    consultName(tok, host, ctx);
    return !eq(host.addr, UNKNOWN) && hostnameKnown(host.name);
  }
  if (eq(tok, 'LOCAL')) {
    consultName(tok, host, ctx);
    return !host.name.includes('.') && hostnameKnown(host.name);
  }
  const netmask = splitAt(tok, '/');
  if (netmask) {
    if (!host.addrGiven) ctx.serverDependent.add(tok);
    return maskedMatch(netmask[0], netmask[1], host);
  }
  if (!host.addrGiven) ctx.serverDependent.add(tok);
  if (stringMatch(tok, host.addr)) return true;
  if (!notInaddr(tok)) return false;
  // A bracketed IPv6 literal can never equal a host name.
  if (tok[0] === '[' && tok[tok.length - 1] === ']' && !tok.includes('*') && !tok.includes('?')) return false;
  consultName(tok, host, ctx);
  return stringMatch(tok, host.name);
}

function consultName(tok: string, host: HostInfo, ctx: MatchContext): void {
  if (host.nameGiven) return;
  if (host.role === 'client') ctx.nameDependent.add(tok);
  else ctx.serverDependent.add(tok);
}

function fileMatch(path: string, host: HostInfo, ctx: MatchContext): boolean {
  // libwrap recurses without bound on a file that names itself (until the process crashes).
  if (ctx.fileStack.includes(path) || ctx.fileStack.length >= 8) {
    ctx.notes.add(`pattern file ${path} names itself (directly or nested 8 deep): libwrap would recurse until it crashes; treated as no match`);
    return false;
  }
  const tokens = ctx.patternFile(path);
  if (tokens === null) {
    ctx.notes.add(`pattern file ${path} could not be read; libwrap treats an unreadable file as no match`);
    return false;
  }
  ctx.fileStack.push(path);
  try {
    for (const t of tokens) {
      if (--ctx.fileBudget < 0) {
        ctx.notes.add(`pattern files: more than ${FILE_BUDGET} patterns evaluated for one decision; stopped, treated as no match`);
        return false;
      }
      if (hostMatch(t, host, ctx)) return true;
    }
    return false;
  } finally {
    ctx.fileStack.pop();
  }
}

/** Pattern-file tokens evaluated per decision before giving up (keeps hostile file graphs bounded). */
export const FILE_BUDGET = 100_000;

/** Splits a pattern file the way fscanf("%s") does. */
export function patternFileTokens(text: string): string[] {
  return text.split(/[ \t\n\v\f\r]+/).filter((t) => t.length > 0);
}

function serverMatch(tok: string, ctx: MatchContext): boolean {
  const at = splitAt(tok.slice(1), '@');
  if (!at) return stringMatch(tok, ctx.daemon);
  const daemonPat = tok[0] + at[0];
  return stringMatch(daemonPat, ctx.daemon) && hostMatch(at[1], ctx.server, ctx);
}

function clientMatch(tok: string, ctx: MatchContext): boolean {
  const at = splitAt(tok.slice(1), '@');
  if (!at) return hostMatch(tok, ctx.client, ctx);
  if (!hostMatch(at[1], ctx.client, ctx)) return false;
  const userPat = tok[0] + at[0];
  ctx.notes.add(`user@host pattern "${tok}": sshd asks the client's ident (RFC 931) service for the user; evaluated as user "unknown" (no ident reply)`);
  return stringMatch(userPat, UNKNOWN);
}

/** list_match(): first match wins, EXCEPT lists nest to the right. */
export function listMatch(tokens: readonly string[], start: number, fn: (tok: string) => boolean): boolean {
  for (let i = start; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    if (eq(tok, 'EXCEPT')) return false;
    if (fn(tok)) {
      let j = i + 1;
      while (j < tokens.length && !eq(tokens[j] as string, 'EXCEPT')) j++;
      if (j >= tokens.length) return true;
      // Nested EXCEPTs are right-associative: a EXCEPT (b EXCEPT c).
      return !listMatch(tokens, j + 1, fn);
    }
  }
  return false;
}

export function daemonListMatch(tokens: readonly string[], ctx: MatchContext): boolean {
  return listMatch(tokens, 0, (t) => serverMatch(t, ctx));
}

export function clientListMatch(tokens: readonly string[], ctx: MatchContext): boolean {
  return listMatch(tokens, 0, (t) => clientMatch(t, ctx));
}
