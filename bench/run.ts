/**
 * `npm run bench`: runs every benchmark in its own process (so one's load does not skew
 * another's) and prints their figures. Each file exports `main()` or runs on import.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'run-one.ts')
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== bench/${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/sh-loader.mjs', 'bench/run-one.ts', `./${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${f} exited ${r.status}`);
  }
}
process.exitCode = failed ? 1 : 0;
