/** DingTalk outgoing robot endpoint: verify, acknowledge, queue the diagnosis. */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { createInlineDispatcher, createSqsDispatcher, fetchPoster, runChatJob } from '../lib/service/chat';
import { handleDingtalkRequest, type DingtalkCommandDeps } from '../lib/service/dingtalk-command';
import { ConfigError } from '../lib/service/errors';
import { httpErrorHandler, type HttpEvent, type HttpResult } from '../lib/service/http';
import { coldStart, type DepsContext } from '../lib/service/middleware';
import { createDiagnoser, createDocClient, createProviderFactory, createReportStore, serviceConfig } from '../lib/service/runtime';
import { resolveSecret } from '../lib/service/secrets';

const logger = new Logger({ serviceName: 'sshdoctor' });

export function createHandler(load: () => DingtalkCommandDeps | Promise<DingtalkCommandDeps>) {
  return middy<HttpEvent, HttpResult, Error, DepsContext<DingtalkCommandDeps>>()
    .use(injectLambdaContext(logger))
    .use(httpErrorHandler(logger))
    .use(coldStart(load))
    .handler((event, context) => handleDingtalkRequest(event, context.deps));
}

export const handler = createHandler(async () => {
  const config = serviceConfig();
  if (!config.dingtalk.appSecretRef) throw new ConfigError('DINGTALK_APP_SECRET_REF', 'is required');
  const queueUrl = config.slack.jobsQueueUrl;
  const dispatcher = queueUrl
    ? createSqsDispatcher({ client: new (await import('@aws-sdk/client-sqs')).SQSClient({}), queueUrl })
    : createInlineDispatcher(
        (job) =>
          runChatJob(job, {
            config,
            store: createReportStore(config, createDocClient()),
            providers: createProviderFactory(config),
            diagnoser: createDiagnoser(config),
            post: fetchPoster,
          }),
        (err) => logger.error('chat job failed', { error: err }),
      );
  return {
    appSecret: await resolveSecret(config.dingtalk.appSecretRef, 'DINGTALK_APP_SECRET_REF'),
    dispatcher,
    target: config.dingtalk.target,
    maxBodyBytes: config.maxBodyBytes,
  };
});
