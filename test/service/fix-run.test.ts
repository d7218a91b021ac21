/**
 * Fix runs on DynamoDB (dynalite) and `GET /checks/{id}/fix/{fixId}` over real HTTP: the run
 * lives in the reports table without ever passing for a report, a worker's claim succeeds
 * once, and http-fix jobs read back from the queue are validated like every other job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createGet } from '../../functions/checks-get';
import type { FixPlan } from '../../lib/remediation/plan';
import type { ApplyOutcome } from '../../lib/remediation/apply';
import { parseChatJob } from '../../lib/service/chat/chat';
import { UpstreamError } from '../../lib/service/errors';
import { createDynamoFixRunStore, type FixRun, type FixRunStore } from '../../lib/service/stores/fix-run-store';
import { createDynamoReportStore, type ReportStore } from '../../lib/service/stores/report-store';
import { createDocClient } from '../../lib/service/runtime';
import { startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { serveLambdas, type HttpHandler } from './support/lambda-http';

const REPORT = '1f2e3d4c-0d7a-4a57-9c55-0d2b1f2c1e0d';
const OTHER_REPORT = '2f2e3d4c-0d7a-4a57-9c55-0d2b1f2c1e0d';
const WHO = 'iam:arn:aws:iam::123456789012:user/oncall';

const plan: FixPlan = {
  target: { host: '203.0.113.5', port: 22, instanceId: 'i-0123456789abcdef0', provider: 'aws', region: 'us-east-1' },
  clients: [{ ip: '198.51.100.7', source: 'user' }],
  probeBefore: 'reset',
  steps: [
    {
      checkId: 'tcp-wrappers',
      checkTitle: 'TCP wrappers',
      action: { kind: 'comment-line', file: '/etc/hosts.deny', line: 18, text: 'sshd: 198.51.100.7' },
      description: 'Comment out /etc/hosts.deny line 18',
      commands: ["sed -i '18s/^/# sshdoctor: /' /etc/hosts.deny"],
      args: ['comment-line', '/etc/hosts.deny', '18', 'sshd: 198.51.100.7'],
    },
  ],
  manual: [],
};
const outcome: ApplyOutcome = {
  status: 'fixed',
  summary: 'Fixed and verified: tcp-wrappers now pass.',
  audit: [],
  after: null,
  stillFailing: [],
  probeAfter: 'banner',
};
const queued = (fixId: string, over: Partial<FixRun> = {}): FixRun & { status: 'queued' } =>
  ({
    fixId,
    reportId: REPORT,
    status: 'queued',
    plan,
    requestedBy: WHO,
    requestedAt: '2025-01-01T10:00:00.000Z',
    ...over,
  }) as FixRun & { status: 'queued' };

describe('fix runs on DynamoDB (dynalite)', () => {
  let dynamo: LocalDynamo;
  let runs: FixRunStore;
  let reports: ReportStore;
  let api: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dynamo = await startDynalite();
    const doc = createDocClient(dynamo.client);
    runs = createDynamoFixRunStore({ client: doc, table: TABLES.reports, ttlDays: 1 });
    reports = createDynamoReportStore({ client: doc, tables: TABLES, reportTtlDays: 1, historyTtlDays: 1 });
    api = await serveLambdas(
      ['/checks/{id}/fix/{fixId}', '/checks/{id}'].map((path) => ({
        method: 'GET',
        path,
        handler: createGet(() => ({ store: reports, runs })) as unknown as HttpHandler,
      })),
    );
  });
  afterAll(async () => {
    await api?.close();
    await dynamo?.close();
  });

  async function get(path: string) {
    const res = await fetch(`${api.url}${path}`);
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('stores a queued run whole, and never returns it as a report', async () => {
    const fixId = crypto.randomUUID();
    await runs.create(queued(fixId, { only: ['tcp-wrappers'] }));
    expect(await runs.get(fixId)).toEqual(queued(fixId, { only: ['tcp-wrappers'] }));
    expect(await reports.get(fixId)).toBeNull();
    expect(await reports.get(`fix-run#${fixId}`)).toBeNull();
    expect(await runs.get(crypto.randomUUID())).toBeNull();
  });

  it('refuses to overwrite a run with the same id', async () => {
    const fixId = crypto.randomUUID();
    await runs.create(queued(fixId));
    await expect(runs.create(queued(fixId, { requestedBy: 'iam:arn:aws:iam::123456789012:user/other' }))).rejects.toBeInstanceOf(UpstreamError);
    expect((await runs.get(fixId))?.requestedBy).toBe(WHO);
  });

  it('lets exactly one of two racing claims take a queued run, and settles it with the outcome', async () => {
    const fixId = crypto.randomUUID();
    await runs.create(queued(fixId));
    const claims = await Promise.all([runs.claim(fixId, { reportId: REPORT, requestedBy: WHO }), runs.claim(fixId, { reportId: REPORT, requestedBy: WHO })]);
    expect(claims.sort()).toEqual([false, true]);
    const running = await runs.get(fixId);
    expect(running).toMatchObject({ status: 'running', startedAt: expect.stringMatching(/^\d{4}-/) });
    expect(await runs.claim(fixId, { reportId: REPORT, requestedBy: WHO })).toBe(false);
    // A run can only be settled from the status it is in.
    expect(await runs.settle(fixId, 'queued', { status: 'error', error: 'x' })).toBe(false);
    expect(await runs.settle(fixId, 'running', { status: 'fixed', outcome })).toBe(true);
    expect(await runs.get(fixId)).toEqual({ ...running, status: 'fixed', outcome, finishedAt: expect.stringMatching(/^\d{4}-/) });
    expect(await runs.settle(fixId, 'running', { status: 'error', error: 'late' })).toBe(false);
    expect((await runs.get(fixId))?.status).toBe('fixed');
  });

  it.each([
    ['an unknown run', () => crypto.randomUUID(), { reportId: REPORT, requestedBy: WHO }],
    ['a run of another report', undefined, { reportId: OTHER_REPORT, requestedBy: WHO }],
    ['a run another caller asked for', undefined, { reportId: REPORT, requestedBy: 'iam:arn:aws:iam::123456789012:user/mallory' }],
  ])('does not let a job claim %s', async (_what, id, expected) => {
    const fixId = id?.() ?? crypto.randomUUID();
    if (!id) await runs.create(queued(fixId));
    expect(await runs.claim(fixId, expected)).toBe(false);
    if (!id) expect((await runs.get(fixId))?.status).toBe('queued');
  });

  it('reports a run still running long after any worker could be on it as stale', async () => {
    const fixId = crypto.randomUUID();
    // Claimed 11 minutes ago by a worker that never settled it (stopped half-way).
    const then = createDynamoFixRunStore({
      client: createDocClient(dynamo.client),
      table: TABLES.reports,
      ttlDays: 1,
      now: () => new Date(Date.now() - 11 * 60_000),
    });
    await then.create(queued(fixId));
    expect(await then.claim(fixId, { reportId: REPORT, requestedBy: WHO })).toBe(true);
    const run = await runs.get(fixId);
    expect(run?.status).toBe('running');
    expect(run?.stale).toMatch(/^no worker has been on this run since .*: it was stopped before it ended; the audit records list what it changed$/);
    // A run claimed just now is not.
    const fresh = crypto.randomUUID();
    await runs.create(queued(fresh));
    await runs.claim(fresh, { reportId: REPORT, requestedBy: WHO });
    expect((await runs.get(fresh))?.stale).toBeUndefined();
  });

  it('treats an expired run as gone', async () => {
    const fixId = crypto.randomUUID();
    const old = createDynamoFixRunStore({
      client: createDocClient(dynamo.client),
      table: TABLES.reports,
      ttlDays: 1,
      now: () => new Date(Date.now() - 2 * 86_400_000),
    });
    await old.create(queued(fixId));
    expect(await runs.get(fixId)).toBeNull();
  });

  it('GET /checks/{id}/fix/{fixId} answers the run of that report; 404 for an unknown run or one of another report; a run is no report', async () => {
    const fixId = crypto.randomUUID();
    await runs.create(queued(fixId));
    const res = await get(`/checks/${REPORT}/fix/${fixId}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual(queued(fixId));
    const foreign = await get(`/checks/${OTHER_REPORT}/fix/${fixId}`);
    expect(foreign).toEqual({ status: 404, json: { error: 'not_found', message: `fixId: no fix run ${fixId} of report ${OTHER_REPORT}`, field: 'fixId' } });
    expect((await get(`/checks/${REPORT}/fix/${crypto.randomUUID()}`)).status).toBe(404);
    expect(await get(`/checks/${fixId}`)).toEqual({ status: 404, json: { error: 'not_found', message: `id: no report ${fixId}`, field: 'id' } });
  });

  it.each([
    ['report id', `/checks/not-a-uuid/fix/${REPORT}`, 'id', 'must be a report id (UUID)'],
    ['fix id', `/checks/${REPORT}/fix/not-a-uuid`, 'fixId', 'must be a fix id (UUID)'],
  ])('GET of a fix run answers 400 naming the field for a malformed %s', async (_what, path, field, rule) => {
    expect(await get(path)).toEqual({ status: 400, json: { error: 'invalid_request', field, message: `${field}: ${rule}` } });
  });
});

describe('http-fix jobs read back from the queue', () => {
  const job = { kind: 'http-fix', fixId: '3f2e3d4c-0d7a-4a57-9c55-0d2b1f2c1e0d', reportId: REPORT, identity: WHO };

  it('accepts a well-formed job, with or without only', () => {
    expect(parseChatJob(job)).toEqual(job);
    expect(parseChatJob({ ...job, only: ['tcp-wrappers', 'fail2ban'] })).toEqual({ ...job, only: ['tcp-wrappers', 'fail2ban'] });
  });

  it.each([
    ['a forged identity', { identity: 'slack:T1AB/U1AB' }, 'identity: must be iam:<caller ARN>'],
    ['a fix id that is not a UUID', { fixId: '../x' }, 'fixId: must be a fix id'],
    ['a report id that is not a UUID', { reportId: 'x' }, 'reportId: must be a report id'],
    ['an unknown check id', { only: ['tcp-wrapper'] }, 'only.0: must be a known check id'],
  ])('rejects a job with %s, naming the field and the rule', (_what, over, message) => {
    expect(() => parseChatJob({ ...job, ...over })).toThrow(message);
  });
});
