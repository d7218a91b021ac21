/** DingTalk outgoing robot: verify `timestamp` + `sign`, parse the message, dispatch, acknowledge. */
import * as z from 'zod/mini';
import { parseChatText, type ChatTarget, type JobDispatcher } from './chat';
import { verifyDingtalkRequest } from './dingtalk-signature';
import { SignatureError, ValidationError } from '../errors';
import { allowedCallbackUrl } from './callback-origins';
import type { ReplayGuard } from '../stores/report-store';

/** DingTalk accepts a timestamp up to an hour either side: a signature stays usable for two. */
const DINGTALK_REPLAY_TTL_SECONDS = 2 * 3600;
import { header, json, jsonBody, type HttpEvent, type HttpResult } from '../http/http';
import { parseOrThrow } from '../http/schemas';

export interface DingtalkCommandDeps {
  appSecret: string;
  dispatcher: JobDispatcher;
  target: ChatTarget;
  maxBodyBytes: number;
  /** Origins `sessionWebhook` may have (callback-origins.ts): DingTalk's robot host in a deployment. */
  callbackOrigins: readonly string[];
  /** Remembers signatures seen: DingTalk signs only the timestamp, so a captured pair must not be replayed. */
  replayGuard: ReplayGuard;
  now?: () => Date;
}

const messageSchema = z.object({
  msgtype: z.optional(z.string().check(z.maxLength(32))),
  text: z.object({ content: z.string({ error: 'must be a string' }).check(z.maxLength(512, 'must be at most 512 characters')) }),
  sessionWebhook: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).check(z.maxLength(2048)),
  senderStaffId: z.optional(z.string().check(z.maxLength(64))),
});

function reply(content: string): HttpResult {
  return json(200, { msgtype: 'text', text: { content } });
}

export async function handleDingtalkRequest(event: HttpEvent, deps: DingtalkCommandDeps): Promise<HttpResult> {
  // The signature covers only the timestamp, so it is checked before the body is even parsed.
  const sign = header(event, 'sign');
  verifyDingtalkRequest({
    appSecret: deps.appSecret,
    timestamp: header(event, 'timestamp'),
    sign,
    now: (deps.now ?? (() => new Date()))(),
  });
  const msg = parseOrThrow(messageSchema, jsonBody(event, deps.maxBodyBytes));
  const sessionWebhook = allowedCallbackUrl(msg.sessionWebhook, deps.callbackOrigins, 'sessionWebhook');
  // The signature covers only the timestamp, not the body: each signed pair is good once, for
  // as long as the window lets it be accepted (one hour either side).
  if (!(await deps.replayGuard.firstSeen(`dingtalk#${sign}`, DINGTALK_REPLAY_TTL_SECONDS))) {
    throw new SignatureError('sign: this signed request was already received (replay)');
  }
  try {
    // Group messages start with the robot's @mention; drop it before the id.
    const request = parseChatText(msg.text.content.replace(/@\S+/g, ' '), deps.target);
    await deps.dispatcher.dispatch({ kind: 'dingtalk', request, sessionWebhook, user: msg.senderStaffId });
    return reply(`Checking ${request.instanceId}… the report follows here.`);
  } catch (err) {
    if (err instanceof ValidationError) return reply(`sshdoctor: ${err.message}`);
    throw err;
  }
}
