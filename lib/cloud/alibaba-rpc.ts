/**
 * One thin layer over `@alicloud/openapi-core`'s generic `callApi` for the RPC-style APIs we
 * call (ECS 2014-05-26, Security Center 2018-12-03): parameters as a signed form body,
 * ACS3-HMAC-SHA256 signing by the SDK, JSON responses, and the retries the SDK does not do
 * (it retries nothing by default): throttling, 5xx and network errors, with capped
 * exponential backoff and jitter.
 */
import net from 'node:net';
import { AlibabaApiError, AlibabaEndpointError, AlibabaRequestError, type AlibabaErrorKind } from './alibaba-errors';

/** The slice of `@alicloud/openapi-core`'s `Client` we use; tests and callers inject the real one. */
export interface OpenApiClientLike {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's own signature uses its model classes
  callApi(params: any, request: any, runtime: any): Promise<{ [key: string]: any }>;
}

/** An RPC product: RAM service code (for policies and error messages) and API version. */
export interface RpcProduct {
  /** RAM service code: `ecs` or `yundun-sas`. */
  readonly service: 'ecs' | 'yundun-sas';
  readonly version: string;
}

export const ECS_PRODUCT: RpcProduct = { service: 'ecs', version: '2014-05-26' };
export const SAS_PRODUCT: RpcProduct = { service: 'yundun-sas', version: '2018-12-03' };

export type RpcParams = Record<string, string | number | boolean | undefined>;

/** One attempt of one action: its JSON body (wire keys). The default goes through openapi-core's generic `callApi`. */
export type RpcInvoke = (action: string, params: RpcParams, runtime: { readTimeout: number; connectTimeout: number }) => Promise<unknown>;

/** Calls one RPC action and returns the parsed JSON body. Throws {@link AlibabaApiError}. */
export type RpcCaller = (action: string, params: RpcParams) => Promise<Record<string, unknown>>;

export interface RetryPolicy {
  /** Total attempts for throttling and 5xx answers (network errors get at most 3). Default 6. */
  maxAttempts?: number;
  /** First backoff delay. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap for one delay. Default 4000 ms. */
  maxDelayMs?: number;
  /** Injected for tests that count attempts without waiting. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Builds an {@link RpcCaller} for one product on one client.
 * Retries `Throttling*`, HTTP 5xx and connection failures; everything else fails at once.
 */
export function createRpcCaller(client: OpenApiClientLike, product: RpcProduct, retry: RetryPolicy = {}, invoke?: RpcInvoke): RpcCaller {
  const maxAttempts = Math.max(1, retry.maxAttempts ?? 6);
  const base = retry.baseDelayMs ?? 200;
  const cap = retry.maxDelayMs ?? 4000;
  const sleep = retry.sleep ?? defaultSleep;

  const generic: RpcInvoke = async (action, params, runtime) => {
    const body: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined) body[k] = String(v);
    const apiParams = {
      action,
      version: product.version,
      protocol: 'HTTPS', // the client's own protocol (http for loopback emulators) takes precedence
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      // Form body rather than query string: RunCommand's Base64 script can exceed URL limits.
      reqBodyType: 'formData',
      bodyType: 'json',
    };
    return (await client.callApi(apiParams, { query: {}, body }, runtime)).body;
  };
  const attempt1 = invoke ?? generic;

