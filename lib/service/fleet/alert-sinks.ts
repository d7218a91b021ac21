/** Adapters of {@link AlertSink}: an SNS topic, and an optional Slack incoming webhook. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { renderSlack } from '../../report/render-slack';
import type { ChatPoster } from '../chat/chat';
import { UpstreamError } from '../errors';
import type { AlertSink, FlipAlert } from './fleet';

function subject(a: FlipAlert): string {
  return `sshdoctor: ${a.instanceId} ${a.from} -> ${a.to}`;
}

/** Commands per fix in an SNS alert: enough to act on, far from SNS's 256 KB cap. */
const MAX_COMMANDS = 5;

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
        // What an on-call reader acts on: each failing check's finding and its fix.
        fixes: a.report.checks
          .filter((c) => c.status === 'fail' && c.fix)
          .map((c) => ({ check: c.id, finding: c.summary, fix: c.fix!.summary, commands: c.fix!.commands.slice(0, MAX_COMMANDS) })),
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
