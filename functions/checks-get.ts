/** `GET /checks/{id}`: a stored report, or 404. */
import middy from '@middy/core';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../lib/service/errors';
import { httpErrorHandler, json, type HttpEvent, type HttpResult } from '../lib/service/http';
import { coldStart, type DepsContext } from '../lib/service/middleware';
import type { ReportStore } from '../lib/service/report-store';
import { createDocClient, createReportStore, serviceConfig } from '../lib/service/runtime';
import { parseOrThrow, reportIdSchema } from '../lib/service/schemas';
import { observability } from '../lib/service/observability';

export interface ChecksGetDeps {
  store: ReportStore;
}

const { logger, middlewares, instrument } = observability();

export function createHandler(load: () => ChecksGetDeps | Promise<ChecksGetDeps>) {
  return middy<HttpEvent & { reportId?: string }, HttpResult, Error, DepsContext<ChecksGetDeps>>()
    .use(middlewares)
    .use(httpErrorHandler(logger))
    .use(coldStart(load))
    .before(async (request) => {
      request.event.reportId = parseOrThrow(reportIdSchema, request.event.pathParameters?.id, 'id');
    })
    .handler(async (event, context) => {
      const id = event.reportId as string;
      const report = await context.deps.store.get(id);
      if (!report) throw new NotFoundError(`id: no report ${id}`);
      return json(200, { id, report });
    });
}

export const handler = createHandler(() => ({ store: createReportStore(serviceConfig(), createDocClient(instrument(new DynamoDBClient({})))) }));
