/**
 * `POST /checks/{id}/fix`: the fix plan of a stored report (dry run, 200), or with `apply: true`
 * the quick checks, a fix run recorded as `queued` and its job queued (202, `location` of the
 * run): the slack-worker function applies it, verifies, rolls back on failure and audits, and
 * `GET /checks/{id}/fix/{fixId}` (checks-get) answers how it went. Not applied here, since
 * API Gateway gives up after 30 s and a fix must never be cut off half-way.
 * Its own route and IAM statement: callers allowed to run checks cannot apply fixes
 * unless they are also granted `execute-api:Invoke` on this route (see infra/fix-caller-policy.json).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { applyLocalFix, runFix } from '../lib/service/fix/fix-service';
import { httpFixIdentity, LOCAL_IDENTITY } from '../lib/service/fix/fix-authorize';
import { acceptHttpFix, type HttpFixDeps } from '../lib/service/fix/http-fix';
import { createChatDispatcher } from '../lib/service/chat/chat-runtime';
import { createFixRunStore } from '../lib/service/stores/fix-run-store';
import { ValidationError } from '../lib/service/errors';
import { isOffline } from '../lib/service/offline';
import { json } from '../lib/service/http/http';
import { httpFunction, validateJsonBody, type ParsedEvent } from '../lib/service/http/middleware';
import { createDiagnoser, createDocClient, createFixAuditStore, createProviderFactory, createReportStore, serviceConfig } from '../lib/service/runtime';
import { fixRequestSchema, parseOrThrow, reportIdSchema, type FixRequestBody } from '../lib/service/http/schemas';
import { KNOWN_CHECK_IDS } from '../lib/remediation/plan';
import { observability } from '../lib/service/http/observability';

export interface ChecksFixDeps extends HttpFixDeps {
  maxBodyBytes: number;
}

/** API Gateway's IAM authorizer context (HTTP API payload 2.0). */
type FixEvent = ParsedEvent<FixRequestBody> & {
  reportId?: string;
  requestContext: { authorizer?: { iam?: { userArn?: string | null } } };
};

const { logger, middlewares, instrument, logError } = observability();

/** Builds the handler around `load` (tests pass dependencies on dynalite, emulated clouds and queues). */
export function createHandler(load: () => ChecksFixDeps | Promise<ChecksFixDeps>) {
  return httpFunction<FixEvent, ChecksFixDeps>({ logger, middlewares }, load)
    .before(async (request) => {
      request.event.reportId = parseOrThrow(reportIdSchema, request.event.pathParameters?.id, 'id');
    })
    .use(validateJsonBody(fixRequestSchema))
    .before(async (request) => {
      const unknown = request.event.parsed.only?.find((id) => !KNOWN_CHECK_IDS.includes(id));
      if (unknown !== undefined) throw new ValidationError('only', `unknown check id ${unknown} (known: ${KNOWN_CHECK_IDS.join(', ')})`);
    })
    .handler(async (event, context) => {
      const { apply = false, only } = event.parsed;
      const reportId = event.reportId as string;
      const identity = httpFixIdentity(event.requestContext.authorizer?.iam?.userArn, {
        offline: isOffline(),
        localProvider: context.deps.config.enabledProviders.includes('local'),
      });
      if (!apply) {
        const res = await runFix({ reportId, apply, ...(only ? { only } : {}) }, identity, context.deps);
        logger.info('fix planned', { id: reportId, steps: res.plan.steps.length, who: identity });
        return json(200, res);
      }
      if (identity === LOCAL_IDENTITY) {
        const res = await applyLocalFix({ reportId, ...(only ? { only } : {}) }, identity, context.deps);
        logger.info('local fix done', { id: reportId, status: res.outcome?.status, steps: res.plan.steps.length, who: identity });
        return json(200, res);
      }
      const accepted = await acceptHttpFix({ reportId, ...(only ? { only } : {}) }, identity, context.deps);
      if ('done' in accepted) {
        logger.info('fix done', { id: reportId, apply, status: accepted.done.outcome?.status, steps: 0, who: identity });
        return json(200, accepted.done);
      }
      const { fixId, status, plan } = accepted.queued;
      logger.info('fix queued', { id: reportId, fixId, steps: plan.steps.length, who: identity });
      return json(202, { fixId, reportId, status, plan }, { location: `/checks/${reportId}/fix/${fixId}` });
    });
}

export const handler = createHandler(async () => {
  const config = serviceConfig();
  const doc = createDocClient(instrument(new DynamoDBClient({})));
  return {
    config,
    maxBodyBytes: config.maxBodyBytes,
    store: createReportStore(config, doc),
    providers: createProviderFactory(config, instrument),
    diagnoser: createDiagnoser(config),
    audit: createFixAuditStore(config, doc),
    runs: createFixRunStore(config, doc),
    // The jobs queue the slack-worker function consumes (in-process under `npm start`).
    dispatcher: await createChatDispatcher(config, doc, logError, instrument),
  };
});
