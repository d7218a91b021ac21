/**
 * `POST /checks/{id}/fix` and Slack's "Apply fix": the stored report's fix plan, for the
 * same instance, through the same provider runner. Dry run unless `apply`; applied steps
 * are verified by a fresh diagnosis (host checks and outside probe), rolled back when that
 * fails, and every step's audit record goes to DynamoDB before the answer is returned.
 * The HTTP route checks with {@link prepareFix} and leaves the applying to a queued job
 * (http-fix.ts), since a fix can outlast API Gateway's 30 s.
 */
import type { CloudProvider } from '../../cloud/types';
import type { InstanceInfo } from '../../inventory/types';
import type { ClientIp, Report } from '../../report/types';
import { applyPlan, type ApplyOutcome } from '../../remediation/apply';
import { buildPlan, type FixPlan } from '../../remediation/plan';
import { NotFoundError, ProviderNotEnabledError, ValidationError } from '../errors';
import { optedInInstance, type Diagnoser, type ProviderFactory } from '../check-service';
import type { FixAuditStore } from '../stores/fix-audit-store';
import type { ReportStore } from '../stores/report-store';
import { instanceKey } from '../stores/report-store';
import type { ServiceConfig } from '../config';
import type { AuthTarget } from '../../auth/types';
import { parsePublicKey, validateUserName } from '../../auth/validate';

export interface FixRequest {
  /** Id of the stored report whose failing checks are fixed. */
  reportId: string;
  /** Check ids to fix (validated by the caller against KNOWN_CHECK_IDS). */
  only?: string[];
  apply: boolean;
  /** Ties the audit records of this run together (default: the report id). */
  runId?: string;
  /** Epoch ms by which applying, verifying, rolling back and auditing must be over (the worker's end). */
  deadline?: number;
  /** The stored report `reportId` names, when the caller has read it already (not read again). */
  report?: Report;
}

export interface FixDeps {
  config: Pick<ServiceConfig, 'enabledProviders' | 'optInTag'>;
  store: ReportStore;
  providers: ProviderFactory;
  diagnoser: Diagnoser;
  audit: FixAuditStore;
}

export interface FixResponse {
  reportId: string;
  plan: FixPlan;
  /** null for a dry run. */
  outcome: ApplyOutcome | null;
}

/** A fix that passed every check that can be made without changing anything: ready to apply. */
export interface ReadyFix {
  reportId: string;
  report: Report;
  plan: FixPlan;
  provider: CloudProvider;
  instance: InstanceInfo;
  /** Where the audit records go: `provider:region:instanceId`. */
  targetKey: string;
}

/** Plans (and with `apply`, applies) the fix for a stored report. `identity` is recorded as `who`. */
export async function runFix(req: FixRequest, identity: string, deps: FixDeps): Promise<FixResponse> {
  if (!req.apply) {
    const { plan } = await planFix(req, deps, { allowLocal: true });
    return { reportId: req.reportId, plan, outcome: null };
  }
  const ready = await prepareFix(req, deps);
  const outcome = await applyFix(ready, identity, req.runId ?? req.reportId, deps, req.deadline);
  return { reportId: req.reportId, plan: ready.plan, outcome };
}

/** {@link FixDeps} of a queued fix job: a deployment without an audit table has no audit store. */
export type FixJobDeps = Omit<FixDeps, 'audit'> & { audit?: FixAuditStore };

/**
 * Applies a queued fix (Slack "Apply fix", an applying `POST /checks/{id}/fix`) through
 * {@link runFix}, refused (400) where no audit store is configured: no fix runs unaudited.
 */
export async function applyQueuedFix(req: Omit<FixRequest, 'apply'>, identity: string, deps: FixJobDeps): Promise<FixResponse> {
  if (!deps.audit) throw new ValidationError('fix', 'applying fixes is not enabled in this deployment (no audit table)');
  return runFix({ ...req, apply: true }, identity, { ...deps, audit: deps.audit });
}

/**
 * The checks of an applying fix, quick and read-only: the report exists (404), names a cloud
 * instance of an enabled provider (400), the instance still exists (404) and still carries
 * the opt-in tag (403). Returns the plan and what applying it needs.
 */
export async function prepareFix(req: Pick<FixRequest, 'reportId' | 'only' | 'report'>, deps: Omit<FixDeps, 'audit'>): Promise<ReadyFix> {
  const { report, plan, name, region, instanceId } = await planFix(req, deps);
  if (name === 'local')
    throw new ValidationError('id', 'a report of the local machine is fixed only by the local stack (npm start) or sshdoctor fix on that machine');
  // Checked again at fix time: the instance may be gone, or its tag removed, since the report was made.
  const { provider, instance } = await optedInInstance(name, region, instanceId, deps);
  return { reportId: req.reportId, report, plan, provider, instance, targetKey: instanceKey(name, region, instanceId) };
}

