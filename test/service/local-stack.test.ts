/**
 * `npm start` as a person runs it (scripts/start-local.mjs: dynalite, the local parameter
 * store, serverless-offline): a signed Slack and a signed DingTalk request, computed here the
 * way each service documents it, are acknowledged, the job runs, and the report is posted to a
 * loopback stand-in of the chat service. Every port it opens listens on 127.0.0.1 only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HTTP_PORT = 3200 + (process.pid % 200) * 3;
const DYNALITE_PORT = HTTP_PORT + 1;
const SLACK_SECRET = 'stack-test-slack-secret';
const DINGTALK_SECRET = 'stack-test-dingtalk-secret';

interface Posted {
  path: string;
  body: { text?: string; markdown?: { text?: string }; blocks?: unknown[] };
}

let stack: ChildProcess;
let chat: Server;
let chatUrl: string;
let log = '';
const posted: Posted[] = [];

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs} ms; npm start printed:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${HTTP_PORT}${path}`, init);

describe('npm start: a local stack that works end to end', () => {
  beforeAll(async () => {
    chat = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        posted.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true,"errcode":0}');
      });
    });
    await new Promise<void>((r) => chat.listen(0, '127.0.0.1', r));
    chatUrl = `http://127.0.0.1:${(chat.address() as AddressInfo).port}`;
    stack = spawn(process.execPath, ['scripts/start-local.mjs'], {
      env: {
        ...process.env,
        LOCAL_HTTP_PORT: String(HTTP_PORT),
        DYNALITE_PORT: String(DYNALITE_PORT),
        LOCAL_SLACK_SIGNING_SECRET: SLACK_SECRET,
        LOCAL_DINGTALK_APP_SECRET: DINGTALK_SECRET,
        LOCAL_SLACK_CALLBACK_ORIGINS: chatUrl,
        LOCAL_DINGTALK_CALLBACK_ORIGINS: chatUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    stack.stdout!.on('data', (d) => void (log += d));
    stack.stderr!.on('data', (d) => void (log += d));
    await waitFor('serverless-offline ready', () => (/Server ready/.test(log) ? true : undefined), 90_000);
  }, 120_000);

  afterAll(async () => {
    if (stack?.pid) {
      try {
        process.kill(-stack.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => chat?.close(r));
  });

  it('listens on loopback only: the HTTP API, the Lambda invoke port, dynalite and the parameter store', () => {
    const ss = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
    for (const port of [HTTP_PORT, HTTP_PORT + 2, DYNALITE_PORT]) {
      const lines = ss.split('\n').filter((l) => l.includes(`:${port} `));
      expect(lines.length, `port ${port}`).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} `));
    }
    const ssm = /local parameter store on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
    expect(ssm).not.toBeNull();
    expect(log).toMatch(/providers: local\n/);
  });

  it('Slack: a signed slash command is acknowledged and the report is posted to the response_url', { timeout: 90_000 }, async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const body = new URLSearchParams({ command: '/sshdoctor', text: 'local', response_url: `${chatUrl}/slack/hook`, user_id: 'U0LOCAL' }).toString();
    const sig = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const res = await api('/slack/command', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig }, body });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toMatch(/^Checking local/);
    const report = await waitFor('the report posted to the Slack stand-in', () => posted.find((p) => p.path === '/slack/hook'), 60_000);
    expect(JSON.stringify(report.body)).toMatch(/(local|localhost|127\.0\.0\.1:22): (reachable|blocked|unknown)/);
    // The same signed request again is a replay: refused by name, nothing posted.
    const again = await api('/slack/command', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig }, body });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { field: string }).field).toBe('x-slack-signature');
  });

  it('DingTalk: a signed message is acknowledged and the report is posted to the sessionWebhook', { timeout: 90_000 }, async () => {
    const ts = String(Date.now());
    const sign = createHmac('sha256', DINGTALK_SECRET).update(`${ts}\n${DINGTALK_SECRET}`).digest('base64');
    const res = await api('/dingtalk/command', {
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp: ts, sign },
      body: JSON.stringify({ msgtype: 'text', text: { content: 'local' }, sessionWebhook: `${chatUrl}/dingtalk/session`, senderStaffId: 'staff1' }),
    });
    expect(res.status).toBe(200);
    const report = await waitFor('the report posted to the DingTalk stand-in', () => posted.find((p) => p.path === '/dingtalk/session'), 60_000);
    expect(JSON.stringify(report.body)).toMatch(/local/);
  });

  it('names the field of every refusal: unknown report 404 id, oversized body 413 body, a callback off the allowed origins 400', async () => {
    const unknown = await api('/checks/00000000-0000-4000-8000-000000000000');
    expect([unknown.status, ((await unknown.json()) as { field: string }).field]).toEqual([404, 'id']);
    const fixUnknown = await api('/checks/00000000-0000-4000-8000-000000000000/fix', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(fixUnknown.status).toBeGreaterThanOrEqual(400);
    expect(fixUnknown.status).toBeLessThan(500);
    expect(((await fixUnknown.json()) as { field?: string }).field).toBeTruthy();
    const big = await api('/checks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'local', instanceId: 'x'.repeat(20_000) }) });
    expect([big.status, ((await big.json()) as { field: string }).field]).toEqual([413, 'body']);
    const ts = String(Math.floor(Date.now() / 1000));
    const body = new URLSearchParams({ command: '/sshdoctor', text: 'local', response_url: 'https://169.254.169.254/latest' }).toString();
    const sig = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    const off = await api('/slack/command', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig }, body });
    expect([off.status, ((await off.json()) as { field: string }).field]).toEqual([400, 'response_url']);
  });
});
