/**
 * A local HTTP server that records every request, and an AWS SigV4 signature recomputed from
 * a recorded request with plain node:crypto (no signing library): tests of the signed AWS
 * clients compare the client's signature with this one.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  url: string;
  body: string;
}

export type Reply = (req: Seen, res: ServerResponse, n: number) => void;

const servers: { close(): Promise<void> }[] = [];

/** Starts a server on 127.0.0.1 answering with `reply` (n counts requests from 1). */
export async function serve(reply: Reply): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const s = { method: req.method ?? '', headers: req.headers, url: req.url ?? '/', body: Buffer.concat(chunks).toString('utf8') };
    seen.push(s);
    reply(s, res, seen.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Closes every server started by {@link serve} (call from afterEach). */
export async function closeServers(): Promise<void> {
  for (const s of servers.splice(0)) await s.close();
}

/** SigV4 of a recorded request: canonical URI exactly as sent, no query string, body hashed. */
export function expectedSignature(s: Seen, secret: string): string {
  const auth = String(s.headers.authorization);
  const [, scope, signedHeaders] = /Credential=[^/]+\/([^,]+), ?SignedHeaders=([^,]+), ?Signature=/.exec(auth)!;
  const [date, region, service] = scope!.split('/');
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${String(s.headers[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const hash = (d: string) => createHash('sha256').update(d).digest('hex');
  const canonical = [s.method, s.url, '', canonicalHeaders, signedHeaders, hash(s.body)].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', String(s.headers['x-amz-date']), scope, hash(canonical)].join('\n');
  const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}
