/**
 * Slack Block Kit rendering of a report, with "Check again" and "Apply fix" buttons, and of
 * a fix outcome. Formats only: every text comes from the report or the outcome (finding
 * texts live with their checks).
 */
import { authLine } from './render-terminal';
import type { ApplyOutcome } from '../remediation/apply';
import type { CheckResult, Report } from './types';

/** `action_id` of the "Check again" button; the interactivity handler matches it. */
export const SLACK_CHECK_AGAIN_ACTION = 'sshdoctor_check_again';
/** `action_id` of the "Apply fix" button (value: the report id). */
export const SLACK_APPLY_FIX_ACTION = 'sshdoctor_apply_fix';

const VERDICT_ICON = { reachable: ':large_green_circle:', blocked: ':red_circle:', unknown: ':white_circle:' } as const;
const STATUS_ICON = { pass: ':white_check_mark:', fail: ':x:', warn: ':warning:', skip: ':fast_forward:', error: ':exclamation:' } as const;
// Block Kit limits: 50 blocks per message, 3000 characters per section text, 2000 per button value.
const MAX_TEXT = 2900;
const MAX_CHECK_BLOCKS = 20;

/** Slack mrkdwn needs only &, < and > escaped. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function cap(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function checkBlock(c: CheckResult): object {
  const lines = [`${STATUS_ICON[c.status]} *${esc(c.title)}*: ${esc(c.summary)}`];
  for (const e of c.evidence.slice(0, 3)) lines.push(`> \`${esc(e.source)}${e.line ? `:${e.line}` : ''}\` ${esc(e.text)}`);
  if (c.fix) {
    lines.push(`*Fix:* ${esc(c.fix.summary)}`);
    if (c.fix.commands.length) lines.push(`\`\`\`${esc(c.fix.commands.join('\n'))}\`\`\``);
  }
  return { type: 'section', text: { type: 'mrkdwn', text: cap(lines.join('\n')) } };
}

/**
 * A Slack message (for `response_url` or an incoming webhook). `request`, when given,
 * becomes the "Check again" button's value so the same check can be re-run.
 */
