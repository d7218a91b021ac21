/** DingTalk outgoing robot: verify `timestamp` + `sign`, parse the message, dispatch, acknowledge. */
import * as z from 'zod/mini';
import { parseChatText, type ChatTarget, type JobDispatcher } from './chat';
import { verifyDingtalkRequest } from './dingtalk-signature';
import { ValidationError } from './errors';
import { header, json, jsonBody, type HttpEvent, type HttpResult } from './http';
import { parseOrThrow } from './schemas';

export interface DingtalkCommandDeps {
  appSecret: string;
  dispatcher: JobDispatcher;
  target: ChatTarget;
  maxBodyBytes: number;
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
  verifyDingtalkRequest({
    appSecret: deps.appSecret,
    timestamp: header(event, 'timestamp'),
    sign: header(event, 'sign'),
    now: (deps.now ?? (() => new Date()))(),
  });
  const msg = parseOrThrow(messageSchema, jsonBody(event, deps.maxBodyBytes));
  try {
    // Group messages start with the robot's @mention; drop it before the id.
    const request = parseChatText(msg.text.content.replace(/@\S+/g, ' '), deps.target);
    await deps.dispatcher.dispatch({ kind: 'dingtalk', request, sessionWebhook: msg.sessionWebhook, user: msg.senderStaffId });
    return reply(`Checking ${request.instanceId}… the report follows here.`);
  } catch (err) {
    if (err instanceof ValidationError) return reply(`sshdoctor: ${err.message}`);
    throw err;
  }
}
