/**
 * Diagnoses a cloud instance by ID, provider-agnostic: validate, describe, gather cloud-side
 * facts, then probe + collector (through the provider's run-command API) and every check.
 *
 * Order: the cloud facts (a few parallel API calls) are gathered before the probe and the
 * collector start, so that an agent the provider already reports offline is not sent a command
 * that could only wait for its delivery timeout. Probe and collector then run concurrently
 * inside `diagnose()`.
 */
import type { AuthTarget } from '../auth/types';
import { diagnose } from '../diagnose';
import type { ClientIp, Report } from '../report/types';
import type { CloudFacts, InstanceInfo } from '../inventory/types';
import type { CloudProvider, NotInspected } from './types';
import { AddressNotAvailableError, CloudValidationError, InstanceNotFoundError, UnsupportedPlatformError } from './errors';
import { canonicalIp, validateClientIps, validateInstanceId, validatePort } from './validate';

export interface DiagnoseInstanceOptions {
  instanceId: string;
  /** Client addresses to judge rules for; validated and canonicalised here. */
  clientIps: readonly string[];
  clientIpSource?: ClientIp['source'];
  /** Which of the instance's API-returned addresses to probe. Default: public if any, else private. */
  address?: 'public' | 'private';
  /** sshd port. Default 22. */
  port?: number;
  probeTimeoutMs?: number;
  collectorTimeoutMs?: number;
  /** Ask also whether this user can log in (validated by the caller). */
  user?: AuthTarget;
}

const AGENT_NAME = { aws: 'SSM Agent', alibaba: 'Cloud Assistant' } as const;

export const INSTANCE_STATE_TEXT = {
  notRunning: (id: string, raw: string) => `Instance ${id} is ${raw}: nothing can connect to it until it is running.`,
  startHint: {
    aws: (id: string, region: string) => `aws ec2 start-instances --region ${region} --instance-ids ${id}`,
    alibaba: (id: string, region: string) => `aliyun ecs StartInstance --RegionId ${region} --InstanceId ${id}`,
  },
  noAddress: 'the cloud API returned no address for the instance',
  agentDown: (agent: string, raw: string) => `${agent} is not connected (${raw || 'not registered'}): no command was sent`,
} as const;

/**
 * The probe address: only one of the addresses the API returned for the instance.
 * @throws AddressNotAvailableError when `address` asks for a kind the instance lacks.
 */
export function pickProbeAddress(instance: InstanceInfo, address?: 'public' | 'private'): string | null {
  const list = address === 'private' ? instance.privateIps : address === 'public' ? instance.publicIps : [...instance.publicIps, ...instance.privateIps];
  const host = list[0];
  if (host === undefined) {
    if (address) throw new AddressNotAvailableError(instance.instanceId, address);
    return null;
  }
  return canonicalIp(host, 'instance address');
}

/**
 * Diagnoses one instance by ID.
 * @throws CloudValidationError for a malformed id, client IP, port or address kind (before any API call).
 * @throws InstanceNotFoundError when the provider says the instance does not exist.
 * @throws UnsupportedPlatformError for Windows instances.
 * @throws AddressNotAvailableError when `address` names a kind of address the instance lacks.
 * @throws CloudApiError when the instance cannot be described at all.
 */
export async function diagnoseInstance(provider: CloudProvider, opts: DiagnoseInstanceOptions): Promise<Report> {
  const instanceId = validateInstanceId(provider.name, opts.instanceId);
  const clientIps = validateClientIps(opts.clientIps);
  const port = validatePort(opts.port ?? 22);
  if (opts.address !== undefined && opts.address !== 'public' && opts.address !== 'private') {
    throw new CloudValidationError('address', "must be 'public' or 'private'");
  }

  const instance = await provider.describeInstance(instanceId);
  if (!instance) throw new InstanceNotFoundError(provider.name, provider.region, instanceId);
  if (instance.platform === 'windows') throw new UnsupportedPlatformError(instanceId, 'Windows');

  const target = { port, instanceId, provider: provider.name, region: provider.region };
  const common = {
    clientIps,
    ...(opts.clientIpSource ? { clientIpSource: opts.clientIpSource } : {}),
    ...(opts.probeTimeoutMs ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
    ...(opts.collectorTimeoutMs ? { collectorTimeoutMs: opts.collectorTimeoutMs } : {}),
    ...(opts.user ? { user: opts.user } : {}),
  };

  if (instance.state !== 'running') return notRunningReport(provider, instance, target, common);

  const host = pickProbeAddress(instance, opts.address);
  // The groups and subnet that filter the probed address are its interface's.
  const judged = host === null ? instance : onInterfaceOf(instance, host);
  const gathered = await provider.gatherCloudFacts(judged, { clientIps, port });
  const cloud: CloudFacts = { ...(gathered.facts as Partial<CloudFacts>), instance: judged };
  const notInspected: NotInspected[] = [...gathered.notInspected];
  if (host === null) notInspected.push({ what: 'outside probe', reason: INSTANCE_STATE_TEXT.noAddress });

  const agentDown = cloud.agent && (cloud.agent.status === 'offline' || cloud.agent.status === 'not-registered');
  const agentReason = agentDown ? INSTANCE_STATE_TEXT.agentDown(AGENT_NAME[provider.name], cloud.agent!.raw) : undefined;
  if (agentReason) notInspected.push({ what: 'host (collector)', reason: agentReason });

  return diagnose({
    ...common,
    target: { ...target, host: host ?? '' },
    runner: agentDown ? null : provider.runner(instance),
    ...(agentReason ? { hostUnavailableReason: agentReason } : {}),
    probe: host !== null,
    cloud,
    notInspected,
  });
}

/** The instance as the interface holding `host` sees it: that interface's groups and subnet. */
export function onInterfaceOf(instance: InstanceInfo, host: string): InstanceInfo {
  const same = (a: string) => {
    try {
      return canonicalIp(a, 'instance address') === host;
    } catch {
      return false;
    }
  };
  const nic = instance.interfaces?.find((n) => n.addresses.some(same));
  if (!nic) return instance;
  return { ...instance, securityGroupIds: nic.securityGroupIds, ...(nic.subnetId ? { subnetId: nic.subnetId } : {}), probedInterface: nic.id };
}

async function notRunningReport(
  provider: CloudProvider,
  instance: InstanceInfo,
  target: { port: number; instanceId: string; provider: 'aws' | 'alibaba'; region: string },
  common: { clientIps: string[]; user?: AuthTarget },
): Promise<Report> {
  const reason = `the instance is ${instance.rawState}`;
  const report = await diagnose({
    ...common,
    target: { ...target, host: instance.publicIps[0] ?? instance.privateIps[0] ?? '' },
    runner: null,
    probe: false,
    cloud: { instance },
    notInspected: [
      { what: 'outside probe', reason },
      { what: 'host (collector)', reason },
    ],
  });
  const start = instance.state === 'stopped' ? ` Start it: ${INSTANCE_STATE_TEXT.startHint[provider.name](instance.instanceId, provider.region)}` : '';
  report.verdict = {
    status: 'blocked',
    summary: INSTANCE_STATE_TEXT.notRunning(instance.instanceId, instance.rawState) + start,
    causes: [],
    confirmed: true,
  };
  return report;
}

export { inspectedNothing } from '../report/verdict';
