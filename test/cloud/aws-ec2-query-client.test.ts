/**
 * The EC2 Query client against local HTTP servers: signatures recomputed independently
 * (plain node:crypto SigV4), the SDK's endpoint variables, retries on throttling, 5xx, reset
 * connections and clock skew, and EC2 error codes as error names.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServers, expectedSignature, serve, type Seen } from '../support/sigv4-server';
import { createEc2QueryClient, Ec2ApiError, parseXml, xmlItems, xmlText } from '../../lib/cloud/ec2-query-client';
import { ec2Error, ec2Response, el, set } from '../emulators/aws-ec2-xml';

const CREDS = { accessKeyId: 'AKIDQUERYCLIENTTEST', secretAccessKey: 'query-client-secret' };

afterEach(closeServers);

const ok = (action: string, body: string) => (_s: Seen, res: ServerResponse) =>
  void res.writeHead(200, { 'content-type': 'text/xml' }).end(ec2Response(action, 'req-1', body));

const fail =
  (status: number, code: string, headers: Record<string, string> = {}) =>
  (_s: Seen, res: ServerResponse) =>
    void res.writeHead(status, { 'content-type': 'text/xml', ...headers }).end(ec2Error(code, `${code} happened`, 'req-err'));

describe('EC2 Query client', () => {
  it('sends a form-encoded Query request with a SigV4 signature that verifies', async () => {
    const srv = await serve(ok('DescribeInstances', set('reservationSet', [])));
    const ec2 = createEc2QueryClient({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url });
    await ec2.request('DescribeInstances', { 'Filter.1.Name': 'tag:team name', 'Filter.1.Value.1': "a&b=c*'!" });
    const s = srv.seen[0]!;
    expect(new URLSearchParams(s.body).get('Filter.1.Value.1')).toBe("a&b=c*'!");
    expect(s.body).toContain('Action=DescribeInstances&Version=2016-11-15&');
    expect(s.body).not.toMatch(/[*'!]/);
    expect(String(s.headers.authorization)).toMatch(/Credential=AKIDQUERYCLIENTTEST\/\d{8}\/eu-west-1\/ec2\/aws4_request/);
    const signature = /Signature=([0-9a-f]{64})$/.exec(String(s.headers.authorization))?.[1];
    expect(signature).toBe(expectedSignature(s, CREDS.secretAccessKey));
    expect(signature).not.toBe(expectedSignature(s, 'another-secret'));
  });

  it('prefers AWS_ENDPOINT_URL_EC2 over AWS_ENDPOINT_URL, as the SDK does', async () => {
    const generic = await serve(fail(500, 'WrongEndpoint'));
    const specific = await serve(ok('DescribeNetworkAcls', set('networkAclSet', [el('networkAclId', 'acl-1')])));
    const saved = { g: process.env.AWS_ENDPOINT_URL, s: process.env.AWS_ENDPOINT_URL_EC2 };
    process.env.AWS_ENDPOINT_URL = generic.url;
    process.env.AWS_ENDPOINT_URL_EC2 = specific.url;
    try {
      const out = await createEc2QueryClient({ region: 'eu-west-1', credentials: CREDS }).request('DescribeNetworkAcls', {});
      expect(xmlItems(out, 'networkAclSet').map((a) => xmlText(a, 'networkAclId'))).toEqual(['acl-1']);
      delete process.env.AWS_ENDPOINT_URL_EC2;
      await createEc2QueryClient({ region: 'eu-west-1', credentials: CREDS, maxAttempts: 1 })
        .request('DescribeNetworkAcls', {})
        .catch(() => undefined);
      expect([specific.seen.length, generic.seen.length]).toEqual([1, 1]);
    } finally {
      for (const [k, v] of [
        ['AWS_ENDPOINT_URL', saved.g],
        ['AWS_ENDPOINT_URL_EC2', saved.s],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('retries RequestLimitExceeded, 5xx and reset connections, then answers', async () => {
    const srv = await serve((s, res, n) => {
      if (n === 1) return fail(503, 'RequestLimitExceeded')(s, res);
      if (n === 2) return fail(500, 'InternalError')(s, res);
      if (n === 3) return void res.socket?.destroy();
      ok('DescribeSecurityGroups', set('securityGroupInfo', [el('groupId', 'sg-1')]))(s, res);
    });
    const out = await createEc2QueryClient({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url }).request('DescribeSecurityGroups', {});
    expect(xmlItems(out, 'securityGroupInfo').map((g) => xmlText(g, 'groupId'))).toEqual(['sg-1']);
    expect(srv.seen).toHaveLength(4);
  });

  it('stops after maxAttempts and throws the last error, named by its EC2 code', async () => {
    const srv = await serve(fail(503, 'RequestLimitExceeded'));
    const err = await createEc2QueryClient({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url, maxAttempts: 2 })
      .request('DescribeInstances', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Ec2ApiError);
    expect(err).toMatchObject({
      name: 'RequestLimitExceeded',
      message: 'RequestLimitExceeded happened',
      $metadata: { httpStatusCode: 503, requestId: 'req-err', attempts: 2 },
    });
    expect(srv.seen).toHaveLength(2);
  });

  it('does not retry client errors (UnauthorizedOperation, InvalidInstanceID.NotFound)', async () => {
    for (const code of ['UnauthorizedOperation', 'InvalidInstanceID.NotFound']) {
      const srv = await serve(fail(code === 'UnauthorizedOperation' ? 403 : 400, code));
      const ec2 = createEc2QueryClient({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url });
      await expect(ec2.request('DescribeInstances', {})).rejects.toMatchObject({ name: code });
      expect(srv.seen).toHaveLength(1);
    }
  });

  it('corrects its clock from the server Date after RequestExpired and signs the retry with it', async () => {
    const serverNow = Date.now() + 3_600_000;
    const srv = await serve((s, res, n) => {
      const amz = String(s.headers['x-amz-date']);
      const sent = Date.parse(`${amz.slice(0, 4)}-${amz.slice(4, 6)}-${amz.slice(6, 8)}T${amz.slice(9, 11)}:${amz.slice(11, 13)}:${amz.slice(13, 15)}Z`);
      if (n > 3 || Math.abs(sent - serverNow) > 300_000) return fail(400, 'RequestExpired', { date: new Date(serverNow).toUTCString() })(s, res);
      ok('DescribeInstances', set('reservationSet', []))(s, res);
    });
    await createEc2QueryClient({ region: 'eu-west-1', credentials: CREDS, endpoint: srv.url }).request('DescribeInstances', {});
    expect(srv.seen).toHaveLength(2);
  });
});

describe('parseXml', () => {
  it('reads elements, namespaces, entities and CDATA, skipping attributes and comments', () => {
    const root = parseXml('<?xml version="1.0"?>\n<ns:R xmlns:ns="x"><!-- c --><a k="v">x &amp; &lt;y&gt; &#233;&#x41;</a><b/><c><![CDATA[<raw>]]></c></ns:R>');
    expect([root.name, xmlText(root, 'a'), xmlText(root, 'b'), xmlText(root, 'c'), xmlText(root, 'missing')]).toEqual([
      'R',
      'x & <y> éA',
      '',
      '<raw>',
      undefined,
    ]);
  });

  it('rejects unbalanced documents', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/malformed XML/);
    expect(() => parseXml('<a><b></b>')).toThrow(/malformed XML/);
    expect(() => parseXml('not xml')).toThrow(/malformed XML/);
  });
});
