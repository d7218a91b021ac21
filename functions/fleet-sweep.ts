/** EventBridge Scheduler target: list opted-in instances per provider/region, queue batches. */
import middy from '@middy/core';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../lib/service/errors';
import { sweep, type SweepResult } from '../lib/service/fleet/fleet';
import { coldStart, type DepsContext } from '../lib/service/http/middleware';
import { createProviderFactory, refuseOffline, serviceConfig } from '../lib/service/runtime';
import { createSqsFleetQueue } from '../lib/service/fleet/sqs-fleet-queue';
import { observability } from '../lib/service/http/observability';

export type FleetSweepDeps = Parameters<typeof sweep>[0];

const { logger, middlewares, instrument } = observability();

export function createHandler(load: () => FleetSweepDeps | Promise<FleetSweepDeps>) {
  return middy<unknown, SweepResult, Error, DepsContext<FleetSweepDeps>>()
    .use(middlewares)
    .use(coldStart(load))
    .handler(async (_event, context) => {
      const result = await sweep(context.deps);
      for (const s of result.skipped) logger.warn('target skipped', { ...s.target, reason: s.reason });
      logger.info('sweep queued', { sweepId: result.sweepId, instances: result.instances, batches: result.batches });
      return result;
    });
}

export const handler = createHandler(() => {
  refuseOffline('fleet-sweep');
  const config = serviceConfig();
  if (!config.fleet.queueUrl) throw new ConfigError('FLEET_QUEUE_URL', 'is required');
  return {
    targets: config.fleet.targets,
    optInTag: config.optInTag,
    batchSize: config.fleet.batchSize,
    providers: createProviderFactory(config, instrument),
    queue: createSqsFleetQueue({ client: instrument(new SQSClient({})), queueUrl: config.fleet.queueUrl }),
  };
});
