/** SQS consumer: diagnose each queued batch once (idempotent), record state, alert on flips. */
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSlackWebhookAlertSink, createSnsAlertSink } from '../lib/service/fleet/alert-sinks';
import { fetchPoster } from '../lib/service/chat/chat';
import { processFleetBatch, type AlertSink } from '../lib/service/fleet/fleet';
import { createIdempotentFleetProcessor, type IdempotentFleetProcessor } from '../lib/service/fleet/fleet-idempotency';
import { coldStart, type DepsContext } from '../lib/service/http/middleware';
import { createDiagnoser, createDocClient, createProviderFactory, createReportStore, refuseOffline, serviceConfig } from '../lib/service/runtime';
import { resolveSecret } from '../lib/service/secrets';
import { observability } from '../lib/service/http/observability';

export interface FleetWorkerDeps {
  processRecord: IdempotentFleetProcessor;
}

const { logger, middlewares, instrument } = observability();
const metrics = new Metrics({ namespace: 'sshdoctor', serviceName: 'sshdoctor' });

export function createHandler(load: () => FleetWorkerDeps | Promise<FleetWorkerDeps>) {
  return middy<SQSEvent, SQSBatchResponse, Error, DepsContext<FleetWorkerDeps>>()
    .use(middlewares)
    .use(logMetrics(metrics))
    .use(coldStart(load))
    .use(sqsPartialBatchFailure({ logger: (reason) => logger.error('fleet batch failed', { reason }) }))
    .handler(async (event, context) => {
      context.deps.processRecord.registerContext(context);
      return Promise.allSettled(
        event.Records.map(async (record) => {
          const outcomes = await context.deps.processRecord(record);
          for (const o of outcomes) {
            metrics.addMetric(`verdict_${o.verdict}`, MetricUnit.Count, 1);
            if (o.alerted) metrics.addMetric('flip_alerts', MetricUnit.Count, 1);
          }
        }),
      ) as unknown as SQSBatchResponse;
    });
}

export const handler = createHandler(async () => {
  refuseOffline('fleet-worker');
  const config = serviceConfig();
  const dynamo = instrument(new DynamoDBClient({}));
  const alerts: AlertSink[] = [];
  if (config.alerts.topicArn) alerts.push(createSnsAlertSink({ client: instrument(new SNSClient({})), topicArn: config.alerts.topicArn }));
  if (config.slack.webhookUrlRef) {
    const webhookUrl = await resolveSecret(config.slack.webhookUrlRef, 'SLACK_WEBHOOK_URL_REF');
    alerts.push(createSlackWebhookAlertSink({ webhookUrl, post: fetchPoster }));
  }
  const deps = {
    providers: createProviderFactory(config, instrument),
    diagnoser: createDiagnoser(config),
    store: createReportStore(config, createDocClient(dynamo)),
    alerts,
  };
  return {
    processRecord: createIdempotentFleetProcessor({
      client: dynamo,
      table: config.tables.idempotency,
      process: (batch) => processFleetBatch(batch, deps),
    }),
  };
});
