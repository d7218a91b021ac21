/**
 * A loopback emulator of the two AWS messaging calls the service makes, over their real
 * wire protocols: SQS SendMessage/SendMessageBatch (AWS JSON 1.0, with the MD5 digests the
 * SDK verifies) and SNS Publish (query protocol, XML answer).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmulatedMessage {
  queueUrl: string;
  messageId: string;
  body: string;
}

export interface MessagingEmulator {
  url: string;
  sqs: EmulatedMessage[];
  sns: { topicArn: string; subject?: string; message: string }[];
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export async function startMessagingEmulator(): Promise<MessagingEmulator> {
  const sqs: EmulatedMessage[] = [];
  const sns: MessagingEmulator['sns'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.startsWith('AmazonSQS.')) {
        const input = JSON.parse(text) as { QueueUrl: string; MessageBody?: string; Entries?: { Id: string; MessageBody: string }[] };
        let out: unknown;
        if (target === 'AmazonSQS.SendMessage') {
          const messageId = randomUUID();
          sqs.push({ queueUrl: input.QueueUrl, messageId, body: input.MessageBody ?? '' });
          out = { MessageId: messageId, MD5OfMessageBody: md5(input.MessageBody ?? '') };
        } else if (target === 'AmazonSQS.SendMessageBatch') {
          const successful = (input.Entries ?? []).map((e) => {
            const messageId = randomUUID();
            sqs.push({ queueUrl: input.QueueUrl, messageId, body: e.MessageBody });
            return { Id: e.Id, MessageId: messageId, MD5OfMessageBody: md5(e.MessageBody) };
          });
          out = { Successful: successful, Failed: [] };
        } else {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: target }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(out));
        return;
      }
      const form = new URLSearchParams(text);
      if (form.get('Action') === 'Publish') {
        sns.push({ topicArn: form.get('TopicArn') ?? '', subject: form.get('Subject') ?? undefined, message: form.get('Message') ?? '' });
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
        );
        return;
      }
      res.writeHead(400).end('unsupported');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sqs,
    sns,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