/**
 * Applies a prepared fix: each step, then a fresh diagnosis (host checks and outside probe)
 * that verifies it, a rollback when that fails, and the audit records under `runId`.
 */
export async function applyFix(
  ready: ReadyFix,
  identity: string,
  runId: string,
  deps: Pick<FixDeps, 'diagnoser' | 'audit'>,
  deadline?: number,
): Promise<ApplyOutcome> {
  const { report, plan, provider, instance } = ready;
  const named = report.clients.filter((c) => c.source !== 'probe-source');
  const reverify = () =>
    deps.diagnoser.instance(provider, {
      instanceId: instance.instanceId,
      clientIps: named.map((c) => c.ip),
      ...(named[0] ? { clientIpSource: named[0].source as ClientIp['source'] } : {}),
      port: report.target.port,
      // The authentication question of the report is asked again: the server must now accept the key.
      ...authOfReport(report),
    });
  const outcome = await applyPlan(plan, {
    runner: provider.runner(instance),
    reverify,
    identity,
    ...(provider.securityCenter ? { securityCenter: provider.securityCenter } : {}),
    // The audit write below needs a moment after the plan's own deadline.
    ...(deadline !== undefined ? { deadline: deadline - AUDIT_RESERVE_MS } : {}),
    // Each step is on record as soon as it has run: a run stopped half-way still shows its changes.
    onStepRan: (index, record) => deps.audit.stepRan(ready.targetKey, runId, index, record),
  });
  await deps.audit.record(ready.targetKey, runId, outcome.audit);
  return outcome;
}

/** The report's --user question (user and public key) as the engine's AuthTarget. */
function authOfReport(report: Report): { user?: AuthTarget } {
  const u = report.target.user;
  if (!u) return {};
  return { user: { name: validateUserName(u.name), ...(u.publicKey ? { publicKey: parsePublicKey(u.publicKey) } : {}) } };
}

/**
 * Applies the fix of a report of this machine (`npm start` only: the local provider enabled and
 * serverless-offline's IS_OFFLINE): the same plan, apply.sh through the local runner, then a
 * fresh local diagnosis that verifies it (rolled back otherwise), audited under `local:localhost`.
 * Synchronous: no queue runs locally, and a local fix is seconds.
 */
export async function applyLocalFix(
  req: Pick<FixRequest, 'reportId' | 'only'>,
  identity: string,
  deps: Pick<FixDeps, 'config' | 'store' | 'diagnoser' | 'audit'>,
): Promise<FixResponse> {
  const { report, plan, name } = await planFix(req, deps, { allowLocal: true });
  if (name !== 'local' || !deps.diagnoser.local || !deps.diagnoser.localRunner)
    throw new ValidationError('id', 'only a report of this machine is applied locally');
  const named = report.clients.filter((c) => c.source !== 'probe-source');
  const local = deps.diagnoser.local;
  const outcome = await applyPlan(plan, {
    runner: await deps.diagnoser.localRunner(),
    reverify: () =>
      local({
        clientIps: named.map((c) => c.ip),
        ...(named[0] ? { clientIpSource: named[0].source as ClientIp['source'] } : {}),
        port: report.target.port,
        ...authOfReport(report),
      }),
    identity,
  });
  await deps.audit.record('local:localhost', req.reportId, outcome.audit);
  return { reportId: req.reportId, plan, outcome };
}

/** Time kept back for writing the audit records after the plan. */
const AUDIT_RESERVE_MS = 5_000;

async function planFix(req: Pick<FixRequest, 'reportId' | 'only' | 'report'>, deps: Pick<FixDeps, 'config' | 'store'>, opts: { allowLocal?: boolean } = {}) {
  const report = req.report ?? (await deps.store.get(req.reportId));
  if (!report) throw new NotFoundError(`id: no report ${req.reportId}`);
  const { provider: name, instanceId, region } = report.target;
  // A report of this machine (only where the local provider is enabled: `npm start`) can be
  // planned; applying it is `sshdoctor fix --apply` on the machine itself.
  if (name === 'local' && opts.allowLocal && deps.config.enabledProviders.includes('local')) {
    return { report, plan: buildPlan(report, req.only?.length ? { only: req.only } : {}), name, region: region ?? '', instanceId: instanceId ?? '' };
  }
  if (name === 'local')
    throw new ValidationError('apply', 'a report of the local machine is applied with sshdoctor fix --apply on that machine, not through the service');
  if (name !== 'aws' && name !== 'alibaba') throw new ValidationError('id', 'only reports of cloud instances (aws, alibaba) can be fixed through the service');
  if (!deps.config.enabledProviders.includes(name)) throw new ProviderNotEnabledError(name);
  if (!instanceId || !region) throw new ValidationError('id', 'the report names no instance and region');
  const plan = buildPlan(report, req.only?.length ? { only: req.only } : {});
  return { report, plan, name, region, instanceId };
}
