/**
 * Fix runs on DynamoDB: one item per applying `POST /checks/{id}/fix`, from `queued` (the
 * request was accepted and its job queued) through `running` (a worker claimed it) to the
 * outcome. Kept in the Reports table as items of their own kind, keyed `fix-run#<fixId>`, so
 * no report id (a bare UUID) can ever name one. Takes an injected document client.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ApplyOutcome, ApplyStatus } from '../../remediation/apply';
import type { FixPlan } from '../../remediation/plan';
import type { ServiceConfig } from '../config';
import { UpstreamError } from '../errors';

/** `queued` and `running` are in progress; the others are final (`error`: refused or failed, see `error`). */
export type FixRunStatus = 'queued' | 'running' | ApplyStatus | 'error';

export interface FixRun {
  fixId: string;
  reportId: string;
  status: FixRunStatus;
  /** The plan as the caller was shown it when the run was accepted. */
  plan: FixPlan;
  /** Audit identity of the caller (`iam:<ARN>`). */
  requestedBy: string;
  /** ISO 8601. */
  requestedAt: string;
  /** Check ids the caller limited the fix to. */
  only?: string[];
  /** ISO 8601, when a worker claimed the run. */
  startedAt?: string;
  /** ISO 8601, when the run reached a final status. */
  finishedAt?: string;
  /** What applying did (steps, verification, rollback, audit records); for the ApplyStatus statuses. */
  outcome?: ApplyOutcome;
  /** Why the run did not apply, or failed (status `error`). */
  error?: string;
  /**
   * Set on reading a run still `running` long after any worker could still be on it (it was
   * stopped): what it changed is in the audit records, listed there as unfinished.
   */
  stale?: string;
}

/** How a claimed (or, if its job could not be queued, an unclaimed) run ends. */
export type FixRunResult = { status: ApplyStatus; outcome: ApplyOutcome } | { status: 'error'; error: string };

export interface FixRunStore {
  /** Records a new run; refuses to overwrite one with the same id. */
  create(run: FixRun & { status: 'queued' }): Promise<void>;
  /** The run, or null when unknown or expired. */
  get(fixId: string): Promise<FixRun | null>;
  /**
   * `queued` -> `running`, atomically: true for exactly one caller, false when the run is
   * unknown, no longer queued, or belongs to another report or requester.
   */
  claim(fixId: string, expected: { reportId: string; requestedBy: string }): Promise<boolean>;
  /** `from` -> the result's final status; false when the run was not in `from` (nothing written). */
  settle(fixId: string, from: 'queued' | 'running', result: FixRunResult): Promise<boolean>;
}

export interface FixRunStoreOptions {
  client: DynamoDBDocumentClient;
  /** The Reports table (HASH `id`, TTL `expiresAt`). */
  table: string;
  /** Kept as long as reports (the audit table keeps the lasting record). */
  ttlDays: number;
  /** A run `running` for longer is reported {@link FixRun.stale}. Default 10 min (twice the worker's 300 s timeout). */
  runningStaleAfterMs?: number;
  now?: () => Date;
}

/** The item kind, and the key prefix that keeps fix runs apart from reports in the same table. */
export const FIX_RUN_KIND = 'fix-run';
const key = (fixId: string) => ({ id: `${FIX_RUN_KIND}#${fixId}` });

/** DynamoDB-backed {@link FixRunStore}. */
export function createDynamoFixRunStore(opts: FixRunStoreOptions): FixRunStore {
  const now = opts.now ?? (() => new Date());
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new UpstreamError(`DynamoDB ${what} (fix run)`, { cause: err });
    }
  };
  /** A conditional update of one run: false when its condition did not hold (nothing written), not an error. */
  const update = (fixId: string, input: Omit<UpdateCommandInput, 'TableName' | 'Key'>): Promise<boolean> =>
    wrap('UpdateItem', async () => {
      try {
        await opts.client.send(new UpdateCommand({ TableName: opts.table, Key: key(fixId), ...input }));
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw err;
      }
    });

  return {
    create: (run) =>
      wrap('PutItem', async () => {
        const { plan, ...rest } = run;
        await opts.client.send(
          new PutCommand({
            TableName: opts.table,
            // Plan and outcome as JSON text, like reports: read back whole, no map nesting rules.
            Item: {
              ...key(run.fixId),
              kind: FIX_RUN_KIND,
              ...rest,
              plan: JSON.stringify(plan),
              expiresAt: Math.floor(now().getTime() / 1000) + opts.ttlDays * 86_400,
            },
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        );
      }),

    get: (fixId) =>
      wrap('GetItem', async () => {
        const out = await opts.client.send(new GetCommand({ TableName: opts.table, Key: key(fixId) }));
        const item = out.Item;
        // TTL deletion lags by up to days: an expired item is treated as gone.
        if (!item || item.kind !== FIX_RUN_KIND || (typeof item.expiresAt === 'number' && item.expiresAt * 1000 < now().getTime())) return null;
        const { id: _id, kind: _kind, expiresAt: _exp, plan, outcome, ...rest } = item;
        const run: FixRun = {
          ...(rest as Omit<FixRun, 'plan' | 'outcome'>),
          plan: JSON.parse(String(plan)) as FixPlan,
          ...(typeof outcome === 'string' ? { outcome: JSON.parse(outcome) as ApplyOutcome } : {}),
        };
        const started = run.startedAt ? Date.parse(run.startedAt) : NaN;
        if (run.status === 'running' && now().getTime() - started > (opts.runningStaleAfterMs ?? 600_000)) {
          run.stale = `no worker has been on this run since ${run.startedAt}: it was stopped before it ended; the audit records list what it changed`;
        }
        return run;
      }),

    claim: (fixId, expected) =>
      update(fixId, {
        UpdateExpression: 'SET #status = :running, startedAt = :at',
        ConditionExpression: '#status = :queued AND #kind = :kind AND reportId = :report AND requestedBy = :who',
        ExpressionAttributeNames: { '#status': 'status', '#kind': 'kind' },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':queued': 'queued',
          ':kind': FIX_RUN_KIND,
          ':report': expected.reportId,
          ':who': expected.requestedBy,
          ':at': now().toISOString(),
        },
      }),

    settle: (fixId, from, result) =>
      update(fixId, {
        UpdateExpression: `SET #status = :status, finishedAt = :at, ${result.status === 'error' ? '#error = :detail' : 'outcome = :detail'}`,
        ConditionExpression: '#status = :from AND #kind = :kind',
        ExpressionAttributeNames: { '#status': 'status', '#kind': 'kind', ...(result.status === 'error' ? { '#error': 'error' } : {}) },
        ExpressionAttributeValues: {
          ':status': result.status,
          ':from': from,
          ':kind': FIX_RUN_KIND,
          ':at': now().toISOString(),
          ':detail': result.status === 'error' ? result.error : JSON.stringify(result.outcome),
        },
      }),
  };
}

/** The production store: the reports table, runs kept as long as reports. */
export function createFixRunStore(cfg: Pick<ServiceConfig, 'tables' | 'reportTtlDays'>, doc: DynamoDBDocumentClient): FixRunStore {
  return createDynamoFixRunStore({ client: doc, table: cfg.tables.reports, ttlDays: cfg.reportTtlDays });
}
