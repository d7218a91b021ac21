import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/slack-command';
import { SLACK_APPLY_FIX_ACTION, SLACK_CHECK_AGAIN_ACTION } from '../../lib/report/render-slack';
import { createInlineDispatcher, parseChatJob, runChatJob, type ChatJob } from '../../lib/service/chat/chat';
import { createDynamoReplayGuard, createDynamoReportStore } from '../../lib/service/stores/report-store';
import { createDocClient } from '../../lib/service/runtime';
import { slackSignature } from '../../lib/service/chat/slack-signature';
import { startCaptureServer, type CaptureServer } from './support/capture-server';
import { startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { createLabProvider, createProbeDiagnoser } from './support/lab-provider';
import { serveLambdas, type HttpHandler } from './support/lambda-http';
import { createLoopbackSshd, type LoopbackSshd } from './support/loopback-sshd';

const SECRET = 'test-signing-secret-0123456789';
const TAGGED = 'i-0123456789abcdef0';

let dynamo: LocalDynamo;
let sshd: LoopbackSshd;
let slack: CaptureServer;
let api: { url: string; close(): Promise<void> };
let workerDeps: Parameters<typeof runChatJob>[1];
const jobErrors: unknown[] = [];
const dispatched: ChatJob[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
  sshd = await createLoopbackSshd();
  await sshd.start();
  slack = await startCaptureServer();
  const doc = createDocClient(dynamo.client);
  const provider = createLabProvider('us-east-1', [{ instanceId: TAGGED, tags: { 'sshdoctor:enabled': 'true' }, port: sshd.port }]);
  const checkDeps = (workerDeps = {
    config: { enabledProviders: ['aws' as const], optInTag: { key: 'sshdoctor:enabled', value: 'true' } },
    store: createDynamoReportStore({ client: doc, tables: TABLES, reportTtlDays: 7, historyTtlDays: 30 }),
    providers: async () => provider,
    diagnoser: createProbeDiagnoser(),
    callbackOrigins: { slack: [new URL(slack.url).origin], dingtalk: [] },
    post: async (url: string, body: unknown) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`post ${res.status}`);
    },
  });
  const handler = createHandler(() => ({
    signingSecret: SECRET,
    replayGuard: createDynamoReplayGuard({ client: doc, table: TABLES.idempotency }),
    dispatcher: createInlineDispatcher(
      (job) => {
        dispatched.push(job);
        return runChatJob(job, checkDeps);
      },
      (err) => jobErrors.push(err),
    ),
    target: { provider: 'aws', region: 'us-east-1' },
    maxBodyBytes: 8192,
    // The loopback stand-in of Slack's hook host.
    callbackOrigins: [new URL(slack.url).origin],
  }));
  api = await serveLambdas([{ method: 'POST', path: '/slack/command', handler: handler as unknown as HttpHandler }]);
});

