/**
 * The engine: probe and collector run concurrently, the collector document is parsed into
 * facts, every check judges the facts, and the verdict correlates them with the probe.
 */
import type { Report, ClientIp, CheckResult, CollectorSummary } from './report/types';
import type { CommandRunner, RunResult } from './runners/types';
import type { CloudFacts } from './inventory/types';
import type { NotInspected } from './cloud/types';
import type { ProbeResult } from './probe/types';
import type { HostFacts } from './collector/facts';
import { parseHostFacts } from './collector/facts';
import { collectorScript } from './collector/script';
import { probeSsh } from './probe/probe';
import { sourceAddressFor } from './probe/source-address';
import { CLOUD_CHECKS, HOST_CHECKS, type Check, type Facts } from './checks';
import { verdictFor } from './report/verdict';
import { TOOL_VERSION } from './version';

export interface DiagnoseOptions {
  /** What the probe connects to (in cloud mode: only an address the cloud API returned). */
  target: {
    host: string;
    port: number;
    instanceId?: string;
    provider?: 'local' | 'aws' | 'alibaba';
    region?: string;
  };
  /** Validated client IPs. Empty: the probe's own source address is used and marked so. */
  clientIps: readonly string[];
  /** Source to record for `clientIps` (`user` for --client-ip, `caller` for the HTTP caller). */
  clientIpSource?: ClientIp['source'];
  /** Runs the collector; null skips host-side checks (they report `skip`). */
  runner: CommandRunner | null;
  /** Why there is no runner (agent offline, instance stopped): host checks report `error` with it. */
  hostUnavailableReason?: string;
  /** false skips the outside probe (e.g. the instance is stopped). Default true. */
  probe?: boolean;
  cloud?: CloudFacts | null;
  notInspected?: NotInspected[];
  /** Probe time budget (must exceed libwrap's ~5 s refusal delay). Default 8000. */
  probeTimeoutMs?: number;
  /** Collector time budget. Default 30000. */
  collectorTimeoutMs?: number;
}

/** Runs one diagnosis. Never throws for diagnostic outcomes: they are values in the report. */
export async function diagnose(options: DiagnoseOptions): Promise<Report> {
  const started = performance.now();
  const { host, port } = options.target;
  const wantProbe = options.probe !== false;

  let clients: ClientIp[] = options.clientIps.map((ip) => ({ ip, source: options.clientIpSource ?? 'user' }));
  if (!clients.length && wantProbe) {
    // The address the probe will leave from, known before it connects, so the collector can
    // look it up in hosts.deny and ban lists while the probe runs.
    const source = await sourceAddressFor(host, port);
    if (source) clients = [{ ip: source, source: 'probe-source' }];
  }

  const probeP: Promise<ProbeResult | null> = wantProbe
    ? probeSsh({ host, port, timeoutMs: options.probeTimeoutMs ?? 8000 })
    : Promise.resolve(null);
  const collectorP = runCollector(options.runner, clients.map((c) => c.ip), options.collectorTimeoutMs ?? 30_000, options.hostUnavailableReason);
  const [probe, collected] = await Promise.all([probeP, collectorP]);

  // The probe's real source address wins over the routing-table guess.
  if (probe?.localAddress && clients.length === 1 && clients[0]!.source === 'probe-source') clients[0]!.ip = probe.localAddress;

  const facts: Facts = {
    port,
    clients,
    probe,
    host: collected.facts,
    hostError: collected.summary.status === 'failed' ? (collected.summary.reason ?? 'collector failed') : null,
    cloud: options.cloud ?? null,
  };
  const checks = [...HOST_CHECKS, ...(facts.cloud ? CLOUD_CHECKS : [])].map((c) => runCheck(c, facts));
  const notInspected = [...(options.notInspected ?? [])];
  if (collected.summary.status === 'failed' && options.runner) notInspected.push({ what: 'host (collector)', reason: collected.summary.reason ?? 'failed' });
  if (collected.summary.truncated) notInspected.push({ what: `collector sections ${collected.summary.truncatedSections.join(', ') || '(transport)'}`, reason: 'output truncated' });

  return {
    schemaVersion: 1,
    tool: { name: 'sshdoctor', version: TOOL_VERSION },
    generatedAt: new Date().toISOString(),
    target: { ...options.target },
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

async function runCollector(
  runner: CommandRunner | null,
  clientIps: string[],
  timeoutMs: number,
  unavailable?: string,
): Promise<{ facts: HostFacts | null; summary: CollectorSummary }> {
  if (!runner) {
    return unavailable
      ? { facts: null, summary: { status: 'failed', runner: 'none', reason: unavailable, truncated: false, truncatedSections: [] } }
      : { facts: null, summary: { status: 'skipped', runner: 'none', truncated: false, truncatedSections: [] } };
  }
  let run: RunResult;
  try {
    run = await runner.run({ script: collectorScript, args: clientIps, timeoutMs });
  } catch (err) {
    return { facts: null, summary: { status: 'failed', runner: runner.name, reason: (err as Error).message, truncated: false, truncatedSections: [] } };
  }
  const base = { runner: runner.name, durationMs: Math.round(run.durationMs), outputChars: run.stdout.length };
  if (run.status !== 'success' && !run.stdout.includes('#sshdoctor-collector')) {
    const reason = `${run.status}: ${run.reason ?? (run.stderr.trim().split('\n').pop() || `exit code ${run.exitCode}`)}`;
    return { facts: null, summary: { ...base, status: 'failed', reason, truncated: run.truncated, truncatedSections: [] } };
  }
  try {
    const facts = parseHostFacts(run.stdout);
    const truncated = run.truncated || !facts.complete || facts.truncatedSections.length > 0;
    const partial = run.status !== 'success' || !facts.complete;
    const reason = !facts.complete ? 'collector output ended early (cut in transport or the collector was interrupted)' : run.status !== 'success' ? `${run.status}: ${run.reason ?? ''}` : undefined;
    return {
      facts,
      summary: { ...base, status: partial ? 'partial' : 'ok', ...(reason ? { reason } : {}), truncated, truncatedSections: facts.truncatedSections },
    };
  } catch (err) {
    return { facts: null, summary: { ...base, status: 'failed', reason: `unreadable collector output: ${(err as Error).message}`, truncated: run.truncated, truncatedSections: [] } };
  }
}
