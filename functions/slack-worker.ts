/** Consumes the jobs queue: chat diagnoses (Slack, DingTalk) posted back, and fixes (Slack "Apply fix", `POST /checks/{id}/fix`) applied. */
import middy from '@middy/core';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseChatJob, runChatJob, type ChatWorkerDeps } from '../lib/service/chat/chat';
import { coldStart, type DepsContext } from '../lib/service/http/middleware';
import { createChatWorkerDeps } from '../lib/service/chat/chat-runtime';
import { createDocClient, refuseOffline, serviceConfig } from '../lib/service/runtime';
import { observability } from '../lib/service/http/observability';

export type SlackWorkerDeps = ChatWorkerDeps;

const { logger, middlewares, instrument, logError } = observability();

export function createHandler(load: () => SlackWorkerDeps | Promise<SlackWorkerDeps>) {
  return middy<SQSEvent, SQSBatchResponse, Error, DepsContext<SlackWorkerDeps>>()
    .use(middlewares)
    .use(coldStart(load))
    .use(sqsPartialBatchFailure({ logger: (reason) => logger.error('chat job failed', { reason }) }))
    .handler(
      async (event, context) =>
        Promise.allSettled(
          event.Records.map(async (record) => {
            let body: unknown;
            try {
              body = JSON.parse(record.body);
            } catch {
              body = undefined;
            }
            // A fix must be over (applied, verified or rolled back, audited) before the function is stopped.
            await runChatJob(parseChatJob(body), context.deps, Date.now() + context.getRemainingTimeInMillis());
          }),
        ) as unknown as SQSBatchResponse,
    );
}

export const handler = createHandler(() => {
  refuseOffline('slack-worker');
  return createChatWorkerDeps(serviceConfig(), createDocClient(instrument(new DynamoDBClient({}))), logError, instrument);
});
