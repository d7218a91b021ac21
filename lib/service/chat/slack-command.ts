/**
 * Slack slash command, "Check again" and "Apply fix" buttons: verify, parse, dispatch,
 * acknowledge. Runs well under Slack's 3-second deadline because the diagnosis and the fix
 * are queued jobs.
 */
import type { MiddlewareObj } from '@middy/core';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import * as z from 'zod/mini';
import { SLACK_APPLY_FIX_ACTION, SLACK_CHECK_AGAIN_ACTION } from '../../report/render-slack';
import { fetchPoster, parseChatText, type ChatPoster, type ChatTarget, type JobDispatcher } from './chat';
import { ValidationError } from '../errors';
import { header, json, rawBody, type HttpEvent, type HttpResult } from '../http/http';
import type { ReplayGuard } from '../stores/report-store';
import type { DepsContext } from '../http/middleware';
import { checkRequestSchema, parseOrThrow } from '../http/schemas';
import { allowedCallbackUrl } from './callback-origins';
import { assertSshPort } from '../check-service';
import { acceptSlackFixClick } from '../fix/slack-fix';
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
  /** The deployment's SSH ports (SSH_PORTS): a "Check again" value asking for another port is a 400. */
  sshPorts?: readonly number[];
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

/** A Slack request once verified: its form fields, parsed by @middy/http-urlencode-body-parser. */
export type SlackForm = Record<string, string | string[] | undefined>;
export type SlackEvent = Omit<HttpEvent, 'body'> & { body?: string | SlackForm };

/**
 * Verifies Slack's signature on the exact bytes sent (size limit, timestamp window, replay
 * guard), then lets @middy/http-urlencode-body-parser turn the body into form fields. Slack
 * signs the raw body, so nothing may parse or re-encode it before the check.
 */
export function slackRequest(): MiddlewareObj<SlackEvent, HttpResult, Error, DepsContext<SlackCommandDeps>>[] {
  return [
    {
      before: async (request) => {
        const { deps } = request.context;
        const event = request.event as HttpEvent;
        await verifySlackRequest({
          signingSecret: deps.signingSecret,
          timestamp: header(event, 'x-slack-request-timestamp'),
          signature: header(event, 'x-slack-signature'),
          rawBody: rawBody(event, deps.maxBodyBytes),
          now: (deps.now ?? (() => new Date()))(),
          replayGuard: deps.replayGuard,
        });
      },
    },
    // Slack always sends a form; a verified request with another content type is read as one too.
    httpUrlencodeBodyParser({ disableContentTypeCheck: true }) as MiddlewareObj<SlackEvent, HttpResult, Error, DepsContext<SlackCommandDeps>>,
  ];
}

/** One form field; a field sent twice is refused by name rather than guessed at. */
function field(form: SlackForm, name: string): string | undefined {
  const v = form[name];
  if (Array.isArray(v)) throw new ValidationError(name, 'must appear once');
  return v;
}

/** Handles one verified Slack request (see {@link slackRequest}); returns the immediate acknowledgement. */
export async function handleSlackRequest(form: SlackForm, deps: SlackCommandDeps): Promise<HttpResult> {
  const payload = field(form, 'payload');
  if (payload !== undefined) return handleAction(payload, deps);

  const url = allowedCallbackUrl(parseOrThrow(responseUrl, field(form, 'response_url'), 'response_url'), deps.callbackOrigins, 'response_url');
  try {
    const request = parseChatText(field(form, 'text') ?? '', deps.target);
    await deps.dispatcher.dispatch({ kind: 'slack', request, responseUrl: url, user: field(form, 'user_id') });
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
  // Refused now, by name, not acknowledged and refused later in the job.
  assertSshPort(request, deps.sshPorts, 'payload.actions.value.port');
  await deps.dispatcher.dispatch({ kind: 'slack', request, responseUrl: action.response_url, user: action.user?.id });
  return { statusCode: 200, body: '' };
}