afterAll(async () => {
  await api?.close();
  await slack?.close();
  await sshd?.close();
  await dynamo?.close();
});

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function send(body: string, opts: { timestamp?: number; signature?: string } = {}) {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${api.url}/slack/command`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': opts.signature ?? slackSignature(SECRET, ts, body),
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('Slack slash command', () => {
  it.each([
    ['a loopback port that is not the stand-in', 'http://127.0.0.1:1/hook'],
    ['a link-local address', 'http://169.254.169.254/latest'],
    ['another https host', 'https://hooks.slack.com.attacker.example/x'],
  ])('refuses a response_url on %s with 400 naming response_url, and posts nothing', async (_what, url) => {
    const before = slack.received.length;
    const jobs = dispatched.length;
    const res = await send(form({ command: '/sshdoctor', text: TAGGED, response_url: url, user_id: 'U1' }));
    expect(res.status).toBe(400);
    expect(res.text).toContain('response_url');
    await new Promise((r) => setTimeout(r, 50));
    expect(dispatched.length).toBe(jobs);
    expect(slack.received.length).toBe(before);
  });

  it('acknowledges a signed command, then posts a Block Kit report with a Check again button', async () => {
    const before = slack.received.length;
    const body = form({ command: '/sshdoctor', text: `${TAGGED} 198.51.100.4`, response_url: `${slack.url}/hook/1`, user_id: 'U1' });
    const res = await send(body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).text).toContain(`Checking ${TAGGED}`);
    await slack.waitFor(before + 1);
    const msg = slack.received[before]!.body as { blocks: { type: string; elements?: { action_id: string; value: string }[] }[]; text: string };
    expect(msg.text).toContain(`${TAGGED}: reachable`);
    const actions = msg.blocks.find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => e.action_id)).toEqual([SLACK_CHECK_AGAIN_ACTION]);
    expect(JSON.parse(actions!.elements![0]!.value)).toMatchObject({ instanceId: TAGGED, clientIp: '198.51.100.4' });

    // Pressing "Check again" sends a signed interactivity payload carrying the button value.
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U1' },
      response_url: `${slack.url}/hook/2`,
      actions: [{ action_id: SLACK_CHECK_AGAIN_ACTION, value: actions!.elements![0]!.value }],
    });
    const again = await send(form({ payload }));
    expect(again.status).toBe(200);
    await slack.waitFor(before + 2);
    expect(slack.received[before + 1]!.path).toBe('/hook/2');
    expect(jobErrors).toEqual([]);
  });

  it('offers no Apply fix button for a blocked instance whose failing check has no automatic fix', async () => {
    await sshd.stop();
    try {
      const before = slack.received.length;
      const res = await send(form({ command: '/sshdoctor', text: TAGGED, response_url: `${slack.url}/hook/stopped`, user_id: 'U1' }));
      expect(res.status).toBe(200);
      await slack.waitFor(before + 1);
      const msg = slack.received[before]!.body as { text: string; blocks: { type: string; elements?: { action_id: string }[] }[] };
      expect(msg.text).toContain(`${TAGGED}: blocked`);
      const ids = msg.blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []).map((e) => e.action_id) : []));
      expect(ids).toEqual([SLACK_CHECK_AGAIN_ACTION]);
      expect(ids).not.toContain(SLACK_APPLY_FIX_ACTION);
    } finally {
      await sshd.start();
    }
  });

  it('refuses Apply fix from everyone when no allow-list is configured, and queues nothing', async () => {
    const before = slack.received.length;
    const jobs = dispatched.length;
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U1ADMIN' },
      team: { id: 'T1' },
      response_url: `${slack.url}/hook/fix`,
      actions: [{ action_id: SLACK_APPLY_FIX_ACTION, value: '6f5f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d' }],
    });
    const res = await send(form({ payload }));
    expect(res.status).toBe(200);
    await slack.waitFor(before + 1);
    expect(slack.received[before]).toMatchObject({ path: '/hook/fix', body: { response_type: 'ephemeral' } });
    expect((slack.received[before]!.body as { text: string }).text).toContain('Slack user U1ADMIN may run checks but is not allowed to apply fixes');
    expect(dispatched.length).toBe(jobs);
  });

  it.each([
    ['a forged identity', { identity: 'iam:arn:aws:iam::123456789012:user/x' }, 'identity: must be slack:<team>/<user>'],
    ['a report id that is not a UUID', { reportId: '../../etc' }, 'reportId: must be a report id'],
    ['a response URL that is not http(s)', { responseUrl: 'file:///etc/passwd' }, 'responseUrl: must be an http(s) URL'],
  ])('rejects a queued fix job with %s, naming the field and the rule', (_what, over, message) => {
    const job = {
      kind: 'slack-fix',
      reportId: '6f5f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d',
      responseUrl: 'https://hooks.slack.com/actions/T/1/x',
      identity: 'slack:T1AB/U1AB',
      ...over,
    };
    expect(() => parseChatJob(job)).toThrow(message);
  });

  it.each([
    ['a Slack diagnosis', { kind: 'slack', request: { provider: 'aws', instanceId: TAGGED, region: 'us-east-1' }, responseUrl: 'http://10.0.0.1/hook' }],
    [
      'a Slack fix',
      {
        kind: 'slack-fix',
        reportId: '6f5f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d',
        responseUrl: 'https://hooks.slack.com.evil.example/x',
        identity: 'slack:T1AB/U1AB',
      },
    ],
    [
      'a DingTalk diagnosis',
      {
        kind: 'dingtalk',
        request: { provider: 'aws', instanceId: TAGGED, region: 'us-east-1' },
        sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=x',
      },
    ],
  ])('drops %s queued with a callback off the allowed origins: nothing runs, nothing is posted', async (_what, job) => {
    const before = slack.received.length;
    const diagnoses = (workerDeps.diagnoser as unknown as { calls: number }).calls;
    const errors: unknown[] = [];
    await runChatJob(parseChatJob(job), { ...workerDeps, onError: (err) => errors.push(err) });
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.received.length).toBe(before);
    expect((workerDeps.diagnoser as unknown as { calls: number }).calls).toBe(diagnoses);
    expect(String(errors[0])).toMatch(/job\.(responseUrl|sessionWebhook): must be an https URL/);
  });

  it('answers a fix job with "not enabled" when the worker has no audit store', async () => {
    const before = slack.received.length;
    await runChatJob(
      { kind: 'slack-fix', reportId: '6f5f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d', responseUrl: `${slack.url}/hook/noaudit`, identity: 'slack:T1AB/U1AB' },
      workerDeps,
    );
    await slack.waitFor(before + 1);
    expect((slack.received[before]!.body as { text: string }).text).toMatch(/fix not applied: fix: applying fixes is not enabled/);
  });

  it('rejects a request signed more than 5 minutes ago', async () => {
    const res = await send(form({ text: TAGGED, response_url: `${slack.url}/x` }), { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text).message).toMatch(/5-minute window/);
  });

  it('rejects a tampered body', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const signed = form({ text: TAGGED, response_url: `${slack.url}/x` });
    const tampered = form({ text: 'i-0fedcba9876543210', response_url: `${slack.url}/x` });
    const res = await send(tampered, { timestamp: ts, signature: slackSignature(SECRET, String(ts), signed) });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text).message).toMatch(/does not match/);
  });

  it('rejects a signature made with another secret, and a missing one', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = form({ text: TAGGED, response_url: `${slack.url}/x` });
    expect((await send(body, { timestamp: ts, signature: slackSignature('other', String(ts), body) })).status).toBe(401);
    expect((await send(body, { signature: '' })).status).toBe(401);
  });

  it('accepts a signed request once and rejects its replay', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = form({ text: 'not-an-instance', response_url: `${slack.url}/x` });
    const first = await send(body, { timestamp: ts });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).text).toMatch(/^sshdoctor: instanceId: /);
    const replay = await send(body, { timestamp: ts });
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.text).message).toMatch(/replay/);
  });
});
