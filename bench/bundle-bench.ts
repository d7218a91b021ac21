/**
 * Per-function bundle size and cold-load cost: packages the service with `osls package`
 * (offline, dummy credentials), then for each function prints the zip size and the median
 * time to import its bundled handler in a fresh Node process, next to an empty handler's.
 * Goals: HTTP and Slack handlers under 1 MB and within 150 ms of the empty handler.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FUNCTIONS = ['checks-create', 'checks-get', 'slack-command', 'dingtalk-command', 'slack-worker', 'fleet-sweep', 'fleet-worker'];
const GOAL_FUNCTIONS = new Set(['checks-create', 'checks-get', 'slack-command']);
const RUNS = 7;
const MB = 1024 * 1024;

function loadMs(file: string): number {
  const script = `const t=performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now()-t));`;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench' },
      encoding: 'utf8',
    });
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? NaN;
}

export async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'sshdoctor-bundle-bench-'));
  try {
    execFileSync('npx', ['osls', 'package', '--stage', 'bench', '--package', join(out, 'pkg')], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench' },
      stdio: 'ignore',
      timeout: 300_000,
    });
    const empty = join(out, 'empty.mjs');
    writeFileSync(empty, 'export const handler = async () => ({ statusCode: 200 });\n');
    const emptyMs = loadMs(empty);
    console.log(`bundle bench (node ${process.version}, median of ${RUNS} fresh processes)`);
    console.log(`${'function'.padEnd(18)} ${'zip KB'.padStart(8)} ${'load ms'.padStart(8)} ${'Δ empty'.padStart(8)}  goal`);
    console.log(`${'(empty handler)'.padEnd(18)} ${''.padStart(8)} ${emptyMs.toFixed(1).padStart(8)} ${'0.0'.padStart(8)}`);
    for (const fn of FUNCTIONS) {
      const zip = join(out, 'pkg', `${fn}.zip`);
      const size = statSync(zip).size;
      const dir = join(out, fn);
      execFileSync('unzip', ['-q', '-o', zip, '-d', dir]);
      const entry = join(dir, 'functions', readdirSync(join(dir, 'functions')).find((f) => f.startsWith(`${fn}.`)) ?? `${fn}.mjs`);
      const ms = loadMs(entry);
      const delta = ms - emptyMs;
      const goal = GOAL_FUNCTIONS.has(fn) ? (size < MB && delta < 150 ? 'ok' : 'MISSED') : '-';
      console.log(`${fn.padEnd(18)} ${(size / 1024).toFixed(0).padStart(8)} ${ms.toFixed(1).padStart(8)} ${delta.toFixed(1).padStart(8)}  ${goal}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('bundle-bench.ts')) await main();
