/**
 * Slack request verification, v0 scheme: `v0=` + hex(HMAC-SHA256(secret, `v0:{ts}:{raw body}`)),
 * timestamp within 5 minutes, constant-time compare, and each signature accepted once.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors';
import type { ReplayGuard } from '../stores/report-store';

export const SLACK_WINDOW_SECONDS = 300;

export interface SlackSignatureInput {
  signingSecret: string;
  /** `X-Slack-Request-Timestamp` header (Unix seconds). */
  timestamp: string | undefined;
  /** `X-Slack-Signature` header. */
  signature: string | undefined;
  /** The body exactly as received. */
  rawBody: string;
  now: Date;
  replayGuard: ReplayGuard;
}

/** Computes the v0 signature (also used by tests and the local start script to sign requests). */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** Throws {@link SignatureError} unless the request is authentic, fresh, and not a replay. */
export async function verifySlackRequest(input: SlackSignatureInput): Promise<void> {
  const { timestamp, signature } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw new SignatureError('x-slack-request-timestamp: missing or not a Unix time');
  if (!signature || !/^v0=[0-9a-f]{64}$/.test(signature)) throw new SignatureError('x-slack-signature: missing or malformed');
  const age = Math.abs(input.now.getTime() / 1000 - Number(timestamp));
  if (age > SLACK_WINDOW_SECONDS) throw new SignatureError('x-slack-request-timestamp: outside the 5-minute window');
  const expected = Buffer.from(slackSignature(input.signingSecret, timestamp, input.rawBody));
  const given = Buffer.from(signature);
  // Lengths are equal by the regex above; timingSafeEqual requires it.
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new SignatureError('x-slack-signature: does not match the request');
  }
  // Only authentic requests reach the guard, so an attacker cannot fill it.
  if (!(await input.replayGuard.firstSeen(`slack#${signature}`, 2 * SLACK_WINDOW_SECONDS))) {
    throw new SignatureError('x-slack-signature: request already received (replay)');
  }
}
