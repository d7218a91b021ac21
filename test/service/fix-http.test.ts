/**
 * `POST /checks/{id}/fix` over real HTTP: the middy handlers behind a local HTTP server,
 * reports, fix runs and audits on dynalite, an emulated Alibaba Cloud whose Cloud Assistant
 * runs the scripts inside a real lab instance. An applying request is answered 202 and its
 * job goes through SQS (emulated wire protocol) to the real slack-worker handler; the test
 * then polls `GET /checks/{id}/fix/{fixId}` (checks-get) until the run has finished. API
 * Gateway's IAM authorizer context is added the way API Gateway adds it after a SigV4-signed
 * request passed the route's IAM check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { shellExecutor, type AlibabaEmulator } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, providerFor, startEmulator } from '../cloud/alibaba-support';
import { createLab, labGate, type LabInstance } from '../lab/lab';
import { denyByIp } from '../lab/scenarios';
import { rawProbe } from '../lab/raw-client';
import { createHandler as createFix, type ChecksFixDeps } from '../../functions/checks-fix';
import { createHandler as createGet } from '../../functions/checks-get';
import { createHandler as createWorker } from '../../functions/slack-worker';
import { diagnoseInstance } from '../../lib/cloud/diagnose-instance';
import { createSqsDispatcher } from '../../lib/service/chat/chat';
import { createDocClient } from '../../lib/service/runtime';
import { createDynamoReportStore, type ReportStore } from '../../lib/service/stores/report-store';
import { createDynamoFixAuditStore, type FixAuditStore } from '../../lib/service/stores/fix-audit-store';
import { createDynamoFixRunStore, type FixRun } from '../../lib/service/stores/fix-run-store';
import { createFixAuditTable, DUMMY_CREDENTIALS, startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { serveLambdas, type HttpHandler } from './support/lambda-http';
import { startMessagingEmulator, type MessagingEmulator } from './support/messaging-emulator';
import { sqsEventSource, type SqsEventSource, type SqsHandler } from './support/sqs-event-source';
import { DEFAULT_CALLBACK_ORIGINS } from '../../lib/service/chat/callback-origins';

// Fails the run in CI when the lab cannot be built; elsewhere skips with the reason.
const labReady = labGate();
const TAG = { key: 'sshdoctor', value: 'enabled' };
const UNTAGGED_ID = 'i-bp1untagged000000000';
const CALLER = 'arn:aws:iam::123456789012:user/oncall';
/** The id of the run whose job cannot be queued. */
const UNQUEUED_FIX_ID = '9a8b7c6d-0d7a-4a57-9c55-0d2b1f2c1e0d';
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/sshdoctor-test-jobs';
/** Bounded polling of a fix run: a lab fix takes seconds; this is far above it. */
const RUN_DEADLINE_MS = 150_000;
const POLL_MS = 200;
const FINAL = new Set(['fixed', 'nothing-to-do', 'rolled-back', 'failed', 'error']);

