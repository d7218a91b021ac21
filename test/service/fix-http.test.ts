/**
 * `POST /checks/{id}/fix` over real HTTP: the middy handler behind a local HTTP server,
 * reports and audits on dynalite, an emulated Alibaba Cloud whose Cloud Assistant runs the
 * scripts inside a real lab instance. API Gateway's IAM authorizer context is added the way
 * API Gateway adds it after a SigV4-signed request passed the route's IAM check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { shellExecutor, type AlibabaEmulator } from '../emulators/alibaba-emulator';
import { INSTANCE_ID, providerFor, startEmulator } from '../cloud/alibaba-support';
import { createLab, labAvailable, type LabInstance } from '../lab/lab';
import { denyByIp } from '../lab/scenarios';
import { rawProbe } from '../lab/raw-client';
import { createHandler } from '../../functions/checks-fix';
import { diagnoseInstance } from '../../lib/cloud/diagnose-instance';
import { createDocClient } from '../../lib/service/runtime';
import { createDynamoReportStore, type ReportStore } from '../../lib/service/report-store';
import { createDynamoFixAuditStore, type FixAuditStore } from '../../lib/service/fix-audit-store';
import { createFixAuditTable, startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { serveLambdas, type HttpHandler } from './support/lambda-http';

const lab = labAvailable();
const TAG = { key: 'sshdoctor', value: 'enabled' };
const UNTAGGED_ID = 'i-bp1untagged000000000';
const CALLER = 'arn:aws:iam::123456789012:user/oncall';

describe.skipIf(!lab.ok)('POST /checks/{id}/fix over HTTP', () => {
  let emu: AlibabaEmulator;
  let inst: LabInstance;
  let dynamo: LocalDynamo;
  let api: { url: string; close(): Promise<void> };
  let store: ReportStore;
  let audit: FixAuditStore;

  beforeAll(async () => {
    [inst, emu, dynamo] = await Promise.all([createLab(), startEmulator(), startDynalite()]);
    await createFixAuditTable(dynamo.client, 'fix-audit');
    const executor = shellExecutor(inst.via.split(' '));
    emu.addInstance({ instanceId: INSTANCE_ID, publicIps: [inst.ip], tags: { [TAG.key]: TAG.value }, executor });
    emu.addInstance({ instanceId: UNTAGGED_ID, publicIps: [inst.ip], tags: { Name: 'db' }, executor });
    const doc = createDocClient(dynamo.client);
    store = createDynamoReportStore({ client: doc, tables: TABLES, reportTtlDays: 1, historyTtlDays: 1 });
    audit = createDynamoFixAuditStore({ client: doc, table: 'fix-audit', ttlDays: 1 });
    const provider = providerFor(emu, { poll: {} });
    const fix = createHandler(() => ({
      config: { enabledProviders: ['alibaba'], optInTag: TAG },
      maxBodyBytes: 4096,
      store,
      providers: async () => provider,
      diagnoser: { instance: (p, o) => diagnoseInstance(p, o) },
      audit,
    })) as unknown as HttpHandler;
    const signed: HttpHandler = (event, ctx) =>
      fix({ ...event, requestContext: { ...event.requestContext, authorizer: { iam: { userArn: CALLER } } } } as APIGatewayProxyEventV2, ctx);
    api = await serveLambdas([
      { method: 'POST', path: '/checks/{id}/fix', handler: signed },
      // The same handler reached without an IAM identity (e.g. a route deployed without the authorizer).
      { method: 'POST', path: '/unsigned/checks/{id}/fix', handler: fix },
    ]);
  });
  afterAll(async () => {
    await api?.close();
    await emu?.close();
    await dynamo?.close();
    await inst?.destroy();
  });

  async function post(id: string, body: unknown, prefix = '') {
    const res = await fetch(`${api.url}${prefix}/checks/${id}/fix`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as Record<string, any> };
  }
  async function storedReport(instanceId: string, reportId: string) {
    const provider = providerFor(emu, { poll: {} });
    const report = await diagnoseInstance(provider, { instanceId, clientIps: [] });
    await store.put(reportId, report);
    return report;
  }

  it.each([
    ['a report id that is not a UUID', 'not-a-uuid', {}, 'id', 'must be a report id'],
    ['apply that is not a boolean', '11111111-1111-4111-8111-111111111111', { apply: 'yes' }, 'apply', 'must be true or false'],
    ['an unknown field', '11111111-1111-4111-8111-111111111111', { apply: true, force: true }, 'force', 'unknown field'],
    ['only that is not an array', '11111111-1111-4111-8111-111111111111', { only: 'tcp-wrappers' }, 'only', 'must be an array'],
    ['an unknown check id', '11111111-1111-4111-8111-111111111111', { only: ['tcp-wrapper'] }, 'only', 'unknown check id tcp-wrapper'],
    ['a body that is not JSON', '11111111-1111-4111-8111-111111111111', '{"apply":', 'body', 'must be valid JSON'],
  ])('answers 400 naming the field for %s', async (_what, id, body, field, rule) => {
    const res = await post(id, body);
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(new RegExp(`^${field}: .*${rule}`));
    expect(res.text).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('answers 404 for a report that does not exist', async () => {
    const res = await post('00000000-0000-4000-8000-000000000000', { apply: true });
    expect(res.status).toBe(404);
  });

  it('answers 403 when applying to an instance without the opt-in tag, and changes nothing', { timeout: 120_000 }, async () => {
    await denyByIp(inst, inst.hostIp);
    try {
      const deny = await inst.readFile('/etc/hosts.deny');
      const id = '5e4f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      await storedReport(UNTAGGED_ID, id);
      const res = await post(id, { apply: true });
      expect(res.status).toBe(403);
      expect(res.json.message).toMatch(/opt-in tag sshdoctor=enabled/);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);
      expect(emu.callsOf('ecs:RunCommand').filter((c) => c.params.Name === 'sshdoctor-remediation')).toHaveLength(0);
    } finally {
      await inst.exec(': > /etc/hosts.deny');
    }
  });

  it('dry run returns the plan; apply without an IAM identity is 403; apply fixes the lab instance: fixed, a real banner, audited with the caller ARN', { timeout: 180_000 }, async () => {
    await denyByIp(inst, inst.hostIp);
    try {
      const deny = await inst.readFile('/etc/hosts.deny');
      const id = '6f5f2c1e-0d7a-4a57-9c55-0d2b1f2c1e0d';
      await storedReport(INSTANCE_ID, id);

      const dry = await post(id, {});
      expect(dry.status).toBe(200);
      expect(dry.json.outcome).toBeNull();
      expect(dry.json.plan.steps.map((s: { checkId: string; action: { kind: string } }) => `${s.checkId}:${s.action.kind}`)).toEqual(['tcp-wrappers:comment-line']);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);

      const unsigned = await post(id, { apply: true }, '/unsigned');
      expect(unsigned.status).toBe(403);
      expect(unsigned.json.message).toMatch(/IAM-signed/);
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny);

      const res = await post(id, { apply: true, only: ['tcp-wrappers'] });
      expect(res.status).toBe(200);
      expect(res.json.outcome.status).toBe('fixed');
      expect(await inst.readFile('/etc/hosts.deny')).toBe(deny.replace(`sshd: ${inst.hostIp}\n`, `# sshdoctor: sshd: ${inst.hostIp}\n`));
      expect((await rawProbe(inst.ip, 22, { localAddress: inst.hostIp })).outcome).toBe('banner');
      const records = await audit.list(`alibaba:cn-hangzhou:${INSTANCE_ID}`);
      expect(records.find((r) => r.runId === id)).toMatchObject({ who: `iam:${CALLER}`, result: 'changed', verified: true });
    } finally {
      await inst.exec(': > /etc/hosts.deny');
    }
  });
});
