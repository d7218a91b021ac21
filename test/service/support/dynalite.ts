/** A dynalite (DynamoDB wire protocol) server on a random loopback port, with the service's tables. */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
// @ts-expect-error dynalite ships no type declarations
import dynalite from 'dynalite';

export const TABLES = { reports: 'reports', latest: 'latest', history: 'history', idempotency: 'idempotency' };
export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

export interface LocalDynamo {
  url: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: DUMMY_CREDENTIALS });
  const hash = (TableName: string, key: string) =>
    client.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  await hash(TABLES.reports, 'id');
  await hash(TABLES.latest, 'instanceKey');
  await hash(TABLES.idempotency, 'id');
  await createHashRangeTable(client, TABLES.history, 'instanceKey', 'at');
  return {
    url,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A table keyed by a string hash key and a string range key. */
export async function createHashRangeTable(client: DynamoDBClient, name: string, hash: string, range: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [
        { AttributeName: hash, AttributeType: 'S' },
        { AttributeName: range, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: hash, KeyType: 'HASH' },
        { AttributeName: range, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/** The FixAudit table as serverless.yml declares it (targetKey, at). */
export function createFixAuditTable(client: DynamoDBClient, name = 'fix-audit'): Promise<void> {
  return createHashRangeTable(client, name, 'targetKey', 'at');
}
