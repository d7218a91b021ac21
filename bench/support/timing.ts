/** Timing helpers shared by the benchmarks that measure side by side on a lab instance. */
import { spawnSync } from 'node:child_process';
import { probeSsh } from '../../lib/probe/probe';

/** Wall-clock ms of one Node process (`node ARGS`); throws when it fails. */
export function timeProcess(args: string[], { mustSucceed = false } = {}): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (mustSucceed && r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return performance.now() - t;
}

/** Ms until the banner probe of HOST:22 is over; throws unless it got a banner. */
export async function timeBannerProbe(host: string): Promise<number> {
  const t = performance.now();
  const p = await probeSsh({ host, port: 22 });
  if (p.outcome !== 'banner') throw new Error(`lab not healthy: ${p.outcome}`);
  return performance.now() - t;
}
