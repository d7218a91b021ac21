/**
 * Applies a fix plan: each step runs `apply.sh` through the runner (backup, change,
 * machine-readable result), then the whole diagnosis runs again (host checks and the
 * outside probe). If a fixed check still fails, or the probe does not end with an SSH
 * banner, every change is rolled back, newest first. Every step leaves an audit record.
 */
import type { FixAction, Report } from '../report/types';
import type { ProbeOutcome } from '../probe/types';
import type { CommandRunner } from '../runners/types';
import type { FixPlan, PlanStep } from './plan';
import { AUTH_CHECKS } from '../report/verdict';
import script from './apply.sh';
import { compactShellScript } from '../runners/compact-script';

/** The remediation script (POSIX sh). Arguments: one action, validated again by the script. */
export const applyScript: string = compactShellScript(script);

export type StepResult = 'changed' | 'unchanged' | 'precondition-failed' | 'failed' | 'manual' | 'not-run';

/** Who did what, when, to which host, and how it turned out. */
export interface AuditRecord {
  /** The identity that applied the fix (CLI: `${USER}@${hostname}`; service: the caller). */
  who: string;
  /** ISO 8601, when the step ran. */
  when: string;
  target: Report['target'];
  checkId: string;
  action: FixAction;
  description: string;
  result: StepResult;
  before?: string;
  after?: string;
  /** Backup file written before the change. */
  backup?: string;
  /** The script's or the API's own words (why a precondition failed, sshd -t output, ...). */
  detail?: string;
  /** true: the re-run diagnosis confirmed the fix; false: it did not; null: no verification ran. */
  verified: boolean | null;
  rolledBack: boolean;
  /** Why the rollback itself failed, when it did (the host may be half-fixed: look here). */
  rollbackError?: string;
}

export type ApplyStatus = 'fixed' | 'nothing-to-do' | 'rolled-back' | 'failed';

export interface ApplyOutcome {
  status: ApplyStatus;
  /** One line for humans. */
  summary: string;
  audit: AuditRecord[];
  /** The diagnosis after the changes (before any rollback); null when none ran. */
  after: Report | null;
  /** Fixed checks that still fail after the changes. */
  stillFailing: string[];
  probeAfter: ProbeOutcome | null;
}

/** What lifting one Security Center block did; `detail` is recorded in the audit. */
export interface UnblockOutcome {
  result: 'changed' | 'unchanged' | 'precondition-failed';
  detail?: string;
}

/**
 * Lifts a Security Center block through the cloud API (only where such an API exists).
 * Throws for API failures (access denied, ...): the step is then recorded as failed.
 */
export interface SecurityCenterUnblocker {
  /** `source`: which kind of record `recordId` is (custom block by default). */
  unblock(recordId: string, ip: string, source?: 'custom' | 'brute-force'): Promise<UnblockOutcome>;
}

export interface ApplyOptions {
  runner: CommandRunner;
  /** Runs the diagnosis again (same target, same clients): the check and the outside probe. */
  reverify: () => Promise<Report>;
  /** Recorded as `who`. */
  identity: string;
  securityCenter?: SecurityCenterUnblocker;
  /**
   * Epoch ms by which everything must be over: the steps, the verification, any rollback
   * (a Lambda worker's end). Steps get shorter budgets to fit; a plan that cannot fit is
   * not started at all. Default: no deadline.
   */
  deadline?: number;
  /**
   * Called with each step's record as soon as it has run, before the next step (the service
   * writes it to the audit table). If it throws, no further step runs and the changes are
   * rolled back: no change is kept that is not on record.
   */
  onStepRan?: (index: number, record: AuditRecord) => Promise<void>;
}

/** The fields `apply.sh` prints, in order; `rollbackArgs` is the argv of the inverse. */
export interface ScriptResult {
  result: string;
  before?: string;
  after?: string;
  backup?: string;
  detail?: string;
  rollbackArgs: string[];
}

