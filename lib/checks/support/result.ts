import type { CheckResult, CheckStatus, Evidence, Fix, FixAction } from '../../report/types';
import type { Check, Facts } from '../types';
import type { HostFacts } from '../../collector/facts';
import { cutCallSummary } from './cut-calls';

/** Builds a result for `check` (id and title come from the check itself). */
export function result(
  check: Pick<Check, 'id' | 'title'>,
  status: CheckStatus,
  summary: string,
  evidence: Evidence[] = [],
  fix: Fix | null = null,
): CheckResult {
  return { id: check.id, title: check.title, status, summary, evidence, fix };
}

/**
 * The host facts a host-side check needs, or the result to return without them: `skip`
 * when no collector ran, `error` (with the reason) when it ran and failed, `skip` (not
 * inspected) when a collector call the check depends on was cut for time or its section never
 * arrived (see CHECK_SECTIONS).
 */
export function hostOr(check: Pick<Check, 'id' | 'title'>, facts: Facts): HostFacts | CheckResult {
  if (facts.host) {
    const cut = cutCallSummary(check.id, facts.host);
    return cut ? result(check, 'skip', cut) : facts.host;
  }
  if (facts.hostError) return result(check, 'error', `Could not inspect the host: ${facts.hostError}`);
  return result(check, 'skip', 'The host was not inspected (no collector run).');
}

export function isResult(x: HostFacts | CheckResult): x is CheckResult {
  return (x as CheckResult).status !== undefined && (x as CheckResult).id !== undefined;
}

/** Single-quotes a value for a shell command shown to humans. */
export function shq(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The client addresses a check judges. */
export function clientIps(facts: Facts): string[] {
  return facts.clients.map((c) => c.ip);
}

/** Shell snippet that backs a file up with a timestamp before editing it. */
export function backupCommand(file: string): string {
  return `cp -p ${shq(file)} ${shq(file)}.sshdoctor-$(date +%Y%m%d%H%M%S)`;
}

/**
 * One fix out of several (one per client, jail or rule): summaries joined, commands and
 * actions in order without repeats. `actions` is present when any part had actions.
 * Null when there is nothing to merge.
 */
export function mergeFixes(fixes: readonly Fix[]): Fix | null {
  if (!fixes.length) return null;
  const merged: Fix = { summary: fixes.map((f) => f.summary).join(' '), commands: [...new Set(fixes.flatMap((f) => f.commands))] };
  if (fixes.some((f) => f.actions)) {
    const seen = new Set<string>();
    merged.actions = fixes
      .flatMap((f): FixAction[] => f.actions ?? [])
      .filter((a) => {
        const key = JSON.stringify(a);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
  }
  return merged;
}
