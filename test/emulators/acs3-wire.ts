/**
 * The wire side of the Alibaba emulator: ACS3-HMAC-SHA256 request verification as the real
 * gateway does it, and the small HTTP helpers (headers, body, JSON answers, request ids).
 */
import type http from 'node:http';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * ACS3-HMAC-SHA256 verification, rebuilt from the request as received: canonical request =
 * method, path, sorted query, signed headers (name:value), signed header list, body SHA-256.
 */
export function verifyAcs3(
  req: http.IncomingMessage,
  url: URL,
  body: Buffer,
  accessKeyId: string,
  accessKeySecret: string,
  nonces: Set<string>,
): { status: number; code: string; message: string } | null {
  const auth = header(req, 'authorization');
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { status: 400, code: 'IncompleteSignature', message: 'The request signature does not conform to Aliyun standards.' };
  const [, ak, signedList, signature] = m as unknown as [string, string, string, string];
  if (ak !== accessKeyId) return { status: 404, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' };
  const signed = signedList.split(';');
  for (const required of ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']) {
    if (!signed.includes(required)) {
      return { status: 400, code: 'IncompleteSignature', message: `The request signature does not sign ${required}.` };
    }
  }
  const bodyHash = createHash('sha256').update(body).digest('hex');
  if (header(req, 'x-acs-content-sha256') !== bodyHash) {
    return { status: 400, code: 'ContentSHA256Mismatch', message: 'x-acs-content-sha256 does not match the body.' };
  }
  const query = [...url.searchParams.keys()]
    .sort()
    .map((k) => `${k}=${acsEncode(url.searchParams.get(k) ?? '')}`)
    .join('&');
  const headers = signed.map((h) => `${h}:${header(req, h).trim()}\n`).join('');
  const canonical = [req.method ?? 'POST', url.pathname, query, headers, signed.join(';'), bodyHash].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const expected = createHmac('sha256', accessKeySecret).update(toSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      status: 400,
      code: 'SignatureDoesNotMatch',
      message: `Specified signature does not match our calculation. server string to sign is:${toSign}`,
    };
  }
  const date = Date.parse(header(req, 'x-acs-date'));
  if (!Number.isFinite(date) || Math.abs(Date.now() - date) > 15 * 60_000) {
    return { status: 400, code: 'InvalidTimeStamp.Expired', message: 'Specified time stamp or date value is expired.' };
  }
  const nonce = header(req, 'x-acs-signature-nonce');
  if (nonces.has(nonce)) return { status: 400, code: 'SignatureNonceUsed', message: 'Specified signature nonce was used already.' };
  nonces.add(nonce);
  return null;
}

/** The percent-encoding Alibaba's canonical query uses (RFC 3986 unreserved kept). */
function acsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function header(req: http.IncomingMessage, name: string): string {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function send(res: http.ServerResponse, status: number, payload: Record<string, unknown>): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function requestId(): string {
  const h = randomBytes(16).toString('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
