/** Every renderer says when the client address is only the probe's own, a guess behind NAT. */
import { describe, expect, it } from 'vitest';
import { renderDingtalk } from '../../lib/report/render-dingtalk';
import { renderSlack } from '../../lib/report/render-slack';
import { renderTerminal } from '../../lib/report/render-terminal';
import { PROBE_SOURCE_CAVEAT, type Report } from '../../lib/report/types';

function report(clients: Report['clients']): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'sshdoctor', version: '0.0.0' },
    generatedAt: '2026-12-02T00:00:00.000Z',
    target: { host: '10.0.0.5', port: 22, instanceId: 'i-0123456789abcdef0', provider: 'aws', region: 'eu-west-1' },
    clients,
    probe: { host: '10.0.0.5', port: 22, outcome: 'timeout', totalMs: 5000 },
    collector: { status: 'ok', runner: 'ssm', truncated: false, truncatedSections: [] },
    checks: [],
    verdict: { status: 'blocked', summary: 'Blocked: timeout', causes: [], confirmed: false },
    notInspected: [],
    timings: { totalMs: 5000 },
  };
}

const guessed = report([{ ip: '192.0.2.10', source: 'probe-source', caveat: PROBE_SOURCE_CAVEAT }]);
const named = report([{ ip: '198.51.100.7', source: 'user' }]);

describe('client address caveat', () => {
  it('Slack shows the caveat next to a guessed address, and nothing next to a named one', () => {
    expect(JSON.stringify(renderSlack(guessed))).toContain('192.0.2.10 (the probe');
    expect(JSON.stringify(renderSlack(guessed))).toContain('behind NAT');
    expect(JSON.stringify(renderSlack(named))).not.toContain('behind NAT');
  });

  it('DingTalk shows the caveat next to a guessed address, and nothing next to a named one', () => {
    expect(JSON.stringify(renderDingtalk(guessed))).toContain('behind NAT');
    expect(JSON.stringify(renderDingtalk(named))).toContain('198.51.100.7');
    expect(JSON.stringify(renderDingtalk(named))).not.toContain('behind NAT');
  });

  it('the terminal report shows it too', () => {
    expect(renderTerminal(guessed, { color: false })).toContain('behind NAT');
  });

  it('an unknown client address is said to be unknown, never shown as 0.0.0.0', () => {
    expect(JSON.stringify(renderSlack(report([])))).toContain('unknown: pass a client IP');
    expect(JSON.stringify(renderDingtalk(report([])))).toContain('unknown: pass a client IP');
  });
});
