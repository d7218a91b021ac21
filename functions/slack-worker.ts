/** Consumes chat jobs (Slack and DingTalk) from SQS: diagnose or apply a fix, render, post back. */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseChatJob, runChatJob, type ChatWorkerDeps } from '../lib/service/chat';
import { coldStart, type DepsContext } from '../lib/service/middleware';
import { createChatWorkerDeps } from '../lib/service/chat-runtime';
import { createDocClient, serviceConfig } from '../lib/service/runtime';

export type SlackWorkerDeps = ChatWorkerDeps;

const logger = new Logger({ serviceName: 'sshdoctor' });

export function createHandler(load: () => SlackWorkerDeps | Promise<SlackWorkerDeps>) {
  return middy<SQSEvent, SQSBatchResponse, Error, DepsContext<SlackWorkerDeps>>()
    .use(injectLambdaContext(logger))
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
            await runChatJob(parseChatJob(body), context.deps);
          }),
        ) as unknown as SQSBatchResponse,
    );
}

export const handler = createHandler(() =>
  createChatWorkerDeps(serviceConfig(), createDocClient(), (message, error) => logger.error(message, { error })),
);
