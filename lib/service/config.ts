/**
 * Service configuration, validated once at cold start from the function's environment.
 * Secrets are never here: only the *names* of SSM parameters / Secrets Manager secrets
 * that hold them (see secrets.ts).
 */
import { DEFAULT_CALLBACK_ORIGINS, parseCallbackOrigins, type CallbackOrigins } from './chat/callback-origins';
import * as z from 'zod/mini';
import '../zod-locale';
import { ConfigError } from './errors';
import { ALIBABA_REGION, AWS_REGION } from './http/schemas';

export interface FleetTarget {
  provider: 'aws' | 'alibaba';
  region: string;
}

/** Chat commands may target this machine under `npm start`. */
export interface LocalTarget {
  provider: 'local';
  region?: undefined;
}

export interface ServiceConfig {
  stage: string;
  /** Providers `POST /checks` accepts. `local` only under `npm start`. */
  enabledProviders: ReadonlyArray<'aws' | 'alibaba' | 'local'>;
  /** The local provider (npm start): the address its probe targets and the wrapper its collector and fixes run through. */
  local: { host: string; via: string[] };
  /** Only instances carrying this tag may be inspected. */
  optInTag: { key: string; value: string };
  tables: { reports: string; latest: string; history: string; idempotency: string };
  /** Days a report stays retrievable by id, and in the history. */
  reportTtlDays: number;
  historyTtlDays: number;
  maxBodyBytes: number;
  /** SSH ports a caller may ask to probe (SSH_PORTS, default 22). */
  sshPorts: readonly number[];
  fleet: { targets: FleetTarget[]; batchSize: number; queueUrl?: string };
  slack: { jobsQueueUrl?: string; signingSecretRef?: string; webhookUrlRef?: string; target: FleetTarget | LocalTarget };
  dingtalk: { appSecretRef?: string; target: FleetTarget | LocalTarget };
  callbackOrigins: CallbackOrigins;
  alerts: { topicArn?: string };
  /** Secrets Manager secret holding `{accessKeyId, accessKeySecret}` for Alibaba Cloud. */
  alibabaCredentialsRef?: string;
  /** Applied fixes: audit table (HASH targetKey, RANGE at, TTL expiresAt) and how long records stay. */
  fix: { auditTable?: string; auditTtlDays: number; slackAllowedUsers?: string };
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const name = z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'));
const intIn = (min: number, max: number, dflt: number) =>
  z._default(z.coerce.number().check(z.int('must be an integer'), z.gte(min, `must be >= ${min}`), z.lte(max, `must be <= ${max}`)), dflt);
/** `ssm:/path`, `secretsmanager:name-or-arn`, or (local runs only) `env:NAME`. */
const secretRef = z.optional(
  z
    .string()
    .check(
      z.regex(/^(?:ssm:\/[A-Za-z0-9_./-]+|secretsmanager:[A-Za-z0-9_.:/+=@-]+|env:[A-Z][A-Z0-9_]{0,63})$/, 'must be ssm:/name, secretsmanager:id or env:NAME'),
    ),
);

const envSchema = z.object({
  SSHDOCTOR_STAGE: z._default(z.string().check(z.regex(/^[a-z0-9-]{1,32}$/, 'must be a stage name')), 'dev'),
  ENABLED_PROVIDERS: z._default(z.string(), 'aws,alibaba'),
  // The local provider only (npm start): the address it probes and the wrapper its collector runs through.
  LOCAL_HOST: z._default(z.string().check(z.regex(/^[0-9a-fA-F.:]{2,45}$/, 'must be an IP address')), '127.0.0.1'),
  LOCAL_VIA: z._default(z.string().check(z.regex(/^[A-Za-z0-9_./=:@ -]{0,200}$/, 'must be a command of plain words')), ''),
  OPT_IN_TAG: z._default(z.string().check(z.regex(/^[^=\s]{1,128}=[^=\s]{0,256}$/, 'must be key=value')), 'sshdoctor:enabled=true'),
  REPORTS_TABLE: name,
  LATEST_TABLE: name,
  HISTORY_TABLE: name,
  IDEMPOTENCY_TABLE: name,
  REPORT_TTL_DAYS: intIn(1, 365, 7),
  HISTORY_TTL_DAYS: intIn(1, 365, 30),
  MAX_BODY_BYTES: intIn(256, 1_048_576, 8192),
  // SSH ports callers may ask to probe (comma-separated); anything else is refused, so the
  // service cannot be used to read banners of other services.
  SSH_PORTS: z._default(z.string().check(z.regex(/^\d{1,5}(,\d{1,5})*$/, 'must be comma-separated port numbers')), '22'),
  FLEET_TARGETS: z._default(z.string(), ''),
  FLEET_BATCH_SIZE: intIn(1, 50, 10),
  FLEET_QUEUE_URL: z.optional(z.url()),
  SLACK_JOBS_QUEUE_URL: z.optional(z.url()),
  SLACK_SIGNING_SECRET_REF: secretRef,
  SLACK_WEBHOOK_URL_REF: secretRef,
  DINGTALK_APP_SECRET_REF: secretRef,
  SLACK_TARGET: z._default(z.string(), 'aws:us-east-1'),
  DINGTALK_TARGET: z._default(z.string(), 'alibaba:cn-hangzhou'),
  ALERT_TOPIC_ARN: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN'))),
  ALIBABA_CREDENTIALS_REF: secretRef,
  FIX_AUDIT_TABLE: z.optional(name),
  FIX_AUDIT_TTL_DAYS: intIn(1, 3650, 365),
  // Validated where it is used (parseSlackFixAllowList): only the Slack function needs it.
  SLACK_FIX_ALLOWED_USERS: z.optional(z.string().check(z.maxLength(4096, 'must be at most 4096 characters'))),
  // Origins the service may post chat callbacks to (callback-origins.ts); defaults: the chat services'.
  SLACK_CALLBACK_ORIGINS: z.optional(z.string().check(z.maxLength(1024))),
  DINGTALK_CALLBACK_ORIGINS: z.optional(z.string().check(z.maxLength(1024))),
});

/**
 * Validates the environment. Throws {@link ConfigError} naming the first bad variable;
 * called once per cold start, so a broken deployment fails loudly on its first request.
 */
export function loadConfig(env: Record<string, string | undefined>): ServiceConfig {
  // Empty strings mean "not set" (CloudFormation renders absent optional values as '').
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'is invalid');
  }
  const e = parsed.data;
  const providers = list(e.ENABLED_PROVIDERS);
  for (const p of providers) {
    if (p !== 'aws' && p !== 'alibaba' && p !== 'local') throw new ConfigError('ENABLED_PROVIDERS', `unknown provider '${p}'`);
  }
  const targets = list(e.FLEET_TARGETS).map((t) => target(t, 'FLEET_TARGETS'));
  const chatTarget = (t: string, variable: string): FleetTarget | LocalTarget => (t === 'local' ? { provider: 'local' } : target(t, variable));
  const eq = e.OPT_IN_TAG.indexOf('=');
  return {
    stage: e.SSHDOCTOR_STAGE,
    enabledProviders: providers as ServiceConfig['enabledProviders'],
    local: { host: e.LOCAL_HOST, via: e.LOCAL_VIA.split(' ').filter(Boolean) },
    optInTag: { key: e.OPT_IN_TAG.slice(0, eq), value: e.OPT_IN_TAG.slice(eq + 1) },
    tables: { reports: e.REPORTS_TABLE, latest: e.LATEST_TABLE, history: e.HISTORY_TABLE, idempotency: e.IDEMPOTENCY_TABLE },
    reportTtlDays: e.REPORT_TTL_DAYS,
    historyTtlDays: e.HISTORY_TTL_DAYS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    sshPorts: e.SSH_PORTS.split(',').map((p) => {
      const n = Number(p);
      if (n < 1 || n > 65535) throw new ConfigError('SSH_PORTS', `'${p}' must be a port from 1 to 65535`);
      return n;
    }),
    fleet: { targets, batchSize: e.FLEET_BATCH_SIZE, queueUrl: e.FLEET_QUEUE_URL },
    slack: {
      jobsQueueUrl: e.SLACK_JOBS_QUEUE_URL,
      signingSecretRef: e.SLACK_SIGNING_SECRET_REF,
      webhookUrlRef: e.SLACK_WEBHOOK_URL_REF,
      target: chatTarget(e.SLACK_TARGET, 'SLACK_TARGET'),
    },
    dingtalk: { appSecretRef: e.DINGTALK_APP_SECRET_REF, target: chatTarget(e.DINGTALK_TARGET, 'DINGTALK_TARGET') },
    callbackOrigins: {
      slack: parseCallbackOrigins(e.SLACK_CALLBACK_ORIGINS, 'SLACK_CALLBACK_ORIGINS', DEFAULT_CALLBACK_ORIGINS.slack),
      dingtalk: parseCallbackOrigins(e.DINGTALK_CALLBACK_ORIGINS, 'DINGTALK_CALLBACK_ORIGINS', DEFAULT_CALLBACK_ORIGINS.dingtalk),
    },
    alerts: { topicArn: e.ALERT_TOPIC_ARN },
    alibabaCredentialsRef: e.ALIBABA_CREDENTIALS_REF,
    fix: { auditTable: e.FIX_AUDIT_TABLE, auditTtlDays: e.FIX_AUDIT_TTL_DAYS, slackAllowedUsers: e.SLACK_FIX_ALLOWED_USERS },
  };
}

function target(t: string, variable: string): FleetTarget {
  const [provider, region, extra] = t.split(':');
  if (extra === undefined && provider === 'aws' && region && AWS_REGION.test(region)) return { provider, region };
  if (extra === undefined && provider === 'alibaba' && region && ALIBABA_REGION.test(region)) return { provider, region };
  throw new ConfigError(variable, `'${t}' must be aws:<region> or alibaba:<region>`);
}
