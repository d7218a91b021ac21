/**
 * Reads SSM's full command output back from S3 with one signed GET (`s3:GetObject`), instead
 * of `@aws-sdk/client-s3` (about 145 KB minified in every handler bundle). Same credential
 * chain, endpoint configuration (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, ...) and retries
 * as the EC2 client; S3 error codes (`NoSuchKey`, `AccessDenied`, ...) become error names.
 */
import { createAwsSignedHttp, partitionSuffix, rfc3986, type AwsSignedHttpOptions } from './aws-signed-http';
import { parseXml, xmlText } from './aws-xml';
import type { OutputStore } from '../runners/ssm-runner';

export interface S3OutputStoreOptions {
  /** Validated region. */
  region: string;
  /** Attempts per call (first try included). Default 5. */
  maxAttempts?: number;
  credentials?: AwsSignedHttpOptions['credentials'];
  /** Endpoint URL; default from configuration, then `https://s3.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Per-attempt socket idle timeout. Default 30 s. */
  timeoutMs?: number;
}

// A bucket that can be a DNS label under the S3 host; dotted names would break the TLS
// wildcard certificate, so the SDK (and we) use path style for them.
const VIRTUAL_HOSTABLE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

function parseError(body: string): { code?: string; message?: string; requestId?: string } {
  try {
    const root = parseXml(body);
    return { code: xmlText(root, 'Code'), message: xmlText(root, 'Message'), requestId: xmlText(root, 'RequestId') };
  } catch {
    return {};
  }
}

/**
 * Where an object is read from: path style (`<endpoint>/<bucket>/<key>`) when the endpoint is
 * configured or the bucket is not virtual-hostable, else virtual-hosted
 * (`<bucket>.<endpoint host>/<key>`). Key segments are RFC 3986-encoded, `/` kept.
 */
export function s3ObjectAddress(endpoint: URL, configured: boolean, bucket: string, key: string): { url: URL; path: string } {
  const objectPath = `/${key.split('/').map(rfc3986).join('/')}`;
  if (configured || !VIRTUAL_HOSTABLE.test(bucket)) return { url: endpoint, path: `/${rfc3986(bucket)}${objectPath}` };
  const url = new URL(endpoint);
  url.hostname = `${bucket}.${endpoint.hostname}`;
  return { url, path: objectPath };
}

/**
 * Builds an {@link OutputStore} over S3 for `region`. Path-style addressing when an endpoint is
 * configured (emulators, VPC endpoints) or the bucket name is not virtual-hostable;
 * virtual-hosted (`<bucket>.s3.<region>.amazonaws.com`) otherwise.
 */
export function createS3OutputStore(opts: S3OutputStoreOptions): OutputStore {
  const http = createAwsSignedHttp({
    ...opts,
    service: 's3',
    envId: 'S3',
    s3Signing: true,
    regionalHost: (region, fips, dual) => `s3${fips ? '-fips' : ''}${dual ? '.dualstack' : ''}.${region}.${partitionSuffix(region, false)}`,
    parseError,
    // S3 answers some errors without a body (HEAD-like paths, proxies): name them as the SDK does.
    statusCodes: { 403: 'Forbidden', 404: 'NotFound' },
  });
  return {
    async getObject(bucket, key) {
      const { url, configured } = await http.endpoint();
      const at = s3ObjectAddress(url, configured, bucket, key);
      return (await http.send({ action: 's3:GetObject', method: 'GET', path: at.path }, at.url)).body;
    },
  };
}
