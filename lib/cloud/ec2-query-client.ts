/**
 * A small EC2 Query API client (API version 2016-11-15) for the three read-only actions the
 * inventory uses. It replaces `@aws-sdk/client-ec2`, whose 1 MB of minified code V8 had to
 * pre-parse on every Lambda cold start. It keeps the SDK behaviours that matter here: the
 * default credential chain, SigV4, endpoint configuration (`AWS_ENDPOINT_URL_EC2`,
 * `AWS_ENDPOINT_URL`, shared-config `endpoint_url`, `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`,
 * FIPS / dual-stack), standard retries (throttling, 5xx, transient network errors, clock skew),
 * and errors whose `name` is the EC2 error code, as SDK service exceptions have.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { booleanSelector, loadConfig, SelectorType, CONFIG_PREFIX_SEPARATOR } from '@smithy/core/config';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/** One XML element: its local name (prefix dropped), child elements, and its own text. */
export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e]!,
  );
}

/**
 * Parses an XML document into its root element. Enough for EC2's responses: elements, text,
 * entities, CDATA; attributes, comments, processing instructions and DOCTYPE are skipped.
 * @throws Error on malformed XML (unbalanced or missing tags).
 */
export function parseXml(xml: string): XmlNode {
  const top: XmlNode = { name: '', children: [], text: '' };
  const stack: XmlNode[] = [top];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>|<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<[?!][^>]*>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const cur = stack[stack.length - 1]!;
    if (m.index > last) cur.text += decodeText(xml.slice(last, m.index));
    last = tag.lastIndex;
    if (m[4] !== undefined) cur.text += m[4];
    if (!m[2]) continue;
    const name = m[2].slice(m[2].indexOf(':') + 1);
    if (m[1]) {
      if (stack.length < 2 || cur.name !== name) throw new Error(`malformed XML: unexpected </${name}>`);
      stack.pop();
    } else {
      const node: XmlNode = { name, children: [], text: '' };
      cur.children.push(node);
      if (!m[3]) stack.push(node);
    }
  }
  const root = top.children[0];
  if (stack.length !== 1 || !root) throw new Error('malformed XML: unclosed element or no root');
  return root;
}

/** The first child element named `name`. */
export function xmlChild(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return node?.children.find((c) => c.name === name);
}

/** Text of the first child named `name`, undefined when absent. */
export function xmlText(node: XmlNode | undefined, name: string): string | undefined {
  return xmlChild(node, name)?.text;
}

/** The `<item>` elements of the list child `name` (EC2's `xxxSet` convention). */
export function xmlItems(node: XmlNode | undefined, name: string): XmlNode[] {
  return xmlChild(node, name)?.children.filter((c) => c.name === 'item') ?? [];
}

/** The EC2 actions this client may call (each must be granted in infra/iam-policy.json). */
export type Ec2Action = 'DescribeInstances' | 'DescribeSecurityGroups' | 'DescribeNetworkAcls';

/** Query parameters in EC2's flattened form (`InstanceId.1`, `Filter.1.Name`, ...). */
export type Ec2QueryParams = Record<string, string>;

/** The port the inventory needs: one signed Query call, answered with the response's root element. */
export interface Ec2QueryClient {
  request(action: Ec2Action, params: Ec2QueryParams): Promise<XmlNode>;
}

export interface Ec2QueryClientOptions {
  /** Validated region (see `validateRegion`). */
  region: string;
  /** Attempts per call (first try included); throttling, 5xx and network errors are retried. Default 5. */
  maxAttempts?: number;
  /** Static credentials or a provider; default the SDK's node credential chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Endpoint URL; default from configuration, then `https://ec2.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Per-attempt socket idle timeout. Default 30 s. */
  timeoutMs?: number;
}

/**
 * An EC2 API failure. `name` is the EC2 error code (`UnauthorizedOperation`,
 * `InvalidInstanceID.NotFound`, `RequestLimitExceeded`, ...) as with SDK service exceptions,
 * so the shared AWS error classification applies unchanged.
 */
export class Ec2ApiError extends Error {
  override readonly name: string;
  readonly $metadata: { httpStatusCode?: number; requestId?: string; attempts: number };
  constructor(code: string, message: string, meta: { httpStatusCode?: number; requestId?: string; attempts: number }, options?: { cause?: unknown }) {
    super(message || code, options);
    this.name = code;
    this.$metadata = meta;
  }
}

const API_VERSION = '2016-11-15';
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
const CLOCK_SKEW = new Set(['AuthFailure', 'RequestExpired', 'RequestInTheFuture', 'RequestTimeTooSkewed', 'SignatureDoesNotMatch', 'InvalidSignatureException']);
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

