/**
 * An evaluator of `nft -j list ruleset`: follows a new inbound TCP connection from one client
 * through every `type filter hook input` base chain (families inet, ip, ip6), lowest priority
 * first, with jumps, gotos, returns, named and anonymous sets, ranges and prefixes. A drop or
 * reject in any base chain ends the packet; an accept only ends the chain it is in. Any
 * expression it does not model makes the answer "unknown" with that rule cited, never "accept".
 */
import { isIP } from 'node:net';
import { cidrContains } from '../cloud/cidr';

/** One rule of the ruleset, with a text rendering for evidence. */
export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number | null;
  expr: unknown[];
  /** nft-like text of the rule (`tcp dport 22 ip saddr @banned drop`). */
  text: string;
}

export interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  type?: string;
  prio?: number;
  policy?: string;
  rules: NftRule[];
}

export interface NftSet {
  family: string;
  table: string;
  name: string;
  flags: string[];
  elem: unknown[];
}

export interface NftRuleset {
  chains: NftChain[];
  sets: NftSet[];
}

export interface NftPacket {
  src: string;
  dport: number;
  /** Interface the client's packets arrive on; null when the collector could not tell. */
  iif: string | null;
  /** The host address the client connects to; null when unknown. */
  dst?: string | null;
}

export type NftOutcome = 'accept' | 'drop' | 'reject' | 'unknown';

/** What one base chain does with the packet. */
export interface NftChainVerdict {
  chain: NftChain;
  verdict: NftOutcome;
  /** The rule that decided; absent when the policy decided (or nothing matched). */
  rule?: NftRule;
  /** `policy drop` when the base chain's policy decided. */
  policy?: string;
  /** Rules whose match could not be judged and whose verdict could change the outcome. */
  uncertain: NftRule[];
  /** Chains walked, in order. */
  path: string[];
}

export interface NftVerdict {
  /** `none` when no input base chain exists for the client's family. */
  verdict: NftOutcome | 'none';
  /** The base chain verdict that decided (a drop/reject, or the first unknown). */
  decidedBy?: NftChainVerdict;
  chains: NftChainVerdict[];
}