export function renderSlack(report: Report, opts: { reportId?: string; request?: unknown } = {}): object {
  const t = report.target;
  const name = t.instanceId ?? `${t.host}:${t.port}`;
  const headline = `${VERDICT_ICON[report.verdict.status]} ${name}: ${report.verdict.status}`;
  const failing = report.checks.filter((c) => c.status === 'fail' || c.status === 'warn' || c.status === 'error');
  const blocks: object[] = [
    { type: 'header', text: { type: 'plain_text', text: cap(headline, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: cap(esc(report.verdict.summary)) } },
  ];
  const facts = [
    `*Target* ${esc([t.provider, t.region, t.host].filter(Boolean).join(' '))}:${t.port}`,
    `*Probe* ${report.probe ? esc(report.probe.outcome) : 'not run'}${report.probe?.auth ? ` · *Auth* ${esc(authLine(report.probe.auth))}` : ''}`,
    `*Collector* ${esc(report.collector.status)} (${esc(report.collector.runner)})`,
    `*Clients* ${esc(report.clients.map((c) => (c.caveat ? `${c.ip} (${c.caveat})` : c.ip)).join(', ') || 'unknown: pass a client IP')}`,
  ];
  blocks.push({ type: 'section', fields: facts.map((text) => ({ type: 'mrkdwn', text })) });
  if (failing.length) blocks.push({ type: 'divider' });
  for (const c of failing.slice(0, MAX_CHECK_BLOCKS)) blocks.push(checkBlock(c));
  if (failing.length > MAX_CHECK_BLOCKS) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${failing.length - MAX_CHECK_BLOCKS} more findings` }] });
  }
  for (const n of report.notInspected.slice(0, 3)) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cap(`Not inspected: ${esc(n.what)} (${esc(n.reason)})`) }] });
  }
  const context = [`${report.checks.length} checks`, `${report.timings.totalMs} ms`];
  if (opts.reportId) context.push(`report ${opts.reportId}`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: esc(context.join(' · ')) }] });
  const buttons: object[] = [];
  const value = opts.request === undefined ? undefined : JSON.stringify(opts.request);
  if (value !== undefined && value.length <= 2000) {
    buttons.push({ type: 'button', action_id: SLACK_CHECK_AGAIN_ACTION, text: { type: 'plain_text', text: 'Check again' }, value });
  }
  const fixable = fixableChecks(report);
  if (opts.reportId && fixable.length) buttons.push(applyFixButton(opts.reportId, fixable));
  if (buttons.length) blocks.push({ type: 'actions', elements: buttons });
  return { response_type: 'in_channel', replace_original: false, text: headline, blocks };
}

/** Failing checks with machine-applicable fix actions: what `fix --apply` would change (as buildPlan selects them). */
function fixableChecks(report: Report): CheckResult[] {
  return report.checks.filter((c) => c.status === 'fail' && (c.fix?.actions?.length ?? 0) > 0);
}

// Confirm dialog limits: title 100, text 300, buttons 30 characters (plain_text).
function applyFixButton(reportId: string, fixable: CheckResult[]): object {
  const lines = fixable.map((c) => `• ${c.fix?.summary ?? c.title}`);
  return {
    type: 'button',
    action_id: SLACK_APPLY_FIX_ACTION,
    text: { type: 'plain_text', text: 'Apply fix' },
    style: 'danger',
    value: reportId,
    confirm: {
      title: { type: 'plain_text', text: 'Apply these fixes?' },
      text: { type: 'plain_text', text: cap(`${lines.join('\n')}\nEach change is backed up, verified, and rolled back if verification fails.`, 300) },
      confirm: { type: 'plain_text', text: 'Apply' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    },
  };
}

const OUTCOME_ICON = {
  fixed: ':large_green_circle:',
  'nothing-to-do': ':white_circle:',
  'rolled-back': ':leftwards_arrow_with_hook:',
  failed: ':red_circle:',
} as const;

/**
 * The outcome of an "Apply fix": overall status, one line per step (result, verified,
 * rolled back) and where its audit records are (`audit`: target key and run id).
 */
export function renderSlackFixOutcome(opts: { instanceId: string; reportId: string; audit: string; outcome: ApplyOutcome }): object {
  const { outcome } = opts;
  const headline = `${OUTCOME_ICON[outcome.status]} sshdoctor fix ${opts.instanceId}: ${outcome.status}`;
  const steps = outcome.audit.slice(0, MAX_CHECK_BLOCKS).map((r) => {
    const verified = r.verified === null ? 'not verified' : r.verified ? 'verified' : 'verification failed';
    const rolled = r.rolledBack ? ', rolled back' : r.rollbackError ? `, rollback failed: ${r.rollbackError}` : '';
    return `• *${esc(r.checkId)}* ${esc(r.description)}: ${esc(r.result)}, ${verified}${esc(rolled)}${r.detail ? `\n  _${esc(r.detail)}_` : ''}`;
  });
  const blocks: object[] = [
    { type: 'header', text: { type: 'plain_text', text: cap(headline, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: cap(esc(outcome.summary)) } },
  ];
  if (steps.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cap(steps.join('\n')) } });
  const who = outcome.audit[0]?.who;
  const context = [`report ${opts.reportId}`, `audit ${opts.audit}`, ...(who ? [`by ${who}`] : [])];
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cap(esc(context.join(' · '))) }] });
  return { response_type: 'in_channel', replace_original: false, text: headline, blocks };
}

/** A short message for a check that could not run (not found, not opted in, ...). */
export function renderSlackError(instanceId: string, message: string): object {
  const text = `:exclamation: sshdoctor ${instanceId}: ${message}`;
  return { response_type: 'ephemeral', text: cap(esc(text)) };
}