/** The SDK's endpoint configuration for service id "EC2", without loading the EC2 client. */
async function configuredEndpoint(): Promise<string | undefined> {
  const ignore = await loadConfig<boolean>({
    environmentVariableSelector: (env) => booleanSelector(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', SelectorType.ENV),
    configFileSelector: (profile) => booleanSelector(profile, 'ignore_configured_endpoint_urls', SelectorType.CONFIG),
    default: false,
  })();
  if (ignore) return undefined;
  return loadConfig<string | undefined>({
    environmentVariableSelector: (env) => env.AWS_ENDPOINT_URL_EC2 || env.AWS_ENDPOINT_URL || undefined,
    configFileSelector: (profile, config) => {
      if (profile.services) {
        const section = config?.[['services', profile.services].join(CONFIG_PREFIX_SEPARATOR)];
        if (!section) throw new Error(`The services section "${profile.services}" specified in the profile is not present in the shared configuration file.`);
        const url = section[['ec2', 'endpoint_url'].join(CONFIG_PREFIX_SEPARATOR)];
        if (url) return url;
      }
      return profile.endpoint_url || undefined;
    },
    default: undefined,
  })();
}

async function flag(env: string, config: string): Promise<boolean> {
  return loadConfig<boolean>({
    environmentVariableSelector: (e) => booleanSelector(e, env, SelectorType.ENV),
    configFileSelector: (p) => booleanSelector(p, config, SelectorType.CONFIG),
    default: false,
  })();
}

/** `https://ec2[-fips].<region>.<suffix>` for the region's partition. */
async function regionalEndpoint(region: string): Promise<string> {
  const [fips, dual] = await Promise.all([flag('AWS_USE_FIPS_ENDPOINT', 'use_fips_endpoint'), flag('AWS_USE_DUALSTACK_ENDPOINT', 'use_dualstack_endpoint')]);
  const china = region.startsWith('cn-');
  const suffix = dual ? (china ? 'api.amazonwebservices.com.cn' : 'api.aws') : china ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://ec2${fips ? '-fips' : ''}.${region}.${suffix}`;
}

interface RawResponse {
  status: number;
  body: string;
  date?: string;
}

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

function send(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<RawResponse> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', headers, agent: https ? agents.https : agents.http, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(typeof res.headers.date === 'string' ? { date: res.headers.date } : {}),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no response from ${url.host} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Encodes like the SDK's Query serializer (RFC 3986: `*` and `!'()` escaped too). */
function encode(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The error code and message of an EC2 error document (`<Response><Errors><Error>`). */
function parseError(body: string): { code?: string; message?: string; requestId?: string } {
  try {
    const root = parseXml(body);
    const e = xmlChild(xmlChild(root, 'Errors'), 'Error') ?? xmlChild(root, 'Error');
    return { code: xmlText(e, 'Code'), message: xmlText(e, 'Message'), requestId: xmlText(root, 'RequestID') ?? xmlText(root, 'RequestId') };
  } catch {
    return {};
  }
}

/**
 * Builds an EC2 Query client for `region`. Nothing is loaded or resolved until the first
 * request (credentials and endpoint are resolved once, then reused).
 */
export function createEc2QueryClient(opts: Ec2QueryClientOptions): Ec2QueryClient {
  const { region } = opts;
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const credentials = opts.credentials ?? defaultProvider();
  const signer = new SignatureV4({ credentials, region, service: 'ec2', sha256: Sha256 });
  let endpoint: Promise<URL> | undefined;
  let clockOffsetMs = 0;

  const resolveEndpoint = (): Promise<URL> =>
    (endpoint ??= (async () => new URL(opts.endpoint ?? (await configuredEndpoint()) ?? (await regionalEndpoint(region))))().catch((err: unknown) => {
      endpoint = undefined;
      throw err;
    }));

  async function attempt(url: URL, body: string): Promise<RawResponse> {
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname || '/',
        query: {},
        headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
      },
      { signingDate: new Date(Date.now() + clockOffsetMs) },
    );
    return send(url, { ...(signed.headers as Record<string, string>), 'content-length': String(Buffer.byteLength(body)) }, body, timeoutMs);
  }

  return {
    async request(action, params) {
      const url = await resolveEndpoint();
      const body = [`Action=${encode(action)}`, `Version=${API_VERSION}`, ...Object.entries(params).map(([k, v]) => `${encode(k)}=${encode(v)}`)].join('&');
      for (let n = 1; ; n++) {
        let failure: Ec2ApiError;
        let base = BASE_MS;
        try {
          const res = await attempt(url, body);
          if (res.status >= 200 && res.status < 300) return parseXml(res.body);
          const e = parseError(res.body);
          const code = e.code ?? (res.status === 429 ? 'TooManyRequestsException' : `Http${res.status}`);
          failure = new Ec2ApiError(code, e.message ?? `HTTP ${res.status}`, {
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
          if (err instanceof Ec2ApiError) throw err;
          const code = (err as { code?: string }).code;
          if (!code || !NETWORK.has(code)) throw err;
          failure = new Ec2ApiError(code, (err as Error).message, { attempts: n }, { cause: err });
        }
        if (n >= maxAttempts) throw failure;
        await sleep(Math.floor(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** n)));
      }
    },
  };
}
