/** DingTalk outgoing robot endpoint: verify, acknowledge, queue the diagnosis. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handleDingtalkRequest, type DingtalkCommandDeps } from '../lib/service/chat/dingtalk-command';
import { ConfigError } from '../lib/service/errors';
import type { HttpEvent } from '../lib/service/http/http';
import { httpFunction } from '../lib/service/http/middleware';
import { createChatDispatcher } from '../lib/service/chat/chat-runtime';
import { createDocClient, serviceConfig } from '../lib/service/runtime';
import { resolveSecret } from '../lib/service/secrets';
import { createDynamoReplayGuard } from '../lib/service/stores/report-store';
import { observability } from '../lib/service/http/observability';

const { logger, middlewares, instrument, logError } = observability();

export function createHandler(load: () => DingtalkCommandDeps | Promise<DingtalkCommandDeps>) {
  return httpFunction<HttpEvent, DingtalkCommandDeps>({ logger, middlewares }, load).handler((event, context) => handleDingtalkRequest(event, context.deps));
}

export const handler = createHandler(async () => {
  const config = serviceConfig();
  if (!config.dingtalk.appSecretRef) throw new ConfigError('DINGTALK_APP_SECRET_REF', 'is required');
  const doc = createDocClient(instrument(new DynamoDBClient({})));
  const dispatcher = await createChatDispatcher(config, doc, logError, instrument);
  return {
    appSecret: await resolveSecret(config.dingtalk.appSecretRef, 'DINGTALK_APP_SECRET_REF'),
    dispatcher,
    target: config.dingtalk.target,
    maxBodyBytes: config.maxBodyBytes,
    callbackOrigins: config.callbackOrigins.dingtalk,
    replayGuard: createDynamoReplayGuard({ client: doc, table: config.tables.idempotency }),
  };
});
