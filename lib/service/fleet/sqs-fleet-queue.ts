/** SQS adapter of {@link FleetQueue}: SendMessageBatch, 10 entries per call. */
import { SendMessageBatchCommand, type SendMessageBatchCommandOutput, type SQSClient } from '@aws-sdk/client-sqs';
import { UpstreamError } from '../errors';
import type { FleetQueue } from './fleet';

export function createSqsFleetQueue(opts: { client: Pick<SQSClient, 'send'>; queueUrl: string }): FleetQueue {
  return {
    async send(batches) {
      for (let i = 0; i < batches.length; i += 10) {
        const chunk = batches.slice(i, i + 10);
        let out: SendMessageBatchCommandOutput;
        try {
          out = await opts.client.send(
            new SendMessageBatchCommand({
              QueueUrl: opts.queueUrl,
              Entries: chunk.map((b, j) => ({ Id: String(j), MessageBody: JSON.stringify(b) })),
            }),
          );
        } catch (err) {
          throw new UpstreamError('SQS SendMessageBatch', { cause: err });
        }
        // SendMessageBatch succeeds as a call even when some entries fail.
        if (out.Failed?.length) {
          throw new UpstreamError(`SQS SendMessageBatch (${out.Failed.length} entries: ${out.Failed[0]?.Code ?? 'unknown'})`);
        }
      }
    },
  };
}
