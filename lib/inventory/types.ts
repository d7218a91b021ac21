/**
 * Cloud-side facts about one instance, gathered by the inventory adapters (EC2, ECS, SAS)
 * and judged by the cloud checks (security-group, network-acl, run-command-agent,
 * security-center). Owned by the cloud adapters; checks read it, never fetch it.
 */
export interface InstanceInfo {
  provider: 'aws' | 'alibaba';
  region: string;
  instanceId: string;
  /** Provider state mapped to ours. */
  state: 'running' | 'stopped' | 'pending' | 'stopping' | 'terminated' | 'unknown';
  rawState: string;
  platform: 'linux' | 'windows' | 'unknown';
  publicIps: string[];
  privateIps: string[];
  tags: Record<string, string>;
}

export interface CloudFacts {
  instance: InstanceInfo;
  /** Everything else is added by the cloud adapters (security groups, ACLs, agent status, SAS records). */
  [key: string]: unknown;
}
