import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoFixAuditStore } from '../../lib/service/stores/fix-audit-store';
import { authorizeSlackFix, httpFixIdentity, parseSlackFixAllowList } from '../../lib/service/fix/fix-authorize';
import { ConfigError, ForbiddenError, UpstreamError, ValidationError } from '../../lib/service/errors';
import type { AuditRecord } from '../../lib/remediation/apply';
import { createFixAuditTable, startDynalite, type LocalDynamo } from './support/dynalite';

const TABLE = 'fix-audit';

function rec(when: string, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    who: 'slack:T1/U0123ABC',
    when,
    target: { host: '203.0.113.5', port: 22, instanceId: 'i-0123456789abcdef0', provider: 'aws', region: 'us-east-1' },
    checkId: 'tcp-wrappers',
    action: { kind: 'comment-line', file: '/etc/hosts.deny', line: 18, text: 'sshd: 198.51.100.7' },
    description: 'Comment out /etc/hosts.deny line 18',
    result: 'changed',
    before: 'sshd: 198.51.100.7',
    after: '# sshdoctor: sshd: 198.51.100.7',
    backup: '/etc/hosts.deny.sshdoctor-20250101T000000Z',
    verified: true,
    rolledBack: false,
    ...over,
  };
}

describe('fix audit records on DynamoDB (dynalite)', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startDynalite();
    await createFixAuditTable(dynamo.client, TABLE);
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  it('stores every step of a run with who, what, when, before/after, and lists them newest first', async () => {
    const store = createDynamoFixAuditStore({ client: DynamoDBDocumentClient.from(dynamo.client), table: TABLE, ttlDays: 400 });
    const key = 'aws:us-east-1:i-0123456789abcdef0';
    const first = [rec('2025-01-01T10:00:00.000Z'), rec('2025-01-01T10:00:00.000Z', { checkId: 'sshd-service', rolledBack: true, verified: false })];
    await store.record(key, 'run-1', first);
    await store.record(key, 'run-2', [rec('2025-01-02T10:00:00.000Z', { result: 'unchanged' })]);
    await store.record('aws:us-east-1:i-other', 'run-3', [rec('2025-01-03T10:00:00.000Z')]);

    const listed = await store.list(key);
    expect(listed.map((r) => [r.runId, r.checkId, r.result, r.rolledBack])).toEqual([
      ['run-2', 'tcp-wrappers', 'unchanged', false],
      ['run-1', 'sshd-service', 'changed', true],
      ['run-1', 'tcp-wrappers', 'changed', false],
    ]);
    expect(listed[2]).toEqual({ ...first[0], runId: 'run-1' });
  });

  it('keeps each step on record from the moment it ran; the finished record supersedes it', async () => {
    const store = createDynamoFixAuditStore({ client: DynamoDBDocumentClient.from(dynamo.client), table: TABLE, ttlDays: 1 });
    const key = 'aws:us-east-1:i-0aaaaaaaaaaaaaaa1';
    const ran = [rec('2025-03-01T10:00:00.000Z', { verified: null }), rec('2025-03-01T10:00:05.000Z', { checkId: 'fail2ban', verified: null })];
    await store.stepRan(key, 'run-a', 0, ran[0]!);
    await store.stepRan(key, 'run-a', 1, ran[1]!);
    // The run stops here (its worker is gone): both changes are listed, unverified and marked unfinished.
    expect((await store.list(key)).map((r) => [r.checkId, r.verified, r.unfinished])).toEqual([
      ['fail2ban', null, true],
      ['tcp-wrappers', null, true],
    ]);
    // A run that finishes writes its final records; they replace the ones written as the steps ran.
    await store.record(key, 'run-a', [
      { ...ran[0]!, verified: true },
      { ...ran[1]!, verified: true },
    ]);
    const listed = await store.list(key);
    expect(listed.map((r) => [r.checkId, r.verified, r.unfinished])).toEqual([
      ['fail2ban', true, undefined],
      ['tcp-wrappers', true, undefined],
    ]);
    expect(await store.list(key, 1)).toHaveLength(1);
  });

  it('refuses to overwrite a stored record (same run written twice)', async () => {
    const store = createDynamoFixAuditStore({ client: DynamoDBDocumentClient.from(dynamo.client), table: TABLE, ttlDays: 1 });
    await store.record('k', 'run-x', [rec('2025-02-01T00:00:00.000Z')]);
    await expect(store.record('k', 'run-x', [rec('2025-02-01T00:00:00.000Z', { who: 'someone-else' })])).rejects.toBeInstanceOf(UpstreamError);
    expect((await store.list('k')).map((r) => r.who)).toEqual(['slack:T1/U0123ABC']);
  });

  it('wraps a missing table as an upstream failure', async () => {
    const store = createDynamoFixAuditStore({ client: DynamoDBDocumentClient.from(dynamo.client), table: 'no-such-table', ttlDays: 1 });
    await expect(store.record('k', 'r', [rec('2025-01-01T00:00:00.000Z')])).rejects.toThrow(/DynamoDB PutItem \(fix audit\) failed/);
  });
});

describe('fix permissions', () => {
  it('lets only allow-listed Slack users apply fixes', () => {
    const allow = parseSlackFixAllowList(' U0123ABC, W0456DEF ');
    expect(authorizeSlackFix('U0123ABC', allow, 'T9')).toBe('slack:T9/U0123ABC');
    expect(() => authorizeSlackFix('U0999ZZZ', allow)).toThrow(ForbiddenError);
    expect(() => authorizeSlackFix('U0999ZZZ', parseSlackFixAllowList(undefined))).toThrow(/not allowed to apply fixes/);
    expect(() => authorizeSlackFix('<@U0123ABC>', allow)).toThrow(ValidationError);
  });
  it('rejects a malformed allow-list at cold start, naming the variable', () => {
    expect(() => parseSlackFixAllowList('U0123ABC,alice')).toThrow(ConfigError);
    expect(() => parseSlackFixAllowList('U0123ABC,alice')).toThrow(/SLACK_FIX_ALLOWED_USERS/);
  });
  it('needs an IAM-signed caller on the HTTP route', () => {
    expect(httpFixIdentity('arn:aws:sts::123456789012:assumed-role/oncall/alice')).toBe('iam:arn:aws:sts::123456789012:assumed-role/oncall/alice');
    expect(() => httpFixIdentity(null)).toThrow(ForbiddenError);
    expect(() => httpFixIdentity('alice')).toThrow(ForbiddenError);
  });
});
