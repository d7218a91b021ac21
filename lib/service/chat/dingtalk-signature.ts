/**
 * DingTalk outgoing-robot verification: headers `timestamp` (ms) and `sign`, where
 * sign = base64(HMAC-SHA256(appSecret, `${timestamp}\n${appSecret}`)), timestamp within 1 hour.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors';

export const DINGTALK_WINDOW_MS = 3_600_000;

/** Computes the `sign` header value for a timestamp (ms). */
export function dingtalkSignature(appSecret: string, timestamp: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`).digest('base64');
}

/** Throws {@link SignatureError} unless `sign` matches and `timestamp` is within an hour. */
export function verifyDingtalkRequest(input: { appSecret: string; timestamp: string | undefined; sign: string | undefined; now: Date }): void {
  const { timestamp, sign } = input;
  if (!timestamp || !/^\d{1,15}$/.test(timestamp)) throw new SignatureError('timestamp: missing or not a Unix time in ms');
  if (!sign || !/^[A-Za-z0-9+/]{43}=$/.test(sign)) throw new SignatureError('sign: missing or malformed');
  if (Math.abs(input.now.getTime() - Number(timestamp)) > DINGTALK_WINDOW_MS) {
    throw new SignatureError('timestamp: outside the 1-hour window');
  }
  const expected = Buffer.from(dingtalkSignature(input.appSecret, timestamp));
  const given = Buffer.from(sign);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new SignatureError('sign: does not match the request');
  }
}
