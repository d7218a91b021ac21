/**
 * Measures lab instance create / destroy times (figures, not assertions).
 *   npx tsx test/lab/measure-lab.ts [runs]
 * measureLab() is exported for bench/ to print alongside its own figures.
 */
import { cleanupStale, createLab, labAvailable } from './lab';

export interface LabTimings {
  runs: number;
  createMs: number[];
  createWithFail2banMs: number[];
  destroyMs: number[];
  parallelCreate8Ms: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Creates and destroys `runs` instances one after another, then 8 in parallel. */
export async function measureLab(runs = 10): Promise<LabTimings> {
  await cleanupStale();
  const t: LabTimings = { runs, createMs: [], createWithFail2banMs: [], destroyMs: [], parallelCreate8Ms: 0 };
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    const lab = await createLab();
    t.createMs.push(performance.now() - t0);
    t0 = performance.now();
    await lab.destroy();
    t.destroyMs.push(performance.now() - t0);
  }
  for (let i = 0; i < Math.min(runs, 3); i++) {
    const t0 = performance.now();
    const lab = await createLab({ fail2ban: true });
    t.createWithFail2banMs.push(performance.now() - t0);
    await lab.destroy();
  }
  const t0 = performance.now();
  const labs = await Promise.all(Array.from({ length: 8 }, () => createLab()));
  t.parallelCreate8Ms = performance.now() - t0;
  await Promise.all(labs.map((l) => l.destroy()));
  return t;
}

/** One line per figure: median and p90 in milliseconds. */
export function formatLabTimings(t: LabTimings): string {
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(34)} median ${pct(xs, 50).toFixed(0).padStart(5)} ms   p90 ${pct(xs, 90).toFixed(0).padStart(5)} ms   (n=${xs.length})`;
  return [
    row('lab create (sshd listening)', t.createMs),
    row('lab create + fail2ban ready', t.createWithFail2banMs),
    row('lab destroy', t.destroyMs),
    `${'8 labs created in parallel'.padEnd(34)} total  ${t.parallelCreate8Ms.toFixed(0).padStart(5)} ms`,
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'));
if (isMain) {
  const avail = labAvailable();
  if (!avail.ok) {
    console.error(`lab unavailable: ${avail.reason}`);
    process.exit(3);
  }
  const runs = Number(process.argv[2] ?? 10);
  if (!Number.isInteger(runs) || runs < 1 || runs > 200) {
    console.error('runs must be an integer 1-200');
    process.exit(2);
  }
  console.log(formatLabTimings(await measureLab(runs)));
}
