/**
 * Powertools idempotency around the fleet worker's per-message work: a redelivered (or
 * duplicated) SQS message with the same body returns the stored outcome instead of
 * diagnosing and alerting again.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context, SQSRecord } from 'aws-lambda';
import { parseFleetBatch, type FleetBatch, type InstanceOutcome } from './fleet';

export interface IdempotentFleetProcessor {
  (record: SQSRecord): Promise<InstanceOutcome[]>;
  /** Lets Powertools bound in-progress records by the invocation's remaining time. */
  registerContext(context: Context): void;
}

export function createIdempotentFleetProcessor(opts: {
  client: DynamoDBClient;
  table: string;
  /** How long a processed message is remembered; longer than the queue's retention of retries. */
  expiresAfterSeconds?: number;
  process: (batch: FleetBatch) => Promise<InstanceOutcome[]>;
}): IdempotentFleetProcessor {
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: opts.table, awsSdkV3Client: opts.client });
  // Key on the body only: receive count and receipt handle change on every redelivery.
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'body', expiresAfterSeconds: opts.expiresAfterSeconds ?? 86_400 });
  const idempotent = makeIdempotent(async (record: SQSRecord) => opts.process(parseFleetBatch(record.body)), {
    persistenceStore,
    config,
  });
  const fn = ((record: SQSRecord) => idempotent(record)) as IdempotentFleetProcessor;
  fn.registerContext = (context) => config.registerLambdaContext(context);
  return fn;
}
