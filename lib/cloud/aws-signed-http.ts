/**
 * What our small AWS clients (EC2 Query, S3 GetObject) share instead of the SDK: the default
 * credential chain, SigV4, the SDK's endpoint configuration (`AWS_ENDPOINT_URL_<SERVICE>`,
 * `AWS_ENDPOINT_URL`, shared-config `endpoint_url` and `services` sections,
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, FIPS / dual-stack), the standard retry strategy
 * (throttling, 5xx, transient network errors, clock skew), and errors whose `name` is the
 * service's error code, as SDK service exceptions have.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
// The module objects, not named imports: `.request` is looked up per call, so X-Ray's patching
// of http/https (Powertools Tracer in the Lambda functions) traces these calls too.
import nodeHttp from 'node:http';
import nodeHttps from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { booleanSelector, loadConfig, SelectorType, CONFIG_PREFIX_SEPARATOR } from '@smithy/core/config';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/**
 * An AWS API failure. `name` is the service's error code (`UnauthorizedOperation`,
 * `NoSuchKey`, `AccessDenied`, `RequestLimitExceeded`, ...) as with SDK service exceptions,
 * so the shared AWS error classification applies unchanged.
 */
export class AwsApiError extends Error {
  override readonly name: string;
  readonly $metadata: { httpStatusCode?: number; requestId?: string; attempts: number };
  constructor(code: string, message: string, meta: { httpStatusCode?: number; requestId?: string; attempts: number }, options?: { cause?: unknown }) {
    super(message || code, options);
    this.name = code;
    this.$metadata = meta;
  }
}

/** One HTTP request before signing. `path` is already URI-encoded. */
export interface SignedRequest {
  /** IAM action (`s3:GetObject`), for error messages. */
  action: string;
  method: 'GET' | 'POST';
  /** Path appended to the endpoint's own path, already encoded. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A 2xx answer (errors are thrown as {@link AwsApiError}). */
export interface SignedResponse {
  status: number;
  body: string;
}

/** Sends signed requests to one service endpoint, retrying as the SDK's standard strategy does. */
export interface AwsSignedHttp {
  /** The resolved endpoint (configured override, else the regional default). */
  endpoint(): Promise<{ url: URL; configured: boolean }>;
  /** Signs and sends `req`; answers a 2xx response, else throws {@link AwsApiError}. */
  send(req: SignedRequest, url?: URL): Promise<SignedResponse>;
}

export interface AwsSignedHttpOptions {
  /** SigV4 signing name and endpoint-config key (`ec2`, `s3`). */
  service: string;
  /** Suffix of `AWS_ENDPOINT_URL_<X>` (`EC2`, `S3`). */
  envId: string;
  /** Validated region. */
  region: string;
  /** Regional host for `(region, fips, dualStack, suffix)`, e.g. `ec2.eu-west-1.amazonaws.com`. */
  regionalHost: (region: string, fips: boolean, dualStack: boolean) => string;
  /** Error code and message of an error body. */
  parseError: (body: string) => { code?: string; message?: string; requestId?: string };
  /** Default error code per HTTP status when the body names none. */
  statusCodes?: Record<number, string>;
  /** S3 signs the path exactly as sent (no normalising, no double encoding). */
  s3Signing?: boolean;
  maxAttempts?: number;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  endpoint?: string;
  timeoutMs?: number;
  /** Largest response body read, in bytes. Default 64 MiB. */
  maxBodyBytes?: number;
}

const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'BandwidthLimitExceeded',
  'SlowDown',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);
