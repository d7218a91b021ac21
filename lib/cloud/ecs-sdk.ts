/**
 * ECS calls through `@alicloud/ecs20140526`, the ECS SDK: each action builds the SDK's typed
 * request model (a key the model does not declare is refused by name before any call) and goes
 * through the SDK's own method and response model, whose keys are then handed back as the wire
 * JSON the adapters read (only keys the model declares survive). Imported only by
 * ./alibaba-sdk, the lazily loaded file: AWS paths and the HTTP handlers never load it.
 */
import * as ecs from '@alicloud/ecs20140526';
import { AlibabaRequestError } from './alibaba-errors';
import type { OpenApiClientLike, RpcInvoke, RpcParams } from './alibaba-rpc';

/** The ECS SDK client class (a subclass of openapi-core's Client). */
export type EcsSdkClient = InstanceType<typeof ecs.default>;

interface ModelClass<T> {
  new (map?: Record<string, unknown>): T;
  names(): Record<string, string>;
  types(): Record<string, unknown>;
}
interface Body {
  toMap(): Record<string, unknown>;
}
type Runtime = Parameters<EcsSdkClient['describeInstancesWithOptions']>[1];

/**
 * The typed request for `action`, from wire parameters (`RegionId`, `InstanceId.1`, `Tag.1.Key`).
 * @throws AlibabaRequestError naming the first key the SDK model does not declare.
 */
export function ecsRequest<T>(cls: ModelClass<T>, action: string, wire: RpcParams): T {
  const byWire = new Map(Object.entries(cls.names()).map(([field, key]) => [key, field]));
  const types = cls.types();
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) {
    if (value === undefined) continue;
    const m = /^([A-Za-z0-9]+)\.(\d{1,3})(?:\.([A-Za-z0-9]+))?$/.exec(key);
    const field = byWire.get(m ? m[1]! : key);
    if (field === undefined) throw new AlibabaRequestError(`ecs:${action}`, key);
    if (!m) {
      out[field] = value;
      continue;
    }
    const list = (out[field] ??= []) as unknown[];
    const index = Number(m[2]) - 1;
    if (m[3] === undefined) {
      list[index] = value;
      continue;
    }
    const item = (types[field] as { itemType?: ModelClass<unknown> } | undefined)?.itemType;
    const sub = typeof item === 'function' ? Object.entries(item.names()).find(([, k]) => k === m[3])?.[0] : undefined;
    if (sub === undefined) throw new AlibabaRequestError(`ecs:${action}`, key);
    ((list[index] ??= {}) as Record<string, unknown>)[sub] = value;
  }
  return new cls(out);
}

/** A model filled from wire JSON, keeping only the keys it declares. */
function fromWire<T>(cls: ModelClass<T>, json: unknown): T {
  const src = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
  const map: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(cls.names())) if (src[key] !== undefined) map[field] = src[key];
  return new cls(map);
}

type Call = (c: EcsSdkClient, p: RpcParams, rt: Runtime) => Promise<{ body?: Body }>;

const CALLS: Record<string, Call> = {
  DescribeInstances: (c, p, rt) => c.describeInstancesWithOptions(ecsRequest(ecs.DescribeInstancesRequest, 'DescribeInstances', p), rt),
  DescribeSecurityGroupAttribute: (c, p, rt) =>
    c.describeSecurityGroupAttributeWithOptions(ecsRequest(ecs.DescribeSecurityGroupAttributeRequest, 'DescribeSecurityGroupAttribute', p), rt),
  DescribePortRangeListEntries: (c, p, rt) =>
    c.describePortRangeListEntriesWithOptions(ecsRequest(ecs.DescribePortRangeListEntriesRequest, 'DescribePortRangeListEntries', p), rt),
  DescribeCloudAssistantStatus: (c, p, rt) =>
    c.describeCloudAssistantStatusWithOptions(ecsRequest(ecs.DescribeCloudAssistantStatusRequest, 'DescribeCloudAssistantStatus', p), rt),
  DescribeInvocationResults: (c, p, rt) =>
    c.describeInvocationResultsWithOptions(ecsRequest(ecs.DescribeInvocationResultsRequest, 'DescribeInvocationResults', p), rt),
  StopInvocation: (c, p, rt) => c.stopInvocationWithOptions(ecsRequest(ecs.StopInvocationRequest, 'StopInvocation', p), rt),
  // The SDK's runCommandWithOptions puts CommandContent in the query string, where up to 24 KB of
  // Base64 exceeds common URL limits: the request is built and validated by the SDK model, then
  // sent as a form body through the same client.
  RunCommand: async (c, p, rt) => {
    ecsRequest(ecs.RunCommandRequest, 'RunCommand', p).validate();
    const body: Record<string, string> = {};
    for (const [k, v] of Object.entries(p)) if (v !== undefined) body[k] = String(v);
    const res = await (c as unknown as OpenApiClientLike).callApi(
      {
        action: 'RunCommand',
        version: '2014-05-26',
        protocol: 'HTTPS',
        pathname: '/',
        method: 'POST',
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      },
      { query: {}, body },
      rt,
    );
    return { body: fromWire(ecs.RunCommandResponseBody, res.body) };
  },
};

/** The ECS actions sshdoctor calls, each through the SDK. */
export const ECS_SDK_ACTIONS: readonly string[] = Object.keys(CALLS);

/** An {@link RpcInvoke} over the ECS SDK client. */
export function ecsInvoke(client: EcsSdkClient): RpcInvoke {
  return async (action, params, runtime) => {
    const call = CALLS[action];
    if (!call) throw new AlibabaRequestError(`ecs:${action}`, '(action)');
    const res = await call(client, params, runtime as Runtime);
    return res.body ? res.body.toMap() : {};
  };
}

/** The ECS SDK client for one endpoint (same config as `createOpenApiClient`). */
export function createEcsClientFrom(config: Record<string, unknown>): EcsSdkClient {
  const Client = ((ecs as unknown as { default: unknown }).default as { default?: unknown }).default ?? (ecs as unknown as { default: unknown }).default;
  return new (Client as new (c: Record<string, unknown>) => EcsSdkClient)(config);
}