describe.skipIf(!labReady)('POST /checks/{id}/fix over HTTP, applied by the jobs worker', () => {
  let emu: AlibabaEmulator;
  let inst: LabInstance;
  let dynamo: LocalDynamo;
  let aws: MessagingEmulator;
  let api: { url: string; close(): Promise<void> };
  let store: ReportStore;
  let audit: FixAuditStore;
  let jobs: SqsEventSource;
  /** The same worker, delivered a job with only 40 s of its invocation left. */
  let lateJobs: SqsEventSource;
  const jobErrors: unknown[] = [];
  const posted: unknown[] = [];

  beforeAll(async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME ??= 'sshdoctor-test-fix';
    [inst, emu, dynamo, aws] = await Promise.all([createLab(), startEmulator(), startDynalite(), startMessagingEmulator()]);
    await createFixAuditTable(dynamo.client, 'fix-audit');
    const executor = shellExecutor(inst.via.split(' '));
    emu.addInstance({ instanceId: INSTANCE_ID, publicIps: [inst.ip], tags: { [TAG.key]: TAG.value }, executor });
    emu.addInstance({ instanceId: UNTAGGED_ID, publicIps: [inst.ip], tags: { Name: 'db' }, executor });
    const doc = createDocClient(dynamo.client);
    store = createDynamoReportStore({ client: doc, tables: TABLES, reportTtlDays: 1, historyTtlDays: 1 });
    audit = createDynamoFixAuditStore({ client: doc, table: 'fix-audit', ttlDays: 1 });
    const runs = createDynamoFixRunStore({ client: doc, table: TABLES.reports, ttlDays: 1 });
    const provider = providerFor(emu, { poll: {} });
    const common = {
      config: { enabledProviders: ['alibaba' as const], optInTag: TAG },
      store,
      providers: async () => provider,
      diagnoser: { instance: (p, o) => diagnoseInstance(p, o) } as ChecksFixDeps['diagnoser'],
      audit,
      runs,
    };
    const sqs = (endpoint: string) => new SQSClient({ endpoint, region: 'us-east-1', credentials: DUMMY_CREDENTIALS });
    const fixDeps = (over: Partial<ChecksFixDeps> = {}): ChecksFixDeps => ({
      ...common,
      maxBodyBytes: 4096,
      dispatcher: createSqsDispatcher({ client: sqs(aws.url), queueUrl: QUEUE }),
      ...over,
    });
    const signedBy =
      (handler: HttpHandler): HttpHandler =>
      (event, ctx) =>
        handler({ ...event, requestContext: { ...event.requestContext, authorizer: { iam: { userArn: CALLER } } } } as APIGatewayProxyEventV2, ctx);
    const fix = createFix(() => fixDeps()) as unknown as HttpHandler;
    // A queue that cannot be reached (nothing listens on port 9): the request fails, and so does its run.
    const unqueued = createFix(() =>
      fixDeps({ dispatcher: createSqsDispatcher({ client: sqs('http://127.0.0.1:9'), queueUrl: QUEUE }), newId: () => UNQUEUED_FIX_ID }),
    ) as unknown as HttpHandler;
    const get = createGet(() => ({ store, runs })) as unknown as HttpHandler;
    api = await serveLambdas([
      { method: 'POST', path: '/checks/{id}/fix', handler: signedBy(fix) },
      // The same handler reached without an IAM identity (e.g. a route deployed without the authorizer).
      { method: 'POST', path: '/unsigned/checks/{id}/fix', handler: fix },
      { method: 'POST', path: '/unqueued/checks/{id}/fix', handler: signedBy(unqueued) },
      { method: 'GET', path: '/checks/{id}/fix/{fixId}', handler: get },
      { method: 'GET', path: '/checks/{id}', handler: get },
    ]);
    const worker = createWorker(() => ({
      ...common,
      // http-fix jobs have no chat callback; chat jobs would go only to the chat services.
      callbackOrigins: DEFAULT_CALLBACK_ORIGINS,
      post: async (_url, body) => {
        posted.push(body);
      },
      onError: (err) => jobErrors.push(err),
    }));
    jobs = sqsEventSource(aws, QUEUE, worker as unknown as SqsHandler);
    lateJobs = sqsEventSource(aws, QUEUE, worker as unknown as SqsHandler, 'slack-worker', 40_000);
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await aws?.close();
    await emu?.close();
    await dynamo?.close();
    await inst?.destroy();
  });

  const remediations = () => emu.callsOf('ecs:RunCommand').filter((c) => c.params.Name === 'sshdoctor-remediation').length;
  const fixedDeny = (deny: string) => deny.replace(`sshd: ${inst.hostIp}\n`, `# sshdoctor: sshd: ${inst.hostIp}\n`);

  async function post(id: string, body: unknown, prefix = '') {
    const res = await fetch(`${api.url}${prefix}/checks/${id}/fix`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: the tests read whichever field of the answer they assert on
    return { status: res.status, location: res.headers.get('location'), text, json: JSON.parse(text) as Record<string, any> };
  }
  async function get(path: string) {
    const res = await fetch(`${api.url}${path}`);
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: the tests read whichever field of the answer they assert on
    return { status: res.status, text, json: JSON.parse(text) as Record<string, any> };
  }
  /** Polls the run until it is final; fails the test after RUN_DEADLINE_MS. */
  async function finishedRun(reportId: string, fixId: string): Promise<FixRun> {
    const deadline = Date.now() + RUN_DEADLINE_MS;
    let last: { status: number; text: string } | undefined;
    while (Date.now() < deadline) {
      last = await get(`/checks/${reportId}/fix/${fixId}`);
      expect(last.status).toBe(200);
      const run = JSON.parse(last.text) as FixRun;
      if (FINAL.has(run.status)) return run;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`fix run ${fixId} not finished after ${RUN_DEADLINE_MS} ms: ${last?.text}`);
  }
  async function storedReport(instanceId: string, reportId: string) {
    const provider = providerFor(emu, { poll: {} });
    const report = await diagnoseInstance(provider, { instanceId, clientIps: [] });
    await store.put(reportId, report);
    return report;
  }
  /** The one queued job of a run. */
  function jobOf(fixId: string) {
    const found = jobs.pending().filter((m) => (JSON.parse(m.body) as { fixId?: string }).fixId === fixId);
    expect(found).toHaveLength(1);
    return found[0]!;
  }
  /** Runs `body` while hosts.deny denies the host (the lab's client), `deny` being the file so; empties it afterwards. */
  async function whileDenied(body: (deny: string) => Promise<void>) {
    await denyByIp(inst, inst.hostIp);
    try {
      await body(await inst.readFile('/etc/hosts.deny'));
    } finally {
      await inst.exec(': > /etc/hosts.deny');
    }
  }
  /** Stores a report of the tagged instance under `id` and applies its fix: answered 202; returns the run's id. */
  async function acceptedFix(id: string): Promise<string> {
    await storedReport(INSTANCE_ID, id);
    const res = await post(id, { apply: true });
    expect(res.status).toBe(202);
    return String(res.json.fixId);
  }
  const stepsOf = (plan: { steps: { checkId: string; action: { kind: string } }[] }) => plan.steps.map((s) => `${s.checkId}:${s.action.kind}`);

  it.each([
    ['a report id that is not a UUID', 'not-a-uuid', {}, 'id', 'must be a report id'],
    ['apply that is not a boolean', '11111111-1111-4111-8111-111111111111', { apply: 'yes' }, 'apply', 'must be true or false'],
    ['an unknown field', '11111111-1111-4111-8111-111111111111', { apply: true, force: true }, 'force', 'unknown field'],
    ['only that is not an array', '11111111-1111-4111-8111-111111111111', { only: 'tcp-wrappers' }, 'only', 'must be an array'],
    ['an unknown check id', '11111111-1111-4111-8111-111111111111', { apply: true, only: ['tcp-wrapper'] }, 'only', 'unknown check id tcp-wrapper'],
    ['a body that is not JSON', '11111111-1111-4111-8111-111111111111', '{"apply":', 'body', 'must be valid JSON'],
  ])('answers 400 naming the field for %s, and queues nothing', async (_what, id, body, field, rule) => {
    const queued = aws.sqs.length;
    const res = await post(id, body);
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(new RegExp(`^${field}: .*${rule}`));
    expect(res.text).not.toMatch(/\bat .*\.ts:\d+/);
    expect(aws.sqs.length).toBe(queued);
  });

  it('answers 404 for a report that does not exist, and queues nothing', async () => {
    const queued = aws.sqs.length;
    const res = await post('00000000-0000-4000-8000-000000000000', { apply: true });
    expect(res.status).toBe(404);
    expect(res.json.message).toMatch(/^id: no report/);
    expect(aws.sqs.length).toBe(queued);
  });

  it('answers 403 when applying to an instance without the opt-in tag, queues nothing and changes nothing', { timeout: 120_000 }, async () => {
    await whileDenied(async (deny) => {
      const id = '5e4f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      await storedReport(UNTAGGED_ID, id);
      const queued = aws.sqs.length;
      const res = await post(id, { apply: true });
      expect(res.status).toBe(403);
      expect(res.json.message).toMatch(/opt-in tag sshdoctor=enabled/);
      expect(aws.sqs.length).toBe(queued);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
      expect(remediations()).toBe(0);
    });
  });

  it('answers an apply with nothing to fix at once: 200, nothing-to-do, no job', { timeout: 120_000 }, async () => {
    const id = '7a6f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
    await storedReport(INSTANCE_ID, id);
    const queued = aws.sqs.length;
    const before = remediations();
    const res = await post(id, { apply: true });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ reportId: id, plan: { steps: [] }, outcome: { status: 'nothing-to-do', audit: [] } });
    expect(res.json.fixId).toBeUndefined();
    expect(aws.sqs.length).toBe(queued);
    expect(remediations()).toBe(before);
  });

  it('dry run returns the plan; apply without an IAM identity is 403; apply answers 202 at once, the worker fixes the lab instance: fixed, a real banner, audited under the fix id; a redelivered job changes nothing', {
    timeout: 240_000,
  }, async () => {
    await whileDenied(async (deny) => {
      const id = '6f5f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      await storedReport(INSTANCE_ID, id);

      const dry = await post(id, {});
      expect(dry.status).toBe(200);
      expect(dry.json.outcome).toBeNull();
      expect(stepsOf(dry.json.plan as never)).toEqual(['tcp-wrappers:comment-line']);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);

      const queued = aws.sqs.length;
      const unsigned = await post(id, { apply: true }, '/unsigned');
      expect(unsigned.status).toBe(403);
      expect(unsigned.json.message).toMatch(/IAM-signed/);
      expect(aws.sqs.length).toBe(queued);

      // Accepted: 202 with the run, one job on the queue, and nothing changed yet (no worker has run).
      const res = await post(id, { apply: true, only: ['tcp-wrappers'] });
      expect(res.status).toBe(202);
      const fixId = String(res.json.fixId);
      expect(fixId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(res.json).toEqual({ fixId, reportId: id, status: 'queued', plan: expect.objectContaining({ steps: dry.json.plan.steps, manual: [] }) });
      expect(res.location).toBe(`/checks/${id}/fix/${fixId}`);
      const pending = jobs.pending();
      expect(pending.map((m) => JSON.parse(m.body))).toEqual([{ kind: 'http-fix', fixId, reportId: id, only: ['tcp-wrappers'], identity: `iam:${CALLER}` }]);
      const waiting = await get(res.location!);
      expect(waiting.status).toBe(200);
      expect(waiting.json).toMatchObject({ fixId, reportId: id, status: 'queued', requestedBy: `iam:${CALLER}`, only: ['tcp-wrappers'] });
      expect(waiting.json.outcome).toBeUndefined();
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
      expect(remediations()).toBe(0);

      // The event source delivers the job while the caller polls the run.
      const delivering = jobs.drain();
      const run = await finishedRun(id, fixId);
      expect(await delivering).toEqual([{ batchItemFailures: [] }]);
      expect(run).toMatchObject({
        fixId,
        reportId: id,
        status: 'fixed',
        requestedBy: `iam:${CALLER}`,
        outcome: { status: 'fixed', stillFailing: [], probeAfter: 'banner' },
      });
      expect(run.outcome?.summary).toMatch(/Fixed and verified/);
      expect(run.outcome?.audit).toEqual([expect.objectContaining({ checkId: 'tcp-wrappers', result: 'changed', verified: true, rolledBack: false })]);
      expect(Date.parse(run.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(run.startedAt!));
      expect(Date.parse(run.startedAt!)).toBeGreaterThanOrEqual(Date.parse(run.requestedAt));
      expect(run.error).toBeUndefined();
      expect(remediations()).toBe(1);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(fixedDeny(deny));
      expect((await rawProbe(inst.ip, 22, { localAddress: inst.hostIp })).outcome).toBe('banner');
      const records = (await audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`)).filter((r) => r.runId === fixId);
      expect(records).toEqual([
        expect.objectContaining({ who: `iam:${CALLER}`, checkId: 'tcp-wrappers', result: 'changed', verified: true, rolledBack: false }),
      ]);
      expect(records[0]!.backup).toMatch(/^\/etc\/hosts\.deny\.sshdoctor-/);

      // SQS delivers the job again (at-least-once): the run is no longer queued, nothing runs.
      expect(await jobs.deliver(pending[0]!, 2)).toEqual({ batchItemFailures: [] });
      expect(remediations()).toBe(1);
      expect((await audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`)).filter((r) => r.runId === fixId)).toHaveLength(1);
      expect((await get(res.location!)).json).toEqual(JSON.parse(JSON.stringify(run)));

      // The run is only reachable under its own report, and never as a report.
      const foreign = await get(`/checks/7a6f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d/fix/${fixId}`);
      expect(foreign.status).toBe(404);
      expect(foreign.json.message).toMatch(/^fixId: no fix run/);
      expect((await get(`/checks/${id}/fix/${crypto.randomUUID()}`)).status).toBe(404);
      expect((await get(`/checks/${fixId}`)).status).toBe(404);
      expect(await store.get(fixId)).toBeNull();
      expect(jobErrors).toEqual([]);
      expect(posted).toEqual([]);
    });
  });

  it('applies a job delivered twice at the same time once: one claim wins', { timeout: 240_000 }, async () => {
    await whileDenied(async (deny) => {
      const id = '8b7f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      const fixId = await acceptedFix(id);
      const job = jobOf(fixId);
      const before = remediations();
      const both = await Promise.all([jobs.deliver(job, 1), jobs.deliver(job, 1)]);
      expect(both).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(remediations()).toBe(before + 1);
      expect((await finishedRun(id, fixId)).status).toBe('fixed');
      expect(await inst.readFile('/etc/hosts.deny')).toBe(fixedDeny(deny));
      expect((await audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`)).filter((r) => r.runId === fixId)).toHaveLength(1);
      expect(jobErrors).toEqual([]);
    });
  });

  it('does not start a fix the worker could not finish (apply, verify, roll back) before it is stopped', { timeout: 240_000 }, async () => {
    await whileDenied(async (deny) => {
      const id = 'a18f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      const fixId = await acceptedFix(id);
      const before = remediations();
      expect(await lateJobs.deliver(jobOf(fixId))).toEqual({ batchItemFailures: [] });
      const run = await finishedRun(id, fixId);
      expect(run.status).toBe('failed');
      expect(run.outcome?.summary).toMatch(/^Not started: 1 step could not be applied, verified and rolled back in the \d+ s left\. Nothing was changed\.$/);
      expect(remediations()).toBe(before);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
      // The refusal is audited: the step, not run.
      expect((await audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`)).filter((r) => r.runId === fixId).map((r) => r.result)).toEqual(['not-run']);
    });
  });

  it('ends a run the worker refuses as error with the reason (opt-in tag removed after the 202), and changes nothing', { timeout: 240_000 }, async () => {
    const tagged = emu.instances.get(INSTANCE_ID)!;
    await whileDenied(async (deny) => {
      try {
        const id = '9c8f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
        const fixId = await acceptedFix(id);
        tagged.tags = { Name: 'web' };
        const before = remediations();
        const delivering = jobs.deliver(jobOf(fixId));
        const run = await finishedRun(id, fixId);
        expect(await delivering).toEqual({ batchItemFailures: [] });
        expect(run).toMatchObject({
          fixId,
          reportId: id,
          status: 'error',
          error: `instanceId: ${INSTANCE_ID} does not carry the opt-in tag sshdoctor=enabled`,
        });
        expect(run.outcome).toBeUndefined();
        expect(run.finishedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
        expect(remediations()).toBe(before);
        expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
        expect((await audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`)).filter((r) => r.runId === fixId)).toEqual([]);
        // A refusal is an expected outcome, not an internal failure.
        expect(jobErrors).toEqual([]);
      } finally {
        tagged.tags = { [TAG.key]: TAG.value };
      }
    });
  });

  it('answers 502 when the job cannot be queued, and ends the recorded run as error so that it never runs', { timeout: 240_000 }, async () => {
    await whileDenied(async (deny) => {
      const id = 'ad9f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      await storedReport(INSTANCE_ID, id);
      const queued = aws.sqs.length;
      const res = await post(id, { apply: true }, '/unqueued');
      expect(res.status).toBe(502);
      expect(res.json.message).toBe('SQS SendMessage failed');
      expect(aws.sqs.length).toBe(queued);
      const run = await get(`/checks/${id}/fix/${UNQUEUED_FIX_ID}`);
      expect(run.json).toMatchObject({ status: 'error', error: 'the fix could not be queued; nothing was applied' });
      // Had the message reached the queue after all, its delivery would find the run settled.
      const before = remediations();
      await jobs.deliver({
        queueUrl: QUEUE,
        messageId: 'late',
        body: JSON.stringify({ kind: 'http-fix', fixId: UNQUEUED_FIX_ID, reportId: id, identity: `iam:${CALLER}` }),
      });
      expect(remediations()).toBe(before);
      expect((await get(`/checks/${id}/fix/${UNQUEUED_FIX_ID}`)).json.status).toBe('error');
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
    });
  });
});
