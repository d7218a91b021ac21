/**
 * Chat commands (Slack slash command, DingTalk outgoing robot): parse the command text into
 * a check request, hand the slow diagnosis to a job queue, and post the rendered report back.
 */
import { isIP } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { renderDingtalk } from '../../report/render-dingtalk';
import { renderSlack, renderSlackError } from '../../report/render-slack';
import { runCheck, type CheckDeps } from '../check-service';
import { UpstreamError, ValidationError } from '../errors';
import type { FixAuditStore } from '../stores/fix-audit-store';
import type { FixRunStore } from '../stores/fix-run-store';
import { httpFixJobSchema, processHttpFixJob, type HttpFixJob } from '../fix/http-fix';
import { checkRequestSchema, parseOrThrow, type CheckRequest } from '../http/schemas';
import { processSlackFixJob, slackFixJobSchema, type SlackFixJob } from '../fix/slack-fix';
import { allowedCallbackUrl, type CallbackOrigins } from './callback-origins';

/** Provider and region a chat command targets when its text does not say. */
export interface ChatTarget {
  provider: 'aws' | 'alibaba' | 'local';
  region?: string;
}

/**
 * `<instance-id> [client-ip] [region]`, in any order after the id. Tokens are matched by
 * shape; anything else is rejected naming `text`, never echoed into a shell.
 */
export function parseChatText(text: string, target: ChatTarget): CheckRequest {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const [instanceId, ...rest] = tokens;
  if (!instanceId) throw new ValidationError('text', 'usage: <instance-id> [user] [client-ip] [region]');
  if (tokens.length > 4) throw new ValidationError('text', 'at most 4 words: <instance-id> [user] [client-ip] [region]');
  let clientIp: string | undefined;
  let region = target.region;
  let user: string | undefined;
  for (const t of rest) {
    if (isIP(t)) clientIp = t;
    else if (/^[a-z]{2}-[a-z0-9-]{3,28}-\d+$|^[a-z]{2}-[a-z]+$/.test(t)) region = t;
    else if (user === undefined && /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(t)) user = t;
    else throw new ValidationError('text', 'words after the instance id must be a user name, a client IP or a region');
  }
  const req = parseOrThrow(checkRequestSchema, { provider: target.provider, instanceId, region, clientIp, ...(user ? { user } : {}) });
  return req;
}

/** A diagnosis requested from a chat. */
export type ChatCheckJob =
  | { kind: 'slack'; request: CheckRequest; responseUrl: string; user?: string }
  | { kind: 'dingtalk'; request: CheckRequest; sessionWebhook: string; user?: string };

/** Every job the chat worker runs: diagnoses, Slack "Apply fix" clicks, and applying `POST /checks/{id}/fix` requests. */
export type ChatJob = ChatCheckJob | SlackFixJob | HttpFixJob;

const httpsUrl = z.url({ protocol: /^https?$/ }).check(z.maxLength(2048));
const jobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('slack'), request: checkRequestSchema, responseUrl: httpsUrl, user: z.optional(z.string().check(z.maxLength(64))) }),
  z.object({ kind: z.literal('dingtalk'), request: checkRequestSchema, sessionWebhook: httpsUrl, user: z.optional(z.string().check(z.maxLength(64))) }),
  slackFixJobSchema,
  httpFixJobSchema,
]);

/** Validates a job read back from the queue (queues are a trust boundary too). */
export function parseChatJob(value: unknown): ChatJob {
  return parseOrThrow(jobSchema, value, 'job');
}

/** Port: where a chat command hands its job so the command can be acknowledged at once. */
export interface JobDispatcher {
  dispatch(job: ChatJob): Promise<void>;
}

