/**
 * The judging half of a diagnosis: parses the collector document into facts, runs every
 * check, correlates them with the probe into a verdict, and assembles the report.
 * Loaded by diagnose() while the probe and the collector run.
 */
import type { Report, ClientIp, CheckResult, CollectorSummary } from './report/types';
import type { ProbeResult } from './probe/types';
import type { HostFacts } from './collector/facts';
import { parseHostFacts } from './collector/facts';
import { CLOUD_CHECKS, HOST_CHECKS, type Check, type Facts } from './checks';
import { verdictFor } from './report/verdict';
import { NEEDS_ROOT, NOT_INSPECTED } from './checks/support/host-access';
import { TOOL_VERSION } from './version';
import type { CollectorRun, DiagnoseOptions } from './diagnose';

export interface JudgeInput {
  options: DiagnoseOptions;
  clients: ClientIp[];
  probe: ProbeResult | null;
  run: CollectorRun;
  /** performance.now() when the diagnosis started. */
  started: number;
}

export function judge({ options, clients, probe, run, started }: JudgeInput): Report {
  const collected = summarize(run, options.runner?.name ?? 'none', options.hostUnavailableReason);
  const facts: Facts = {
    port: options.target.port,
    clients,
    probe,
    host: collected.facts,
    hostError: collected.summary.status === 'failed' ? (collected.summary.reason ?? 'collector failed') : null,
    cloud: options.cloud ?? null,
    user: options.user ?? null,
  };
  const checks = [...HOST_CHECKS, ...(facts.cloud ? CLOUD_CHECKS : [])].map((c) => runCheck(c, facts));
  const notInspected = [...(options.notInspected ?? [])];
  if (collected.summary.status === 'failed' && options.runner) notInspected.push({ what: 'host (collector)', reason: collected.summary.reason ?? 'failed' });
  for (const c of checks) {
    if (c.status === 'skip' && (c.summary.startsWith(NEEDS_ROOT) || c.summary.startsWith(NOT_INSPECTED)))
      notInspected.push({ what: `${c.id} (${c.title})`, reason: c.summary });
  }
  if (collected.summary.truncated)
    notInspected.push({ what: `collector sections ${collected.summary.truncatedSections.join(', ') || '(transport)'}`, reason: 'output truncated' });

  return {
    schemaVersion: 1,
    tool: { name: 'sshdoctor', version: TOOL_VERSION },
    generatedAt: new Date().toISOString(),
    target: {
      ...options.target,
      ...(options.user
        ? {
            user: {
              name: options.user.name,
              ...(options.user.publicKey ? { publicKey: `${options.user.publicKey.type} ${options.user.publicKey.base64}` } : {}),
            },
          }
        : {}),
    },
    clients,
    probe,
    collector: collected.summary,
    checks,
    verdict: verdictFor(probe, checks),
    notInspected,
    timings: {
      ...(probe ? { probeMs: probe.totalMs } : {}),
      ...(collected.summary.durationMs !== undefined ? { collectorMs: collected.summary.durationMs } : {}),
      totalMs: Math.round(performance.now() - started),
    },
  };
}

function runCheck(check: Check, facts: Facts): CheckResult {
  try {
    return check.run(facts);
  } catch (err) {
    // A check bug must not hide the other findings.
    return { id: check.id, title: check.title, status: 'error', summary: `check failed: ${(err as Error).message}`, evidence: [], fix: null };
  }
}

function summarize(collector: CollectorRun, runner: string, unavailable?: string): { facts: HostFacts | null; summary: CollectorSummary } {
  if (collector.kind === 'none') {
    return unavailable
      ? { facts: null, summary: { status: 'failed', runner: 'none', reason: unavailable, truncated: false, truncatedSections: [] } }
      : { facts: null, summary: { status: 'skipped', runner: 'none', truncated: false, truncatedSections: [] } };
  }
  if (collector.kind === 'threw')
    return { facts: null, summary: { status: 'failed', runner, reason: collector.reason, truncated: false, truncatedSections: [] } };
  const run = collector.result;
  const base = { runner, durationMs: Math.round(run.durationMs), outputChars: run.stdout.length };
  if (run.status !== 'success' && !run.stdout.includes('#sshdoctor-collector')) {
    const reason = `${run.status}: ${run.reason ?? (run.stderr.trim().split('\n').pop() || `exit code ${run.exitCode}`)}`;
    return { facts: null, summary: { ...base, status: 'failed', reason, truncated: run.truncated, truncatedSections: [] } };
  }
  try {
    const facts = parseHostFacts(run.stdout);
    const truncated = run.truncated || !facts.complete || facts.truncatedSections.length > 0;
    const partial = run.status !== 'success' || !facts.complete;
    const reason = !facts.complete
      ? 'collector output ended early (cut in transport or the collector was interrupted)'
      : run.status !== 'success'
        ? `${run.status}: ${run.reason ?? ''}`
        : undefined;
    return {
      facts,
      summary: { ...base, status: partial ? 'partial' : 'ok', ...(reason ? { reason } : {}), truncated, truncatedSections: facts.truncatedSections },
    };
  } catch (err) {
    return {
      facts: null,
      summary: { ...base, status: 'failed', reason: `unreadable collector output: ${(err as Error).message}`, truncated: run.truncated, truncatedSections: [] },
    };
  }
}
