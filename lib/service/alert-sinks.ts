/** Adapters of {@link AlertSink}: an SNS topic, and an optional Slack incoming webhook. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { renderSlack } from '../report/render-slack';
import type { ChatPoster } from './chat';
import { UpstreamError } from './errors';
import type { AlertSink, FlipAlert } from './fleet';

function subject(a: FlipAlert): string {
  return `sshdoctor: ${a.instanceId} ${a.from} -> ${a.to}`;
}

/** Publishes a JSON summary (not the whole report: SNS caps messages at 256 KB). */
export function createSnsAlertSink(opts: { client: Pick<SNSClient, 'send'>; topicArn: string }): AlertSink {
  return {
    name: 'sns',
    async notify(a) {
      const message = {
        instance: a.instanceKey,
        from: a.from,
        to: a.to,
        reportId: a.reportId,
        summary: a.report.verdict.summary,
        causes: a.report.verdict.causes,
        generatedAt: a.report.generatedAt,
      };
      try {
        await opts.client.send(
          new PublishCommand({
            TopicArn: opts.topicArn,
            // SNS subjects: ASCII, at most 100 characters.
            Subject: subject(a).slice(0, 100),
            Message: JSON.stringify(message),
            MessageAttributes: { to: { DataType: 'String', StringValue: a.to } },
          }),
        );
      } catch (err) {
        throw new UpstreamError('SNS Publish', { cause: err });
      }
    },
  };
}

export function createSlackWebhookAlertSink(opts: { webhookUrl: string; post: ChatPoster }): AlertSink {
  return {
    name: 'slack-webhook',
    async notify(a) {
      const message = renderSlack(a.report, { reportId: a.reportId }) as { text: string };
      await opts.post(opts.webhookUrl, { ...message, text: subject(a) });
    },
  };
}
