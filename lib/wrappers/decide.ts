/**
 * hosts_access(): hosts.allow first, then hosts.deny, first match wins, no match grants.
 *
 * For speed each file is compiled, per daemon/server, into a plan: runs of rules whose client
 * lists hold only exact addresses (DenyHosts style) collapse into one Map lookup, other rules
 * stay in file order between them, so first-match order is kept.
 */
import { clientAddress, formatIpv6, parseIpv6 } from './addr';
import { clientListMatch, daemonListMatch, FILE_BUDGET, patternFileTokens, UNKNOWN, type HostInfo, type MatchContext } from './match';
import type { HostsFile, Rule, WrappersClient, WrappersDecision, WrappersPolicy } from './types';

/** `daemonMiss`: the daemon list did not match, but only because the server was unknown. */
type Step = { map: Map<string, number | number[]> } | { rule: number; daemonMiss?: true };

interface Plan {
  steps: Step[];
  /** Daemon-list caveats (server-dependent patterns) by rule index. */
  daemonCaveats: Map<number, string[]>;
}

const plans = new WeakMap<HostsFile, Map<string, Plan>>();
const patternCaches = new WeakMap<WrappersPolicy, Map<string, string[] | null>>();

/** The map key of a token that only ever equals one address text; null if it never matches; undefined if not exact. */
export function exactKey(tok: string): string | null | undefined {
  if (/^[0-9](?:[0-9.]*[0-9])?$/.test(tok)) return tok;
  if (tok.length > 2 && tok[0] === '[' && tok[tok.length - 1] === ']' && !/[*?/@[\]]/.test(tok.slice(1, -1))) {
    const w = parseIpv6(tok.slice(1, -1));
    // An unparsable literal never matches: null key, dropped from the map.
    return w ? formatIpv6(w) : null;
  }
  return undefined;
}

function simpleKeys(rule: Rule): (string | null)[] | undefined {
  const keys: (string | null)[] = [];
  for (const t of rule.clients) {
    const k = exactKey(t);
    if (k === undefined) return undefined;
    keys.push(k);
  }
  return keys;
}

function buildPlan(file: HostsFile, ctx: MatchContext): Plan {
  const steps: Step[] = [];
  const daemonCaveats = new Map<number, string[]>();
  let map: Map<string, number | number[]> | null = null;
  // Daemon lists repeat (DenyHosts writes "sshd" or "ALL" on every line): evaluate each once.
  const seen = new Map<string, { matched: boolean; server: string[]; notes: string[] }>();
  file.rules.forEach((rule, idx) => {
    const listKey = rule.daemons.length === 1 ? (rule.daemons[0] as string) : rule.daemons.join('\0');
    let d = seen.get(listKey);
    if (!d) {
      ctx.serverDependent.clear();
      ctx.notes.clear();
      const matched = daemonListMatch(rule.daemons, ctx);
      d = { matched, server: [...ctx.serverDependent], notes: [...ctx.notes] };
      seen.set(listKey, d);
    }
    if (!d.matched && d.server.length === 0) return;
    const caveats = d.server.map(
      (t) => `${rule.file} line ${rule.line}: daemon pattern host "${t}" depends on the server's address or name, which was not given (evaluated as "unknown")`,
    );
    caveats.push(...d.notes.map((n) => `${rule.file} line ${rule.line}: ${n}`));
    if (caveats.length > 0) daemonCaveats.set(idx, caveats);
    if (!d.matched) {
      map = null;
      steps.push({ rule: idx, daemonMiss: true });
      return;
    }
    const keys = caveats.length === 0 ? simpleKeys(rule) : undefined;
    if (keys === undefined) {
      map = null;
      steps.push({ rule: idx });
      return;
    }
    if (map === null) {
      map = new Map();
      steps.push({ map });
    }
    for (const k of keys) {
      if (k === null) continue;
      const prev = map.get(k);
      if (prev === undefined) map.set(k, idx);
      else if (typeof prev === 'number') {
        if (prev !== idx) map.set(k, [prev, idx]);
      } else if (prev[prev.length - 1] !== idx) prev.push(idx);
    }
  });
  return { steps, daemonCaveats };
}

function planFor(file: HostsFile, ctx: MatchContext): Plan {
  let byDaemon = plans.get(file);
  if (!byDaemon) {
    byDaemon = new Map();
    plans.set(file, byDaemon);
  }
  const key = `${ctx.daemon}\0${ctx.server.addr}\0${ctx.server.name}\0${ctx.server.addrGiven}`;
  let plan = byDaemon.get(key);
  if (!plan) {
    plan = buildPlan(file, ctx);
    byDaemon.set(key, plan);
  }
  return plan;
}

