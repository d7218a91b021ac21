/**
 * What serverless-offline lets a client write (the authorizer context, through its override
 * header or an event on the invoke port) is trusted nowhere locally, and a deployed function
 * is never taken for a local one.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { httpFunction } from '../../lib/service/http/middleware';
import { json } from '../../lib/service/http/http';
import { isOffline } from '../../lib/service/offline';
import { refuseOffline } from '../../lib/service/runtime';
import { lambdaContext } from './support/lambda-http';

/** The context a handler is invoked with (middy adds `deps` itself). */
const ctx = () => lambdaContext('t') as Context & { deps: Record<string, never> };
const FORGED = { iam: { userArn: 'arn:aws:iam::123456789012:user/forged' } };

function event(headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /checks/{id}',
    rawPath: '/checks/x',
    rawQueryString: '',
    headers,
    requestContext: { http: { method: 'GET', path: '/checks/x', sourceIp: '127.0.0.1' }, authorizer: FORGED },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

/** A function answering with the authorizer context its handler saw. */
const seen = (offline: boolean) =>
  httpFunction({ logger: { error: () => undefined }, middlewares: [] }, () => ({}), offline).handler(async (e) =>
    json(200, { authorizer: (e.requestContext as { authorizer?: unknown }).authorizer ?? null }),
  );

describe('offline guard', () => {
  it('is offline only with IS_OFFLINE and without the Lambda runtime API every deployed function has', () => {
    expect(isOffline({ IS_OFFLINE: 'true' })).toBe(true);
    expect(isOffline({ IS_OFFLINE: 'true', AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' })).toBe(false);
    expect(isOffline({})).toBe(false);
    expect(isOffline({ IS_OFFLINE: '1' })).toBe(false);
  });

  it('offline, drops an authorizer context written into the event and refuses the override header by name', async () => {
    const dropped = await seen(true)(event(), ctx());
    expect(JSON.parse(String(dropped.body))).toEqual({ authorizer: null });
    const header = await seen(true)(event({ 'Sls-Offline-Authorizer-Override': JSON.stringify(FORGED) }), ctx());
    expect([header.statusCode, JSON.parse(String(header.body)).field]).toEqual([403, 'sls-offline-authorizer-override']);
  });

  it("deployed, keeps API Gateway's authorizer context and ignores the header", async () => {
    const res = await seen(false)(event({ 'sls-offline-authorizer-override': '{}' }), ctx());
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual({ authorizer: FORGED });
  });

  it('the queue and schedule functions refuse to run offline', () => {
    expect(() => refuseOffline('slack-worker', { IS_OFFLINE: 'true' })).toThrow(/slack-worker is not invoked under npm start/);
    expect(() => refuseOffline('slack-worker', { IS_OFFLINE: 'true', AWS_LAMBDA_RUNTIME_API: 'x' })).not.toThrow();
  });
});
