/** Runs the built CLI (`npm run build` first; `npm test` does) as a real process. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Report } from '../../lib/report/types';
import type { FixPlan } from '../../lib/remediation/plan';
import type { ApplyOutcome } from '../../lib/remediation/apply';

export const CLI = fileURLToPath(new URL('../../bin/sshdoctor.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Runs `check ... --json` and parses the report. */
export async function runCheckJson(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<CliRun & { report: Report }> {
  const r = await runCli(['check', ...args, '--json'], opts);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`check did not print JSON (exit ${r.code}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  }
  return { ...r, report };
}

/** Runs `fix ... --json` and parses its plan and outcome. */
export async function runFixJson(
  args: string[],
  opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<CliRun & { plan: FixPlan; outcome: ApplyOutcome | null }> {
  const r = await runCli(['fix', ...args, '--json'], opts);
  let parsed: { plan: FixPlan; outcome: ApplyOutcome | null };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw new Error(`fix did not print JSON (exit ${r.code}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  }
  return { ...r, ...parsed };
}
