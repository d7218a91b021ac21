/**
 * A small EC2 Query API client (API version 2016-11-15) for the three read-only actions the
 * inventory uses. It replaces `@aws-sdk/client-ec2`, whose 1 MB of minified code V8 had to
 * pre-parse on every Lambda cold start. Credentials, SigV4, endpoint configuration
 * (`AWS_ENDPOINT_URL_EC2`, ...), standard retries and typed errors come from
 * {@link createAwsSignedHttp}, shared with the S3 output reader.
 */
import { AwsApiError, createAwsSignedHttp, partitionSuffix, rfc3986 } from './aws-signed-http';
import { parseXml, xmlChild, xmlText, type XmlNode } from './aws-xml';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export { parseXml, xmlChild, xmlItems, xmlText, type XmlNode } from './aws-xml';

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
 * An EC2 API failure: `name` is the EC2 error code (`UnauthorizedOperation`,
 * `InvalidInstanceID.NotFound`, `RequestLimitExceeded`, ...), as with SDK service exceptions.
 */
export const Ec2ApiError = AwsApiError;
export type Ec2ApiError = AwsApiError;

const API_VERSION = '2016-11-15';

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
  const http = createAwsSignedHttp({
    ...opts,
    service: 'ec2',
    envId: 'EC2',
    regionalHost: (region, fips, dual) => `ec2${fips ? '-fips' : ''}.${region}.${partitionSuffix(region, dual)}`,
    parseError,
  });
  return {
    async request(action, params) {
      const body = [`Action=${rfc3986(action)}`, `Version=${API_VERSION}`, ...Object.entries(params).map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)].join('&');
      const res = await http.send({
        action: `ec2:${action}`,
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
      });
      return parseXml(res.body);
    },
  };
}
