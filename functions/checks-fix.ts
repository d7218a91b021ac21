/**
 * `POST /checks/{id}/fix`: the fix plan of a stored report (dry run), or with `apply: true`
 * the fix applied through the provider runner, verified, rolled back on failure, audited.
 * Its own route and IAM statement: callers allowed to run checks cannot apply fixes
 * unless they are also granted `execute-api:Invoke` on this route (see infra/fix-caller-policy.json).
 */
import middy from '@middy/core';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runFix, type FixDeps } from '../lib/service/fix-service';
import { httpFixIdentity } from '../lib/service/fix-authorize';
import { ValidationError } from '../lib/service/errors';
import { httpErrorHandler, json, type HttpResult } from '../lib/service/http';
import { coldStart, validateJsonBody, type DepsContext, type ParsedEvent } from '../lib/service/middleware';
import { createDiagnoser, createDocClient, createFixAuditStore, createProviderFactory, createReportStore, serviceConfig } from '../lib/service/runtime';
import { fixRequestSchema, parseOrThrow, reportIdSchema, type FixRequestBody } from '../lib/service/schemas';
import { KNOWN_CHECK_IDS } from '../lib/remediation/plan';
import { observability } from '../lib/service/observability';

export interface ChecksFixDeps extends FixDeps {
  maxBodyBytes: number;
}

/** API Gateway's IAM authorizer context (HTTP API payload 2.0). */
type FixEvent = ParsedEvent<FixRequestBody> & {
  reportId?: string;
  requestContext: { authorizer?: { iam?: { userArn?: string | null } } };
};

const { logger, middlewares, instrument } = observability();

/** Builds the handler around `load` (tests pass dependencies on dynalite and emulated clouds). */
export function createHandler(load: () => ChecksFixDeps | Promise<ChecksFixDeps>) {
  return middy<FixEvent, HttpResult, Error, DepsContext<ChecksFixDeps>>()
    .use(middlewares)
    .use(httpErrorHandler(logger))
    .use(coldStart(load))
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
      const identity = httpFixIdentity(event.requestContext.authorizer?.iam?.userArn);
      const res = await runFix({ reportId: event.reportId as string, apply, ...(only ? { only } : {}) }, identity, context.deps);
      logger.info('fix done', { id: res.reportId, apply, status: res.outcome?.status ?? 'planned', steps: res.plan.steps.length, who: identity });
      return json(200, res);
    });
}

export const handler = createHandler(() => {
  const config = serviceConfig();
  const doc = createDocClient(instrument(new DynamoDBClient({})));
  return {
    config,
    maxBodyBytes: config.maxBodyBytes,
    store: createReportStore(config, doc),
    providers: createProviderFactory(config, instrument),
    diagnoser: createDiagnoser(config),
    audit: createFixAuditStore(config, doc),
  };
});
