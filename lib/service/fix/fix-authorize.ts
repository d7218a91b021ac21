/**
 * Who may apply fixes. Running checks and applying fixes are separate permissions: the
 * HTTP route `POST /checks/{id}/fix` has its own IAM statement (see the report), and
 * Slack's "Apply fix" button is honoured only for user IDs on an allow-list.
 */
import { ConfigError, ForbiddenError, ValidationError } from '../errors';

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** Parses `SLACK_FIX_ALLOWED_USERS` ("U0123ABC,W0456DEF"); empty means nobody may apply fixes from Slack. */
export function parseSlackFixAllowList(value: string | undefined): ReadonlySet<string> {
  const ids = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = ids.find((id) => !SLACK_USER_ID.test(id));
  if (bad !== undefined) throw new ConfigError('SLACK_FIX_ALLOWED_USERS', 'must be comma-separated Slack user IDs (U... or W...)');
  return new Set(ids);
}

/** Throws ForbiddenError unless the Slack user is on the allow-list; returns the audit identity. */
export function authorizeSlackFix(userId: string | undefined, allowList: ReadonlySet<string>, teamId?: string): string {
  if (userId === undefined || !SLACK_USER_ID.test(userId)) throw new ValidationError('user.id', 'must be a Slack user ID');
  if (!allowList.has(userId)) throw new ForbiddenError(`user_id: Slack user ${userId} may run checks but is not allowed to apply fixes`);
  return `slack:${teamId ? `${teamId}/` : ''}${userId}`;
}

/** The caller under `npm start` (serverless-offline, no IAM authorizer, local provider enabled). */
export const LOCAL_IDENTITY = 'local:npm-start';

const IAM_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]+$/;

/** What {@link httpFixIdentity} returns: `iam:<caller ARN>` (queued fix jobs are checked against it). */
export const HTTP_FIX_IDENTITY = new RegExp(`^iam:${IAM_ARN.source.slice(1)}`);

/**
 * The audit identity of an IAM-authorized HTTP caller (API Gateway's requestContext.identity.userArn).
 * Under serverless-offline (`npm start`, which sets IS_OFFLINE and has no IAM authorizer) with
 * the local provider enabled, the caller is `local:npm-start`; a deployed function never has
 * IS_OFFLINE, and the local provider diagnoses only the machine the stack runs on.
 */
export function httpFixIdentity(
  userArn: string | undefined | null,
  local: { offline: boolean; localProvider: boolean } = { offline: false, localProvider: false },
): string {
  if (!userArn && local.offline && local.localProvider) return LOCAL_IDENTITY;
  if (!userArn || !IAM_ARN.test(userArn)) {
    throw new ForbiddenError('authorization: applying fixes needs an IAM-signed request (AWS_IAM authorizer)');
  }
  return `iam:${userArn}`;
}