/** Raised when the JSON is not an nft ruleset: the caller reports it as not evaluable. */
export class NftJsonError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Parses `nft -j list ruleset` output. Throws {@link NftJsonError} when it is not one. */
export function parseNftJson(text: string): NftRuleset {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new NftJsonError(`nft -j output is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new NftJsonError('nft -j output has no "nftables" array');
  const chains = new Map<string, NftChain>();
  const sets: NftSet[] = [];
  const key = (f: unknown, t: unknown, c: unknown) => `${String(f)}\u0000${String(t)}\u0000${String(c)}`;
  for (const item of doc.nftables as unknown[]) {
    if (!isObj(item)) continue;
    if (isObj(item.chain)) {
      const c = item.chain;
      const chain: NftChain = {
        family: String(c.family),
        table: String(c.table),
        name: String(c.name),
        ...(typeof c.hook === 'string' ? { hook: c.hook } : {}),
        ...(typeof c.type === 'string' ? { type: c.type } : {}),
        ...(typeof c.prio === 'number' ? { prio: c.prio } : {}),
        ...(typeof c.policy === 'string' ? { policy: c.policy } : {}),
        rules: chains.get(key(c.family, c.table, c.name))?.rules ?? [],
      };
      chains.set(key(c.family, c.table, c.name), chain);
    } else if (isObj(item.rule)) {
      const r = item.rule;
      const k = key(r.family, r.table, r.chain);
      const chain = chains.get(k) ?? { family: String(r.family), table: String(r.table), name: String(r.chain), rules: [] };
      chains.set(k, chain);
      const expr = Array.isArray(r.expr) ? r.expr : [];
      chain.rules.push({
        family: chain.family,
        table: chain.table,
        chain: chain.name,
        handle: typeof r.handle === 'number' ? r.handle : null,
        expr,
        text: renderRule(expr),
      });
    } else if (isObj(item.set) || isObj(item.map)) {
      const s = (item.set ?? item.map) as Obj;
      sets.push({
        family: String(s.family),
        table: String(s.table),
        name: String(s.name),
        flags: Array.isArray(s.flags) ? s.flags.map(String) : [],
        elem: Array.isArray(s.elem) ? s.elem : [],
      });
    }
  }
  return { chains: [...chains.values()], sets };
}

// ---- rendering (evidence text) ----

function renderValue(v: unknown): string {
  if (typeof v === 'string') return v.startsWith('@') ? v : /^[\w.:/-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(renderValue).join(',');
  if (isObj(v)) {
    if (isObj(v.payload)) return `${String(v.payload.protocol)} ${String(v.payload.field)}`;
    if (isObj(v.meta))
      return v.meta.key === 'iif' || v.meta.key === 'iifname' || v.meta.key === 'oif' || v.meta.key === 'oifname'
        ? String(v.meta.key)
        : `meta ${String(v.meta.key)}`;
    if (isObj(v.ct)) return `ct ${String(v.ct.key)}`;
    if (isObj(v.prefix)) return `${String(v.prefix.addr)}/${String(v.prefix.len)}`;
    if (Array.isArray(v.range)) return `${renderValue(v.range[0])}-${renderValue(v.range[1])}`;
    if (Array.isArray(v.set)) return `{ ${v.set.map(renderValue).join(', ')} }`;
    if (isObj(v.elem)) return renderValue(v.elem.val);
  }
  return JSON.stringify(v);
}

function renderStmt(s: unknown): string {
  if (!isObj(s)) return JSON.stringify(s);
  const [k] = Object.keys(s);
  const v = k === undefined ? undefined : s[k];
  switch (k) {
    case 'match': {
      const m = v as Obj;
      const op = m.op === '==' || m.op === 'in' ? '' : `${String(m.op)} `;
      return `${renderValue(m.left)} ${op}${renderValue(m.right)}`;
    }
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return k;
    case 'reject':
      return 'reject';
    case 'jump':
    case 'goto':
      return `${k} ${String((v as Obj).target)}`;
    case 'counter':
      return 'counter';
    case 'log':
      return isObj(v) && typeof v.prefix === 'string' ? `log prefix ${JSON.stringify(v.prefix)}` : 'log';
    default:
      return `${k} ${JSON.stringify(v)}`;
  }
}

/** nft-like text of a rule's expression list. */
export function renderRule(expr: readonly unknown[]): string {
  return expr.map(renderStmt).join(' ');
}

// ---- matching ----

type Match = 'yes' | 'no' | 'unknown';

function ipv4Num(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/** Does one value (address, port, string) belong to a set element / literal `rv`? */
function valueIn(rv: unknown, value: string | number, sets: NftSet[], rule: NftRule): Match {
  if (typeof rv === 'string' && rv.startsWith('@')) {
    const set = sets.find((s) => s.family === rule.family && s.table === rule.table && s.name === rv.slice(1));
    if (!set) return 'unknown';
    return anyOf(set.elem, value, sets, rule);
  }
  if (isObj(rv) && Array.isArray(rv.set)) return anyOf(rv.set, value, sets, rule);
  if (Array.isArray(rv)) return anyOf(rv, value, sets, rule);
  if (isObj(rv) && isObj(rv.elem)) return valueIn(rv.elem.val, value, sets, rule);
  if (isObj(rv) && isObj(rv.prefix)) {
    return typeof value === 'string' && isIP(value) ? (cidrContains(`${String(rv.prefix.addr)}/${String(rv.prefix.len)}`, value) ? 'yes' : 'no') : 'unknown';
  }
  if (isObj(rv) && Array.isArray(rv.range)) {
    const [lo, hi] = rv.range;
    if (typeof value === 'number' && typeof lo === 'number' && typeof hi === 'number') return value >= lo && value <= hi ? 'yes' : 'no';
    if (typeof value === 'string' && isIP(value) === 4 && typeof lo === 'string' && typeof hi === 'string' && isIP(lo) === 4 && isIP(hi) === 4) {
      const n = ipv4Num(value);
      return n >= ipv4Num(lo) && n <= ipv4Num(hi) ? 'yes' : 'no';
    }
    if (typeof value === 'string' && isIP(value) === 6 && typeof lo === 'string' && typeof hi === 'string') {
      // A range of IPv6 addresses: exact only at the ends (ranges there are rare).
      return value === lo || value === hi ? 'yes' : 'unknown';
    }
    return 'unknown';
  }
  if (typeof rv === 'number' || typeof rv === 'string') {
    if (typeof value === 'string' && isIP(value) && typeof rv === 'string' && isIP(rv)) return cidrContains(rv, value) ? 'yes' : 'no';
    if (typeof value === 'number' && typeof rv === 'string') {
      // Service names (`ssh`) appear when nft resolves ports; only the common ones are known.
      const named: Record<string, number> = { ssh: 22, http: 80, https: 443 };
      return named[rv] === undefined ? 'unknown' : named[rv] === value ? 'yes' : 'no';
    }
    return rv === value ? 'yes' : 'no';
  }
  return 'unknown';
}

function anyOf(list: readonly unknown[], value: string | number, sets: NftSet[], rule: NftRule): Match {
  let unknown = false;
  for (const e of list) {
    const m = valueIn(e, value, sets, rule);
    if (m === 'yes') return 'yes';
    if (m === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : 'no';
}

function negate(m: Match, op: unknown): Match {
  if (op === '!=') return m === 'yes' ? 'no' : m === 'no' ? 'yes' : 'unknown';
  return m;
}

function isLoopback(ip: string): boolean {
  return cidrContains('127.0.0.0/8', ip) || ip === '::1';
}

/** Interface name match with nft's trailing `*` wildcard. */
function ifaceMatches(pattern: unknown, iif: string): Match {
  if (Array.isArray(pattern) || (isObj(pattern) && Array.isArray(pattern.set))) {
    const list = (Array.isArray(pattern) ? pattern : (pattern as Obj).set) as unknown[];
    return list.some((p) => ifaceMatches(p, iif) === 'yes') ? 'yes' : 'no';
  }
  if (typeof pattern !== 'string') return 'unknown';
  if (pattern.endsWith('*') && !pattern.endsWith('\\*')) return iif.startsWith(pattern.slice(0, -1)) ? 'yes' : 'no';
  return pattern === iif ? 'yes' : 'no';
}

function matchExpr(m: Obj, p: NftPacket, v6: boolean, sets: NftSet[], rule: NftRule): Match {
  const left = m.left;
  const op = m.op;
  if (op !== '==' && op !== '!=' && op !== 'in') return 'unknown';
  const right = m.right;
  if (isObj(left) && isObj(left.payload)) {
    const proto = String(left.payload.protocol);
    const field = String(left.payload.field);
    if (proto === 'ip' || proto === 'ip6') {
      // `ip saddr` carries an implicit "IPv4 only" dependency (and `ip6 saddr` IPv6 only).
      if ((proto === 'ip6') !== v6) return 'no';
      if (field === 'saddr') return negate(valueIn(right, p.src, sets, rule), op);
      if (field === 'daddr') return p.dst ? negate(valueIn(right, p.dst, sets, rule), op) : 'unknown';
      if ((field === 'protocol' && proto === 'ip') || (field === 'nexthdr' && proto === 'ip6')) return negate(valueIn(right, 'tcp', sets, rule), op);
      return 'unknown';
    }
    if (proto === 'tcp' || proto === 'th') {
      if (field === 'dport') return negate(valueIn(right, p.dport, sets, rule), op);
      // Client source ports are ephemeral: a sport match never selects SSH handshakes.
      if (field === 'sport') return op === '!=' ? 'unknown' : 'no';
      return 'unknown';
    }
    if (proto === 'udp' || proto === 'icmp' || proto === 'icmpv6' || proto === 'sctp' || proto === 'dccp' || proto === 'udplite') {
      // Any udp/icmp header match implies that protocol: a TCP packet never matches it.
      return 'no';
    }
    return 'unknown';
  }
  if (isObj(left) && isObj(left.meta)) {
    const k = String(left.meta.key);
    if (k === 'l4proto') return negate(valueIn(right, 'tcp', sets, rule), op);
    if (k === 'nfproto') return negate(valueIn(right, v6 ? 'ipv6' : 'ipv4', sets, rule), op);
    if (k === 'iif' || k === 'iifname') {
      if (p.iif === null) {
        // Loopback is the one interface known without the collector's route facts.
        if (right === 'lo' && !isLoopback(p.src)) return negate('no', op);
        return 'unknown';
      }
      return negate(ifaceMatches(right, p.iif), op);
    }
    return 'unknown';
  }
  if (isObj(left) && isObj(left.ct)) {
    const k = String(left.ct.key);
    if (k === 'state') {
      const states = Array.isArray(right) ? right.map(String) : isObj(right) && Array.isArray(right.set) ? right.set.map(String) : [String(right)];
      return negate(states.includes('new') ? 'yes' : 'no', op);
    }
    if (k === 'status') {
      // A client connecting straight to the host's own address is not DNATed (firewalld's
      // `ct status dnat accept`); other status bits are not modelled.
      const st = Array.isArray(right) ? right.map(String) : [String(right)];
      return st.every((s) => s === 'dnat' || s === 'snat') ? negate('no', op) : 'unknown';
    }
    return 'unknown';
  }
  return 'unknown';
}

type Stmt = { kind: 'verdict'; verdict: 'accept' | 'drop' | 'reject' | 'return' | 'continue' } | { kind: 'jump' | 'goto'; target: string } | { kind: 'none' };

/** Matches a rule and returns its terminal statement. */
function ruleOutcome(rule: NftRule, p: NftPacket, v6: boolean, sets: NftSet[]): { match: Match; stmt: Stmt } {
  let match: Match = 'yes';
  let stmt: Stmt = { kind: 'none' };
  for (const e of rule.expr) {
    if (!isObj(e)) {
      match = match === 'no' ? 'no' : 'unknown';
      continue;
    }
    const [k] = Object.keys(e);
    const v = k === undefined ? undefined : e[k];
    switch (k) {
      case 'match': {
        if (match === 'no') break;
        const m = isObj(v) ? matchExpr(v, p, v6, sets, rule) : 'unknown';
        if (m === 'no') match = 'no';
        else if (m === 'unknown') match = 'unknown';
        break;
      }
      case 'counter':
      case 'log':
      case 'comment':
      case 'notrack':
      case 'mangle':
      case 'quota':
      case 'set':
        // Statements with no bearing on the verdict of this packet.
        break;
      case 'limit':
        // The first SYN of one client is within any rate; `limit ... over` matches only above it.
        if (isObj(v) && v.inv === true && match !== 'no') match = 'no';
        break;
      case 'accept':
      case 'drop':
      case 'return':
      case 'continue':
        stmt = { kind: 'verdict', verdict: k };
        break;
      case 'reject':
        stmt = { kind: 'verdict', verdict: 'reject' };
        break;
      case 'jump':
      case 'goto':
        stmt = { kind: k, target: String((v as Obj)?.target) };
        break;
      default:
        // xt (iptables compat), fib, socket, osf, meta mark ...: not modelled.
        if (match !== 'no') match = 'unknown';
    }
    if (stmt.kind !== 'none') break;
  }
  return { match, stmt };
}

/** Chain result while walking: a verdict, or fall through to the caller (`return`). */
type Walk = { verdict: 'accept' | 'drop' | 'reject'; rule: NftRule } | { verdict: 'return' };

function evaluateBase(rs: NftRuleset, base: NftChain, p: NftPacket, v6: boolean): NftChainVerdict {
  const uncertain: NftRule[] = [];
  const path: string[] = [];
  const find = (name: string) => rs.chains.find((c) => c.family === base.family && c.table === base.table && c.name === name);
  let unknownLoop = false;
  const walk = (chain: NftChain, depth: number): Walk => {
    if (depth > 32) {
      unknownLoop = true;
      return { verdict: 'return' };
    }
    path.push(chain.name);
    for (const rule of chain.rules) {
      const { match, stmt } = ruleOutcome(rule, p, v6, rs.sets);
      if (match === 'no' || stmt.kind === 'none') continue;
      if (match === 'unknown') {
        uncertain.push(rule);
        continue;
      }
      if (stmt.kind === 'verdict') {
        if (stmt.verdict === 'return') return { verdict: 'return' };
        if (stmt.verdict === 'continue') continue;
        return { verdict: stmt.verdict, rule };
      }
      const target = find(stmt.target);
      if (!target) {
        uncertain.push(rule);
        continue;
      }
      const r = walk(target, depth + 1);
      if (r.verdict !== 'return') return r;
      // goto does not come back: the calling chain's remaining rules are skipped.
      if (stmt.kind === 'goto') return { verdict: 'return' };
    }
    return { verdict: 'return' };
  };
  const r = walk(base, 0);
  const policy = base.policy ?? 'accept';
  const decided: Omit<NftChainVerdict, 'uncertain' | 'path' | 'chain'> =
    r.verdict !== 'return'
      ? { verdict: r.verdict, rule: r.rule }
      : { verdict: policy === 'drop' ? 'drop' : 'accept', ...(policy === 'drop' ? { policy: 'policy drop' } : {}) };
  // An unjudged rule whose own verdict differs from the outcome could have changed it.
  const decisive = uncertain.filter((u) => {
    const { stmt } = ruleOutcome(u, p, v6, rs.sets);
    if (stmt.kind !== 'verdict') return true;
    const own = stmt.verdict === 'reject' ? 'drop' : stmt.verdict;
    const out = decided.verdict === 'reject' ? 'drop' : decided.verdict;
    return own !== out;
  });
  const verdict: NftOutcome = decisive.length || unknownLoop ? 'unknown' : decided.verdict;
  return { chain: base, ...decided, verdict, uncertain: decisive, path };
}

/** The input-hook filter base chains that see the client's packets, lowest priority first. */
export function inputBaseChains(rs: NftRuleset, v6: boolean): NftChain[] {
  return rs.chains
    .filter((c) => c.hook === 'input' && (c.type ?? 'filter') === 'filter' && (c.family === 'inet' || c.family === (v6 ? 'ip6' : 'ip')))
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.prio ?? 0) - (b.c.prio ?? 0) || a.i - b.i)
    .map(({ c }) => c);
}

/**
 * Follows a new TCP connection from `p.src` to `p.dport` through every input base chain.
 * `skip` leaves out base chains judged elsewhere (iptables-nft's own tables).
 */
export function evaluateNftInput(rs: NftRuleset, p: NftPacket, skip: (c: NftChain) => boolean = () => false): NftVerdict {
  const v6 = isIP(p.src) === 6;
  const bases = inputBaseChains(rs, v6).filter((c) => !skip(c));
  if (!bases.length) return { verdict: 'none', chains: [] };
  const chains = bases.map((b) => evaluateBase(rs, b, p, v6));
  // A certain drop in any base chain stops the packet whatever the others do.
  const blocked = chains.find((c) => c.verdict === 'drop' || c.verdict === 'reject');
  if (blocked) return { verdict: blocked.verdict, decidedBy: blocked, chains };
  const unknown = chains.find((c) => c.verdict === 'unknown');
  if (unknown) return { verdict: 'unknown', decidedBy: unknown, chains };
  return { verdict: 'accept', chains };
}

/** `family table chain handle N` for evidence. */
export function nftRuleRef(r: NftRule): string {
  return `${r.family} ${r.table} ${r.chain}${r.handle !== null ? ` handle ${r.handle}` : ''}`;
}
