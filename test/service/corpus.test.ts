/**
 * The bad-input corpus through `npm start` (issue 13), every route: the HTTP API, Slack's
 * command and interactivity, DingTalk; replays, callbacks off the allowed origin, probe ports,
 * serverless-offline's authorizer override. No answer is a 5xx, every 4xx names its field,
 * nothing refused is posted anywhere, and the kernel saw no connection leave loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpus, type Case } from './support/corpus-cases';
import { CHAT_ORIGIN, observedStackGate, PORTS, startObservedStack, type Answer, type ObservedStack } from './support/observed-stack';

const ready = observedStackGate();
const SECRETS = { slack: 'corpus-slack-secret', dingtalk: 'corpus-dingtalk-secret' };

let stack: ObservedStack;

describe.runIf(ready)('npm start answers a bad-input corpus', () => {
  beforeAll(async () => {
    stack = await startObservedStack(SECRETS);
  }, 150_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('with no 5xx, every 4xx naming its field, the stated answers, nothing refused posted, nothing off loopback', { timeout: 120_000 }, async () => {
    const cases = corpus(SECRETS, CHAT_ORIGIN);
    expect(cases.length).toBeGreaterThanOrEqual(150);
    const routes = new Set(cases.map((c) => `${c.method} ${c.path.replace(/^\/checks\/[^/]+/, '/checks/{id}').replace(/\/fix\/[^/]+$/, '/fix/{fixId}')}`));
    expect([...routes].sort()).toEqual([
      'GET /checks/{id}',
      'GET /checks/{id}/fix/{fixId}',
      'POST /checks',
      'POST /checks/{id}/fix',
      'POST /dingtalk/command',
      'POST /slack/command',
    ]);
    const bad: string[] = [];
    const answered: [Case, Answer][] = [];
    for (const c of cases) {
      const res = await stack.request(c.method, c.path, { ...(c.headers ? { headers: c.headers } : {}), ...(c.body !== undefined ? { body: c.body } : {}) });
      answered.push([c, res]);
      let field: unknown;
      try {
        field = (JSON.parse(res.text) as { field?: unknown }).field;
      } catch {
        field = undefined;
      }
      if (res.status >= 500) bad.push(`${c.name}: ${res.status} ${res.text.slice(0, 200)}`);
      if (res.status >= 400 && (typeof field !== 'string' || !field)) bad.push(`${c.name}: ${res.status} without a field: ${res.text.slice(0, 200)}`);
      if (c.expect && (res.status !== c.expect.status || (c.expect.field !== undefined && field !== c.expect.field))) {
        bad.push(`${c.name}: want ${c.expect.status} ${c.expect.field ?? ''}, got ${res.status} ${String(field ?? '')} ${res.text.slice(0, 160)}`);
      }
      if (/\n\s+at |node_modules|\/work\/|\.serverless|Error: /.test(res.text)) bad.push(`${c.name}: internals in the answer: ${res.text.slice(0, 200)}`);
    }
    expect(bad).toEqual([]);
    expect(answered.filter(([, r]) => r.status >= 400).length).toBeGreaterThanOrEqual(140);

    // What the accepted requests asked for arrives (each replayed pair's first, the refused click);
    // nothing else is posted, however long the jobs take.
    await stack.waitForPost('the Slack report of the replayed pair', (p) => p.path === '/expected/slack-replay');
    await stack.waitForPost('the DingTalk report of the replayed pair', (p) => p.path === '/expected/dingtalk-replay');
    await stack.waitForPost('the refusal of the unlisted user', (p) => p.path === '/expected/apply-refused');
    await new Promise((r) => setTimeout(r, 1500));
    expect(stack.posted.map((p) => p.path).sort()).toEqual(['/expected/apply-refused', '/expected/dingtalk-replay', '/expected/slack-replay']);
    expect(JSON.stringify(stack.posted.find((p) => p.path === '/expected/apply-refused')?.body)).toMatch(/not allowed to apply fixes/);

    // Every connection opened in the stack's namespace went to a loopback stand-in or a port of
    // the stack itself (the parameter store's port is the one it printed; 22 is the local probe).
    expect(stack.connections().map((c) => `${c.address} ${c.proto} ${c.port}`)).toContain(`127.0.0.1 tcp ${PORTS.chat}`);
    expect(stack.unexpectedConnections()).toEqual([]);
    // The observer is live: a canary to an outside address is seen.
    stack.inNamespace('echo canary > /dev/udp/192.0.2.1/9');
    expect(stack.connections().map((c) => `${c.address} ${c.proto} ${c.port}`)).toContain('192.0.2.1 udp 9');
  });
});