  return async (action, params) => {
    const qualified = `${product.service}:${action}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await attempt1(action, params, { readTimeout: 15_000, connectTimeout: 5_000 });
        if (out === null || typeof out !== 'object' || Array.isArray(out)) {
          throw new AlibabaApiError(qualified, 'InvalidResponse', 'server', `${qualified}: response body is not a JSON object`);
        }
        return out as Record<string, unknown>;
      } catch (err) {
        if (err instanceof AlibabaRequestError) throw err;
        const wrapped = err instanceof AlibabaApiError ? err : wrapSdkError(qualified, err);
        const limit = wrapped.kind === 'network' ? Math.min(3, maxAttempts) : maxAttempts;
        const retryable = wrapped.kind === 'throttled' || wrapped.kind === 'server' || wrapped.kind === 'network';
        if (!retryable || attempt >= limit) throw wrapped;
        // Full jitter: concurrent fleet workers must not retry in lockstep against the same quota.
        const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
        const retryAfter = retryAfterMs(err);
        await sleep(Math.max(retryAfter ?? 0, Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)));
      }
    }
  };
}

function retryAfterMs(err: unknown): number | undefined {
  const v = (err as { retryAfter?: unknown } | null)?.retryAfter;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, 10_000) : undefined;
}

/** Maps an SDK exception (ClientError, ServerError, ThrottlingError, network error) to ours. */
export function wrapSdkError(action: string, err: unknown): AlibabaApiError {
  const e = (err ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown; requestId?: unknown; data?: unknown };
  const statusCode = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const data = (e.data && typeof e.data === 'object' ? e.data : {}) as { Code?: unknown; Message?: unknown };
  const rawCode = typeof data.Code === 'string' ? data.Code : typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = statusCode === undefined ? networkCode(rawCode, message) : rawCode || `HTTP${statusCode}`;
  const kind = classify(code, statusCode);
  const detail = typeof data.Message === 'string' ? data.Message : message;
  const requestId = typeof e.requestId === 'string' && e.requestId !== 'undefined' ? e.requestId : undefined;
  return new AlibabaApiError(action, code, kind, `${action} failed: ${code}: ${oneLine(detail)}`, statusCode, requestId, {
    cause: err,
  });
}

/** Failures without an HTTP answer: connection errors, or credentials the chain could not load. */
function networkCode(raw: string, message: string): string {
  if (/^E[A-Z]+$/.test(raw)) return raw;
  if (/credential/i.test(message) || raw === 'InvalidCredentials') return 'InvalidCredentials';
  return /timeout|socket|connect/i.test(message) ? 'NetworkError' : raw || 'ClientSideError';
}

function classify(code: string, statusCode: number | undefined): AlibabaErrorKind {
  if (statusCode === undefined) {
    if (code === 'InvalidCredentials') return 'access-denied';
    return /^E[A-Z]+$/.test(code) || code === 'NetworkError' ? 'network' : 'client';
  }
  if (code.includes('Throttling') || statusCode === 429) return 'throttled';
  if (
    /^(Forbidden|NoPermission|InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken|Unauthorized)/.test(code) ||
    statusCode === 401 ||
    statusCode === 403
  ) {
    return 'access-denied';
  }
  if (/NotFound|NotExist/.test(code)) return 'not-found';
  if (statusCode >= 500) return 'server';
  return 'client';
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Where one product's API is reached. */
export interface AlibabaEndpoint {
  /** `host` or `host:port`, as sent in the Host header. */
  host: string;
  protocol: 'http' | 'https';
}

/**
 * Parses an endpoint override (`ALIBABA_CLOUD_ECS_ENDPOINT`, `ALIBABA_CLOUD_SAS_ENDPOINT`):
 * `host[:port]` with no scheme or path. Plain HTTP is chosen only for loopback hosts
 * (`localhost`, 127.0.0.0/8, `::1`); every other host is reached over HTTPS.
 * @throws AlibabaEndpointError naming the variable and the rule broken.
 */
export function parseEndpointOverride(value: string, variable: string): AlibabaEndpoint {
  const v = value.trim();
  const fail = (rule: string) => new AlibabaEndpointError(`${variable}: ${rule} (expected host:port, e.g. 127.0.0.1:8443 or ecs.cn-hangzhou.aliyuncs.com)`);
  if (v === '') throw fail('must not be empty');
  if (v.includes('://')) throw fail('must not include a scheme; http is used only for loopback hosts, https otherwise');
  if (/[/?#@\s]/.test(v)) throw fail('must be a bare host and optional port, without path, query, user or spaces');
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(v);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2];
    if (net.isIPv6(host) === false) throw fail('bracketed host must be an IPv6 address');
  } else {
    const m = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(v);
    if (!m) throw fail('host must be a DNS name, an IPv4 address or a bracketed IPv6 address');
    host = m[1] ?? '';
    port = m[2];
    if (/^[0-9.]+$/.test(host) && !net.isIPv4(host)) throw fail('host looks like an IPv4 address but is not a valid one');
    if (host.startsWith('-') || host.startsWith('.') || host.endsWith('-') || host.includes('..')) {
      throw fail('host is not a valid DNS name');
    }
  }
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw fail('port must be between 1 and 65535');
  }
  return { host: v, protocol: isLoopback(host) ? 'http' : 'https' };
}

function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return new net.SocketAddress({ address: host, family: 'ipv6' }).address === '::1';
  return false;
}
