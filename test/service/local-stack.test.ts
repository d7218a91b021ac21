/**
 * `npm start` as a person runs it (scripts/start-local.mjs: dynalite, the local parameter
 * store, serverless-offline, its default ports and secrets), in an observed network namespace
 * (support/observed-stack.ts): the README's Slack and DingTalk requests, signed with openssl and
 * sent with curl, are acknowledged, the job runs (the worker's code, in-process under npm start)
 * and the report is posted to a loopback stand-in of the chat service. Every port listens on
 * 127.0.0.1 only; nothing client-written (the authorizer override, an event on the Lambda
 * invoke port) makes anyone an IAM caller or runs a queue function.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_ORIGIN, observedStackGate, PORTS, startObservedStack, type ObservedStack } from './support/observed-stack';

const ready = observedStackGate();
/** The start script's defaults, which the README's requests are signed with. */
const DEFAULT_SECRETS = { slack: 'local-signing-secret', dingtalk: 'local-app-secret' };

/** The README's block after its `local-chat-requests` marker, as a person would paste it. */
function readmeChatRequests(): string {
  const readme = readFileSync('README.md', 'utf8');
  const m = /<!-- local-chat-requests:[^>]*-->\n```sh\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no local-chat-requests block');
  return m[1]!;
}

let stack: ObservedStack;

describe.runIf(ready)('npm start: a local stack that works end to end', () => {
  beforeAll(async () => {
    stack = await startObservedStack();
  }, 150_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('listens on 127.0.0.1 only: the HTTP API, the Lambda invoke port, dynalite and the parameter store', () => {
    const ssm = Number(/local parameter store on http:\/\/127\.0\.0\.1:(\d+)/.exec(stack.log())?.[1]);
    const lines = stack.listening().trim().split('\n');
    for (const port of [PORTS.http, PORTS.lambda, PORTS.dynalite, ssm])
      expect(
        lines.some((l) => l.includes(` 127.0.0.1:${port} `)),
        `port ${port}`,
      ).toBe(true);
    for (const l of lines) expect(l).toMatch(/ 127\.0\.0\.1:\d+ /);
    expect(stack.log()).toMatch(/providers: local\n/);
  });

  it("the README's Slack and DingTalk requests: acknowledged, diagnosed, and the reports posted to the stand-in", { timeout: 90_000 }, async () => {
    const sent = stack.inNamespace(readmeChatRequests());
    expect(sent.status, sent.stderr).toBe(0);
    const [slackAck, dingAck] = sent.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: unknown });
    expect(slackAck).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/^Checking local/) });
    expect(dingAck).toMatchObject({ msgtype: 'text', text: { content: expect.stringMatching(/^Checking local/) } });
    const slack = await stack.waitForPost('the Slack report', (p) => p.path === '/slack');
    const ding = await stack.waitForPost('the DingTalk report', (p) => p.path === '/dingtalk');
    // Rendered reports of this machine's diagnosis (the namespace has no sshd: blocked).
    expect(JSON.stringify(slack.body)).toMatch(/"blocks":/);
    expect(JSON.stringify(slack.body)).toMatch(/localhost|127\.0\.0\.1/);
    expect(ding.body).toMatchObject({ msgtype: 'markdown' });
    expect(JSON.stringify(ding.body)).toMatch(/blocked|reachable|unknown/);
  });

  it('a signed request is good once: a Slack replay and a DingTalk replay with a rewritten body are 401, nothing more is posted', {
    timeout: 60_000,
  }, async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const body = new URLSearchParams({ command: '/sshdoctor', text: 'local', response_url: `${CHAT_ORIGIN}/slack-once` }).toString();
    const sig = `v0=${createHmac('sha256', DEFAULT_SECRETS.slack).update(`v0:${ts}:${body}`).digest('hex')}`;
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig };
    expect((await stack.request('POST', '/slack/command', { headers, body })).status).toBe(200);
    const again = await stack.request('POST', '/slack/command', { headers, body });
    expect([again.status, JSON.parse(again.text).field]).toEqual([401, 'x-slack-signature']);

    const ms = String(Date.now());
    const sign = createHmac('sha256', DEFAULT_SECRETS.dingtalk).update(`${ms}\n${DEFAULT_SECRETS.dingtalk}`).digest('base64');
    const ding = (hook: string) =>
      stack.request('POST', '/dingtalk/command', {
        headers: { 'content-type': 'application/json', timestamp: ms, sign },
        body: JSON.stringify({ text: { content: 'local' }, sessionWebhook: `${CHAT_ORIGIN}${hook}` }),
      });
    expect((await ding('/ding-once')).status).toBe(200);
    const rewritten = await ding('/ding-rewritten');
    expect([rewritten.status, JSON.parse(rewritten.text).field]).toEqual([401, 'sign']);
    await stack.waitForPost('the first Slack report', (p) => p.path === '/slack-once');
    await stack.waitForPost('the first DingTalk report', (p) => p.path === '/ding-once');
    await new Promise((r) => setTimeout(r, 1000));
    expect(
      stack.posted
        .filter((p) => ['/slack-once', '/ding-once', '/ding-rewritten'].includes(p.path))
        .map((p) => p.path)
        .sort(),
    ).toEqual(['/ding-once', '/slack-once']);
  });

  it('the fix route plans a report of this machine; a forged identity, by header or on the invoke port, is nobody', { timeout: 60_000 }, async () => {
    const made = await stack.request('POST', '/checks', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'local', instanceId: 'localhost' }),
    });
    expect(made.status).toBe(201);
    const { id } = JSON.parse(made.text) as { id: string };
    const dry = await stack.request('POST', `/checks/${id}/fix`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(dry.status).toBe(200);
    expect(JSON.parse(dry.text).plan.target.provider).toBe('local');
    // Applying changes the machine the stack runs on: that runs in a lab instance (local-fix.test.ts).

    const forged = { iam: { userArn: 'arn:aws:iam::123456789012:user/forged' } };
    const header = await stack.request('POST', `/checks/${id}/fix`, {
      headers: { 'content-type': 'application/json', 'sls-offline-authorizer-override': JSON.stringify(forged) },
      body: '{}',
    });
    expect([header.status, JSON.parse(header.text).field]).toEqual([403, 'sls-offline-authorizer-override']);
    // The same route's function, invoked directly with an authorizer context in the event: planned as the local caller.
    const event = {
      version: '2.0',
      routeKey: 'POST /checks/{id}/fix',
      rawPath: `/checks/${id}/fix`,
      headers: { 'content-type': 'application/json' },
      pathParameters: { id },
      requestContext: { http: { method: 'POST', path: `/checks/${id}/fix`, sourceIp: '127.0.0.1' }, authorizer: forged },
      body: '{}',
      isBase64Encoded: false,
    };
    const invoked = await stack.request('POST', '/2015-03-31/functions/sshdoctor-local-checks-fix/invocations', { lambda: true, body: JSON.stringify(event) });
    expect(JSON.parse(invoked.text)).toMatchObject({ statusCode: 200 });
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.log()).toMatch(/"message":"fix planned".*"who":"local:npm-start"/);
    expect(stack.log()).not.toMatch(/"who":"iam:/);

    // A queued "Apply fix" job handed straight to the worker: refused before anything runs, nothing posted.
    const job = { kind: 'slack-fix', reportId: id, responseUrl: `${CHAT_ORIGIN}/invoked-worker`, identity: 'slack:U0FORGED' };
    const worker = await stack.request('POST', '/2015-03-31/functions/sshdoctor-local-slack-worker/invocations', {
      lambda: true,
      body: JSON.stringify({ Records: [{ messageId: 'm1', body: JSON.stringify(job) }] }),
    });
    expect(JSON.parse(worker.text)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    await new Promise((r) => setTimeout(r, 1000));
    expect(stack.log()).toMatch(/slack-worker is not invoked under npm start/);
    expect(stack.posted.map((p) => p.path)).not.toContain('/invoked-worker');
  });

  it('opened no connection off loopback, whatever it was asked', () => {
    expect(stack.connections().length).toBeGreaterThan(0);
    expect(stack.unexpectedConnections()).toEqual([]);
  });
});
