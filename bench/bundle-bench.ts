/**
 * Per-function bundle size and cold-load cost: packages the service with `osls package`
 * (offline, dummy credentials), then for each function prints the zip size and the median
 * time to import its bundled handler in a fresh Node process, next to an empty handler's, and
 * what the separately shipped Alibaba SDK adds on the first Alibaba call.
 * Goals: HTTP and Slack handlers under 1 MB and within 150 ms of the empty handler.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './support/median';

const FUNCTIONS = ['checks-create', 'checks-get', 'checks-fix', 'slack-command', 'dingtalk-command', 'slack-worker', 'fleet-sweep', 'fleet-worker'];
const GOAL_FUNCTIONS = new Set(['checks-create', 'checks-get', 'checks-fix', 'slack-command']);
const RUNS = Number(process.env.BENCH_ROUNDS ?? 15);
const MB = 1024 * 1024;

/** One import of `file` in a fresh Node process (after importing `before`, untimed), in milliseconds. */
function loadOnce(file: string, before?: string): number {
  const first = before ? `await import(${JSON.stringify(before)}); ` : '';
  const script = `${first}const t=performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now()-t));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench' },
    encoding: 'utf8',
  });
  return Number(out);
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
    const entries = FUNCTIONS.map((fn) => {
      const zip = join(out, 'pkg', `${fn}.zip`);
      const dir = join(out, fn);
      execFileSync('unzip', ['-q', '-o', zip, '-d', dir]);
      const entry = join(dir, 'functions', readdirSync(join(dir, 'functions')).find((f) => f.startsWith(`${fn}.`)) ?? `${fn}.mjs`);
      return { fn, size: statSync(zip).size, entry };
    });
    // Interleaved rounds: the empty handler and every function are measured side by side in
    // each round, so machine noise lands on all of them alike.
    const times = new Map<string, number[]>([['(empty handler)', []], ...entries.map((e) => [e.fn, []] as [string, number[]])]);
    // The Alibaba SDK is a file of its own beside the handlers: its cost lands on the first
    // Alibaba call of a container, measured here after the handler has loaded.
    const createEntry = entries.find((e) => e.fn === 'checks-create')!.entry;
    const alibabaSdk = join(createEntry, '..', 'alibaba-sdk.mjs');
    const sdkTimes: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      times.get('(empty handler)')!.push(loadOnce(empty));
      for (const e of entries) times.get(e.fn)!.push(loadOnce(e.entry));
      sdkTimes.push(loadOnce(alibabaSdk, createEntry));
    }
    const emptyMs = median(times.get('(empty handler)')!);
    console.log(`bundle bench (node ${process.version}, median of ${RUNS} interleaved rounds of fresh processes)`);
    console.log(`${'function'.padEnd(18)} ${'zip KB'.padStart(8)} ${'load ms'.padStart(8)} ${'Δ empty'.padStart(8)}  goal`);
    console.log(`${'(empty handler)'.padEnd(18)} ${''.padStart(8)} ${emptyMs.toFixed(1).padStart(8)} ${'0.0'.padStart(8)}`);
    for (const e of entries) {
      const ms = median(times.get(e.fn)!);
      const delta = ms - emptyMs;
      const goal = GOAL_FUNCTIONS.has(e.fn) ? (e.size < MB && delta < 150 ? 'ok' : 'MISSED') : '-';
      console.log(`${e.fn.padEnd(18)} ${(e.size / 1024).toFixed(0).padStart(8)} ${ms.toFixed(1).padStart(8)} ${delta.toFixed(1).padStart(8)}  ${goal}`);
    }
    console.log(
      `alibaba-sdk.mjs: ${(statSync(alibabaSdk).size / 1024).toFixed(0)} KB unzipped, +${median(sdkTimes).toFixed(1)} ms on the first Alibaba call of a container (loaded after checks-create)`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('bundle-bench.ts')) await main();