/** Reads `apply.sh` output (`#sshdoctor-apply 1` then key=value lines); null when there is none. */
export function parseScriptOutput(stdout: string): ScriptResult | null {
  const lines = stdout.split('\n');
  const start = lines.indexOf('#sshdoctor-apply 1');
  if (start < 0) return null;
  const r: ScriptResult = { result: '', rollbackArgs: [] };
  const details: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'rollback-arg') r.rollbackArgs.push(value);
    else if (key === 'result') r.result = value;
    else if (key === 'before' || key === 'after' || key === 'backup') r[key] = value;
    else if (key === 'detail') details.push(value);
    else if (key === 'sshd-t') details.push(`sshd -t: ${value}`);
  }
  if (details.length) r.detail = details.join('; ');
  return r.result ? r : null;
}

interface Applied {
  record: AuditRecord;
  /** argv of the inverse, when the step changed something on the host. */
  rollbackArgs: string[] | null;
}

/** The time budget of one step when no deadline shortens it. */
const STEP_TIMEOUT_MS = 30_000;
/** Kept back from a deadline for the verifying diagnosis (collector up to 30 s) and the audit. */
export const VERIFY_RESERVE_MS = 45_000;
/** The shortest step budget worth starting (Cloud Assistant's minimum Timeout is 10 s). */
export const MIN_STEP_MS = 10_000;

/**
 * The budget of each step so that every step, the verification and the rollback of every step
 * fit before `deadline`; null when even {@link MIN_STEP_MS} per step does not fit.
 */
export function stepBudget(steps: number, maxStepMs: number, deadline: number | undefined, now: number): number | null {
  if (deadline === undefined || steps === 0) return maxStepMs;
  const perStep = Math.floor((deadline - now - VERIFY_RESERVE_MS) / (2 * steps));
  return perStep >= MIN_STEP_MS ? Math.min(maxStepMs, perStep) : null;
}

