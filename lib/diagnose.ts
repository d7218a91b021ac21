/**
 * The engine: probe and collector run concurrently, the collector document is parsed into
 * facts, every check judges the facts, and the verdict correlates them with the probe.
 */
import type { Report, ClientIp } from './report/types';
import type { CommandRunner } from './runners/types';
import type { CloudFacts } from './inventory/types';
import type { NotInspected } from './cloud/types';

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
  /** false skips the outside probe (e.g. the instance is stopped). Default true. */
  probe?: boolean;
  cloud?: CloudFacts | null;
  notInspected?: NotInspected[];
  /** Probe time budget (must exceed libwrap's ~5 s refusal delay). Default 8000. */
  probeTimeoutMs?: number;
  /** Collector time budget. Default 30000. */
  collectorTimeoutMs?: number;
}

// `export async function diagnose(options: DiagnoseOptions): Promise<Report>` is implemented below
// (in progress). `Report` is lib/report/types.ts.
export type { Report };
