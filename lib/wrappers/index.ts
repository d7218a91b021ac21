/**
 * The TCP wrappers engine: what Debian's libwrap 7.6.q decides for a daemon and a client.
 * Parse each file once with {@link parseHostsFile}, then call {@link decide} per client.
 */
import { evaluateDetailed } from './decide';
import { fixFor } from './fix';
import type { WrappersClient, WrappersDecision, WrappersPolicy } from './types';

export type {
  Diagnostic,
  DiagnosticSeverity,
  HostsFile,
  HostsFileInput,
  HostsLine,
  Rule,
  RuleAction,
  WrappersClient,
  WrappersDecision,
  WrappersFix,
  WrappersPolicy,
} from './types';
export { linesFromText, LIBWRAP_LINE_LIMIT } from './lines';
export { parseHostsFile } from './parse';
export { clientAddress } from './addr';

/**
 * libwrap's hosts_access() for `daemon` and `client`: hosts.allow first, then hosts.deny,
 * first match wins, no match grants; `allow`/`deny`/`twist` options and option errors apply.
 * `client.name` is the verified reverse-DNS name; when absent, name-dependent patterns are
 * evaluated as libwrap would after a failed lookup, and say so in `caveats`. `server`
 * (for `daemon@host` patterns) defaults to unknown, as in tcpdmatch. Never throws on any
 * parsed policy. A denial carries the smallest `fix` that lets the client in.
 */
export function decide(policy: WrappersPolicy, daemon: string, client: WrappersClient, server?: { addr?: string; name?: string }): WrappersDecision {
  const { decision: d, rule } = evaluateDetailed(policy, daemon, client, server);
  if (d.decision === 'deny') d.fix = fixFor(policy, daemon, client, server, d, rule);
  return d;
}