/** Applies `plan`, verifies, rolls back on failed verification. Never throws for host outcomes. */
export async function applyPlan(plan: FixPlan, options: ApplyOptions): Promise<ApplyOutcome> {
  const now = () => new Date();
  const hostSteps = plan.steps.filter((s) => s.args !== null).length;
  const timeoutMs = stepBudget(hostSteps, STEP_TIMEOUT_MS, options.deadline, now().getTime());
  if (timeoutMs === null) {
    const left = Math.max(0, Math.round(((options.deadline ?? 0) - now().getTime()) / 1000));
    return unverified(
      'failed',
      `Not started: ${hostSteps} step${hostSteps === 1 ? '' : 's'} could not be applied, verified and rolled back in the ${left} s left. Nothing was changed.`,
      plan.steps.map((step) => baseRecord(step, plan, options.identity, now(), 'not-run')),
    );
  }
  const applied: Applied[] = [];
  let broken: AuditRecord | null = null;
  let unrecorded: string | null = null;

  for (const step of plan.steps) {
    const done = await runStep(step, plan, options, now(), timeoutMs);
    applied.push(done);
    const record = done.record;
    try {
      await options.onStepRan?.(applied.length - 1, record);
    } catch (err) {
      unrecorded = err instanceof Error ? err.message : String(err);
      break;
    }
    if (record.result === 'failed' || record.result === 'precondition-failed') {
      broken = record;
      break;
    }
  }
  // Steps after a failure were not run: say so in the audit too.
  for (const step of plan.steps.slice(applied.length)) {
    applied.push({ record: baseRecord(step, plan, options.identity, now(), 'not-run'), rollbackArgs: null });
  }
  const audit = applied.map((a) => a.record);

  if (!plan.steps.length) {
    return unverified('nothing-to-do', 'Nothing to fix: no failing check has an automatic fix.', audit);
  }
  if (unrecorded !== null) {
    const rb = await rollBack(applied, options, timeoutMs);
    return unverified(
      'failed',
      `The audit record of step "${applied[applied.length - 1]!.record.description}" could not be written (${unrecorded}): no change is kept off the record.${rb}`,
      audit,
    );
  }
  if (broken) {
    const rb = await rollBack(applied, options, timeoutMs);
    return unverified(
      'failed',
      `Step "${broken.description}" ${broken.result === 'precondition-failed' ? 'found the host changed' : 'failed'}: ${broken.detail ?? 'no detail'}.${rb}`,
      audit,
    );
  }

  let after: Report;
  try {
    after = await options.reverify();
  } catch (err) {
    // No verification, no kept change: a fix is only kept once the diagnosis confirms it.
    for (const a of applied) if (a.record.result === 'changed' || a.record.result === 'unchanged') a.record.verified = false;
    const rb = await rollBack(applied, options, timeoutMs);
    const changed = applied.some((a) => a.record.result === 'changed');
    return unverified(
      changed && applied.some((a) => a.rollbackArgs?.length) ? 'rolled-back' : 'failed',
      `Verification could not run (${err instanceof Error ? err.message : String(err)}): nothing is kept unverified.${rb}`,
      audit,
    );
  }
  const fixedIds = [...new Set(plan.steps.map((s) => s.checkId))];
  const stillFailing = fixedIds.filter((id) => after.checks.some((c) => c.id === id && c.status === 'fail'));
  const probeAfter = after.probe?.outcome ?? null;
  // A fix that leaves the host unreachable is undone: whenever a probe ran when the plan was
  // made, the probe after the fix must get an SSH banner.
  const wantBanner = plan.probeBefore !== null;
  const bannerMissing = wantBanner && probeAfter !== 'banner';
  // A fix for the authentication stage is verified from outside: the server must now accept
  // the key (or, without a key, the stage must not end refused).
  const authAfter = after.probe?.auth;
  const authFixed = plan.steps.some((s) => AUTH_CHECKS.includes(s.checkId));
  const keyRefused =
    authFixed &&
    authAfter !== undefined &&
    authAfter.outcome !== 'accepted' &&
    authAfter.outcome !== 'no-auth-needed' &&
    (authAfter.key !== undefined || authAfter.outcome === 'refused');
  const ok = stillFailing.length === 0 && !bannerMissing && !keyRefused;
  for (const a of applied) if (a.record.result === 'changed' || a.record.result === 'unchanged') a.record.verified = ok;

  const changed = applied.some((a) => a.record.result === 'changed');
  if (ok) {
    return {
      status: changed ? 'fixed' : 'nothing-to-do',
      summary: changed
        ? `Fixed and verified: ${fixedIds.join(', ')} now pass${wantBanner ? `, and ${after.target.host}:${after.target.port} answers with an SSH banner` : ''}${authFixed && authAfter?.outcome === 'accepted' ? `; the server accepts ${authAfter.user}'s key` : ''}.`
        : 'Nothing changed: every step found its fix already in place, and verification passed.',
      audit,
      after,
      stillFailing,
      probeAfter,
    };
  }
  const why = [
    ...(stillFailing.length ? [`${stillFailing.join(', ')} still fail${stillFailing.length === 1 ? 's' : ''}`] : []),
    ...(bannerMissing ? [`the probe of ${after.target.host}:${after.target.port} saw "${probeAfter ?? 'nothing'}" instead of an SSH banner`] : []),
    ...(keyRefused ? [`the server still does not accept ${authAfter!.user}'s key (${authAfter!.outcome})`] : []),
  ].join(' and ');
  const rb = await rollBack(applied, options, timeoutMs);
  const undoable = applied.some((a) => a.rollbackArgs?.length);
  return {
    status: changed && undoable ? 'rolled-back' : 'failed',
    summary: `Verification failed (${why}).${rb}`,
    audit,
    after,
    stillFailing,
    probeAfter,
  };
}

/** An outcome with no diagnosis after the changes: the run stopped before verifying, or could not verify. */
function unverified(status: ApplyStatus, summary: string, audit: AuditRecord[]): ApplyOutcome {
  return { status, summary, audit, after: null, stillFailing: [], probeAfter: null };
}

function baseRecord(step: PlanStep, plan: FixPlan, who: string, when: Date, result: StepResult): AuditRecord {
  return {
    who,
    when: when.toISOString(),
    target: plan.target,
    checkId: step.checkId,
    action: step.action,
    description: step.description,
    result,
    verified: null,
    rolledBack: false,
  };
}

