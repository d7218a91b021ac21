import script from './collector.sh';
import { compactShellScript } from '../runners/compact-script';

/**
 * The read-only collector (POSIX sh), as sent to instances: comments and indentation
 * stripped (see compactShellScript). Its arguments: canonical client IP addresses only.
 */
export const collectorScript: string = compactShellScript(script);

const BUDGET_LINE = /^BUDGET_S=\d+$/m;

/** The collector's own time budget in seconds (BUDGET_S in collector.sh). */
export const COLLECTOR_BUDGET_S = Number(BUDGET_LINE.exec(collectorScript)?.[0].slice(9));

/** Seconds a runner needs beyond the collector's budget: agent start-up, the last call's kill, the upload. */
export const RUNNER_MARGIN_S = 6;

/**
 * The collector for a run the runner waits `timeoutMs` for: its time budget lowered so that it
 * stops starting commands, and reports what it cut, before the runner gives up on the whole
 * run (which would lose every section). Never above the script's own budget, never below 2 s.
 */
export function collectorScriptFor(timeoutMs: number): string {
  const budget = Math.max(2, Math.min(COLLECTOR_BUDGET_S, Math.floor(timeoutMs / 1000) - RUNNER_MARGIN_S));
  return collectorScript.replace(BUDGET_LINE, `BUDGET_S=${budget}`);
}
