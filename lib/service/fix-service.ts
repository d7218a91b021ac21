/**
 * `POST /checks/{id}/fix` and Slack's "Apply fix": the stored report's fix plan, for the
 * same instance, through the same provider runner. Dry run unless `apply`; applied steps
 * are verified by a fresh diagnosis (host checks and outside probe), rolled back when that
 * fails, and every step's audit record goes to DynamoDB before the answer is returned.
 */
import type { CloudProvider } from '../cloud/types';
import type { ClientIp } from '../report/types';
import { applyPlan, type ApplyOutcome } from '../remediation/apply';
import { buildPlan, type FixPlan } from '../remediation/plan';
import { ForbiddenError, NotFoundError, ProviderNotEnabledError, ServiceError, UpstreamError, ValidationError } from './errors';
import { isOptedIn, type Diagnoser, type ProviderFactory } from './check-service';
import type { FixAuditStore } from './fix-audit-store';
import type { ReportStore } from './report-store';
import { instanceKey } from './report-store';
import type { ServiceConfig } from './config';

export interface FixRequest {
  /** Id of the stored report whose failing checks are fixed. */
  reportId: string;
  /** Check ids to fix (validated by the caller with parseOnly). */
  only?: string[];
  apply: boolean;
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

/** Plans (and with `apply`, applies) the fix for a stored report. `identity` is recorded as `who`. */
export async function runFix(req: FixRequest, identity: string, deps: FixDeps): Promise<FixResponse> {
  const report = await deps.store.get(req.reportId);
  if (!report) throw new NotFoundError(`id: no report ${req.reportId}`);
  const { provider: name, instanceId, region } = report.target;
  if (name !== 'aws' && name !== 'alibaba') throw new ValidationError('id', 'only reports of cloud instances (aws, alibaba) can be fixed through the service');
  if (!deps.config.enabledProviders.includes(name)) throw new ProviderNotEnabledError(name);
  if (!instanceId || !region) throw new ValidationError('id', 'the report names no instance and region');

  const plan = buildPlan(report, req.only?.length ? { only: req.only } : {});
  if (!req.apply) return { reportId: req.reportId, plan, outcome: null };

  const provider: CloudProvider = await cloud('provider setup', () => deps.providers(name, region));
  const instance = await cloud('describe instance', () => provider.describeInstance(instanceId));
  if (!instance) throw new NotFoundError(`instanceId: ${instanceId} not found in ${name} ${region}`);
  // Checked again at fix time: the tag may have been removed since the report was made.
  if (!isOptedIn(instance, deps.config.optInTag)) {
    const { key, value } = deps.config.optInTag;
    throw new ForbiddenError(`instanceId: ${instanceId} does not carry the opt-in tag ${key}=${value}`);
  }
  const named = report.clients.filter((c) => c.source !== 'probe-source');
  const reverify = () =>
    deps.diagnoser.instance(provider, {
      instanceId,
      clientIps: named.map((c) => c.ip),
      ...(named[0] ? { clientIpSource: named[0].source as ClientIp['source'] } : {}),
      port: report.target.port,
    });
  const outcome = await applyPlan(plan, {
    runner: provider.runner(instance),
    reverify,
    identity,
    ...(provider.securityCenter ? { securityCenter: provider.securityCenter } : {}),
  });
  await deps.audit.record(instanceKey(name, region, instanceId), req.reportId, outcome.audit);
  return { reportId: req.reportId, plan, outcome };
}

async function cloud<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServiceError) throw err;
    throw new UpstreamError(what, { cause: err });
  }
}
