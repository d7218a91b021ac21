/**
 * Reports on DynamoDB: by id (for `GET /checks/{id}`), latest state per instance (for flip
 * detection), and a per-instance history. All with TTL. Takes an injected document client.
 * The reports table also holds fix runs (fix-run-store.ts), which `get` never returns.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Report, VerdictStatus } from '../../report/types';
import { UpstreamError } from '../errors';

export interface StoredReport {
  id: string;
  report: Report;
}

/** Latest known state of one instance. `lastKnown` ignores `unknown` verdicts. */
export interface InstanceState {
  instanceKey: string;
  verdict: VerdictStatus;
  lastKnown?: 'reachable' | 'blocked';
  reportId: string;
  generatedAt: string;
}

export interface ReportStore {
  put(id: string, report: Report): Promise<void>;
  get(id: string): Promise<Report | null>;
  /**
   * Records the newest state of an instance and its history entry, returning the state it
   * replaced (atomically: two workers racing see distinct previous states).
   */
  recordState(instanceKey: string, id: string, report: Report): Promise<InstanceState | null>;
  latest(instanceKey: string): Promise<InstanceState | null>;
}

export interface ReportStoreOptions {
  client: DynamoDBDocumentClient;
  tables: { reports: string; latest: string; history: string };
  reportTtlDays: number;
  historyTtlDays: number;
  now?: () => Date;
}

/** `aws:us-east-1:i-0123...`: one key per instance across providers and regions. */
export function instanceKey(provider: string, region: string, instanceId: string): string {
  return `${provider}:${region}:${instanceId}`;
}

export function createDynamoReportStore(opts: ReportStoreOptions): ReportStore {
  const now = opts.now ?? (() => new Date());
  const ttl = (days: number) => Math.floor(now().getTime() / 1000) + days * 86_400;
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new UpstreamError(`DynamoDB ${what}`, { cause: err });
    }
  };

  return {
    put: (id, report) =>
      wrap('PutItem', async () => {
        // Stored as JSON text: a report is read back whole, and text avoids DynamoDB's
        // map nesting and empty-set rules.
        await opts.client.send(
          new PutCommand({
            TableName: opts.tables.reports,
            Item: { id, report: JSON.stringify(report), expiresAt: ttl(opts.reportTtlDays) },
          }),
        );
      }),

    get: (id) =>
      wrap('GetItem', async () => {
        const out = await opts.client.send(new GetCommand({ TableName: opts.tables.reports, Key: { id } }));
        const item = out.Item;
        // TTL deletion lags by up to days: an expired item is treated as gone.
        if (!item || (typeof item.expiresAt === 'number' && item.expiresAt * 1000 < now().getTime())) return null;
        // The table also holds fix runs (fix-run-store.ts): only an item with a report is one.
        if (item.kind !== undefined || typeof item.report !== 'string') return null;
        return JSON.parse(item.report) as Report;
      }),

    recordState: (key, id, report) =>
      wrap('UpdateItem', async () => {
        const verdict = report.verdict.status;
        const known = verdict === 'reachable' || verdict === 'blocked';
        const out = await opts.client.send(
          new UpdateCommand({
            TableName: opts.tables.latest,
            Key: { instanceKey: key },
            UpdateExpression: known ? 'SET verdict = :v, reportId = :r, generatedAt = :g, lastKnown = :v' : 'SET verdict = :v, reportId = :r, generatedAt = :g',
            ExpressionAttributeValues: { ':v': verdict, ':r': id, ':g': report.generatedAt },
            ReturnValues: 'ALL_OLD',
          }),
        );
        await opts.client.send(
          new PutCommand({
            TableName: opts.tables.history,
            Item: {
              instanceKey: key,
              at: `${report.generatedAt}#${id}`,
              verdict,
              reportId: id,
              causes: report.verdict.causes,
              expiresAt: ttl(opts.historyTtlDays),
            },
          }),
        );
        return (out.Attributes as InstanceState | undefined) ?? null;
      }),

    latest: (key) =>
      wrap('GetItem', async () => {
        const out = await opts.client.send(new GetCommand({ TableName: opts.tables.latest, Key: { instanceKey: key } }));
        return (out.Item as InstanceState | undefined) ?? null;
      }),
  };
}

/**
 * Remembers values seen within a window (Slack request signatures), so a captured request
 * cannot be replayed inside the 5-minute acceptance window. Shares the idempotency table
 * (key `id`, TTL attribute `expiration`, as Powertools' layer uses them).
 */
export interface ReplayGuard {
  /** True the first time `key` is seen within `ttlSeconds`; false on a replay. */
  firstSeen(key: string, ttlSeconds: number): Promise<boolean>;
}

export function createDynamoReplayGuard(opts: { client: DynamoDBDocumentClient; table: string; now?: () => Date }): ReplayGuard {
  const now = opts.now ?? (() => new Date());
  return {
    async firstSeen(key, ttlSeconds) {
      const epoch = Math.floor(now().getTime() / 1000);
      try {
        await opts.client.send(
          new PutCommand({
            TableName: opts.table,
            Item: { id: `replay#${key}`, expiration: epoch + ttlSeconds },
            // An expired item that TTL has not yet removed does not count as seen.
            ConditionExpression: 'attribute_not_exists(id) OR expiration < :now',
            ExpressionAttributeValues: { ':now': epoch },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw new UpstreamError('DynamoDB PutItem (replay guard)', { cause: err });
      }
    },
  };
}
