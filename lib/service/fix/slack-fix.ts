/**
 * Slack's "Apply fix" button: the click is authorized against the allow-list and queued
 * (a job of its own kind), and the worker applies the stored report's fix plan through
 * {@link applyQueuedFix} and posts the outcome to the click's `response_url`.
 */
import * as z from 'zod/mini';
import { renderSlackError, renderSlackFixOutcome } from '../../report/render-slack';
import type { ChatPoster, JobDispatcher } from '../chat/chat';
import { ServiceError } from '../errors';
import { authorizeSlackFix } from './fix-authorize';
import { applyQueuedFix, type FixJobDeps } from './fix-service';
import { instanceKey } from '../stores/report-store';
import { parseOrThrow, reportIdSchema } from '../http/schemas';

/** A queued "Apply fix" click: which report, who pressed it, where the outcome goes. */
export interface SlackFixJob {
  kind: 'slack-fix';
  reportId: string;
  responseUrl: string;
  /** Audit identity, `slack:<team>/<user>`; already authorized when the job was queued. */
  identity: string;
}

/** Validates a fix job read back from the queue. */
export const slackFixJobSchema = z.object({
  kind: z.literal('slack-fix'),
  reportId: reportIdSchema,
  responseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).check(z.maxLength(2048)),
  identity: z.string().check(z.regex(/^slack:(?:T[A-Z0-9]{2,20}\/)?[UW][A-Z0-9]{2,20}$/, 'must be slack:<team>/<user>')),
});

export interface SlackFixClick {
  userId: string | undefined;
  teamId: string | undefined;
  responseUrl: string;
  /** The button value: the report id. */
  value: string | undefined;
}

/**
 * Authorizes and queues one click. A refused user gets an ephemeral message (posted to
 * `response_url`, since Slack shows no reply body for block actions) and nothing is queued.
 * @returns the message posted to the user.
 */
export async function acceptSlackFixClick(
  click: SlackFixClick,
  deps: { allowList: ReadonlySet<string>; dispatcher: JobDispatcher; post: ChatPoster },
): Promise<object> {
  let identity: string;
  let reportId: string;
  try {
    identity = authorizeSlackFix(click.userId, deps.allowList, click.teamId);
    reportId = parseOrThrow(reportIdSchema, click.value, 'payload.actions.value');
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    const refusal = { response_type: 'ephemeral', replace_original: false, text: `:no_entry: sshdoctor: fix not applied. ${err.message}` };
    // The refusal is also the HTTP answer: a chat callback that cannot be reached never turns it into a 500.
    await deps.post(click.responseUrl, refusal).catch(() => undefined);
    return refusal;
  }
  await deps.dispatcher.dispatch({ kind: 'slack-fix', reportId, responseUrl: click.responseUrl, identity });
  const ack = { response_type: 'ephemeral', replace_original: false, text: `Applying the fix of report ${reportId}… the outcome follows here.` };
  // The job is queued already: a lost acknowledgement must not turn into an error that invites a second click.
  await deps.post(click.responseUrl, ack).catch(() => undefined);
  return ack;
}

export type SlackFixWorkerDeps = FixJobDeps & {
  post: ChatPoster;
  /** Receives unexpected failures (the user only sees "internal error"). */
  onError?: (err: unknown) => void;
};

/**
 * Applies the fix of one queued click and posts the outcome (fixed, nothing to do, rolled
 * back, failed; each step verified or rolled back; the audit key). A refused or failed fix
 * (404, 403, ...) is posted as a message; only a failed post throws, so the queue retries,
 * and a retried fix is idempotent (its second run changes nothing).
 */
export async function processSlackFixJob(job: SlackFixJob, deps: SlackFixWorkerDeps, deadline?: number): Promise<void> {
  let message: object;
  // Read once for the messages' instance name, and handed on; on a failed read, runFix reads again and says why.
  const report = await deps.store.get(job.reportId).catch(() => null);
  const name = report?.target.instanceId ?? job.reportId;
  try {
    const res = await applyQueuedFix(
      { reportId: job.reportId, ...(report ? { report } : {}), ...(deadline !== undefined ? { deadline } : {}) },
      job.identity,
      deps,
    );
    const t = res.plan.target;
    const audit = `${instanceKey(t.provider ?? '', t.region ?? '', t.instanceId ?? '')} run ${res.reportId}`;
    message = res.outcome
      ? renderSlackFixOutcome({ instanceId: name, reportId: res.reportId, audit, outcome: res.outcome })
      : renderSlackError(name, 'no fix was applied');
  } catch (err) {
    if (!(err instanceof ServiceError)) deps.onError?.(err);
    const text = err instanceof ServiceError ? `fix not applied: ${err.message}` : 'fix not applied: internal error';
    message = renderSlackError(name, text);
  }
  await deps.post(job.responseUrl, message);
}
