import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createSweep } from '../../functions/fleet-sweep';
import { createHandler as createWorker } from '../../functions/fleet-worker';
import { createSlackWebhookAlertSink, createSnsAlertSink } from '../../lib/service/fleet/alert-sinks';
import { processFleetBatch } from '../../lib/service/fleet/fleet';
import { createIdempotentFleetProcessor } from '../../lib/service/fleet/fleet-idempotency';
import { createDynamoReportStore } from '../../lib/service/stores/report-store';
import { createDocClient } from '../../lib/service/runtime';
import { createSqsFleetQueue } from '../../lib/service/fleet/sqs-fleet-queue';
import { startCaptureServer, type CaptureServer } from './support/capture-server';
import { DUMMY_CREDENTIALS, startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { createLabProvider, createProbeDiagnoser } from './support/lab-provider';
import { lambdaContext } from './support/lambda-http';
import { createLoopbackSshd, type LoopbackSshd } from './support/loopback-sshd';
import { sqsEvent as fleetEvent } from './support/sqs-event-source';
import { startMessagingEmulator, type MessagingEmulator, type EmulatedMessage } from './support/messaging-emulator';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/sshdoctor-test-fleet';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sshdoctor-alerts';
const TAG = { key: 'sshdoctor:enabled', value: 'true' };
const WEB = 'i-0123456789abcdef0';
const DB = 'i-0123456789abcdef1';
const UNTAGGED = 'i-0fedcba9876543210';

let dynamo: LocalDynamo;
let aws: MessagingEmulator;
let webhook: CaptureServer;
let webSshd: LoopbackSshd;
let dbSshd: LoopbackSshd;
let sweepHandler: ReturnType<typeof createSweep>;
let workerHandler: ReturnType<typeof createWorker>;
const diagnoser = createProbeDiagnoser();
// middy types the context with the injected deps; Lambda passes a plain one.
const ctx = (name: string) => lambdaContext(name) as never;

beforeAll(async () => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'sshdoctor-test-fleet-worker';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  dynamo = await startDynalite();
  aws = await startMessagingEmulator();
  webhook = await startCaptureServer();
  webSshd = await createLoopbackSshd();
  dbSshd = await createLoopbackSshd();
  await webSshd.start();
  await dbSshd.start();
  const provider = createLabProvider('us-east-1', [
    { instanceId: WEB, tags: { [TAG.key]: TAG.value }, port: webSshd.port },
    { instanceId: DB, tags: { [TAG.key]: TAG.value }, port: dbSshd.port },
    { instanceId: UNTAGGED, tags: {}, port: dbSshd.port },
  ]);
  const clientOpts = { endpoint: aws.url, region: 'us-east-1', credentials: DUMMY_CREDENTIALS };
  sweepHandler = createSweep(() => ({
    targets: [{ provider: 'aws', region: 'us-east-1' }],
    optInTag: TAG,
    batchSize: 1,
    providers: async () => provider,
    queue: createSqsFleetQueue({ client: new SQSClient(clientOpts), queueUrl: QUEUE }),
  }));
  const deps = {
    providers: async () => provider,
    diagnoser,
    store: createDynamoReportStore({ client: createDocClient(dynamo.client), tables: TABLES, reportTtlDays: 7, historyTtlDays: 30 }),
    alerts: [
      createSnsAlertSink({ client: new SNSClient(clientOpts), topicArn: TOPIC }),
      createSlackWebhookAlertSink({
        webhookUrl: `${webhook.url}/services/T/B/X`,
        post: async (url, body) => void (await fetch(url, { method: 'POST', body: JSON.stringify(body) })),
      }),
    ],
  };
  workerHandler = createWorker(() => ({
    processRecord: createIdempotentFleetProcessor({ client: dynamo.client, table: TABLES.idempotency, process: (b) => processFleetBatch(b, deps) }),
  }));
});

afterAll(async () => {
  await webSshd?.close();
  await dbSshd?.close();
  await webhook?.close();
  await aws?.close();
  await dynamo?.close();
});

