/**
 * Audit records of applied fixes on DynamoDB: one item per step (who, what, when,
 * before/after, backup, verified, rolled back), keyed by target and time, so an
 * operator can list every change ever made to one instance. Takes an injected client.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../remediation/apply';
import { UpstreamError } from './errors';

export interface FixAuditStore {
  /** Writes every record of one fix run (`runId` ties them together, e.g. the report id). */
  record(targetKey: string, runId: string, records: readonly AuditRecord[]): Promise<void>;
  /** Newest first, at most `limit`. */
  list(targetKey: string, limit?: number): Promise<(AuditRecord & { runId: string })[]>;
}

export interface FixAuditStoreOptions {
  client: DynamoDBDocumentClient;
  /** Table with HASH `targetKey` (S) and RANGE `at` (S). */
  table: string;
  /** Kept for this many days (DynamoDB TTL on `expiresAt`); audits outlive reports. */
  ttlDays: number;
  now?: () => Date;
}

/** DynamoDB-backed {@link FixAuditStore}. */
export function createDynamoFixAuditStore(opts: FixAuditStoreOptions): FixAuditStore {
  const now = opts.now ?? (() => new Date());
  return {
    async record(targetKey, runId, records) {
      const expiresAt = Math.floor(now().getTime() / 1000) + opts.ttlDays * 86_400;
      try {
        // One put per step, in order: `at` = step time + run + index keeps steps of one run distinct and ordered.
        for (const [i, r] of records.entries()) {
          await opts.client.send(
            new PutCommand({
              TableName: opts.table,
              Item: { targetKey, at: `${r.when}#${runId}#${String(i).padStart(3, '0')}`, runId, record: JSON.stringify(r), expiresAt },
              ConditionExpression: 'attribute_not_exists(targetKey)',
            }),
          );
        }
      } catch (err) {
        throw new UpstreamError('DynamoDB PutItem (fix audit)', { cause: err });
      }
    },
    async list(targetKey, limit = 50) {
      try {
        const out = await opts.client.send(
          new QueryCommand({
            TableName: opts.table,
            KeyConditionExpression: 'targetKey = :k',
            ExpressionAttributeValues: { ':k': targetKey },
            ScanIndexForward: false,
            Limit: limit,
          }),
        );
        return (out.Items ?? []).map((item) => ({ ...(JSON.parse(String(item.record)) as AuditRecord), runId: String(item.runId) }));
      } catch (err) {
        throw new UpstreamError('DynamoDB Query (fix audit)', { cause: err });
      }
    },
  };
}
