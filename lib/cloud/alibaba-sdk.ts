/**
 * The lazily loaded entry to the Alibaba Cloud SDK (`@alicloud/openapi-core`,
 * `@alicloud/credentials`, and through ./ecs-sdk `@alicloud/ecs20140526`). alibaba-provider.ts
 * imports it dynamically on the first Alibaba API call; the Lambda bundles ship it as a file of its own
 * (scripts/esbuild-lazy-files.cjs), so a function parses it only when an Alibaba instance is
 * checked.
 */
import * as core from '@alicloud/openapi-core';
import * as credentials from '@alicloud/credentials';
import type { OpenApiClientLike } from './alibaba-rpc';
import { createEcsClientFrom, ecsInvoke, type EcsSdkClient } from './ecs-sdk';

export interface OpenApiClientConfig {
  endpoint: string;
  protocol: 'http' | 'https';
  regionId: string;
  readTimeout: number;
  connectTimeout: number;
  /** Explicit keys; without them the SDK's default credential chain is used (environment, profile, instance RAM role). */
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
}

/** An `@alicloud/openapi-core` client for one endpoint. */
export function createOpenApiClient(config: OpenApiClientConfig): OpenApiClientLike {
  const Client = cjsDefault(core as unknown as Record<string, unknown>) as new (config: Record<string, unknown>) => OpenApiClientLike;
  return new Client(withCredential(config));
}

/** The `@alicloud/ecs20140526` client for one endpoint (an openapi-core client with typed ECS methods). */
export function createEcsClient(config: OpenApiClientConfig): EcsSdkClient {
  return createEcsClientFrom(withCredential(config));
}

export { ecsInvoke, type EcsSdkClient };

function withCredential(config: OpenApiClientConfig): Record<string, unknown> {
  const full: Record<string, unknown> = { ...config };
  if (config.accessKeyId === undefined) {
    const Credential = cjsDefault(credentials as unknown as Record<string, unknown>) as new () => unknown;
    full.credential = new Credential();
  }
  return full;
}

/** The class behind a CommonJS `exports.default`, whichever interop layer (Node, esbuild, vitest) loaded it. */
function cjsDefault(mod: Record<string, unknown>): unknown {
  const d = mod.default as Record<string, unknown> | ((...a: unknown[]) => unknown) | undefined;
  if (typeof d === 'function') return d;
  if (d && typeof d.default === 'function') return d.default;
  throw new Error('the Alibaba Cloud SDK did not export a client class');
}
