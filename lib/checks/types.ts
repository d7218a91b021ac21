import type { CheckResult, ClientIp } from '../report/types';
import type { ProbeResult } from '../probe/types';
import type { HostFacts } from '../collector/facts';
import type { CloudFacts } from '../inventory/types';
import type { AuthTarget } from '../auth/types';

/** Everything a check may look at. Checks are pure functions of this object. */
export interface Facts {
  /** The sshd port being diagnosed (what the probe targeted). */
  port: number;
  clients: ClientIp[];
  probe: ProbeResult | null;
  /** Parsed collector document; null when the collector did not run or failed. */
  host: HostFacts | null;
  /** Why host facts are missing or incomplete (runner status, parse error, truncation). */
  hostError: string | null;
  cloud: CloudFacts | null;
  /** The user (and public key) asked about with --user; null without. */
  user?: AuthTarget | null;
}

export type FactSource = 'host' | 'probe' | 'cloud';

/** One check: a readonly object whose `id` equals its file name. */
export interface Check {
  readonly id: string;
  readonly title: string;
  /** One paragraph for the README / docs: what it looks at and why it matters. */
  readonly description: string;
  readonly needs: readonly FactSource[];
  run(facts: Facts): CheckResult;
}