/** Finds the first rule of `file` matching, skipping `skip`; collects caveats of rules evaluated. */
function tableMatch(file: HostsFile, ctx: MatchContext, caveats: string[], skip: Rule | null): Rule | null {
  const plan = planFor(file, ctx);
  const key = ctx.client.addr;
  for (const step of plan.steps) {
    if ('map' in step) {
      const hit = step.map.get(key);
      if (hit === undefined) continue;
      if (typeof hit === 'number') {
        if (file.rules[hit] !== skip) return file.rules[hit] as Rule;
        continue;
      }
      for (const h of hit) if (file.rules[h] !== skip) return file.rules[h] as Rule;
      continue;
    }
    const rule = file.rules[step.rule] as Rule;
    if (rule === skip) continue;
    if (step.daemonMiss) {
      caveats.push(...(plan.daemonCaveats.get(step.rule) ?? []));
      continue;
    }
    ctx.nameDependent.clear();
    ctx.notes.clear();
    const matched = clientListMatch(rule.clients, ctx);
    caveats.push(...(plan.daemonCaveats.get(step.rule) ?? []));
    for (const t of ctx.nameDependent) {
      caveats.push(
        `${rule.file} line ${rule.line}: pattern "${t}" depends on the client's host name; none given (--client-name), so it was evaluated as if reverse DNS failed`,
      );
    }
    for (const n of ctx.notes) caveats.push(`${rule.file} line ${rule.line}: ${n}`);
    if (matched) return rule;
  }
  return null;
}

function hostInfo(role: 'client' | 'server', addr: string | undefined, name: string | undefined): HostInfo {
  const parsed = addr !== undefined ? clientAddress(addr) : null;
  return {
    role,
    addr: parsed ? parsed.text : (addr ?? UNKNOWN),
    v6: parsed ? parsed.v6 : null,
    name: name ?? UNKNOWN,
    nameGiven: name !== undefined,
    addrGiven: addr !== undefined,
  };
}

function context(policy: WrappersPolicy, daemon: string, client: WrappersClient, server?: { addr?: string; name?: string }): MatchContext {
  let cache = patternCaches.get(policy);
  if (!cache) {
    cache = new Map();
    patternCaches.set(policy, cache);
  }
  const files = cache;
  return {
    daemon,
    client: hostInfo('client', client.addr, client.name),
    server: hostInfo('server', server?.addr, server?.name),
    patternFile: (path) => {
      if (!files.has(path)) {
        let text: string | undefined;
        try {
          text = policy.readPatternFile?.(path);
        } catch {
          text = undefined;
        }
        files.set(path, text === undefined ? null : patternFileTokens(text));
      }
      return files.get(path) ?? null;
    },
    nameDependent: new Set(),
    serverDependent: new Set(),
    notes: new Set(),
    fileStack: [],
    fileBudget: FILE_BUDGET,
  };
}

/** The libwrap verdict, without a fix. `skip` evaluates as if that rule were commented out. */
export function evaluate(
  policy: WrappersPolicy,
  daemon: string,
  client: WrappersClient,
  server?: { addr?: string; name?: string },
  skip: Rule | null = null,
): WrappersDecision {
  return evaluateDetailed(policy, daemon, client, server, skip).decision;
}

/** {@link evaluate}, plus the deciding rule object. */
export function evaluateDetailed(
  policy: WrappersPolicy,
  daemon: string,
  client: WrappersClient,
  server?: { addr?: string; name?: string },
  skip: Rule | null = null,
): { decision: WrappersDecision; rule: Rule | null } {
  const ctx = context(policy, daemon, client, server);
  const caveats: string[] = [];
  const base = {
    client: ctx.client.addr,
    ...(client.name !== undefined ? { clientName: client.name } : {}),
    daemon,
  };
  const decided = (decision: 'allow' | 'deny', rule: Rule | null, via: WrappersDecision['via']) => ({
    rule,
    decision: {
      ...base,
      decision,
      file: rule?.file ?? null,
      line: rule?.line ?? null,
      rule: rule?.text ?? null,
      via,
      caveats: caveats.length === 0 && (rule?.optionCaveats.length ?? 0) === 0 ? [] : [...new Set([...caveats, ...(rule?.optionCaveats ?? [])])],
    } satisfies WrappersDecision,
  });
  for (const [file, fileVia] of [
    [policy.allow, 'hosts.allow'],
    [policy.deny, 'hosts.deny'],
  ] as const) {
    const rule = tableMatch(file, ctx, caveats, skip);
    if (!rule) {
      const stop = file.stop;
      if (!stop) continue;
      const where = stop.line === null ? file.path : `${file.path} line ${stop.line}`;
      if (fileVia === 'hosts.allow') {
        caveats.push(`${where}: ${stop.reason}; later hosts.allow rules are never used`);
        continue;
      }
      caveats.push(`${where}: ${stop.reason}; Debian's libwrap then denies every client not matched before it`);
      const d = decided('deny', null, 'hosts.deny');
      return { rule: null, decision: { ...d.decision, file: file.path, line: stop.line, rule: stop.text } };
    }
    const a = rule.action;
    if (a.kind === 'file') return decided(fileVia === 'hosts.allow' ? 'allow' : 'deny', rule, fileVia);
    if (a.kind === 'allow') return decided('allow', rule, 'option-allow');
    if (a.kind === 'deny') return decided('deny', rule, 'option-deny');
    if (a.kind === 'twist') {
      caveats.push(`${rule.file} line ${rule.line}: "twist" replaces sshd with "${a.command}"; the client never reaches sshd`);
      return decided('deny', rule, 'twist');
    }
    caveats.push(`${rule.file} line ${rule.line}: option error (${a.message}); libwrap denies access`);
    return decided('deny', rule, 'option-deny');
  }
  return decided('allow', null, 'default');
}
