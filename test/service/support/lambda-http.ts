/**
 * A real HTTP server in front of Lambda handlers: each request becomes an API Gateway HTTP
 * API (payload v2) event, as API Gateway would build it, and the result becomes the response.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route {
  method: string;
  /** `/checks/{id}` style; `{name}` segments become pathParameters. */
  path: string;
  handler: HttpHandler;
  /** What the context's getRemainingTimeInMillis() answers when the request starts. Default 30 s. */
  remainingMs?: number;
}

/** API Gateway's payload limit; bigger bodies never reach a function. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;

export function lambdaContext(functionName: string, remainingMs = 30_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function match(route: Route, method: string, path: string): Record<string, string> | null {
  if (route.method !== method) return null;
  const want = route.path.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith('{')) params[w.slice(1, -1)] = decodeURIComponent(g);
    else if (w !== g) return null;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > API_GATEWAY_MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function serveLambdas(routes: Route[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await readBody(req);
    if (body === null) {
      res.writeHead(413).end('{"message":"Request Entity Too Large"}');
      return;
    }
    for (const route of routes) {
      const params = match(route, req.method ?? 'GET', url.pathname);
      if (!params) continue;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const event: APIGatewayProxyEventV2 = {
        version: '2.0',
        routeKey: `${route.method} ${route.path}`,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        pathParameters: Object.keys(params).length ? params : undefined,
        requestContext: {
          accountId: '123456789012',
          apiId: 'local',
          domainName: 'localhost',
          domainPrefix: 'localhost',
          requestId: crypto.randomUUID(),
          routeKey: `${route.method} ${route.path}`,
          stage: '$default',
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
          http: {
            method: route.method,
            path: url.pathname,
            protocol: 'HTTP/1.1',
            sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
            userAgent: req.headers['user-agent'] ?? '',
          },
        },
        body: body.length ? body.toString('base64') : undefined,
        // API Gateway base64-encodes bodies it does not know to be text; handlers must cope.
        isBase64Encoded: body.length > 0,
      };
      const result = await route.handler(event, lambdaContext(route.path, route.remainingMs));
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.body ?? '');
      return;
    }
    res.writeHead(404).end('{"message":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
