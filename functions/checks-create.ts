/** `POST /checks`: validate, authorise by opt-in tag, diagnose, store, return the report. */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { runCheck, type CheckDeps } from '../lib/service/check-service';
import { httpErrorHandler, json, type HttpResult } from '../lib/service/http';
import { coldStart, validateJsonBody, type DepsContext, type ParsedEvent } from '../lib/service/middleware';
import { createDiagnoser, createDocClient, createProviderFactory, createReportStore, serviceConfig } from '../lib/service/runtime';
import { checkRequestSchema, type CheckRequest } from '../lib/service/schemas';

export interface ChecksCreateDeps extends CheckDeps {
  maxBodyBytes: number;
}

const logger = new Logger({ serviceName: 'sshdoctor' });

/** Builds the handler around `load` (tests pass dependencies on dynalite and lab providers). */
export function createHandler(load: () => ChecksCreateDeps | Promise<ChecksCreateDeps>) {
  return middy<ParsedEvent<CheckRequest>, HttpResult, Error, DepsContext<ChecksCreateDeps>>()
    .use(injectLambdaContext(logger))
    .use(httpErrorHandler(logger))
    .use(coldStart(load))
    .use(validateJsonBody(checkRequestSchema))
    .handler(async (event, context) => {
      const { id, report } = await runCheck(event.parsed, event.requestContext.http.sourceIp, context.deps);
      logger.info('check done', { id, provider: event.parsed.provider, verdict: report.verdict.status });
      return json(201, { id, report }, { location: `/checks/${id}` });
    });
}

export const handler = createHandler(() => {
  const config = serviceConfig();
  return {
    config,
    maxBodyBytes: config.maxBodyBytes,
    store: createReportStore(config, createDocClient()),
    providers: createProviderFactory(config),
    diagnoser: createDiagnoser(config),
  };
});