const TRANSIENT = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable', 'RequestTimeout', 'RequestTimeoutException']);
const CLOCK_SKEW = new Set([
  'AuthFailure',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
// The SDK's standard retry strategy: random delay up to base * 2^attempt, capped at 20 s.
const BASE_MS = 100;
const THROTTLE_BASE_MS = 500;
const MAX_DELAY_MS = 20_000;

function bytes(d: SourceData): string | Uint8Array {
  if (typeof d === 'string') return d;
  return ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
}

class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
}

/** A boolean setting from its environment variable or shared-config key; default false. */
async function flag(env: string, config: string): Promise<boolean> {
  return loadConfig<boolean>({
    environmentVariableSelector: (e) => booleanSelector(e, env, SelectorType.ENV),
    configFileSelector: (p) => booleanSelector(p, config, SelectorType.CONFIG),
    default: false,
  })();
}

/** The SDK's configured endpoint for a service, without loading that service's client. */
async function configuredEndpoint(service: string, envId: string): Promise<string | undefined> {
  if (await flag('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'ignore_configured_endpoint_urls')) return undefined;
  return loadConfig<string | undefined>({
    environmentVariableSelector: (env) => env[`AWS_ENDPOINT_URL_${envId}`] || env.AWS_ENDPOINT_URL || undefined,
    configFileSelector: (profile, config) => {
      if (profile.services) {
        const section = config?.[['services', profile.services].join(CONFIG_PREFIX_SEPARATOR)];
        if (!section) throw new Error(`The services section "${profile.services}" specified in the profile is not present in the shared configuration file.`);
        const url = section[[service, 'endpoint_url'].join(CONFIG_PREFIX_SEPARATOR)];
        if (url) return url;
      }
      return profile.endpoint_url || undefined;
    },
    default: undefined,
  })();
}

/** The DNS suffix of the region's partition (`amazonaws.com`, `api.aws`, ...). */
export function partitionSuffix(region: string, dualStack: boolean): string {
  const china = region.startsWith('cn-');
  return dualStack ? (china ? 'api.amazonwebservices.com.cn' : 'api.aws') : china ? 'amazonaws.com.cn' : 'amazonaws.com';
}

interface RawResponse {
  status: number;
  body: string;
  date?: string;
}

const agents = { http: new nodeHttp.Agent({ keepAlive: true }), https: new nodeHttps.Agent({ keepAlive: true }) };

// `path` goes in the options, not the URL: a URL would resolve `.`/`..` segments of S3 keys.
function transmit(
  url: URL,
  path: string,
  method: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<RawResponse> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (https ? nodeHttps : nodeHttp).request(url, { method, path, headers, agent: https ? agents.https : agents.http, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(Object.assign(new Error(`response from ${url.host} exceeds ${maxBytes} bytes`), { code: 'ResponseTooLarge' }));
        else chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(typeof res.headers.date === 'string' ? { date: res.headers.date } : {}),
        }),
      );
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no response from ${url.host} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RFC 3986 encoding as the SDK does it (`!'()*` escaped too). */
export function rfc3986(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Builds the signed-HTTP machinery for one service and region. Nothing is loaded or resolved
 * until the first request (credentials and endpoint are resolved once, then reused).
 */
export function createAwsSignedHttp(opts: AwsSignedHttpOptions): AwsSignedHttp {
  const { region, service } = opts;
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBytes = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  const credentials = opts.credentials ?? defaultProvider();
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: Sha256,
    ...(opts.s3Signing ? { uriEscapePath: false } : {}),
  });
  let endpoint: Promise<{ url: URL; configured: boolean }> | undefined;
  let clockOffsetMs = 0;

  const resolveEndpoint = () =>
    (endpoint ??= (async () => {
      const configured = opts.endpoint ?? (await configuredEndpoint(service, opts.envId));
      if (configured) return { url: new URL(configured), configured: true };
      const [fips, dual] = await Promise.all([
        flag('AWS_USE_FIPS_ENDPOINT', 'use_fips_endpoint'),
        flag('AWS_USE_DUALSTACK_ENDPOINT', 'use_dualstack_endpoint'),
      ]);
      return { url: new URL(`https://${opts.regionalHost(region, fips, dual)}`), configured: false };
    })().catch((err: unknown) => {
      endpoint = undefined;
      throw err;
    }));

  async function attempt(url: URL, req: SignedRequest): Promise<RawResponse> {
    const body = req.body ?? '';
    const base = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    const path = `${base}${req.path}` || '/';
    const signed = await signer.sign(
      {
        method: req.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path,
        query: {},
        headers: { host: url.host, ...req.headers },
        body,
      },
      { signingDate: new Date(Date.now() + clockOffsetMs) },
    );
    const headers = { ...(signed.headers as Record<string, string>), ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) };
    return transmit(url, path, req.method, headers, body, timeoutMs, maxBytes);
  }

  return {
    endpoint: resolveEndpoint,
    async send(req, at) {
      const url = at ?? (await resolveEndpoint()).url;
      for (let n = 1; ; n++) {
        let failure: AwsApiError;
        let base = BASE_MS;
        try {
          const res = await attempt(url, req);
          if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.body };
          const e = opts.parseError(res.body);
          const code = e.code ?? opts.statusCodes?.[res.status] ?? (res.status === 429 ? 'TooManyRequestsException' : `Http${res.status}`);
          failure = new AwsApiError(code, e.message ?? `${req.action}: HTTP ${res.status}`, {
            httpStatusCode: res.status,
            ...(e.requestId ? { requestId: e.requestId } : {}),
            attempts: n,
          });
          const skew = CLOCK_SKEW.has(code) && res.date ? Date.parse(res.date) - Date.now() : NaN;
          const retryable = THROTTLING.has(code) || res.status === 429 || res.status >= 500 || TRANSIENT.has(code);
          if (THROTTLING.has(code) || res.status === 429) base = THROTTLE_BASE_MS;
          if (Number.isFinite(skew) && Math.abs(skew - clockOffsetMs) > 300_000) clockOffsetMs = skew;
          else if (!retryable) throw failure;
        } catch (err) {
          if (err instanceof AwsApiError) throw err;
          const code = (err as { code?: string }).code;
          if (code === 'ResponseTooLarge') throw new AwsApiError(code, (err as Error).message, { attempts: n }, { cause: err });
          if (!code || !NETWORK.has(code)) throw err;
          failure = new AwsApiError(code, (err as Error).message, { attempts: n }, { cause: err });
        }
        if (n >= maxAttempts) throw failure;
        await sleep(Math.floor(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** n)));
      }
    },
  };
}
