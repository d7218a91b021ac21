// `npm start`: a local DynamoDB (dynalite) and the HTTP API under serverless-offline, with the
// `local` provider (diagnoses this machine through the local runner). Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { startLocalSsm } from './local-ssm.mjs';

const STAGE = 'local';
const port = Number(process.env.DYNALITE_PORT ?? 4567);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${port}`;
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };
const ddb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
const table = (name, keys) =>
  ddb.send(
    new CreateTableCommand({
      TableName: `sshdoctor-${STAGE}-${name}`,
      AttributeDefinitions: keys.map(([AttributeName]) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: keys.map(([AttributeName, KeyType]) => ({ AttributeName, KeyType })),
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
await table('reports', [['id', 'HASH']]);
await table('latest', [['instanceKey', 'HASH']]);
await table('history', [
  ['instanceKey', 'HASH'],
  ['at', 'RANGE'],
]);
await table('idempotency', [['id', 'HASH']]);
// Applied fixes are audited; without this table `POST /checks/{id}/fix` with apply would fail.
await table('fix-audit', [
  ['targetKey', 'HASH'],
  ['at', 'RANGE'],
]);
console.log(`dynalite on ${endpoint}`);

// Local secrets reach the handlers the deployed way: through Parameter Store (a loopback stand-in
// here), under the names serverless.yml gives this stage. Nothing in a deployed stage can point
// there: the stand-in only exists while this script runs, on 127.0.0.1.
const ssm = await startLocalSsm({
  [`/sshdoctor/${STAGE}/slack-signing-secret`]: process.env.LOCAL_SLACK_SIGNING_SECRET ?? 'local-signing-secret',
  [`/sshdoctor/${STAGE}/dingtalk-app-secret`]: process.env.LOCAL_DINGTALK_APP_SECRET ?? 'local-app-secret',
});
console.log(`local parameter store on ${ssm.url}`);

// Cloud providers stay off unless their endpoints point at this machine (an emulator): a local
// stack must never call a real cloud API with made-up credentials.
const loopback = (url) => {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};
const providers = [
  'local',
  ...(loopback(process.env.AWS_ENDPOINT_URL_EC2) ? ['aws'] : []),
  ...(loopback(process.env.ALIBABA_CLOUD_ECS_ENDPOINT) ? ['alibaba'] : []),
];
const params = [`enabledProviders=${providers.join(',')}`];
// The local provider may diagnose and fix another host of this machine through a wrapper
// (e.g. a lab instance: LOCAL_HOST=its address, LOCAL_VIA="nsenter -t PID -m -n -p").
if (process.env.LOCAL_HOST) params.push(`localHost=${process.env.LOCAL_HOST}`);
if (process.env.LOCAL_VIA) params.push(`localVia=${process.env.LOCAL_VIA}`);
// Chat callbacks may go to a loopback stand-in of Slack or DingTalk for local testing.
for (const [env, param] of [
  ['LOCAL_SLACK_CALLBACK_ORIGINS', 'slackCallbackOrigins'],
  ['LOCAL_DINGTALK_CALLBACK_ORIGINS', 'dingtalkCallbackOrigins'],
]) {
  if (process.env[env]) params.push(`${param}=${process.env[env]}`);
}
console.log(`providers: ${providers.join(', ')}`);

const child = spawn(
  'npx',
  [
    'osls',
    'offline',
    'start',
    '--stage',
    STAGE,
    ...params.map((p) => `--param=${p}`),
    ...(process.env.LOCAL_HTTP_PORT ? ['--httpPort', process.env.LOCAL_HTTP_PORT, '--lambdaPort', String(Number(process.env.LOCAL_HTTP_PORT) + 2)] : []),
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_SSM: process.env.AWS_ENDPOINT_URL_SSM ?? ssm.url,
      // Node's 16 KB request-head limit would answer an over-long path with a bare 431; with 64 KB
      // such a path reaches its handler, which names the field (400 id).
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-http-header-size=65536'].filter(Boolean).join(' '),
    },
  },
);
const stop = () => {
  child.kill('SIGTERM');
  server.close();
  ssm.close();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => {
  server.close();
  ssm.close();
  process.exit(code ?? 0);
});
