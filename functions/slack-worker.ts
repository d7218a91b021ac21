/** Consumes chat jobs (Slack and DingTalk) from SQS: diagnose, render, post back. */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fetchPoster, parseChatJob, processChatJob, type ChatPoster } from '../lib/service/chat';
import type { CheckDeps } from '../lib/service/check-service';
import { coldStart, type DepsContext } from '../lib/service/middleware';
import { createDiagnoser, createDocClient, createProviderFactory, createReportStore, serviceConfig } from '../lib/service/runtime';

export type SlackWorkerDeps = CheckDeps & { post: ChatPoster };

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
            await processChatJob(parseChatJob(body), context.deps);
          }),
        ) as unknown as SQSBatchResponse,
    );
}

export const handler = createHandler(() => {
  const config = serviceConfig();
  return {
    config,
    store: createReportStore(config, createDocClient()),
    providers: createProviderFactory(config),
    diagnoser: createDiagnoser(config),
    post: fetchPoster,
  };
});
