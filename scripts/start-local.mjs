// `npm start`: a local DynamoDB (dynalite) and the HTTP API under serverless-offline, with the
// `local` provider (diagnoses this machine through the local runner). Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

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
await table('history', [['instanceKey', 'HASH'], ['at', 'RANGE']]);
await table('idempotency', [['id', 'HASH']]);
// Applied fixes are audited; without this table `POST /checks/{id}/fix` with apply would fail.
await table('fix-audit', [['targetKey', 'HASH'], ['at', 'RANGE']]);
console.log(`dynalite on ${endpoint}`);

const child = spawn('npx', ['osls', 'offline', 'start', '--stage', STAGE], {
  stdio: 'inherit',
  env: {
    ...process.env,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    // Local chat testing only: secrets come from these variables, never from the template.
    SLACK_SIGNING_SECRET_REF: 'env:LOCAL_SLACK_SIGNING_SECRET',
    DINGTALK_APP_SECRET_REF: 'env:LOCAL_DINGTALK_APP_SECRET',
    LOCAL_SLACK_SIGNING_SECRET: process.env.LOCAL_SLACK_SIGNING_SECRET ?? 'local-signing-secret',
    LOCAL_DINGTALK_APP_SECRET: process.env.LOCAL_DINGTALK_APP_SECRET ?? 'local-app-secret',
  },
});
const stop = () => {
  child.kill('SIGTERM');
  server.close();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => {
  server.close();
  process.exit(code ?? 0);
});
