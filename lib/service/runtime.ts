/**
 * Production wiring shared by the functions/ composition roots: the validated config,
 * the DynamoDB document client, cloud providers (built per region on first use, their
 * SDKs loaded lazily so an AWS-only invocation never evaluates the Alibaba SDK), and the
 * diagnosis engine.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudProvider } from '../cloud/types';
import type { Diagnoser, ProviderFactory } from './check-service';
import { loadConfig, type ServiceConfig } from './config';
import { createDynamoReportStore, type ReportStore } from './stores/report-store';
import { createDynamoFixAuditStore, type FixAuditStore } from './stores/fix-audit-store';
import { ConfigError } from './errors';
import { resolveSecret } from './secrets';
import { isOffline } from './offline';

/** Wraps an AWS SDK client, e.g. with X-Ray capture (see observability.ts). */
export type ClientInstrument = <T extends object>(client: T) => T;

let config: ServiceConfig | undefined;

/** The validated configuration, read once per cold start. */
export function serviceConfig(env: Record<string, string | undefined> = process.env): ServiceConfig {
  config ??= loadConfig(env);
  return config;
}

/** A document client that drops `undefined` (reports carry optional fields). */
export function createDocClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function createReportStore(cfg: ServiceConfig, doc: DynamoDBDocumentClient): ReportStore {
  return createDynamoReportStore({
    client: doc,
    tables: cfg.tables,
    reportTtlDays: cfg.reportTtlDays,
    historyTtlDays: cfg.historyTtlDays,
  });
}

/**
 * The fix audit store; only functions that apply fixes call this.
 * @throws ConfigError when FIX_AUDIT_TABLE is not set (no fix may run unaudited).
 */
export function createFixAuditStore(cfg: ServiceConfig, doc: DynamoDBDocumentClient): FixAuditStore {
  if (!cfg.fix.auditTable) throw new ConfigError('FIX_AUDIT_TABLE', 'is required to apply fixes (every applied fix is audited)');
  return createDynamoFixAuditStore({ client: doc, table: cfg.fix.auditTable, ttlDays: cfg.fix.auditTtlDays });
}

/** Providers by `name:region`, built once per container; `instrument` wraps the AWS SDK clients they build. */
export function createProviderFactory(cfg: ServiceConfig, instrument: ClientInstrument): ProviderFactory {
  const cache = new Map<string, Promise<CloudProvider>>();
  return (name, region) => {
    const key = `${name}:${region}`;
    let p = cache.get(key);
    if (!p) {
      p = name === 'aws' ? awsProvider(region, instrument) : alibabaProvider(cfg, region);
      // A failed build (bad secret, network) must not be cached for the container's life.
      p.catch(() => cache.delete(key));
      cache.set(key, p);
    }
    return p;
  };
}

async function awsProvider(region: string, instrument: ClientInstrument): Promise<CloudProvider> {
  const { createAwsProvider } = await import('../cloud/aws-provider');
  return createAwsProvider({ region, instrument });
}

async function alibabaProvider(cfg: ServiceConfig, region: string): Promise<CloudProvider> {
  const credentials = cfg.alibabaCredentialsRef
    ? parseAlibabaCredentials(await resolveSecret(cfg.alibabaCredentialsRef, 'ALIBABA_CREDENTIALS_REF'))
    : undefined;
  const { createAlibabaProvider } = await import('../cloud/alibaba-provider');
  return createAlibabaProvider({ region, ...(credentials ? { credentials } : {}) });
}

function parseAlibabaCredentials(text: string): { accessKeyId: string; accessKeySecret: string } {
  try {
    const v = JSON.parse(text) as { accessKeyId?: unknown; accessKeySecret?: unknown };
    if (typeof v.accessKeyId === 'string' && typeof v.accessKeySecret === 'string') {
      return { accessKeyId: v.accessKeyId, accessKeySecret: v.accessKeySecret };
    }
  } catch {
    // fall through: the message below names the rule without echoing the secret
  }
  throw new Error('ALIBABA_CREDENTIALS_REF: secret must be JSON {"accessKeyId","accessKeySecret"}');
}

/** The engine: cloud instances through diagnoseInstance; `local` only when enabled. */
export function createDiagnoser(cfg: ServiceConfig): Diagnoser {
  const diagnoser: Diagnoser = {
    async instance(provider, opts) {
      const { diagnoseInstance } = await import('../cloud/diagnose-instance');
      return diagnoseInstance(provider, opts);
    },
  };
  if (cfg.enabledProviders.includes('local')) {
    diagnoser.local = async (opts) => {
      const [{ diagnose }, { createLocalRunner }] = await Promise.all([import('../diagnose'), import('../runners/local-runner')]);
      return diagnose({
        target: { host: cfg.local.host, port: opts.port, instanceId: 'localhost', provider: 'local' },
        clientIps: opts.clientIps,
        clientIpSource: opts.clientIpSource,
        runner: createLocalRunner({ via: cfg.local.via }),
        ...(opts.user ? { user: opts.user } : {}),
      });
    };
    diagnoser.localRunner = async () => {
      const { createLocalRunner } = await import('../runners/local-runner');
      return createLocalRunner({ via: cfg.local.via });
    };
  }
  return diagnoser;
}

/**
 * The queue and schedule functions never run under `npm start` (jobs run in-process there),
 * so an event sent to serverless-offline's Lambda invoke port (IS_OFFLINE), which could carry
 * any job and any identity, is refused before anything is built.
 * @throws ConfigError under serverless-offline.
 */
export function refuseOffline(fn: string, env: Record<string, string | undefined> = process.env): void {
  if (isOffline(env)) throw new ConfigError('IS_OFFLINE', `${fn} is not invoked under npm start (jobs run in-process)`);
}
