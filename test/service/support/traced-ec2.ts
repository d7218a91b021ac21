/**
 * Child process for the tracing test: a handler wired with the functions' observability
 * middlewares makes one signed EC2 Query call (our own SigV4 client, not the SDK) to a local
 * server. Prints the handler's status code.
 */
import middy from '@middy/core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEc2QueryClient } from '../../../lib/cloud/ec2-query-client';
import { observability } from '../../../lib/service/http/observability';
import { lambdaContext } from './lambda-http';

const server = createServer((_req, res) => {
  res.setHeader('content-type', 'text/xml');
  res.end('<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const ec2 = createEc2QueryClient({
  region: 'us-east-1',
  endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  credentials: { accessKeyId: 'AKIDTRACE', secretAccessKey: 'trace' },
});
const { middlewares } = observability();
const handler = middy()
  .use(middlewares)
  .handler(async () => {
    await ec2.request('DescribeInstances', {});
    return { statusCode: 200 };
  });
const res = await handler({}, lambdaContext('sshdoctor-test-ec2') as never);
server.close();
process.stdout.write(JSON.stringify([res.statusCode]));
