/** `GET /checks/{id}`: a stored report; `GET /checks/{id}/fix/{fixId}`: one of its fix runs. Or 404. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../lib/service/errors';
import { createFixRunStore, type FixRunStore } from '../lib/service/stores/fix-run-store';
import { json, type HttpEvent } from '../lib/service/http/http';
import { httpFunction } from '../lib/service/http/middleware';
import type { ReportStore } from '../lib/service/stores/report-store';
import { createDocClient, createReportStore, serviceConfig } from '../lib/service/runtime';
import { fixIdSchema, parseOrThrow, reportIdSchema } from '../lib/service/http/schemas';
import { observability } from '../lib/service/http/observability';

export interface ChecksGetDeps {
  store: ReportStore;
  runs: FixRunStore;
}

const { logger, middlewares, instrument } = observability();

export function createHandler(load: () => ChecksGetDeps | Promise<ChecksGetDeps>) {
  return httpFunction<HttpEvent & { reportId?: string; fixId?: string }, ChecksGetDeps>({ logger, middlewares }, load)
    .before(async (request) => {
      const params = request.event.pathParameters ?? {};
      request.event.reportId = parseOrThrow(reportIdSchema, params.id, 'id');
      if ('fixId' in params) request.event.fixId = parseOrThrow(fixIdSchema, params.fixId, 'fixId');
    })
    .handler(async (event, context) => {
      const id = event.reportId as string;
      if (event.fixId !== undefined) {
        const run = await context.deps.runs.get(event.fixId);
        // Another report's run is as unknown here as a run that never existed.
        if (!run || run.reportId !== id) throw new NotFoundError(`fixId: no fix run ${event.fixId} of report ${id}`);
        return json(200, run);
      }
      const report = await context.deps.store.get(id);
      if (!report) throw new NotFoundError(`id: no report ${id}`);
      return json(200, { id, report });
    });
}

export const handler = createHandler(() => {
  const config = serviceConfig();
  const doc = createDocClient(instrument(new DynamoDBClient({})));
  return { store: createReportStore(config, doc), runs: createFixRunStore(config, doc) };
});