async function runStep(step: PlanStep, plan: FixPlan, options: ApplyOptions, when: Date, timeoutMs: number): Promise<Applied> {
  const record = baseRecord(step, plan, options.identity, when, 'failed');
  const done = (rollbackArgs: string[] | null = null): Applied => ({ record, rollbackArgs });
  if (step.args === null) {
    // Only Security Center blocks (custom and brute-force records) have an API.
    if (step.action.kind !== 'security-center-unblock' || !options.securityCenter) {
      record.result = 'manual';
      record.detail = `Not applied automatically: ${step.commands.join('; ')}`;
      return done();
    }
    try {
      const brute = step.action.source === 'brute-force';
      const out = await options.securityCenter.unblock(step.action.recordId, step.action.ip, brute ? 'brute-force' : 'custom');
      record.result = out.result;
      record.before = `${brute ? 'brute-force ' : ''}block record ${step.action.recordId} for ${step.action.ip}`;
      const lifted = brute ? 'record disabled' : 'record deleted';
      record.after = out.result === 'changed' ? lifted : out.result === 'unchanged' ? 'no active record' : record.before;
      if (out.detail !== undefined) record.detail = out.detail;
    } catch (err) {
      record.detail = err instanceof Error ? err.message : String(err);
    }
    return done();
  }
  let run: Awaited<ReturnType<CommandRunner['run']>>;
  try {
    run = await options.runner.run({ script: applyScript, args: step.args, argsKind: 'validated-text', timeoutMs });
  } catch (err) {
    record.detail = `runner ${options.runner.name}: ${(err as Error).message}`;
    return done();
  }
  const out = parseScriptOutput(run.stdout);
  if (!out) {
    record.detail = `${options.runner.name}: ${run.status}${run.reason ? `: ${run.reason}` : ''} (no result from the remediation script)`;
    return done();
  }
  const known: StepResult[] = ['changed', 'unchanged', 'precondition-failed', 'failed'];
  record.result = known.includes(out.result as StepResult) ? (out.result as StepResult) : 'failed';
  if (out.before !== undefined) record.before = out.before;
  if (out.after !== undefined) record.after = out.after;
  if (out.backup !== undefined) record.backup = out.backup;
  if (out.detail !== undefined || record.result === 'failed') record.detail = out.detail ?? `${out.result}: ${run.reason ?? run.status}`;
  if (record.result === 'changed' && run.status !== 'success') {
    // The script said "changed" but the transport did not finish cleanly: treat as failed, still undo it.
    record.result = 'failed';
    record.detail = `${run.status}: ${run.reason ?? ''}`;
  }
  // Security Center deletions have no inverse (the API cannot re-create the record): only host changes are undone.
  return done(out.rollbackArgs.length && (record.result === 'changed' || record.result === 'failed') ? out.rollbackArgs : null);
}

async function rollBack(applied: Applied[], options: ApplyOptions, timeoutMs: number): Promise<string> {
  const undo = applied.filter((a) => a.rollbackArgs?.length).reverse();
  // API changes (Security Center deletions) have no inverse: say they stay, never "nothing changed".
  const kept = applied.filter((a) => a.record.result === 'changed' && a.record.action.kind === 'security-center-unblock');
  const keptNote = kept.length ? ` Kept (the API has no undo): ${kept.map((a) => a.record.description).join(' | ')}` : '';
  if (!undo.length) return keptNote || ' Nothing was changed.';
  const failures: string[] = [];
  for (const a of undo) {
    let run: Awaited<ReturnType<CommandRunner['run']>>;
    try {
      run = await options.runner.run({ script: applyScript, args: a.rollbackArgs!, argsKind: 'validated-text', timeoutMs });
    } catch (err) {
      a.record.rollbackError = (err as Error).message;
      failures.push(a.record.description);
      continue;
    }
    const out = parseScriptOutput(run.stdout);
    if (out?.result === 'restored') a.record.rolledBack = true;
    else {
      a.record.rollbackError = out?.detail ?? `${run.status}: ${run.reason ?? 'no result from the remediation script'}`;
      failures.push(a.record.description);
    }
  }
  return (
    (failures.length
      ? ` Rollback FAILED for: ${failures.join(' | ')}; the backups named in the audit hold the previous state.`
      : ` All ${undo.length} change${undo.length > 1 ? 's were' : ' was'} rolled back.`) + keptNote
  );
}
