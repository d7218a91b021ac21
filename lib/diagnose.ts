/**
 * The engine: probe and collector run concurrently, the collector document is parsed into
 * facts, every check judges the facts, and the verdict correlates them with the probe.
 * The judging half (zod, parsers, checks) is loaded while the probe and the collector run,
 * so its load time overlaps their network and process time (CLI start-up, Lambda cold start).
 */
import { PROBE_SOURCE_CAVEAT, type Report, type ClientIp } from './report/types';
import type { CommandRunner, RunResult } from './runners/types';
import type { CloudFacts } from './inventory/types';
import type { NotInspected } from './cloud/types';
import type { ProbeResult } from './probe/types';
import { collectorScriptFor } from './collector/script';
import { probeSsh } from './probe/probe';
import { sourceAddressFor } from './probe/source-address';
import type { AuthTarget } from './auth/types';
import { unmapIpv4 } from './cloud/validate';

export interface DiagnoseOptions {
  /** What the probe connects to (in cloud mode: only an address the cloud API returned). */
  target: Report['target'];
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
  /** Ask also whether this user can log in (with this public key): the authentication stage. */
  user?: AuthTarget;
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
    if (source) clients = [{ ip: unmapIpv4(source), source: 'probe-source', caveat: PROBE_SOURCE_CAVEAT }];
  }

  const probeP: Promise<ProbeResult | null> = wantProbe
    ? probeSsh({ host, port, timeoutMs: options.probeTimeoutMs ?? 8000 }).then((p) => withAuthStage(p, options.user))
    : Promise.resolve(null);
  const runP = runCollector(
    options.runner,
    clients.map((c) => c.ip),
    options.collectorTimeoutMs ?? 30_000,
    options.user,
  );
  // Loaded after the probe and the collector have started, while they run.
  const engine = import('./judge');
  const [probe, run, { judge }] = await Promise.all([probeP, runP, engine]);

  // The probe's real source address wins over the routing-table guess.
  if (probe?.localAddress && !isUnspecified(probe.localAddress) && clients.length === 1 && clients[0]!.source === 'probe-source')
    clients[0]!.ip = unmapIpv4(probe.localAddress);
  if (!clients.length && wantProbe) {
    // Never an invented address (0.0.0.0 would then be "allowed" or "denied" everywhere).
    const unknown = {
      what: 'client address',
      reason: 'unknown: the probe found no source address to reach the target; pass --client-ip (clientIp) with the address you connect from',
    };
    return judge({ options: { ...options, notInspected: [...(options.notInspected ?? []), unknown] }, clients, probe, run, started });
  }

  return judge({ options, clients, probe, run, started });
}

/**
 * After a banner, and only then, the authentication stage on a second connection: the first
 * connection's outcome stays exactly what an OpenSSH client saw.
 */
async function withAuthStage(probe: ProbeResult, user: AuthTarget | undefined): Promise<ProbeResult> {
  if (!user || probe.outcome !== 'banner') return probe;
  const { probeAuth } = await import('./probe/auth-probe');
  return { ...probe, auth: await probeAuth({ host: probe.host, port: probe.port, user }) };
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || ip === '';
}

/** The collector's raw result: a run, a failure to start, or no runner at all. */
export type CollectorRun = { kind: 'ran'; result: RunResult } | { kind: 'threw'; reason: string } | { kind: 'none' };

async function runCollector(runner: CommandRunner | null, clientIps: string[], timeoutMs: number, user?: AuthTarget): Promise<CollectorRun> {
  if (!runner) return { kind: 'none' };
  try {
    const script = collectorScriptFor(timeoutMs);
    if (!user) return { kind: 'ran', result: await runner.run({ script, args: clientIps, timeoutMs }) };
    // The user and key travel as validated argv (checked again by the collector), never in the script.
    const args = [...clientIps, `user=${user.name}`, ...(user.publicKey ? [`key=${user.publicKey.type} ${user.publicKey.base64}`] : [])];
    return { kind: 'ran', result: await runner.run({ script, args, argsKind: 'validated-text', timeoutMs }) };
  } catch (err) {
    return { kind: 'threw', reason: (err as Error).message };
  }
}
