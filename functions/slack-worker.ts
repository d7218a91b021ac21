/** Consumes chat jobs (Slack and DingTalk) from SQS: diagnose or apply a fix, render, post back. */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { fetchPoster, parseChatJob, runChatJob, type ChatWorkerDeps } from '../lib/service/chat';
import { coldStart, type DepsContext } from '../lib/service/middleware';
import { createDiagnoser, createDocClient, createFixAuditStore, createProviderFactory, createReportStore, serviceConfig } from '../lib/service/runtime';

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

export const handler = createHandler(() => {
  const config = serviceConfig();
  const doc = createDocClient();
  return {
    config,
    store: createReportStore(config, doc),
    providers: createProviderFactory(config),
    diagnoser: createDiagnoser(config),
    post: fetchPoster,
    // Without an audit table, "Apply fix" jobs are answered "not enabled": no fix runs unaudited.
    ...(config.fix.auditTable ? { audit: createFixAuditStore(config, doc) } : {}),
    onError: (err) => logger.error('fix job failed', { error: err }),
  };
});
