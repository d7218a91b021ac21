import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createChecksCreate } from '../../functions/checks-create';
import { createHandler as createChecksGet } from '../../functions/checks-get';
import { createDocClient } from '../../lib/service/runtime';
import { createDynamoReportStore } from '../../lib/service/stores/report-store';
import { createDynamoFixRunStore } from '../../lib/service/stores/fix-run-store';
import { startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { serveLambdas, type HttpHandler } from './support/lambda-http';
import { createLabProvider, createProbeDiagnoser } from './support/lab-provider';
import { createLoopbackSshd, type LoopbackSshd } from './support/loopback-sshd';

const TAGGED = 'i-0123456789abcdef0';
const UNTAGGED = 'i-0fedcba9876543210';
const UNKNOWN = 'i-0aaaaaaaaaaaaaaa0';

let dynamo: LocalDynamo;
let sshd: LoopbackSshd;
let api: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dynamo = await startDynalite();
  sshd = await createLoopbackSshd();
  await sshd.start();
  const provider = createLabProvider('us-east-1', [
    { instanceId: TAGGED, tags: { 'sshdoctor:enabled': 'true', Name: 'web' }, port: sshd.port },
    { instanceId: UNTAGGED, tags: { Name: 'db', 'sshdoctor:enabled': 'false' }, port: sshd.port },
  ]);
  const store = createDynamoReportStore({
    client: createDocClient(dynamo.client),
    tables: TABLES,
    reportTtlDays: 7,
    historyTtlDays: 30,
  });
  const config = { enabledProviders: ['aws', 'alibaba'] as const, optInTag: { key: 'sshdoctor:enabled', value: 'true' } };
  api = await serveLambdas([
    {
      method: 'POST',
      path: '/checks',
      handler: createChecksCreate(() => ({
        // The loopback sshd's port stands in for the deployment's SSH port.
        config: { ...config, enabledProviders: [...config.enabledProviders], sshPorts: [22, sshd.port] },
        maxBodyBytes: 8192,
        store,
        providers: async () => provider,
        diagnoser: createProbeDiagnoser(),
      })) as unknown as HttpHandler,
    },
    {
      method: 'GET',
      path: '/checks/{id}',
      handler: createChecksGet(() => ({
        store,
        runs: createDynamoFixRunStore({ client: createDocClient(dynamo.client), table: TABLES.reports, ttlDays: 7 }),
      })) as unknown as HttpHandler,
    },
  ]);
});

afterAll(async () => {
  await api?.close();
  await sshd?.close();
  await dynamo?.close();
});

async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${api.url}/checks`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

const valid = { provider: 'aws', instanceId: TAGGED, region: 'us-east-1' };

describe('POST /checks', () => {
  it('diagnoses an opted-in instance, defaults the client IP to the caller, and stores the report', async () => {
    const res = await post(JSON.stringify({ ...valid, port: sshd.port }));
    expect(res.status).toBe(201);
    const { id, report } = res.json as { id: string; report: { verdict: { status: string }; clients: { ip: string; source: string }[] } };
    expect(report.verdict.status).toBe('reachable');
    expect(report.clients).toEqual([{ ip: '127.0.0.1', source: 'caller' }]);

    const got = await fetch(`${api.url}/checks/${id}`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { report: unknown }).report).toEqual(report);
  });

  it('reports blocked when the instance sshd does not answer', async () => {
    await sshd.stop();
    try {
      const res = await post(JSON.stringify({ ...valid, port: sshd.port, clientIp: '203.0.113.7' }));
      expect(res.status).toBe(201);
      const report = res.json.report as { verdict: { status: string }; clients: unknown[] };
      expect(report.verdict.status).toBe('blocked');
      expect(report.clients).toEqual([{ ip: '203.0.113.7', source: 'user' }]);
    } finally {
      await sshd.start();
    }
  });

  it.each([
    ['not JSON', '{"provider":', 'body', 'must be valid JSON'],
    ['an array', '[]', 'body', 'must be a JSON object'],
    ['an empty body', '', 'body', 'must be a JSON object'],
    ['an unknown provider', JSON.stringify({ ...valid, provider: 'gcp' }), 'provider', 'must be one of'],
    ['a numeric instance id', JSON.stringify({ ...valid, instanceId: 12345 }), 'instanceId', 'must be a string'],
    ['a malformed instance id', JSON.stringify({ ...valid, instanceId: 'i-xyz; rm -rf /' }), 'instanceId', 'must match'],
    ['a malformed region', JSON.stringify({ ...valid, region: 'US East' }), 'region', 'must match'],
    ['a missing region', JSON.stringify({ provider: 'aws', instanceId: TAGGED }), 'region', 'is required'],
    ['a port of the wrong type', JSON.stringify({ ...valid, port: '22' }), 'port', 'must be an integer'],
    ['a port out of range', JSON.stringify({ ...valid, port: 70000 }), 'port', 'between 1 and 65535'],
    [
      'a port that is not an allowed SSH port (another service)',
      JSON.stringify({ ...valid, port: 6380 }),
      'port',
      'must be an SSH port this deployment allows',
    ],
    ['a user name that is not one', JSON.stringify({ ...valid, user: 'a;id' }), 'user', 'must be a user name'],
    [
      'a private key as publicKey',
      JSON.stringify({ ...valid, user: 'alice', publicKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----' }),
      'publicKey',
      'never accepts a private key',
    ],
    [
      'a publicKey without a user',
      JSON.stringify({ ...valid, publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFtKu4Sd5e2X6zLCYM2JINpgFGb5exVtv3kXCJWkwAc9' }),
      'publicKey',
      'needs user',
    ],
    ['a CIDR as client IP', JSON.stringify({ ...valid, clientIp: '10.0.0.0/8' }), 'clientIp', 'IPv4 or IPv6'],
    ['an unknown field', JSON.stringify({ ...valid, command: 'id' }), 'command', 'unknown field'],
    ['a provider not enabled here', JSON.stringify({ provider: 'local', instanceId: 'localhost' }), 'provider', 'not enabled'],
  ])('answers 400 naming the field for %s', async (_what, body, field, rule) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(new RegExp(`^${field}: .*${rule.replace(/[()]/g, '\\$&')}`));
    expect(res.text).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('answers 400 for a non-JSON content type', async () => {
    const res = await post(JSON.stringify(valid), { 'content-type': 'text/plain' });
    expect(res.status).toBe(400);
    expect(res.json.field).toBe('content-type');
  });

  it('answers 413 for an oversized body without parsing it', async () => {
    const res = await post(JSON.stringify({ ...valid, pad: 'x'.repeat(20_000) }));
    expect(res.status).toBe(413);
    expect(res.json.message).toMatch(/^body: must be at most 8192 bytes/);
  });

  it('answers 403 for an instance without the opt-in tag', async () => {
    const res = await post(JSON.stringify({ ...valid, instanceId: UNTAGGED }));
    expect(res.status).toBe(403);
    expect(res.json.message).toContain('sshdoctor:enabled=true');
  });

  it('answers 404 for an instance the provider does not know', async () => {
    const res = await post(JSON.stringify({ ...valid, instanceId: UNKNOWN }));
    expect(res.status).toBe(404);
    expect(res.json.message).toContain(UNKNOWN);
  });
});

describe('GET /checks/{id}', () => {
  it('answers 404 for an unknown report id', async () => {
    const res = await fetch(`${api.url}/checks/${crypto.randomUUID()}`);
    expect(res.status).toBe(404);
  });

  it('answers 400 naming the id when it is not a UUID', async () => {
    const res = await fetch(`${api.url}/checks/..%2F..%2Fetc`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^id: /);
  });
});
