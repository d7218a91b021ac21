/**
 * Slack "Apply fix" end to end over real HTTP: signed slash command -> report with the
 * button (diagnosis through the Alibaba emulator on a real lab instance) -> signed click ->
 * allow-list -> SQS (emulated wire protocol) -> slack-worker handler -> runFix through
 * Cloud Assistant -> outcome posted to response_url; and a real SSH banner afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { shellExecutor, type AlibabaEmulator } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, providerFor, startEmulator } from '../cloud/alibaba-support';
import { createLab, labGate, type LabInstance } from '../lab/lab';
import { denyByIp } from '../lab/scenarios';
import { rawProbe } from '../lab/raw-client';
import { createHandler as createCommand } from '../../functions/slack-command';
import { createHandler as createWorker } from '../../functions/slack-worker';
import { diagnoseInstance } from '../../lib/cloud/diagnose-instance';
import { SLACK_APPLY_FIX_ACTION } from '../../lib/report/render-slack';
import { createSqsDispatcher } from '../../lib/service/chat/chat';
import { createDynamoFixAuditStore, type FixAuditStore } from '../../lib/service/stores/fix-audit-store';
import { parseSlackFixAllowList } from '../../lib/service/fix/fix-authorize';
import { createDynamoReplayGuard, createDynamoReportStore } from '../../lib/service/stores/report-store';
import { createDocClient } from '../../lib/service/runtime';
import { slackSignature } from '../../lib/service/chat/slack-signature';
import { startCaptureServer, type CaptureServer } from './support/capture-server';
import { DUMMY_CREDENTIALS, createFixAuditTable, startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { lambdaContext, serveLambdas, type HttpHandler } from './support/lambda-http';
import { SLACK_WORKER_TIMEOUT_MS } from './support/sqs-event-source';
import { startMessagingEmulator, type EmulatedMessage, type MessagingEmulator } from './support/messaging-emulator';

// Fails the run in CI when the lab cannot be built; elsewhere skips with the reason.
const labReady = labGate();
const SECRET = 'test-signing-secret-0123456789';
const TAG = { key: 'sshdoctor', value: 'enabled' };
const QUEUE = 'https://sqs.cn-hangzhou.amazonaws.com/123456789012/sshdoctor-test-chat';
const OPERATOR = 'UOPS0001';
const VIEWER = 'UVIEW0001';
const TEAM = 'T0TEAM01';

interface Block {
  type: string;
  text?: { text: string };
  elements?: { action_id: string; value: string; confirm?: { text: { text: string } } }[];
}
interface Message {
  text: string;
  response_type?: string;
  blocks?: Block[];
}

describe.skipIf(!labReady)('Slack Apply fix', () => {
  let emu: AlibabaEmulator;
  let inst: LabInstance;
  let dynamo: LocalDynamo;
  let aws: MessagingEmulator;
  let slack: CaptureServer;
  let api: { url: string; close(): Promise<void> };
  let audit: FixAuditStore;
  let worker: ReturnType<typeof createWorker>;
  const jobErrors: unknown[] = [];

  beforeAll(async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME ??= 'sshdoctor-test-slack';
    [inst, emu, dynamo, aws, slack] = await Promise.all([createLab(), startEmulator(), startDynalite(), startMessagingEmulator(), startCaptureServer()]);
    await createFixAuditTable(dynamo.client, 'fix-audit');
    emu.addInstance({ instanceId: INSTANCE_ID, publicIps: [inst.ip], tags: { [TAG.key]: TAG.value }, executor: shellExecutor(inst.via.split(' ')) });
    const doc = createDocClient(dynamo.client);
    const store = createDynamoReportStore({ client: doc, tables: TABLES, reportTtlDays: 1, historyTtlDays: 1 });
    audit = createDynamoFixAuditStore({ client: doc, table: 'fix-audit', ttlDays: 1 });
    const provider = providerFor(emu, { poll: {} });
    const post = async (url: string, body: unknown) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`post ${res.status}`);
    };
    const command = createCommand(() => ({
      signingSecret: SECRET,
      replayGuard: createDynamoReplayGuard({ client: doc, table: TABLES.idempotency }),
      dispatcher: createSqsDispatcher({ client: new SQSClient({ endpoint: aws.url, region: 'cn-hangzhou', credentials: DUMMY_CREDENTIALS }), queueUrl: QUEUE }),
      target: { provider: 'alibaba', region: 'cn-hangzhou' },
      maxBodyBytes: 8192,
      fixAllowList: parseSlackFixAllowList(OPERATOR),
      // The loopback stand-in of Slack's hook host.
      callbackOrigins: [new URL(slack.url).origin],
      post,
    }));
    worker = createWorker(() => ({
      config: { enabledProviders: ['alibaba'], optInTag: TAG },
      store,
      providers: async () => provider,
      diagnoser: { instance: (p, o) => diagnoseInstance(p, o) },
      post,
      callbackOrigins: { slack: [new URL(slack.url).origin], dingtalk: [] },
      audit,
      onError: (err) => jobErrors.push(err),
    }));
    api = await serveLambdas([{ method: 'POST', path: '/slack/command', handler: command as unknown as HttpHandler }]);
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await slack?.close();
    await aws?.close();
    await emu?.close();
    await dynamo?.close();
    await inst?.destroy();
  });

  async function send(body: string, ts = String(Math.floor(Date.now() / 1000))) {
    const res = await fetch(`${api.url}/slack/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, body) },
      body,
    });
    return { status: res.status, text: await res.text() };
  }
  /** Runs the worker on the messages queued since `from`, as the SQS event source would. */
  async function drain(from: number) {
    const messages: EmulatedMessage[] = aws.sqs.slice(from);
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.messageId,
        receiptHandle: `rh-${m.messageId}`,
        body: m.body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:cn-hangzhou:123456789012:sshdoctor-test-chat',
        awsRegion: 'cn-hangzhou',
      })),
    };
    const out = await worker(event, lambdaContext('slack-worker', SLACK_WORKER_TIMEOUT_MS) as never);
    expect(out).toEqual({ batchItemFailures: [] });
    return messages;
  }
  const click = (user: string, reportId: string, hook: string) =>
    new URLSearchParams({
      payload: JSON.stringify({
        type: 'block_actions',
        user: { id: user },
        team: { id: TEAM },
        response_url: `${slack.url}${hook}`,
        actions: [{ action_id: SLACK_APPLY_FIX_ACTION, value: reportId }],
      }),
    }).toString();

  it('shows Apply fix for a denied client; refuses a user not on the allow-list; applies for an allowed one: fixed, a real banner, audited; a replayed click is rejected', {
    timeout: 240_000,
  }, async () => {
    await denyByIp(inst, inst.hostIp);
    try {
      const deny = await inst.readFile('/etc/hosts.deny');
      expect((await rawProbe(inst.ip, 22, { localAddress: inst.hostIp })).outcome).not.toBe('banner');

      // 1. The slash command: queued, run by the worker, report posted with the button.
      let q = aws.sqs.length;
      let seen = slack.received.length;
      expect(
        (
          await send(
            new URLSearchParams({
              command: '/sshdoctor',
              text: `${INSTANCE_ID} ${inst.hostIp}`,
              response_url: `${slack.url}/hook/report`,
              user_id: VIEWER,
            }).toString(),
          )
        ).status,
      ).toBe(200);
      expect(await drain(q)).toHaveLength(1);
      await slack.waitFor(seen + 1);
      const report = slack.received[seen]!.body as Message;
      expect(report.text).toContain(`${INSTANCE_ID}: blocked`);
      const button = report.blocks?.find((b) => b.type === 'actions')?.elements?.find((e) => e.action_id === SLACK_APPLY_FIX_ACTION);
      expect(button?.value).toMatch(/^[0-9a-f-]{36}$/);
      expect(button!.confirm?.text.text).toMatch(/hosts\.deny|TCP wrappers|comment/i);
      const reportId = button!.value;

      // 2. A user not on the allow-list: ephemeral refusal naming why; nothing queued or changed.
      q = aws.sqs.length;
      seen = slack.received.length;
      expect((await send(click(VIEWER, reportId, '/hook/viewer'))).status).toBe(200);
      await slack.waitFor(seen + 1);
      const refusal = slack.received[seen]!;
      expect(refusal.path).toBe('/hook/viewer');
      expect(refusal.body).toMatchObject({ response_type: 'ephemeral' });
      expect((refusal.body as Message).text).toContain(`Slack user ${VIEWER} may run checks but is not allowed to apply fixes`);
      expect(aws.sqs.length).toBe(q);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
      expect(emu.callsOf('ecs:RunCommand').filter((c) => c.params.Name === 'sshdoctor-remediation')).toHaveLength(0);

      // 3. An allowed user: acknowledged at once, one slack-fix job, the worker applies and posts "fixed".
      const ts = String(Math.floor(Date.now() / 1000));
      const allowed = click(OPERATOR, reportId, '/hook/operator');
      seen = slack.received.length;
      expect((await send(allowed, ts)).status).toBe(200);
      await slack.waitFor(seen + 1);
      expect((slack.received[seen]!.body as Message).text).toContain(`Applying the fix of report ${reportId}`);
      const jobs = aws.sqs.slice(q).map((m) => JSON.parse(m.body) as Record<string, unknown>);
      expect(jobs).toEqual([{ kind: 'slack-fix', reportId, responseUrl: `${slack.url}/hook/operator`, identity: `slack:${TEAM}/${OPERATOR}` }]);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
      await drain(q);
      await slack.waitFor(seen + 2);
      const outcome = slack.received[seen + 1]!;
      expect(outcome.path).toBe('/hook/operator');
      const msg = outcome.body as Message;
      expect(msg.text).toContain(`sshdoctor fix ${INSTANCE_ID}: fixed`);
      const body = JSON.stringify(msg.blocks);
      expect(body).toContain('tcp-wrappers');
      expect(body).toContain('changed, verified');
      expect(body).toContain(`audit alibaba:cn-hangzhou:${INSTANCE_ID} run ${reportId}`);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny.replace(`sshd: ${inst.hostIp}\n`, `# sshdoctor: sshd: ${inst.hostIp}\n`));
      expect((await rawProbe(inst.ip, 22, { localAddress: inst.hostIp })).outcome).toBe('banner');
      const records = await audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`);
      expect(records.filter((r) => r.runId === reportId)).toEqual([
        expect.objectContaining({ who: `slack:${TEAM}/${OPERATOR}`, checkId: 'tcp-wrappers', result: 'changed', verified: true, rolledBack: false }),
      ]);

      // 4. The same signed click replayed: rejected by the replay guard, nothing queued.
      const queued = aws.sqs.length;
      const replay = await send(allowed, ts);
      expect(replay.status).toBe(401);
      expect(JSON.parse(replay.text).message).toMatch(/replay/);
      expect(aws.sqs.length).toBe(queued);
      expect(jobErrors).toEqual([]);
    } finally {
      await inst.exec(': > /etc/hosts.deny');
    }
  });
});
