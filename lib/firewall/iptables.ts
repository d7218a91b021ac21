/**
 * A small evaluator of `iptables-save` output: follows a new inbound TCP connection through
 * the filter table's INPUT chain (and the chains it jumps to) and returns the verdict and
 * the deciding rule. Matches it does not model make a rule "uncertain" rather than guessed.
 */
import { cidrContains } from '../cloud/cidr';

export interface IptRule {
  chain: string;
  /** Position in the chain, 1-based (what `iptables -L --line-numbers` shows). */
  index: number;
  /** The rule as iptables-save printed it (`-A INPUT ...`). */
  text: string;
  args: string[];
}

export interface IptTable {
  policies: Map<string, string>;
  chains: Map<string, IptRule[]>;
}

export interface Packet {
  src: string;
  dport: number;
  /** Interface the client's packets arrive on; null when unknown (then `-i` rules are uncertain). */
  iif?: string | null;
  /** Always a new connection: the handshake of the SSH client. */
}

export interface IptVerdict {
  verdict: 'accept' | 'drop' | 'reject' | 'none';
  /** The rule that decided; absent when the chain policy decided. */
  rule?: IptRule;
  /** Policy that decided (`INPUT policy DROP`). */
  policy?: string;
  /** Rules skipped because they use matches this evaluator does not model. */
  uncertain: IptRule[];
  /** Chains walked, in order (to attribute a ban to fail2ban's f2b-* chain, for example). */
  path: string[];
}

/** Parses one table (`*filter` by default) of iptables-save output. */
export function parseIptablesSave(lines: readonly string[], table = 'filter'): IptTable {
  const policies = new Map<string, string>();
  const chains = new Map<string, IptRule[]>();
  let current: string | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      current = line.slice(1);
      continue;
    }
    if (current !== table) continue;
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (name) {
        policies.set(name, policy ?? '-');
        if (!chains.has(name)) chains.set(name, []);
      }
    } else if (line.startsWith('-A ')) {
      const args = tokenize(line);
      const chain = args[1]!;
      const list = chains.get(chain) ?? [];
      list.push({ chain, index: list.length + 1, text: line, args: args.slice(2) });
      chains.set(chain, list);
    }
  }
  return { policies, chains };
}

function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? m[1] : m[2]!);
  return out;
}

type Match = 'yes' | 'no' | 'unknown';

function portMatches(spec: string, port: number): boolean {
  return spec.split(',').some((part) => {
    const [a, b] = part.split(':');
    const lo = a === '' || a === undefined ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    return port >= lo && port <= hi;
  });
}

/** Does a rule's match part apply to a new TCP connection from `p`? */
function ruleMatches(rule: IptRule, p: Packet): Match {
  const a = rule.args;
  let unknown = false;
  for (let i = 0; i < a.length; i++) {
    let neg = false;
    let tok = a[i]!;
    if (tok === '!') {
      neg = true;
      tok = a[++i]!;
    }
    const val = a[i + 1];
    const test = (ok: boolean): boolean => (neg ? !ok : ok);
    switch (tok) {
      case '-s':
      case '--source':
        if (!test(cidrContains(val!, p.src))) return 'no';
        i++;
        break;
      case '-d':
      case '--destination':
        // The destination is one of the host's own addresses; we cannot tell which here.
        i++;
        break;
      case '-p':
      case '--protocol': {
        const proto = val!.toLowerCase();
        if (!test(proto === 'tcp' || proto === 'all' || proto === '6')) return 'no';
        i++;
        break;
      }
      case '--dport':
      case '--destination-port':
      case '--dports':
      case '--destination-ports':
        if (!test(portMatches(val!, p.dport))) return 'no';
        i++;
        break;
      case '--sport':
      case '--sports':
      case '--source-port':
        // Client source ports are ephemeral: a sport match never selects SSH handshakes.
        if (!neg) return 'no';
        i++;
        break;
      case '-i':
      case '--in-interface': {
        // A rule for another interface does not see this client's packets; without the
        // arrival interface the rule cannot be judged (never "matches everyone").
        const iif = p.iif ?? (isLoopback(p.src) ? 'lo' : null);
        if (iif === null) {
          unknown = true;
        } else if (!test(val!.endsWith('+') ? iif.startsWith(val!.slice(0, -1)) : iif === val)) {
          return 'no';
        }
        i++;
        break;
      }
      case '-o':
      case '--out-interface':
        i++;
        break;
      case '--state':
      case '--ctstate': {
        const states = val!.split(',');
        if (!test(states.includes('NEW') || states.includes('UNTRACKED'))) return 'no';
        i++;
        break;
      }
      case '--dst-type': {
        // Addrtype's route type of the destination: a new connection to sshd in INPUT is
        // addressed to one of the host's own addresses, whose route type is LOCAL (not
        // UNICAST, BROADCAST, MULTICAST...). ufw's ufw-not-local chain RETURNs on it.
        if (!test(val!.split(',').includes('LOCAL'))) return 'no';
        i++;
        break;
      }
      case '--tcp-flags':
        i += 2;
        break;
      case '--syn':
        break;
      case '-m':
      case '--match':
        // Module names carry no condition themselves; their options follow.
        if (!['tcp', 'udp', 'state', 'conntrack', 'multiport', 'comment', 'addrtype'].includes(val!)) unknown = true;
        i++;
        break;
      case '--comment':
        i++;
        break;
      case '-j':
      case '--jump':
      case '-g':
      case '--goto':
        return unknown ? 'unknown' : 'yes';
      default:
        if (tok.startsWith('--')) {
          unknown = true;
          if (val !== undefined && !val.startsWith('-')) i++;
        }
    }
  }
  return unknown ? 'unknown' : 'yes';
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

function target(rule: IptRule): string | undefined {
  const a = rule.args;
  const j = a.findIndex((t) => t === '-j' || t === '--jump' || t === '-g' || t === '--goto');
  return j >= 0 ? a[j + 1] : undefined;
}

/** Follows a new TCP connection from `p.src` to port `p.dport` through INPUT. */
export function evaluateInput(table: IptTable, p: Packet): IptVerdict {
  const uncertain: IptRule[] = [];
  const path: string[] = [];
  const walk = (chain: string, depth: number): Omit<IptVerdict, 'uncertain' | 'path'> | 'return' => {
    if (depth > 32) return 'return';
    path.push(chain);
    for (const rule of table.chains.get(chain) ?? []) {
      const m = ruleMatches(rule, p);
      if (m === 'no') continue;
      const t = target(rule);
      if (m === 'unknown') {
        if (t === 'DROP' || t === 'REJECT' || (t && table.chains.has(t))) uncertain.push(rule);
        continue;
      }
      if (!t) continue;
      if (t === 'ACCEPT') return { verdict: 'accept', rule };
      if (t === 'DROP') return { verdict: 'drop', rule };
      if (t === 'REJECT') return { verdict: 'reject', rule };
      if (t === 'RETURN') return 'return';
      if (table.chains.has(t)) {
        const r = walk(t, depth + 1);
        if (r !== 'return') return r;
      }
      // LOG, MARK and other non-terminating targets: go on.
    }
    return 'return';
  };
  const r = walk('INPUT', 0);
  if (r !== 'return') return { ...r, uncertain, path };
  const policy = table.policies.get('INPUT') ?? 'ACCEPT';
  return {
    verdict: policy === 'DROP' ? 'drop' : policy === 'ACCEPT' || policy === '-' ? 'none' : 'accept',
    ...(policy === 'DROP' ? { policy: `INPUT policy ${policy}` } : {}),
    uncertain,
    path,
  };
}
