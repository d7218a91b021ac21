/**
 * The S3 output reader against local HTTP servers: one GET whose SigV4 signature is recomputed
 * independently (plain node:crypto, S3 rules: path signed as sent, payload hash header),
 * path-style addressing under AWS_ENDPOINT_URL_S3, S3 error codes as error names (and so as the
 * runner's statuses), retries on SlowDown, 5xx and reset connections.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServers, expectedSignature, serve, type Seen } from '../support/sigv4-server';
import { createS3OutputStore, s3ObjectAddress } from '../../lib/cloud/s3-output-store';
import { AwsApiError } from '../../lib/cloud/aws-signed-http';
import { classifyAwsError } from '../../lib/runners/ssm-runner';

const CREDS = { accessKeyId: 'AKIDS3STORETEST', secretAccessKey: 's3-store-secret' };

afterEach(closeServers);

const s3Error = (status: number, code: string) => (_s: Seen, res: ServerResponse) =>
  void res
    .writeHead(status, { 'content-type': 'application/xml' })
    .end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code} happened</Message><RequestId>rq-1</RequestId></Error>`);

const object = (body: string) => (_s: Seen, res: ServerResponse) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(body);

describe('S3 output reader', () => {
  it('GETs the object path style from AWS_ENDPOINT_URL_S3, signed for s3, and returns the body as UTF-8', async () => {
    const srv = await serve(object('full output é\n'));
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = srv.url;
    try {
      const store = createS3OutputStore({ region: 'eu-west-1', credentials: CREDS });
      expect(await store.getObject('diag-out', 'sshdoctor/a b+c/é~(x)*!/../stdout')).toBe('full output é\n');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
      else process.env.AWS_ENDPOINT_URL_S3 = saved;
    }
    const s = srv.seen[0]!;
    expect(s.method).toBe('GET');
    // Each key segment encoded once, `.`/`..` segments left as they are (S3 keys, not paths).
    expect(s.url).toBe('/diag-out/sshdoctor/a%20b%2Bc/%C3%A9~%28x%29%2A%21/../stdout');
    expect(String(s.headers.authorization)).toMatch(/Credential=AKIDS3STORETEST\/\d{8}\/eu-west-1\/s3\/aws4_request/);
    expect(s.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('').digest('hex'));
    const signature = /Signature=([0-9a-f]{64})$/.exec(String(s.headers.authorization))?.[1];
    expect(signature).toBe(expectedSignature(s, CREDS.secretAccessKey));
  });

  it('names a missing object NoSuchKey (an error, not retried)', async () => {
    const srv = await serve(s3Error(404, 'NoSuchKey'));
    const store = createS3OutputStore({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url });
    const err = await store.getObject('diag-out', 'k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsApiError);
    expect(err).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404, requestId: 'rq-1', attempts: 1 } });
    expect(classifyAwsError(err).status).toBe('error');
    expect(srv.seen).toHaveLength(1);
  });

  it('names a denied read AccessDenied, which the runner classifies as access-denied', async () => {
    const srv = await serve(s3Error(403, 'AccessDenied'));
    const store = createS3OutputStore({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url });
    const err = await store.getObject('diag-out', 'k').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AccessDenied' });
    expect(classifyAwsError(err)).toMatchObject({ status: 'access-denied', code: 'AccessDenied' });
    expect(srv.seen).toHaveLength(1);
  });

  it('retries SlowDown, 5xx and a reset connection, then returns the object', async () => {
    const srv = await serve((s, res, n) => {
      if (n === 1) return s3Error(503, 'SlowDown')(s, res);
      if (n === 2) return s3Error(500, 'InternalError')(s, res);
      if (n === 3) return void res.socket?.destroy();
      object('done')(s, res);
    });
    const store = createS3OutputStore({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url, maxAttempts: 5 });
    expect(await store.getObject('diag-out', 'k')).toBe('done');
    expect(srv.seen).toHaveLength(4);
    // Every attempt is signed afresh and verifies.
    for (const s of srv.seen) expect(/Signature=([0-9a-f]{64})$/.exec(String(s.headers.authorization))?.[1]).toBe(expectedSignature(s, CREDS.secretAccessKey));
  });

  it('gives up after maxAttempts with the last S3 code', async () => {
    const srv = await serve(s3Error(503, 'SlowDown'));
    const store = createS3OutputStore({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url, maxAttempts: 2 });
    const err = await store.getObject('diag-out', 'k').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SlowDown', $metadata: { attempts: 2 } });
    expect(classifyAwsError(err).status).toBe('throttled');
    expect(srv.seen).toHaveLength(2);
  });

  it('addresses virtual-hosted by default, path style for configured endpoints and dotted buckets', () => {
    const regional = new URL('https://s3.eu-west-1.amazonaws.com');
    const v = s3ObjectAddress(regional, false, 'diag-out', 'p/k');
    expect([v.url.host, v.path]).toEqual(['diag-out.s3.eu-west-1.amazonaws.com', '/p/k']);
    const dotted = s3ObjectAddress(regional, false, 'diag.out', 'p/k');
    expect([dotted.url.host, dotted.path]).toEqual(['s3.eu-west-1.amazonaws.com', '/diag.out/p/k']);
    const configured = s3ObjectAddress(new URL('http://127.0.0.1:4566'), true, 'diag-out', 'p/k');
    expect([configured.url.host, configured.path]).toEqual(['127.0.0.1:4566', '/diag-out/p/k']);
  });
});
