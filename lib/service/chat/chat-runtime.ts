/**
 * Production wiring of the jobs queue: its producers (Slack and DingTalk commands, and
 * checks-fix for applying fixes) and its consumer (the slack-worker function). Kept apart
 * from runtime.ts so the check handlers do not load the chat and fix code.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createInlineDispatcher, createSqsDispatcher, fetchPoster, runChatJob, type ChatWorkerDeps, type JobDispatcher } from './chat';
import type { ServiceConfig } from '../config';
import { createFixRunStore } from '../stores/fix-run-store';
import { createDiagnoser, createFixAuditStore, createProviderFactory, createReportStore, type ClientInstrument } from '../runtime';

/**
 * Where the Slack and DingTalk commands and checks-fix send their jobs: the SQS jobs queue
 * when one is configured, else (npm start under serverless-offline) this process, running
 * the job inline.
 */
export async function createChatDispatcher(
  cfg: ServiceConfig,
  doc: DynamoDBDocumentClient,
  logError: (message: string, err: unknown) => void,
  instrument: ClientInstrument,
): Promise<JobDispatcher> {
  const queueUrl = cfg.slack.jobsQueueUrl;
  if (queueUrl) {
    // Loaded here, not at import: the command handlers must answer within 3 s of a cold start.
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    return createSqsDispatcher({ client: instrument(new SQSClient({})), queueUrl });
  }
  const deps = createChatWorkerDeps(cfg, doc, logError, instrument);
  return createInlineDispatcher(
    (job) => runChatJob(job, deps),
    (err) => logError('chat job failed', err),
  );
}

/** What a job (diagnosis, Slack "Apply fix", HTTP fix) needs, in the worker or inline. */
export function createChatWorkerDeps(
  cfg: ServiceConfig,
  doc: DynamoDBDocumentClient,
  logError: (message: string, err: unknown) => void,
  instrument: ClientInstrument,
): ChatWorkerDeps {
  return {
    config: cfg,
    store: createReportStore(cfg, doc),
    providers: createProviderFactory(cfg, instrument),
    diagnoser: createDiagnoser(cfg),
    post: fetchPoster,
    callbackOrigins: cfg.callbackOrigins,
    // Without an audit table, "Apply fix" jobs are answered "not enabled": no fix runs unaudited.
    ...(cfg.fix.auditTable ? { audit: createFixAuditStore(cfg, doc) } : {}),
    runs: createFixRunStore(cfg, doc),
    onError: (err) => logError('fix job failed', err),
  };
}
