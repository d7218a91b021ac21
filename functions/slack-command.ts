/** Slack slash command / interactivity endpoint: verify, acknowledge, queue the diagnosis or the fix. */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { createInlineDispatcher, createSqsDispatcher, fetchPoster, runChatJob } from '../lib/service/chat';
import { httpErrorHandler, type HttpEvent, type HttpResult } from '../lib/service/http';
import { coldStart, type DepsContext } from '../lib/service/middleware';
import {
  createDiagnoser,
  createDocClient,
  createFixAuditStore,
  createProviderFactory,
  createReportStore,
  serviceConfig,
} from '../lib/service/runtime';
import { createDynamoReplayGuard } from '../lib/service/report-store';
import { resolveSecret } from '../lib/service/secrets';
import { handleSlackRequest, type SlackCommandDeps } from '../lib/service/slack-command';
import { ConfigError } from '../lib/service/errors';
import { parseSlackFixAllowList } from '../lib/service/fix-authorize';

const logger = new Logger({ serviceName: 'sshdoctor' });

export function createHandler(load: () => SlackCommandDeps | Promise<SlackCommandDeps>) {
  return middy<HttpEvent, HttpResult, Error, DepsContext<SlackCommandDeps>>()
    .use(injectLambdaContext(logger))
    .use(httpErrorHandler(logger))
    .use(coldStart(load))
    .handler((event, context) => handleSlackRequest(event, context.deps));
}

export const handler = createHandler(async () => {
  const config = serviceConfig();
  if (!config.slack.signingSecretRef) throw new ConfigError('SLACK_SIGNING_SECRET_REF', 'is required');
  const fixAllowList = parseSlackFixAllowList(config.fix.slackAllowedUsers);
  const doc = createDocClient();
  const queueUrl = config.slack.jobsQueueUrl;
  // Without a queue (npm start under serverless-offline) the job runs in this process.
  const dispatcher = queueUrl
    ? createSqsDispatcher({ client: new (await import('@aws-sdk/client-sqs')).SQSClient({}), queueUrl })
    : createInlineDispatcher(
        (job) =>
          runChatJob(job, {
            config,
            store: createReportStore(config, doc),
            providers: createProviderFactory(config),
            diagnoser: createDiagnoser(config),
            post: fetchPoster,
            ...(config.fix.auditTable ? { audit: createFixAuditStore(config, doc) } : {}),
            onError: (err) => logger.error('fix job failed', { error: err }),
          }),
        (err) => logger.error('chat job failed', { error: err }),
      );
  return {
    signingSecret: await resolveSecret(config.slack.signingSecretRef, 'SLACK_SIGNING_SECRET_REF'),
    replayGuard: createDynamoReplayGuard({ client: doc, table: config.tables.idempotency }),
    dispatcher,
    target: config.slack.target,
    maxBodyBytes: config.maxBodyBytes,
    fixAllowList,
    post: fetchPoster,
  };
});
