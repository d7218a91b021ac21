/** Slack slash command / interactivity endpoint: verify, acknowledge, queue the diagnosis or the fix. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { httpFunction } from '../lib/service/http/middleware';
import { fetchPoster } from '../lib/service/chat/chat';
import { createChatDispatcher } from '../lib/service/chat/chat-runtime';
import { createDocClient, serviceConfig } from '../lib/service/runtime';
import { createDynamoReplayGuard } from '../lib/service/stores/report-store';
import { resolveSecret } from '../lib/service/secrets';
import { handleSlackRequest, slackRequest, type SlackCommandDeps, type SlackEvent, type SlackForm } from '../lib/service/chat/slack-command';
import { ConfigError } from '../lib/service/errors';
import { parseSlackFixAllowList } from '../lib/service/fix/fix-authorize';
import { observability } from '../lib/service/http/observability';

const { logger, middlewares, instrument, logError } = observability();

export function createHandler(load: () => SlackCommandDeps | Promise<SlackCommandDeps>) {
  return httpFunction<SlackEvent, SlackCommandDeps>({ logger, middlewares }, load)
    .use(slackRequest())
    .handler((event, context) => handleSlackRequest(event.body as SlackForm, context.deps));
}

export const handler = createHandler(async () => {
  const config = serviceConfig();
  if (!config.slack.signingSecretRef) throw new ConfigError('SLACK_SIGNING_SECRET_REF', 'is required');
  const fixAllowList = parseSlackFixAllowList(config.fix.slackAllowedUsers);
  const doc = createDocClient(instrument(new DynamoDBClient({})));
  const dispatcher = await createChatDispatcher(config, doc, logError, instrument);
  return {
    signingSecret: await resolveSecret(config.slack.signingSecretRef, 'SLACK_SIGNING_SECRET_REF'),
    replayGuard: createDynamoReplayGuard({ client: doc, table: config.tables.idempotency }),
    dispatcher,
    target: config.slack.target,
    maxBodyBytes: config.maxBodyBytes,
    fixAllowList,
    callbackOrigins: config.callbackOrigins.slack,
    sshPorts: config.sshPorts,
    post: fetchPoster,
  };
});
