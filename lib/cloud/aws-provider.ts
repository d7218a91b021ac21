/**
 * AWS provider: EC2 (instance, security groups, network ACL), SSM (agent status, commands),
 * S3 (full command output). Default clients use the SDK's own configuration chain, which
 * already honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_EC2 / _SSM / _S3; EC2 and S3 go through
 * our small signed-HTTP clients (same credential chain and endpoint rules, a fraction of the code).
 */
import { createEc2QueryClient, type Ec2QueryClient } from './ec2-query-client';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createS3OutputStore } from './s3-output-store';
import type { CloudProvider, NotInspected } from './types';
import type { CloudFacts, InstanceInfo } from '../inventory/types';
import type { RunRequest, RunResult } from '../runners/types';
import { CloudApiError } from './errors';
import { describeEc2Instance, describeSecurityGroupRules, describeSsmAgent, describeSubnetNetworkAcl, listEc2InstancesByTag } from '../inventory/ec2-inventory';
import { classifyAwsError, createSsmRunner, type OutputStore, type SsmPollOptions, type SsmRunnerOptions } from '../runners/ssm-runner';
import { runSsmFleet } from '../runners/ssm-fleet';

export interface AwsProviderOptions {
  /** Validated region (see `validateRegion`). */
  region: string;
  /** S3 bucket SSM writes full command output to (read back when stdout exceeds 24,000 chars). */
  outputBucket?: string;
  outputPrefix?: string;
  /** SSM document; default AWS-RunShellScript. */
  documentName?: string;
  /** Injected clients; each missing one is built with the SDK defaults for `region`. */
  clients?: { ec2?: Ec2QueryClient; ssm?: SSMClient; outputStore?: OutputStore };
  /** SDK attempts per call for default clients (throttling and 5xx are retried with backoff). Default 5. */
  maxAttempts?: number;
  poll?: SsmPollOptions;
  /** Wraps each SDK client this builds (the Lambda functions pass X-Ray's capture). Default: none. */
  instrument?: <T extends object>(client: T) => T;
}

/** `service:Action` wording for reasons, with the HTTP status the service answered. */
function reasonOf(action: string, err: unknown): string {
  const c = classifyAwsError(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const http = status ? `HTTP ${status}, ` : '';
  if (c.status === 'access-denied') return `${action} was denied (${http}${c.code}): grant it in the IAM policy`;
  if (c.status === 'throttled') return `${action} was throttled past every retry (${http}${c.code})`;
  // A body that is not the API's JSON (a proxy's error page): the status says what happened.
  if (/SyntaxError|Deserializ/i.test(`${c.code} ${c.message}`)) return `${action} failed (${http}an answer that is not the API's)`;
  return `${action} failed (${http}${c.code}): ${c.message}`;
}

/** Builds the AWS {@link CloudProvider}. Creates clients here (never at import). */
export function createAwsProvider(opts: AwsProviderOptions): CloudProvider {
  const { region } = opts;
  const maxAttempts = opts.maxAttempts ?? 5;
  const ec2 = opts.clients?.ec2 ?? createEc2QueryClient({ region, maxAttempts });
  const ssm = opts.clients?.ssm ?? (opts.instrument ?? ((c) => c))(new SSMClient({ region, maxAttempts }));
  const outputStore = opts.outputBucket ? (opts.clients?.outputStore ?? createS3OutputStore({ region, maxAttempts })) : undefined;
  const runnerOpts: SsmRunnerOptions = {
    ssm,
    ...(outputStore ? { outputStore } : {}),
    ...(opts.outputBucket ? { outputBucket: opts.outputBucket } : {}),
    ...(opts.outputPrefix ? { outputPrefix: opts.outputPrefix } : {}),
    ...(opts.documentName ? { documentName: opts.documentName } : {}),
    ...(opts.poll ? { poll: opts.poll } : {}),
  };

  return {
    name: 'aws',
    region,
    async describeInstance(instanceId: string): Promise<InstanceInfo | null> {
      try {
        return await describeEc2Instance(ec2, region, instanceId);
      } catch (err) {
        const c = classifyAwsError(err);
        throw new CloudApiError('ec2:DescribeInstances', c.code, c.message, { cause: err });
      }
    },
    async gatherCloudFacts(instance) {
      const facts: Partial<CloudFacts> = {};
      const notInspected: NotInspected[] = [];
      const note = (what: string, action: string) => (err: unknown) => void notInspected.push({ what, reason: reasonOf(action, err) });
      await Promise.all([
        describeSecurityGroupRules(ec2, instance.securityGroupIds)
          .then((rules) => void (facts.securityGroupRules = rules))
          .catch(note('security groups', 'ec2:DescribeSecurityGroups')),
        instance.subnetId
          ? describeSubnetNetworkAcl(ec2, instance.subnetId)
              .then((acl) => {
                facts.networkAcl = acl.entries;
                facts.networkAclId = acl.aclId;
              })
              .catch(note('network ACL', 'ec2:DescribeNetworkAcls'))
          : Promise.resolve(notInspected.push({ what: 'network ACL', reason: 'the instance has no subnet (EC2-Classic or not in a VPC)' })),
        describeSsmAgent(ssm, instance.instanceId)
          .then((agent) => void (facts.agent = agent))
          .catch((err) => {
            facts.agentError = reasonOf('ssm:DescribeInstanceInformation', err);
            note('SSM Agent status', 'ssm:DescribeInstanceInformation')(err);
          }),
      ]);
      return { facts: facts as Record<string, unknown>, notInspected };
    },
    runner(instance: InstanceInfo) {
      return createSsmRunner({ ...runnerOpts, instanceId: instance.instanceId });
    },
    runFleet(instanceIds: readonly string[], request: RunRequest): Promise<Map<string, RunResult>> {
      return runSsmFleet(runnerOpts, instanceIds, request);
    },
    async listInstancesByTag(key: string, value: string): Promise<InstanceInfo[]> {
      try {
        return await listEc2InstancesByTag(ec2, region, key, value);
      } catch (err) {
        const c = classifyAwsError(err);
        throw new CloudApiError('ec2:DescribeInstances', c.code, c.message, { cause: err });
      }
    },
  };
}
