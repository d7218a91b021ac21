/**
 * Cloud-side facts about one instance, gathered by the inventory adapters (EC2, ECS, SAS)
 * and judged by the cloud checks (security-group, network-acl, run-command-agent,
 * security-center). Adapters normalise provider shapes into these; checks never fetch.
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
  securityGroupIds: string[];
  /** AWS: subnet (for its network ACL); Alibaba: vSwitch. */
  subnetId?: string;
  vpcId?: string;
  tags: Record<string, string>;
  /**
   * AWS: the network interfaces, each with its own groups and subnet. The instance-level
   * groups and subnet are the primary interface's; traffic to an address on a secondary
   * interface is filtered by that interface's.
   */
  interfaces?: { id: string; subnetId?: string; securityGroupIds: string[]; addresses: string[]; deviceIndex?: number }[];
  /** The interface that holds the probed address, once diagnose-instance has picked it. */
  probedInterface?: string;
}

/** Where a security-group or ACL rule lets traffic in from. */
export type RuleSource =
  | { kind: 'cidr'; cidr: string }
  /** AWS managed prefix list: not evaluable without resolving it. */
  | { kind: 'prefix-list'; id: string }
  /** Another security group: not evaluable from an address. */
  | { kind: 'group'; id: string };

/** One inbound security-group rule, normalised. AWS rules are all `allow`; Alibaba has `deny` and priorities. */
export interface SecurityGroupRule {
  groupId: string;
  action: 'allow' | 'deny';
  /** Alibaba: 1 (highest) .. 100. AWS: always 1. Lower wins; deny wins over allow at equal priority. */
  priority: number;
  /** `tcp`, `udp`, `icmp`, `all`, ... */
  protocol: string;
  /** Inclusive port range; `all` protocols cover every port. */
  portFrom: number;
  portTo: number;
  source: RuleSource;
  /**
   * Set when the rule's ports cannot be known (an unreadable port list, an empty or malformed
   * PortRange): the reason. Such a rule is judged not evaluable, never as all ports.
   */
  portsUnknown?: string;
  /** Alibaba `SecurityGroupRuleId`, when the API gives it (a fix can name the rule to revoke). */
  ruleId?: string;
  /** Human-readable form for evidence, e.g. `sg-0abc: tcp 22 from 203.0.113.0/24`. */
  text: string;
}

export interface NetworkAclEntry {
  aclId: string;
  ruleNumber: number;
  egress: boolean;
  action: 'allow' | 'deny';
  protocol: string;
  portFrom: number;
  portTo: number;
  cidr: string;
  text: string;
}

export interface RunCommandAgentFacts {
  /** SSM PingStatus / Cloud Assistant CloudAssistantStatus, mapped. */
  status: 'online' | 'offline' | 'not-registered' | 'unknown';
  raw: string;
  lastSeen?: string;
  agentVersion?: string;
}

export interface SecurityCenterBlock {
  ip: string;
  source: 'brute-force' | 'custom';
  recordId: string;
  status: string;
  /** When the block ends, if it does. */
  until?: string;
  /** Brute-force records: the server's Security Center Uuid and the blocked port, as DisableBruteForceRecord takes them. */
  uuid?: string;
  port?: string;
  text: string;
}

export interface CloudFacts {
  instance: InstanceInfo;
  /** Inbound rules of all the instance's groups; undefined when not inspected. */
  securityGroupRules?: SecurityGroupRule[];
  networkAcl?: NetworkAclEntry[];
  /** Why the run-command agent's status could not be read (the API's HTTP status and error code). */
  agentError?: string;
  /** The id of the subnet's network ACL (known even when it has no entries). */
  networkAclId?: string;
  agent?: RunCommandAgentFacts;
  securityCenter?: { blocks: SecurityCenterBlock[] };
}
