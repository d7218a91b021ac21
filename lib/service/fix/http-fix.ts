/**
 * `POST /checks/{id}/fix` with `apply: true`, applied asynchronously: API Gateway gives up
 * after 30 s, and a fix (up to 30 s per step, then a fresh diagnosis, maybe a rollback and the
 * audit) must never be cut off half-way. The route makes the quick checks, records a fix run
 * (fix-run-store.ts) and queues an `http-fix` job on the jobs queue; the jobs worker claims
 * the run, applies it through {@link applyQueuedFix} and records how it ended, which
 * `GET /checks/{id}/fix/{fixId}` answers.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { KNOWN_CHECK_IDS } from '../../remediation/plan';
import type { JobDispatcher } from '../chat/chat';
import { ConfigError, ServiceError } from '../errors';
import { HTTP_FIX_IDENTITY } from './fix-authorize';
import type { FixRun, FixRunResult, FixRunStore } from '../stores/fix-run-store';
import { applyFix, applyQueuedFix, prepareFix, type FixDeps, type FixJobDeps, type FixResponse } from './fix-service';
import { fixIdSchema, reportIdSchema } from '../http/schemas';

/** A queued applying fix: which run, which report, which checks, who asked. */
export interface HttpFixJob {
  kind: 'http-fix';
  fixId: string;
  reportId: string;
  only?: string[];
  /** Audit identity, `iam:<caller ARN>`; authorized by API Gateway when the job was queued. */
  identity: string;
}

/** Validates an http-fix job read back from the queue. */
export const httpFixJobSchema = z.object({
  kind: z.literal('http-fix'),
  fixId: fixIdSchema,
  reportId: reportIdSchema,
  only: z.optional(
    z
      .array(z.string().check(z.refine((id: string) => KNOWN_CHECK_IDS.includes(id), 'must be a known check id')), { error: 'must be an array of check ids' })
      .check(z.maxLength(32, 'must list at most 32 check ids')),
  ),
  identity: z.string().check(z.regex(HTTP_FIX_IDENTITY, 'must be iam:<caller ARN>')),
});

export type HttpFixDeps = FixDeps & {
  runs: FixRunStore;
  dispatcher: JobDispatcher;
  newId?: () => string;
  now?: () => Date;
};

/** `queued`: the run to answer with 202. `done`: an empty plan, answered at once (nothing queued). */
export type HttpFixAcceptance = { queued: FixRun } | { done: FixResponse };

/**
 * Checks an applying fix (404 report, 400 provider, 404 instance, 403 opt-in tag; the caller
 * checked the identity and `only`), records the run as `queued` and queues its job. Nothing
 * on the instance changes here.
 */
export async function acceptHttpFix(req: { reportId: string; only?: string[] }, identity: string, deps: HttpFixDeps): Promise<HttpFixAcceptance> {
  const ready = await prepareFix(req, deps);
  // No step: applying returns at once without touching the host, so the answer is immediate.
  if (!ready.plan.steps.length) {
    return { done: { reportId: req.reportId, plan: ready.plan, outcome: await applyFix(ready, identity, req.reportId, deps) } };
  }
  const only = req.only?.length ? { only: req.only } : {};
  const run: FixRun & { status: 'queued' } = {
    fixId: (deps.newId ?? randomUUID)(),
    reportId: req.reportId,
    status: 'queued',
    plan: ready.plan,
    requestedBy: identity,
    requestedAt: (deps.now?.() ?? new Date()).toISOString(),
    ...only,
  };
  // Recorded before it is queued: a worker that receives the job must find the run to claim.
  await deps.runs.create(run);
  try {
    await deps.dispatcher.dispatch({ kind: 'http-fix', fixId: run.fixId, reportId: run.reportId, identity, ...only });
  } catch (err) {
    // Maybe queued after all (a lost answer): ending the run now means no late delivery can claim it.
    await deps.runs.settle(run.fixId, 'queued', { status: 'error', error: 'the fix could not be queued; nothing was applied' }).catch(() => undefined);
    throw err;
  }
  return { queued: run };
}

export type HttpFixWorkerDeps = FixJobDeps & {
  runs?: FixRunStore;
  /** Receives unexpected failures (the run only says "internal error"). */
  onError?: (err: unknown) => void;
};

/**
 * Applies one queued fix, at most once: the run is claimed first (`queued` -> `running`, a
 * conditional write), so a redelivered or duplicated job finds it taken and changes nothing.
 * Then {@link applyQueuedFix} applies, verifies, rolls back and audits (the fix id is the audit run
 * id), and the run is settled with the outcome's status, or `error` with the reason.
 * @returns false when the run was not claimed (not queued any more, unknown, or not this job's).
 */
export async function processHttpFixJob(job: HttpFixJob, deps: HttpFixWorkerDeps, deadline?: number): Promise<boolean> {
  if (!deps.runs) throw new ConfigError('REPORTS_TABLE', 'the jobs worker has no fix run store: http-fix jobs cannot run');
  if (!(await deps.runs.claim(job.fixId, { reportId: job.reportId, requestedBy: job.identity }))) return false;
  let result: FixRunResult;
  try {
    const only = job.only?.length ? { only: job.only } : {};
    const within = deadline !== undefined ? { deadline } : {};
    const { outcome } = await applyQueuedFix({ reportId: job.reportId, runId: job.fixId, ...only, ...within }, job.identity, deps);
    result = outcome ? { status: outcome.status, outcome } : { status: 'error', error: 'no fix was applied' };
  } catch (err) {
    if (!(err instanceof ServiceError)) deps.onError?.(err);
    result = { status: 'error', error: err instanceof ServiceError ? err.message : 'internal error' };
  }
  // A failed write throws and the queue retries the job; the retry's claim fails, so nothing is applied twice.
  await deps.runs.settle(job.fixId, 'running', result);
  return true;
}
