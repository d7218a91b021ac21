import type { InstanceInfo } from '../inventory/types';
import type { CommandRunner, RunRequest, RunResult } from '../runners/types';
import type { SecurityCenterUnblocker } from '../remediation/apply';
import type { NotInspected } from '../report/types';

/** Re-exported for the providers: the report's own type. */
export type { NotInspected };

/**
 * The port a cloud provider implements (AWS: EC2 + SSM + S3; Alibaba: ECS + Cloud Assistant + SAS).
 * Adapters take injected SDK clients; nothing here imports an SDK.
 */
export interface CloudProvider {
  readonly name: 'aws' | 'alibaba';
  readonly region: string;
  /** null when the API says the instance does not exist. */
  describeInstance(instanceId: string): Promise<InstanceInfo | null>;
  /**
   * Cloud-side facts for the cloud checks (security groups, network ACL, agent status,
   * Security Center records). Failures become `notInspected` entries, never exceptions.
   */
  gatherCloudFacts(
    instance: InstanceInfo,
    ctx: { clientIps: readonly string[]; port: number },
  ): Promise<{ facts: Record<string, unknown>; notInspected: NotInspected[] }>;
  /** A runner bound to one instance. */
  runner(instance: InstanceInfo): CommandRunner;
  /** Batched run for fleet checks (SSM: 50 ids per SendCommand; Cloud Assistant: 100 per RunCommand). */
  runFleet?(instanceIds: readonly string[], request: RunRequest): Promise<Map<string, RunResult>>;
  /** Instances carrying tag key=value, for scheduled fleet checks. */
  listInstancesByTag?(key: string, value: string): Promise<InstanceInfo[]>;
  /** Lifts Security Center custom blocks through the API (Alibaba only); fix paths pass it to `applyPlan`. */
  readonly securityCenter?: SecurityCenterUnblocker;
}