/** SQS adapter: the slack-worker function consumes the queue. */
export function createSqsDispatcher(opts: { client: Pick<SQSClient, 'send'>; queueUrl: string }): JobDispatcher {
  return {
    async dispatch(job) {
      try {
        // Loaded on first send: the chat command handlers must answer Slack within 3 s of a cold start.
        const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
        await opts.client.send(new SendMessageCommand({ QueueUrl: opts.queueUrl, MessageBody: JSON.stringify(job) }));
      } catch (err) {
        throw new UpstreamError('SQS SendMessage', { cause: err });
      }
    },
  };
}

/**
 * In-process adapter for `npm start` (serverless-offline has no SQS): runs the job after
 * the acknowledgement is returned. `onError` receives failures, which are never thrown.
 */
export function createInlineDispatcher(run: (job: ChatJob) => Promise<void>, onError: (err: unknown) => void): JobDispatcher {
  return {
    async dispatch(job) {
      setImmediate(() => {
        run(job).catch(onError);
      });
    },
  };
}

/** Posts JSON to a chat callback URL (Slack response_url, DingTalk sessionWebhook). */
export type ChatPoster = (url: string, body: unknown) => Promise<void>;

export const fetchPoster: ChatPoster = async (url, body) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new UpstreamError(`POST to chat callback (HTTP ${res.status})`);
};

/**
 * Runs one chat job: diagnose, render for the chat, post back. A failed check (404, 403, ...)
 * is posted as a message; only a failed post throws, so the queue can retry it.
 */
export async function processChatJob(job: ChatCheckJob, deps: CheckDeps & { post: ChatPoster }): Promise<void> {
  const url = job.kind === 'slack' ? job.responseUrl : job.sessionWebhook;
  let message: unknown;
  try {
    const { id, report } = await runCheck(job.request, undefined, deps);
    message = job.kind === 'slack' ? renderSlack(report, { reportId: id, request: job.request }) : renderDingtalk(report, { reportId: id });
  } catch (err) {
    const text = err instanceof Error && 'status' in err ? err.message : 'internal error';
    message =
      job.kind === 'slack'
        ? renderSlackError(job.request.instanceId, text)
        : { msgtype: 'text', text: { content: `sshdoctor ${job.request.instanceId}: ${text}` } };
  }
  await deps.post(url, message);
}

/** What the chat worker needs: diagnosis, posting, and (for fixes) the audit and fix run stores. */
export type ChatWorkerDeps = CheckDeps & {
  post: ChatPoster;
  /** Where a job's callback may go (callback-origins.ts), checked again here: a queue is a trust boundary too. */
  callbackOrigins: CallbackOrigins;
  /** Absent: fix jobs end with "not enabled" and change nothing. */
  audit?: FixAuditStore;
  /** Fix runs of `POST /checks/{id}/fix` (http-fix jobs); absent: those jobs fail and change nothing. */
  runs?: FixRunStore;
  onError?: (err: unknown) => void;
};

/**
 * Runs any job of the queue: a diagnosis ({@link processChatJob}), a Slack fix
 * ({@link processSlackFixJob}) or an HTTP fix ({@link processHttpFixJob}). A fix is fitted
 * before `deadline` (epoch ms), so the worker is not stopped half-way through it.
 */
export async function runChatJob(job: ChatJob, deps: ChatWorkerDeps, deadline?: number): Promise<void> {
  if (job.kind !== 'http-fix') {
    const [url, origins, field] =
      job.kind === 'dingtalk'
        ? [job.sessionWebhook, deps.callbackOrigins.dingtalk, 'sessionWebhook']
        : [job.responseUrl, deps.callbackOrigins.slack, 'responseUrl'];
    try {
      allowedCallbackUrl(url, origins, `job.${field}`);
    } catch (err) {
      // A job the commands would never have queued: dropped (a retry cannot make it valid), nothing run or posted.
      deps.onError?.(err);
      return;
    }
  }
  if (job.kind === 'slack-fix') return processSlackFixJob(job, deps, deadline);
  if (job.kind === 'http-fix') {
    await processHttpFixJob(job, deps, deadline);
    return;
  }
  return processChatJob(job, deps);
}
