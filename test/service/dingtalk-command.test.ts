/**
 * DingTalk outgoing robot over real HTTP, with the replay guard on dynalite: its signature
 * covers only the timestamp, so a captured request must not run twice or with a rewritten body,
 * and the callback only ever goes to DingTalk's own host (here a loopback stand-in).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/dingtalk-command';
import { createInlineDispatcher, type ChatJob } from '../../lib/service/chat/chat';
import { dingtalkSignature } from '../../lib/service/chat/dingtalk-signature';
import { createDynamoReplayGuard } from '../../lib/service/stores/report-store';
import { createDocClient } from '../../lib/service/runtime';
import { startCaptureServer, type CaptureServer } from './support/capture-server';
import { startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { serveLambdas, type HttpHandler } from './support/lambda-http';

const SECRET = 'dingtalk-app-secret-0123456789';
const INSTANCE = 'i-bp1abcdefghijklmnopq';

let dynamo: LocalDynamo;
let robot: CaptureServer;
let api: { url: string; close(): Promise<void> };
const dispatched: ChatJob[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
  robot = await startCaptureServer();
  const doc = createDocClient(dynamo.client);
  const handler = createHandler(() => ({
    appSecret: SECRET,
    replayGuard: createDynamoReplayGuard({ client: doc, table: TABLES.idempotency }),
    dispatcher: createInlineDispatcher(
      async (job) => void dispatched.push(job),
      () => undefined,
    ),
    target: { provider: 'alibaba', region: 'cn-hangzhou' },
    maxBodyBytes: 8192,
    callbackOrigins: [new URL(robot.url).origin],
  }));
  api = await serveLambdas([{ method: 'POST', path: '/dingtalk/command', handler: handler as unknown as HttpHandler }]);
});

afterAll(async () => {
  await api?.close();
  await robot?.close();
  await dynamo?.close();
});

function message(text: string, sessionWebhook = `${robot.url}/robot/send?session=1`): string {
  return JSON.stringify({ msgtype: 'text', text: { content: text }, sessionWebhook, senderStaffId: 'staff1' });
}

async function send(body: string, ts = String(Date.now()), sign = dingtalkSignature(SECRET, ts)) {
  const res = await fetch(`${api.url}/dingtalk/command`, { method: 'POST', headers: { 'content-type': 'application/json', timestamp: ts, sign }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
}

describe('DingTalk robot requests', () => {
  it('acknowledges a signed request and queues the check with the sessionWebhook', async () => {
    const before = dispatched.length;
    const r = await send(message(`@sshdoctor ${INSTANCE}`));
    expect(r.status).toBe(200);
    await settle();
    expect(dispatched.slice(before)).toEqual([
      {
        kind: 'dingtalk',
        request: { provider: 'alibaba', region: 'cn-hangzhou', instanceId: INSTANCE },
        sessionWebhook: `${robot.url}/robot/send?session=1`,
        user: 'staff1',
      },
    ]);
  });

  it('takes a user name after the instance id: /sshdoctor <instance-id> [user] [client-ip]', async () => {
    const before = dispatched.length;
    expect((await send(message(`@sshdoctor ${INSTANCE} ecs-user 203.0.113.9`))).status).toBe(200);
    await settle();
    expect(dispatched.slice(before).map((j) => (j as { request: unknown }).request)).toEqual([
      { provider: 'alibaba', region: 'cn-hangzhou', instanceId: INSTANCE, clientIp: '203.0.113.9', user: 'ecs-user' },
    ]);
  });

  it('refuses a replay of a signed request, even with a rewritten body, and runs nothing', async () => {
    const ts = String(Date.now());
    const sign = dingtalkSignature(SECRET, ts);
    expect((await send(message(`${INSTANCE}`), ts, sign)).status).toBe(200);
    await settle();
    const before = dispatched.length;
    const replay = await send(message('i-bp1zzzzzzzzzzzzzzzzz'), ts, sign);
    expect(replay.status).toBe(401);
    expect(JSON.stringify(replay.body)).toContain('sign');
    await settle();
    expect(dispatched.length).toBe(before);
  });

  it.each([
    ['a link-local address', 'http://169.254.169.254/latest/meta-data'],
    ['another https host', 'https://attacker.example/hook'],
    ["DingTalk's host over plain http", 'http://oapi.dingtalk.com/robot/send'],
    ['a look-alike host', 'https://oapi.dingtalk.com.attacker.example/robot/send'],
  ])('refuses a sessionWebhook on %s with 400 naming sessionWebhook, and posts nothing', async (_what, url) => {
    const before = dispatched.length;
    const received = robot.received.length;
    const r = await send(message(INSTANCE, url));
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('sessionWebhook');
    await settle();
    expect(dispatched.length).toBe(before);
    expect(robot.received.length).toBe(received);
  });

  it('refuses a timestamp outside the one-hour window', async () => {
    const ts = String(Date.now() - 3_601_000);
    const r = await send(message(INSTANCE), ts);
    expect(r.status).toBe(401);
    expect(JSON.stringify(r.body)).toContain('timestamp');
  });
});
