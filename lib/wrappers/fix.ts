import { evaluate, exactKey } from './decide';
import type { Rule, WrappersClient, WrappersDecision, WrappersFix, WrappersPolicy } from './types';

/** True when every client pattern of `rule` is this very address (a DenyHosts-style line). */
function onlyThisClient(rule: Rule, addr: string): boolean {
  return rule.clients.length > 0 && rule.clients.every((t) => exactKey(t) === addr);
}

/**
 * The smallest edit that lets a denied client in: comment out the deciding line when it names
 * only this client and nothing else would deny it; otherwise an allow rule placed before the
 * deciding rule (or at the end of hosts.allow when hosts.deny decided). `d` is a denial.
 */
export function fixFor(
  policy: WrappersPolicy,
  daemon: string,
  client: WrappersClient,
  server: { addr?: string; name?: string } | undefined,
  d: WrappersDecision,
  rule: Rule | null,
): WrappersFix {
  if (rule && onlyThisClient(rule, d.client) && evaluate(policy, daemon, client, server, rule).decision === 'allow') {
    return { kind: 'comment-out', file: rule.file, line: rule.line, text: rule.firstLineText };
  }
  const pattern = d.client.includes(':') ? `[${d.client}]` : d.client;
  const daemonName = /^[A-Za-z0-9_.+-]+$/.test(daemon) ? daemon : 'ALL';
  // libwrap never reads past the point where it stops on hosts.allow: insert before it.
  const inAllow = rule !== null && rule.file === policy.allow.path && d.via !== 'hosts.deny';
  const beforeLine = inAllow ? rule.line : (policy.allow.stop?.line ?? null);
  return { kind: 'insert-allow', file: policy.allow.path, beforeLine, text: `${daemonName}: ${pattern}` };
}
