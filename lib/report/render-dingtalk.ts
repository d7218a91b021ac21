/** DingTalk markdown message rendering of a report (outgoing robot reply / session webhook). */
import { authLine } from './render-terminal';
import type { Report } from './types';

const VERDICT_MARK = { reachable: '🟢', blocked: '🔴', unknown: '⚪' } as const;
// DingTalk markdown messages are capped at 5000 characters.
const MAX_TEXT = 4800;

/** Markdown special characters that would change the rendering of report text. */
function esc(text: string): string {
  return text.replace(/([\\`*_[\]#>|])/g, '\\$1');
}

/** A `{msgtype: 'markdown'}` message for DingTalk. */
export function renderDingtalk(report: Report, opts: { reportId?: string } = {}): object {
  const t = report.target;
  const name = t.instanceId ?? `${t.host}:${t.port}`;
  const title = `sshdoctor ${name}: ${report.verdict.status}`;
  const lines = [`### ${VERDICT_MARK[report.verdict.status]} ${esc(title)}`, '', esc(report.verdict.summary), ''];
  lines.push(`- Probe: ${report.probe ? esc(report.probe.outcome) : 'not run'}`);
  if (report.probe?.auth) lines.push(`- Auth: ${esc(authLine(report.probe.auth))}`);
  lines.push(`- Collector: ${esc(report.collector.status)} (${esc(report.collector.runner)})`);
  lines.push(`- Clients: ${esc(report.clients.map((c) => (c.caveat ? `${c.ip} (${c.caveat})` : c.ip)).join(', ') || 'unknown: pass a client IP')}`);
  lines.push('');
  for (const c of report.checks) {
    if (c.status !== 'fail' && c.status !== 'warn' && c.status !== 'error') continue;
    lines.push(`**${esc(c.status.toUpperCase())} ${esc(c.title)}**: ${esc(c.summary)}`);
    for (const e of c.evidence.slice(0, 2)) lines.push(`> ${esc(e.source)}${e.line ? `:${e.line}` : ''} ${esc(e.text)}`);
    if (c.fix) lines.push(`Fix: ${esc(c.fix.summary)}`, '', ...c.fix.commands.map((cmd) => `    ${cmd}`));
    lines.push('');
  }
  if (opts.reportId) lines.push(`report ${opts.reportId}`);
  let text = lines.join('\n');
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT)}\n…`;
  return { msgtype: 'markdown', markdown: { title, text } };
}
