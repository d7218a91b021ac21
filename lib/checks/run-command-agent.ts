/**
 * Judges the run-command agent (SSM Agent / Cloud Assistant) from the provider's own view of
 * it. Without an online agent the collector cannot run, so host-side checks are blind.
 */
import type { Check, Facts } from './types';
import type { CheckResult, Evidence, Fix } from '../report/types';
import { result } from './support/result';

const NAMES = {
  aws: { agent: 'SSM Agent', source: 'ssm:DescribeInstanceInformation' },
  alibaba: { agent: 'Cloud Assistant', source: 'ecs:DescribeCloudAssistantStatus' },
} as const;

export const RUN_COMMAND_AGENT_TEXT = {
  notInspected: 'The run-command agent status was not inspected.',
  apiFailed: (why: string) => `The run-command agent's status could not be read: ${why}.`,
  online: (agent: string) => `${agent} is online: host-side facts can be collected without SSH.`,
  offline: (agent: string, raw: string) => `${agent} is registered but not connected (${raw}): host-side facts cannot be collected until it reconnects.`,
  notRegistered: (agent: string) => `${agent} has not registered this instance: host-side facts cannot be collected.`,
  unknown: (agent: string, raw: string) => `${agent} status is ${raw || 'unknown'}.`,
} as const;

export const RUN_COMMAND_AGENT_FIX = {
  aws: {
    offline: (instanceId: string, region: string): Fix => ({
      summary:
        'Reconnect the SSM Agent: the instance needs outbound HTTPS to the ssm, ssmmessages and ec2messages endpoints (or VPC endpoints) and a running agent; a reboot restarts it.',
      commands: [
        `aws ec2 describe-iam-instance-profile-associations --region ${region} --filters Name=instance-id,Values=${instanceId}`,
        `aws ec2 reboot-instances --region ${region} --instance-ids ${instanceId}`,
      ],
    }),
    notRegistered: (instanceId: string, region: string): Fix => ({
      summary:
        'Register the instance with SSM: attach an instance profile whose role has AmazonSSMManagedInstanceCore, and allow outbound HTTPS to the SSM endpoints; the agent registers within minutes.',
      commands: [
        `aws ec2 associate-iam-instance-profile --region ${region} --instance-id ${instanceId} --iam-instance-profile Name=<profile-with-AmazonSSMManagedInstanceCore>`,
      ],
    }),
  },
  alibaba: {
    offline: (instanceId: string, region: string): Fix => ({
      summary: 'Restart Cloud Assistant: reboot the instance, or reinstall the agent if it keeps failing.',
      commands: [`aliyun ecs RebootInstance --RegionId ${region} --InstanceId ${instanceId}`],
    }),
    notRegistered: (instanceId: string, region: string): Fix => ({
      summary: 'Install Cloud Assistant on the instance (takes effect after a restart).',
      commands: [`aliyun ecs InstallCloudAssistant --RegionId ${region} --InstanceId.1 ${instanceId}`],
    }),
  },
} as const;

export const runCommandAgentCheck: Check = {
  id: 'run-command-agent',
  title: 'The run-command agent is online',
  description:
    "Reads the provider's view of the run-command agent (SSM PingStatus, Cloud Assistant status). An offline or unregistered agent explains why host-side checks could not run, and is the first thing to fix when SSH is also broken.",
  needs: ['cloud'],
  run(facts: Facts): CheckResult {
    const cloud = facts.cloud;
    // The status API failed: an error to act on (a permission, an endpoint), never a quiet skip.
    if (!cloud?.agent && cloud?.agentError)
      return result(this, 'error', RUN_COMMAND_AGENT_TEXT.apiFailed(cloud.agentError), [
        { source: NAMES[cloud.instance.provider].source, text: cloud.agentError },
      ]);
    if (!cloud?.agent) return result(this, 'skip', RUN_COMMAND_AGENT_TEXT.notInspected);
    const { provider, instanceId, region } = cloud.instance;
    const { agent, source } = NAMES[provider];
    const a = cloud.agent;
    const detail = [`status ${a.raw || '(none)'}`];
    if (a.lastSeen) detail.push(`last seen ${a.lastSeen}`);
    if (a.agentVersion) detail.push(`agent ${a.agentVersion}`);
    const evidence: Evidence[] = [{ source, text: `${instanceId}: ${detail.join(', ')}` }];
    const fixes = RUN_COMMAND_AGENT_FIX[provider];
    switch (a.status) {
      case 'online':
        return result(this, 'pass', RUN_COMMAND_AGENT_TEXT.online(agent), evidence);
      case 'offline':
        return result(this, 'fail', RUN_COMMAND_AGENT_TEXT.offline(agent, a.raw), evidence, fixes.offline(instanceId, region));
      case 'not-registered':
        return result(this, 'fail', RUN_COMMAND_AGENT_TEXT.notRegistered(agent), evidence, fixes.notRegistered(instanceId, region));
      default:
        return result(this, 'warn', RUN_COMMAND_AGENT_TEXT.unknown(agent, a.raw), evidence);
    }
  },
};
