/**
 * Lambda's SQS event source mapping over the messaging emulator: messages sent to one queue
 * (through the real SQS wire protocol) become SQS events for a worker handler, one message
 * per event (batchSize 1, as serverless.yml configures slack-worker). A redelivery is the same
 * message delivered again with a higher receive count, as SQS does after a visibility timeout.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-http';
import type { EmulatedMessage, MessagingEmulator } from './messaging-emulator';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface SqsEventSource {
  /** Messages of the queue not yet delivered by {@link drain}. */
  pending(): EmulatedMessage[];
  /** Delivers one message (again, with `receiveCount` > 1). */
  deliver(message: EmulatedMessage, receiveCount?: number): Promise<SQSBatchResponse | undefined>;
  /** Delivers every pending message once, in order, each in an event of its own. */
  drain(): Promise<(SQSBatchResponse | undefined)[]>;
}

/**
 * The SQS event Lambda builds for `messages` of queue `queueName`; `receiveCount` > 1 marks a
 * redelivery (after a visibility timeout).
 */
export function sqsEvent(messages: readonly EmulatedMessage[], receiveCount = 1, queueName = 'queue'): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: `rh-${m.messageId}-${receiveCount}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: String(Date.now()),
        SenderId: 'AIDAEMULATOR',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queueName}`,
      awsRegion: 'us-east-1',
    })),
  };
}

/** slack-worker's timeout in serverless.yml: what its invocations have left when they start. */
export const SLACK_WORKER_TIMEOUT_MS = 300_000;

export function sqsEventSource(
  aws: MessagingEmulator,
  queueUrl: string,
  handler: SqsHandler,
  functionName = 'slack-worker',
  timeoutMs = SLACK_WORKER_TIMEOUT_MS,
): SqsEventSource {
  const queueName = queueUrl.split('/').pop() ?? 'queue';
  const delivered = new Set<string>();
  const deliver = (m: EmulatedMessage, receiveCount = 1) => handler(sqsEvent([m], receiveCount, queueName), lambdaContext(functionName, timeoutMs));
  const pending = () => aws.sqs.filter((m) => m.queueUrl === queueUrl && !delivered.has(m.messageId));
  return {
    pending,
    deliver,
    async drain() {
      const out: (SQSBatchResponse | undefined)[] = [];
      for (const m of pending()) {
        delivered.add(m.messageId);
        out.push(await deliver(m));
      }
      return out;
    },
  };
}
