/**
 * Audit records of applied fixes on DynamoDB: one record per step (who, what, when,
 * before/after, backup, verified, rolled back), keyed by target and time, so an
 * operator can list every change ever made to one instance, including those of a run that
 * never finished. Takes an injected client.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../../remediation/apply';
import { UpstreamError } from '../errors';

export interface FixAuditStore {
  /**
   * Writes one step the moment it has run, before the next step and the verification: if the
   * run never finishes (the worker is stopped), the change is still on record, unverified.
   */
  stepRan(targetKey: string, runId: string, index: number, record: AuditRecord): Promise<void>;
  /** Writes every record of one finished run (`runId` ties them together, e.g. the report id). */
  record(targetKey: string, runId: string, records: readonly AuditRecord[]): Promise<void>;
  /**
   * Newest first, at most `limit` steps: each step as finished, or as it ran (`unfinished`)
   * when its run never wrote its final records.
   */
  list(targetKey: string, limit?: number): Promise<ListedAuditRecord[]>;
}

export type ListedAuditRecord = AuditRecord & { runId: string; unfinished?: true };

export interface FixAuditStoreOptions {
  client: DynamoDBDocumentClient;
  /** Table with HASH `targetKey` (S) and RANGE `at` (S). */
  table: string;
  /** Kept for this many days (DynamoDB TTL on `expiresAt`); audits outlive reports. */
  ttlDays: number;
  now?: () => Date;
}

/** Suffix of the sort key of a step's first record, written when it ran. */
const RAN = '#ran';

/**
 * DynamoDB-backed {@link FixAuditStore}. Append-only: every item is written once (a
 * conditional put), so a step has two items at most, as it ran and as it finished.
 */
export function createDynamoFixAuditStore(opts: FixAuditStoreOptions): FixAuditStore {
  const now = opts.now ?? (() => new Date());
  // `at` = step time + run + index keeps the steps of one run distinct and ordered.
  const stepKey = (r: AuditRecord, runId: string, i: number) => `${r.when}#${runId}#${String(i).padStart(3, '0')}`;
  const put = async (targetKey: string, at: string, runId: string, r: AuditRecord) => {
    const expiresAt = Math.floor(now().getTime() / 1000) + opts.ttlDays * 86_400;
    await opts.client.send(
      new PutCommand({
        TableName: opts.table,
        Item: { targetKey, at, runId, record: JSON.stringify(r), expiresAt },
        ConditionExpression: 'attribute_not_exists(targetKey)',
      }),
    );
  };
  return {
    async stepRan(targetKey, runId, index, record) {
      try {
        await put(targetKey, stepKey(record, runId, index) + RAN, runId, record);
      } catch (err) {
        throw new UpstreamError('DynamoDB PutItem (fix audit)', { cause: err });
      }
    },
    async record(targetKey, runId, records) {
      try {
        for (const [i, r] of records.entries()) await put(targetKey, stepKey(r, runId, i), runId, r);
      } catch (err) {
        throw new UpstreamError('DynamoDB PutItem (fix audit)', { cause: err });
      }
    },
    async list(targetKey, limit = 50) {
      let items: Record<string, unknown>[];
      try {
        const out = await opts.client.send(
          new QueryCommand({
            TableName: opts.table,
            KeyConditionExpression: 'targetKey = :k',
            ExpressionAttributeValues: { ':k': targetKey },
            ScanIndexForward: false,
            // Up to two items per step.
            Limit: limit * 2,
          }),
        );
        items = out.Items ?? [];
      } catch (err) {
        throw new UpstreamError('DynamoDB Query (fix audit)', { cause: err });
      }
      // A step's finished record supersedes the one written when it ran.
      const finished = new Set(items.map((i) => String(i.at)).filter((at) => !at.endsWith(RAN)));
      return items
        .filter((i) => !String(i.at).endsWith(RAN) || !finished.has(String(i.at).slice(0, -RAN.length)))
        .slice(0, limit)
        .map((i) => ({
          ...(JSON.parse(String(i.record)) as AuditRecord),
          runId: String(i.runId),
          ...(String(i.at).endsWith(RAN) ? { unfinished: true as const } : {}),
        }));
    },
  };
}