const sqsEvent = (messages: EmulatedMessage[], receiveCount = 1) => fleetEvent(messages, receiveCount, 'sshdoctor-test-fleet');

async function runSweep(): Promise<EmulatedMessage[]> {
  const start = aws.sqs.length;
  const result = await sweepHandler({}, ctx('fleet-sweep'));
  expect(result.instances).toBe(2);
  expect(result.batches).toBe(2);
  return aws.sqs.slice(start);
}

describe('fleet checks: sweep -> SQS -> worker -> DynamoDB -> alert', () => {
  it('queues only opted-in instances, records their state, and does not alert on the first sighting', async () => {
    const messages = await runSweep();
    expect(messages.flatMap((m) => JSON.parse(m.body).instanceIds).sort()).toEqual([WEB, DB]);
    const out = await workerHandler(sqsEvent(messages), ctx('fleet-worker'));
    expect(out.batchItemFailures).toEqual([]);
    const latest = await createDocClient(dynamo.client).send(new GetCommand({ TableName: TABLES.latest, Key: { instanceKey: `aws:us-east-1:${WEB}` } }));
    expect(latest.Item).toMatchObject({ verdict: 'reachable', lastKnown: 'reachable' });
    expect(aws.sns).toHaveLength(0);
    expect(webhook.received).toHaveLength(0);
  });

  it('alerts once when an instance flips to blocked, and a redelivered message neither re-diagnoses nor re-alerts', async () => {
    await dbSshd.stop();
    const messages = await runSweep();
    const out = await workerHandler(sqsEvent(messages), ctx('fleet-worker'));
    expect(out.batchItemFailures).toEqual([]);
    expect(aws.sns).toHaveLength(1);
    expect(aws.sns[0]).toMatchObject({ topicArn: TOPIC, subject: `sshdoctor: ${DB} reachable -> blocked` });
    expect(JSON.parse(aws.sns[0]!.message)).toMatchObject({
      instance: `aws:us-east-1:${DB}`,
      from: 'reachable',
      to: 'blocked',
      // The failing check's finding and fix travel with the alert.
      fixes: [
        {
          check: 'probe',
          finding: expect.stringMatching(/^probe outcome: (refused|timeout|reset|closed)/),
          fix: 'start sshd',
          commands: ['systemctl start ssh'],
        },
      ],
    });
    expect(webhook.received).toHaveLength(1);

    const calls = diagnoser.calls;
    const redelivered = await workerHandler(sqsEvent(messages, 2), ctx('fleet-worker'));
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(diagnoser.calls).toBe(calls);
    expect(aws.sns).toHaveLength(1);
    expect(webhook.received).toHaveLength(1);

    const history = await createDocClient(dynamo.client).send(
      new QueryCommand({ TableName: TABLES.history, KeyConditionExpression: 'instanceKey = :k', ExpressionAttributeValues: { ':k': `aws:us-east-1:${DB}` } }),
    );
    expect(history.Items?.map((i) => i.verdict)).toEqual(['reachable', 'blocked']);
    expect(history.Items?.every((i) => typeof i.expiresAt === 'number')).toBe(true);
  });

  it('a later sweep that still finds it blocked does not alert again; recovery alerts once', async () => {
    await workerHandler(sqsEvent(await runSweep()), ctx('fleet-worker'));
    expect(aws.sns).toHaveLength(1);
    await dbSshd.start();
    await workerHandler(sqsEvent(await runSweep()), ctx('fleet-worker'));
    expect(aws.sns).toHaveLength(2);
    expect(aws.sns[1]!.subject).toBe(`sshdoctor: ${DB} blocked -> reachable`);
  });

  it('reports a malformed message as a batch item failure without failing the others', async () => {
    const good = await runSweep();
    const bad: EmulatedMessage = { queueUrl: QUEUE, messageId: 'bad-1', body: '{"sweepId":"x","provider":"gcp"}' };
    const out = await workerHandler(sqsEvent([...good, bad]), ctx('fleet-worker'));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad-1' }]);
  });
});
