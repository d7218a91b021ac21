/**
 * One diagnosis on request: provider enabled? instance exists (404)? opt-in tag (403)?
 * then diagnose, store, and return the report with its id. Shared by HTTP, Slack and DingTalk.
 */
import { unmapIpv4 } from '../cloud/validate';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { CloudProvider } from '../cloud/types';
import type { InstanceInfo } from '../inventory/types';
import type { ClientIp, Report } from '../report/types';
import { ForbiddenError, NotFoundError, ProviderNotEnabledError, ServiceError, UpstreamError, ValidationError } from './errors';
import type { ReportStore } from './stores/report-store';
import type { CommandRunner } from '../runners/types';
import type { CheckRequest } from './http/schemas';
import type { ServiceConfig } from './config';
import type { AuthTarget } from '../auth/types';
import { parsePublicKey } from '../auth/validate';

/** Builds (or returns a cached) provider for one region; SDKs load inside, lazily. */
export type ProviderFactory = (name: 'aws' | 'alibaba', region: string) => Promise<CloudProvider>;

export interface InstanceDiagnoseOptions {
  instanceId: string;
  clientIps: string[];
  clientIpSource?: ClientIp['source'];
  port?: number;
  /** How long the collector may run on the instance. Default: the engine's (30 s). */
  collectorTimeoutMs?: number;
  /** Also ask whether this user can log in (with this public key). */
  user?: AuthTarget;
}

/** The request's user and public key (validated by the schema) as the engine's question. */
function authOf(req: CheckRequest): { user?: AuthTarget } {
  if (!req.user) return {};
  return { user: { name: req.user, ...(req.publicKey ? { publicKey: parsePublicKey(req.publicKey) } : {}) } };
}

/** The engine's own collector budget, used when the caller has time for it. */
export const COLLECTOR_MAX_MS = 30_000;
/** The least a collector is given, however late: less would time out on a healthy instance. */
export const COLLECTOR_MIN_MS = 5_000;
/** Kept back from the caller's deadline for the cloud-side facts, storing the report and answering. */
export const DEADLINE_RESERVE_MS = 4_000;

/**
 * The collector budget for a caller that must answer by `deadline` (epoch ms): an HTTP
 * request behind API Gateway (30 s) must get its report, with the collector marked as timed
 * out, rather than API Gateway's 503.
 */
export function collectorBudget(deadline: number, now = Date.now()): number {
  return Math.max(COLLECTOR_MIN_MS, Math.min(COLLECTOR_MAX_MS, deadline - now - DEADLINE_RESERVE_MS));
}

/** The engine entry points the service calls (lib/cloud/diagnose-instance.ts, lib/diagnose.ts). */
export interface Diagnoser {
  instance(provider: CloudProvider, opts: InstanceDiagnoseOptions): Promise<Report>;
  /** This machine, through the local runner; only wired under `npm start`. */
  local?(opts: { clientIps: string[]; clientIpSource?: ClientIp['source']; port: number; user?: AuthTarget }): Promise<Report>;
  /** The runner fixes of this machine go through (same wrapper as `local`'s collector). */
  localRunner?(): Promise<CommandRunner>;
}

export interface CheckDeps {
  config: Pick<ServiceConfig, 'enabledProviders' | 'optInTag'> & Partial<Pick<ServiceConfig, 'sshPorts'>>;
  store: ReportStore;
  providers: ProviderFactory;
  diagnoser: Diagnoser;
}

/** True when the instance carries the configured opt-in tag with the configured value. */
export function isOptedIn(instance: Pick<InstanceInfo, 'tags'>, tag: { key: string; value: string }): boolean {
  return Object.hasOwn(instance.tags, tag.key) && instance.tags[tag.key] === tag.value;
}

/**
 * Throws a ValidationError naming `field` unless the request's port (if any) is one of the
 * deployment's SSH ports (SSH_PORTS, default 22): the service never reads other services' banners.
 */
export function assertSshPort(req: Pick<CheckRequest, 'port'>, sshPorts: readonly number[] = [22], field = 'port'): void {
  if (req.port !== undefined && !sshPorts.includes(req.port)) {
    throw new ValidationError(field, `must be an SSH port this deployment allows (${sshPorts.join(', ')}); SSH_PORTS lists them`);
  }
}

/**
 * Runs one check. `callerIp` (the HTTP source address) is the client IP when the request
 * names none; chat commands pass none, since Slack's address says nothing about the user.
 * With `deadline` (epoch ms), the collector's budget shrinks so the report is ready by then.
 */
export async function runCheck(req: CheckRequest, callerIp: string | undefined, deps: CheckDeps, deadline?: number): Promise<{ id: string; report: Report }> {
  if (!deps.config.enabledProviders.includes(req.provider)) throw new ProviderNotEnabledError(req.provider);
  assertSshPort(req, deps.config.sshPorts);
  const clientIps = req.clientIp ? [req.clientIp] : callerIp && isIP(callerIp) ? [unmapIpv4(callerIp)] : [];
  const clientIpSource: ClientIp['source'] | undefined = req.clientIp ? 'user' : clientIps.length ? 'caller' : undefined;

  let report: Report;
  if (req.provider === 'local') {
    if (!deps.diagnoser.local) throw new ProviderNotEnabledError('local');
    report = await deps.diagnoser.local({ clientIps, clientIpSource, port: req.port ?? 22, ...authOf(req) });
  } else {
    const { provider } = await optedInInstance(req.provider, req.region ?? '', req.instanceId, deps);
    const budget = deadline === undefined ? {} : { collectorTimeoutMs: collectorBudget(deadline) };
    report = await cloud('diagnosis', () =>
      deps.diagnoser.instance(provider, { instanceId: req.instanceId, clientIps, clientIpSource, port: req.port, ...budget, ...authOf(req) }),
    );
  }
  const id = randomUUID();
  await deps.store.put(id, report);
  return { id, report };
}

/**
 * The provider of `name` in `region` and its instance `instanceId`, which must exist (404) and
 * carry the opt-in tag (403). Cloud failures on the way are 502s.
 */
export async function optedInInstance(
  name: 'aws' | 'alibaba',
  region: string,
  instanceId: string,
  deps: Pick<CheckDeps, 'config' | 'providers'>,
): Promise<{ provider: CloudProvider; instance: InstanceInfo }> {
  const provider = await cloud('provider setup', () => deps.providers(name, region));
  const instance = await cloud('describe instance', () => provider.describeInstance(instanceId));
  if (!instance) throw new NotFoundError(`instanceId: ${instanceId} not found in ${name} ${region}`);
  if (!isOptedIn(instance, deps.config.optInTag)) {
    const { key, value } = deps.config.optInTag;
    throw new ForbiddenError(`instanceId: ${instanceId} does not carry the opt-in tag ${key}=${value}`);
  }
  return { provider, instance };
}

/** Cloud failures (access denied, throttling, network) become 502s; our own errors pass. */
async function cloud<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServiceError) throw err;
    throw new UpstreamError(what, { cause: err });
  }
}
