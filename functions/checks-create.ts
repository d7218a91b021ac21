/** `POST /checks`: validate, authorise by opt-in tag, diagnose, store, return the report. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runCheck, type CheckDeps } from '../lib/service/check-service';
import { json } from '../lib/service/http/http';
import { httpFunction, validateJsonBody, type ParsedEvent } from '../lib/service/http/middleware';
import { createDiagnoser, createDocClient, createProviderFactory, createReportStore, serviceConfig } from '../lib/service/runtime';
import { checkRequestSchema, type CheckRequest } from '../lib/service/http/schemas';
import { observability } from '../lib/service/http/observability';

export interface ChecksCreateDeps extends CheckDeps {
  maxBodyBytes: number;
}

const { logger, tracer, middlewares, instrument } = observability();

/** Builds the handler around `load` (tests pass dependencies on dynalite and lab providers). */
export function createHandler(load: () => ChecksCreateDeps | Promise<ChecksCreateDeps>) {
  return httpFunction<ParsedEvent<CheckRequest>, ChecksCreateDeps>({ logger, middlewares }, load)
    .use(validateJsonBody(checkRequestSchema))
    .handler(async (event, context) => {
      // API Gateway answers 503 at 30 s; the function's own timeout (29 s) is the tighter one.
      const deadline = Date.now() + context.getRemainingTimeInMillis();
      const { id, report } = await runCheck(event.parsed, event.requestContext.http.sourceIp, context.deps, deadline);
      logger.info('check done', { id, provider: event.parsed.provider, verdict: report.verdict.status });
      // Searchable in X-Ray: which checks found instances blocked, per provider.
      tracer.putAnnotation('provider', event.parsed.provider);
      tracer.putAnnotation('verdict', report.verdict.status);
      return json(201, { id, report }, { location: `/checks/${id}` });
    });
}

export const handler = createHandler(() => {
  const config = serviceConfig();
  return {
    config,
    maxBodyBytes: config.maxBodyBytes,
    store: createReportStore(config, createDocClient(instrument(new DynamoDBClient({})))),
    providers: createProviderFactory(config, instrument),
    diagnoser: createDiagnoser(config),
  };
});
