/**
 * Slack slash command, "Check again" and "Apply fix" buttons: verify, parse, dispatch,
 * acknowledge. Runs well under Slack's 3-second deadline because the diagnosis and the fix
 * are queued jobs.
 */
import * as z from 'zod/mini';
import { SLACK_APPLY_FIX_ACTION, SLACK_CHECK_AGAIN_ACTION } from '../report/render-slack';
import { fetchPoster, parseChatText, type ChatPoster, type ChatTarget, type JobDispatcher } from './chat';
import { ValidationError } from './errors';
import { header, json, rawBody, type HttpEvent, type HttpResult } from './http';
import type { ReplayGuard } from './report-store';
import { checkRequestSchema, parseOrThrow } from './schemas';
import { allowedCallbackUrl } from './callback-origins';
import { acceptSlackFixClick } from './slack-fix';
import { verifySlackRequest } from './slack-signature';

export interface SlackCommandDeps {
  signingSecret: string;
  replayGuard: ReplayGuard;
  dispatcher: JobDispatcher;
  target: ChatTarget;
  maxBodyBytes: number;
  /** Slack user IDs allowed to press "Apply fix" (parseSlackFixAllowList); absent or empty: nobody. */
  fixAllowList?: ReadonlySet<string>;
  /** Origins `response_url` may have (callback-origins.ts): Slack's hook host in a deployment. */
  callbackOrigins: readonly string[];
  /** Posts to `response_url` (refusals and acknowledgements of "Apply fix"). Default: fetch. */
  post?: ChatPoster;
  now?: () => Date;
}

const responseUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).check(z.maxLength(2048));
const actionPayload = z.object({
  type: z.literal('block_actions'),
  user: z.optional(z.object({ id: z.string().check(z.maxLength(64)) })),
  team: z.nullish(z.object({ id: z.string().check(z.maxLength(64)) })),
  response_url: responseUrl,
  actions: z.array(z.object({ action_id: z.string(), value: z.optional(z.string().check(z.maxLength(2000))) })).check(z.minLength(1)),
});

/** Handles one verified-or-rejected Slack request; returns the immediate acknowledgement. */
export async function handleSlackRequest(event: HttpEvent, deps: SlackCommandDeps): Promise<HttpResult> {
  const body = rawBody(event, deps.maxBodyBytes);
  await verifySlackRequest({
    signingSecret: deps.signingSecret,
    timestamp: header(event, 'x-slack-request-timestamp'),
    signature: header(event, 'x-slack-signature'),
    rawBody: body,
    now: (deps.now ?? (() => new Date()))(),
    replayGuard: deps.replayGuard,
  });
  const form = new URLSearchParams(body);
  const payload = form.get('payload');
  if (payload !== null) return handleAction(payload, deps);

  const url = allowedCallbackUrl(parseOrThrow(responseUrl, form.get('response_url') ?? undefined, 'response_url'), deps.callbackOrigins, 'response_url');
  try {
    const request = parseChatText(form.get('text') ?? '', deps.target);
    await deps.dispatcher.dispatch({ kind: 'slack', request, responseUrl: url, user: form.get('user_id') ?? undefined });
    return json(200, { response_type: 'ephemeral', text: `Checking ${request.instanceId}… the report follows here.` });
  } catch (err) {
    // A bad command text is the user's typo: answer in Slack (200), not with an HTTP error.
    if (err instanceof ValidationError) return json(200, { response_type: 'ephemeral', text: `sshdoctor: ${err.message}` });
    throw err;
  }
}

async function handleAction(payload: string, deps: SlackCommandDeps): Promise<HttpResult> {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    throw new ValidationError('payload', 'must be valid JSON');
  }
  const action = parseOrThrow(actionPayload, value, 'payload');
  action.response_url = allowedCallbackUrl(action.response_url, deps.callbackOrigins, 'payload.response_url');
  const fix = action.actions.find((a) => a.action_id === SLACK_APPLY_FIX_ACTION);
  if (fix) {
    const team = action.team?.id;
    await acceptSlackFixClick(
      // A team id that is not Slack's shape is left out of the identity rather than trusted.
      { userId: action.user?.id, teamId: team && /^T[A-Z0-9]{2,20}$/.test(team) ? team : undefined, responseUrl: action.response_url, value: fix.value },
      { allowList: deps.fixAllowList ?? new Set(), dispatcher: deps.dispatcher, post: deps.post ?? fetchPoster },
    );
    return { statusCode: 200, body: '' };
  }
  const again = action.actions.find((a) => a.action_id === SLACK_CHECK_AGAIN_ACTION);
  if (!again?.value) return { statusCode: 200, body: '' };
  let requestValue: unknown;
  try {
    requestValue = JSON.parse(again.value);
  } catch {
    throw new ValidationError('payload.actions.value', 'must be valid JSON');
  }
  // The button value round-trips through Slack: validate it like any request body.
  const request = parseOrThrow(checkRequestSchema, requestValue, 'payload.actions.value');
  await deps.dispatcher.dispatch({ kind: 'slack', request, responseUrl: action.response_url, user: action.user?.id });
  return { statusCode: 200, body: '' };
}
