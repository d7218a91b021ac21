/**
 * Child process for the tracing test: the deployed `GET /checks/{id}` handler (production
 * wiring, configured from the environment as in Lambda) invoked three times against dynalite:
 * an unknown id (404), a malformed id (400), then with DynamoDB gone (a 5xx). Prints the statuses.
 */
import { startDynalite, TABLES, DUMMY_CREDENTIALS } from './dynalite';
import { lambdaContext } from './lambda-http';

const dynamo = await startDynalite();
Object.assign(process.env, {
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
  AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
  AWS_MAX_ATTEMPTS: '1',
  REPORTS_TABLE: TABLES.reports,
  LATEST_TABLE: TABLES.latest,
  HISTORY_TABLE: TABLES.history,
  IDEMPOTENCY_TABLE: TABLES.idempotency,
});
const { handler } = await import('../../../functions/checks-get');
const event = (id: string) =>
  ({ version: '2.0', routeKey: 'GET /checks/{id}', rawPath: `/checks/${id}`, headers: {}, pathParameters: { id }, isBase64Encoded: false }) as never;
const invoke = async (id: string) => (await handler(event(id), lambdaContext('sshdoctor-test-checks-get') as never)).statusCode;
const statuses = [await invoke('7d5e6a9c-3f0b-4d8e-9a51-0c2b7e4f1a63'), await invoke('not-a-uuid')];
await dynamo.close();
statuses.push(await invoke('7d5e6a9c-3f0b-4d8e-9a51-0c2b7e4f1a63'));
process.stdout.write(JSON.stringify(statuses));
