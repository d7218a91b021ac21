/**
 * Scheduled fleet checks. The sweep lists opted-in instances per provider and region and
 * queues them in batches; the worker diagnoses a batch, records each instance's state, and
 * alerts when an instance flips between reachable and blocked.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { Report } from '../../report/types';
import { isOptedIn, type Diagnoser, type ProviderFactory } from '../check-service';
import type { FleetTarget } from '../config';
import { instanceKey, type InstanceState, type ReportStore } from '../stores/report-store';
import { parseOrThrow } from '../http/schemas';

/** One queue message: up to `batchSize` instances of one provider and region. */
export interface FleetBatch {
  sweepId: string;
  provider: 'aws' | 'alibaba';
  region: string;
  instanceIds: string[];
}

const fleetBatchSchema = z.strictObject({
  sweepId: z.string().check(z.minLength(1), z.maxLength(64)),
  provider: z.enum(['aws', 'alibaba']),
  region: z.string().check(z.regex(/^[a-z]{2}[a-z0-9-]{3,30}$/, 'must be a region')),
  instanceIds: z.array(z.string().check(z.regex(/^i-[0-9a-z]{8,30}$/, 'must be an instance id'))).check(z.minLength(1), z.maxLength(50)),
});

/** Validates a batch read back from the queue. */
export function parseFleetBatch(body: string): FleetBatch {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return parseOrThrow(fleetBatchSchema, undefined, 'message');
  }
  return parseOrThrow(fleetBatchSchema, value, 'message');
}

/** Port: where the sweep puts batches (SQS in AWS). */
export interface FleetQueue {
  send(batches: readonly FleetBatch[]): Promise<void>;
}

export interface SweepResult {
  sweepId: string;
  instances: number;
  batches: number;
  /** Targets whose listing failed or whose provider cannot list by tag, and why. */
  skipped: { target: FleetTarget; reason: string }[];
}

/** Lists opted-in instances on every target and queues them in batches of `batchSize`. */
export async function sweep(deps: {
  targets: readonly FleetTarget[];
  optInTag: { key: string; value: string };
  batchSize: number;
  providers: ProviderFactory;
  queue: FleetQueue;
}): Promise<SweepResult> {
  const sweepId = randomUUID();
  const batches: FleetBatch[] = [];
  const skipped: SweepResult['skipped'] = [];
  let instances = 0;
  for (const target of deps.targets) {
    try {
      const provider = await deps.providers(target.provider, target.region);
      if (!provider.listInstancesByTag) {
        skipped.push({ target, reason: 'provider cannot list instances by tag' });
        continue;
      }
      const found = await provider.listInstancesByTag(deps.optInTag.key, deps.optInTag.value);
      // Listing filters by tag already; the check keeps a lax adapter from widening the scope.
      const ids = found.filter((i) => isOptedIn(i, deps.optInTag)).map((i) => i.instanceId);
      instances += ids.length;
      for (let i = 0; i < ids.length; i += deps.batchSize) {
        batches.push({ sweepId, provider: target.provider, region: target.region, instanceIds: ids.slice(i, i + deps.batchSize) });
      }
    } catch (err) {
      skipped.push({ target, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  if (batches.length) await deps.queue.send(batches);
  return { sweepId, instances, batches: batches.length, skipped };
}

/** An instance went from reachable to blocked or back. */
export interface FlipAlert {
  instanceKey: string;
  instanceId: string;
  provider: 'aws' | 'alibaba';
  region: string;
  from: 'reachable' | 'blocked';
  to: 'reachable' | 'blocked';
  reportId: string;
  report: Report;
}

/** Port: where flip alerts go (SNS topic, Slack incoming webhook). */
export interface AlertSink {
  readonly name: string;
  notify(alert: FlipAlert): Promise<void>;
}

/** The flip, if any, between the replaced state and the new report. `unknown` never flips. */
export function detectFlip(previous: InstanceState | null, report: Report): { from: 'reachable' | 'blocked'; to: 'reachable' | 'blocked' } | null {
  const to = report.verdict.status;
  const from = previous?.lastKnown;
  if (!from || (to !== 'reachable' && to !== 'blocked') || from === to) return null;
  return { from, to };
}

export interface InstanceOutcome {
  instanceId: string;
  reportId: string;
  verdict: Report['verdict']['status'];
  alerted: boolean;
}

/**
 * Diagnoses every instance of a batch, records state and history, and alerts on flips.
 * Alerts are at most once: the state swap is atomic, so a retried or concurrent message
 * sees the new state as "previous" and finds no flip; an alert sink failure is thrown
 * (and logged by the worker) but not re-sent.
 */
export async function processFleetBatch(
  batch: FleetBatch,
  deps: { providers: ProviderFactory; diagnoser: Diagnoser; store: ReportStore; alerts: readonly AlertSink[] },
): Promise<InstanceOutcome[]> {
  const provider = await deps.providers(batch.provider, batch.region);
  const outcomes: InstanceOutcome[] = [];
  for (const instanceId of batch.instanceIds) {
    const report = await deps.diagnoser.instance(provider, { instanceId, clientIps: [] });
    const reportId = randomUUID();
    await deps.store.put(reportId, report);
    const key = instanceKey(batch.provider, batch.region, instanceId);
    const previous = await deps.store.recordState(key, reportId, report);
    const flip = detectFlip(previous, report);
    if (flip) {
      const alert: FlipAlert = { instanceKey: key, instanceId, provider: batch.provider, region: batch.region, ...flip, reportId, report };
      await Promise.all(deps.alerts.map((s) => s.notify(alert)));
    }
    outcomes.push({ instanceId, reportId, verdict: report.verdict.status, alerted: flip !== null });
  }
  return outcomes;
}
