/**
 * Alibaba Cloud provider: ECS (instance lookup, security groups, Cloud Assistant) and Security
 * Center, all through `@alicloud/openapi-core`'s generic RPC call. The SDK (alibaba-sdk.ts) is
 * imported lazily, on the first API call, so AWS-only runs never load it.
 */
import type { CloudProvider, NotInspected } from './types';
import type { CloudFacts, InstanceInfo } from '../inventory/types';
import type { RunRequest, RunResult } from '../runners/types';
import {
  createRpcCaller,
  ECS_PRODUCT,
  parseEndpointOverride,
  SAS_PRODUCT,
  type AlibabaEndpoint,
  type OpenApiClientLike,
  type RetryPolicy,
  type RpcCaller,
  type RpcProduct,
} from './alibaba-rpc';
import { AlibabaApiError, SecurityCenterPreconditionError } from './alibaba-errors';
import { CloudApiError } from './errors';
import type { EcsSdkClient } from './ecs-sdk';
import type { OpenApiClientConfig } from './alibaba-sdk';
import { describeCloudAssistantStatus, describeEcsInstance, describeEcsSecurityGroupRules, listEcsInstancesByTag } from '../inventory/ecs-inventory';
import { deleteCustomBlockRecord, describeSecurityCenterBlocks, disableBruteForceRecord } from './sas-client';
import { createCloudAssistantRunner, runFleetCloudAssistant, type PollOptions } from '../runners/cloud-assistant-runner';

export interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface AlibabaProviderOptions {
  /** Validated region id (see `validateRegion`). */
  region: string;
  /** Explicit credentials; default: `@alicloud/credentials`' default chain (environment, profile, instance RAM role). */
  credentials?: AlibabaCredentials;
  /**
   * Injected clients (already configured with endpoint and credentials); built on first use
   * otherwise. `ecs` must be an `@alicloud/ecs20140526` client (see `createEcsClient`).
   */
  clients?: { ecs?: OpenApiClientLike; sas?: OpenApiClientLike };
  /** Environment to read `ALIBABA_CLOUD_ECS_ENDPOINT` / `ALIBABA_CLOUD_SAS_ENDPOINT` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  retry?: RetryPolicy;
  poll?: PollOptions;
}

/**
 * Builds the Alibaba Cloud {@link CloudProvider}. Endpoint overrides are validated here, so a
 * malformed one fails before any call with an error naming the variable.
 * @throws AlibabaEndpointError for a malformed endpoint override.
 */
export function createAlibabaProvider(opts: AlibabaProviderOptions): CloudProvider {
  const env = opts.env ?? process.env;
  const region = opts.region;
  const ecsEndpoint = resolveEndpoint(env.ALIBABA_CLOUD_ECS_ENDPOINT, 'ALIBABA_CLOUD_ECS_ENDPOINT', {
    host: `ecs.${region}.aliyuncs.com`,
    protocol: 'https',
  });
  // Security Center has two API sites: mainland China, and everything else.
  const sasEndpoint = resolveEndpoint(env.ALIBABA_CLOUD_SAS_ENDPOINT, 'ALIBABA_CLOUD_SAS_ENDPOINT', {
    host: region.startsWith('cn-') ? 'tds.aliyuncs.com' : 'tds.ap-southeast-1.aliyuncs.com',
    protocol: 'https',
  });

  const ecs = lazyCaller(opts.clients?.ecs, ecsEndpoint, ECS_PRODUCT, opts);
  const sas = lazyCaller(opts.clients?.sas, sasEndpoint, SAS_PRODUCT, opts);
  const runnerOpts = { call: ecs, regionId: region, ...(opts.poll ? { poll: opts.poll } : {}) };

  return {
    name: 'alibaba',
    region,
    async describeInstance(instanceId: string): Promise<InstanceInfo | null> {
      try {
        return await describeEcsInstance(ecs, region, instanceId);
      } catch (err) {
        throw toCloudApiError(err);
      }
    },
    async gatherCloudFacts(instance, ctx) {
      const notInspected: NotInspected[] = [];
      const facts: Partial<CloudFacts> = {};
      const note = (what: string) => (err: unknown) => {
        notInspected.push({ what, reason: reasonOf(err) });
      };
      await Promise.all([
        Promise.all(instance.securityGroupIds.map((g) => describeEcsSecurityGroupRules(ecs, region, g)))
          .then((lists) => {
            facts.securityGroupRules = lists.flat();
          })
          .catch(note('security groups')),
        describeCloudAssistantStatus(ecs, region, instance.instanceId)
          .then((agent) => {
            facts.agent = agent;
          })
          .catch(note('Cloud Assistant status')),
        describeSecurityCenterBlocks(sas, { instanceId: instance.instanceId, clientIps: ctx.clientIps })
          .then((found) => {
            if (found.blocks) facts.securityCenter = { blocks: found.blocks };
            else notInspected.push({ what: 'Security Center', reason: SECURITY_CENTER_NO_UUID(instance.instanceId) });
          })
          .catch(note('Security Center')),
      ]);
      return { facts: facts as Record<string, unknown>, notInspected };
    },
    runner(instance: InstanceInfo) {
      return createCloudAssistantRunner({ ...runnerOpts, instanceId: instance.instanceId });
    },
    runFleet(instanceIds: readonly string[], request: RunRequest): Promise<Map<string, RunResult>> {
      return runFleetCloudAssistant(runnerOpts, instanceIds, request);
    },
    async listInstancesByTag(key: string, value: string): Promise<InstanceInfo[]> {
      try {
        return await listEcsInstancesByTag(ecs, region, key, value);
      } catch (err) {
        throw toCloudApiError(err);
      }
    },
    securityCenter: {
      async unblock(recordId, ip, source) {
        try {
          return source === 'brute-force' ? await disableBruteForceRecord(sas, recordId, ip) : await deleteCustomBlockRecord(sas, recordId, ip);
        } catch (err) {
          if (err instanceof SecurityCenterPreconditionError) return { result: 'precondition-failed', detail: err.message };
          // The audit keeps this message: say which grant is missing, not just "Forbidden".
          throw new Error(reasonOf(err), { cause: err });
        }
      },
    },
  };
}

/** Why Security Center was not judged when it does not know the instance. */
export const SECURITY_CENTER_NO_UUID = (instanceId: string) =>
  `Security Center has no Uuid for ${instanceId} (DescribeCloudCenterInstances lists no agent for it): its brute-force and custom block records cannot be matched to the instance`;

function resolveEndpoint(value: string | undefined, variable: string, fallback: AlibabaEndpoint): AlibabaEndpoint {
  return value === undefined || value === '' ? fallback : parseEndpointOverride(value, variable);
}

/** An RpcCaller whose SDK client (and the SDK itself) is created on the first call. */
function lazyCaller(injected: OpenApiClientLike | undefined, endpoint: AlibabaEndpoint, product: RpcProduct, opts: AlibabaProviderOptions): RpcCaller {
  let caller: Promise<RpcCaller> | undefined;
  const build = async (): Promise<RpcCaller> => {
    const sdk = await import('./alibaba-sdk');
    const config = clientConfig(endpoint, opts);
    if (product.service === 'ecs') {
      // ECS goes through its SDK's typed requests and response models.
      const client = injected ?? sdk.createEcsClient(config);
      return createRpcCaller(client, product, opts.retry, sdk.ecsInvoke(client as EcsSdkClient));
    }
    return createRpcCaller(injected ?? sdk.createOpenApiClient(config), product, opts.retry);
  };
  return async (action, params) => {
    caller ??= build();
    return (await caller)(action, params);
  };
}

function clientConfig(endpoint: AlibabaEndpoint, opts: AlibabaProviderOptions): OpenApiClientConfig {
  return {
    endpoint: endpoint.host,
    protocol: endpoint.protocol,
    regionId: opts.region,
    readTimeout: 15_000,
    connectTimeout: 5_000,
    ...opts.credentials,
  };
}

function reasonOf(err: unknown): string {
  if (err instanceof AlibabaApiError) {
    const hint =
      err.kind === 'access-denied' ? ' (grant it in the RAM policy, see infra/ram-policy.json)' : err.kind === 'throttled' ? ' (throttled after retries)' : '';
    return `${err.message}${hint}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function toCloudApiError(err: unknown): Error {
  if (err instanceof AlibabaApiError) {
    return new CloudApiError(err.action, err.code, err.message.replace(`${err.action} failed: `, ''), { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
