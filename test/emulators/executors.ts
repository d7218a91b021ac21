/**
 * How an emulated cloud agent runs a script "on the instance": locally with `sh -s`, inside a
 * lab instance through its `via` prefix (e.g. `nsenter --net=/run/netns/x`), or in-process for
 * benchmarks that need thousands of instances. Shared by the AWS and Alibaba emulators.
 */
import { spawn } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
}

export type Executor = (script: string, opts: { timeoutMs: number }) => Promise<ExecResult>;

function run(cmd: string, args: string[], script: string, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        // The whole group: a `sleep` started by the script must not outlive the "instance" run.
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, exitCode: timedOut ? null : code, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(script);
  });
}

/** Runs the script with the local `sh -s`, script on stdin (as the agents write a file and run it). */
export function localExecutor(): Executor {
  return (script, { timeoutMs }) => run('sh', ['-s'], script, timeoutMs);
}

/** Runs the script inside a lab instance: `${via} sh -s`. `via` is a trusted test-owned prefix. */
export function viaExecutor(via: string): Executor {
  return (script, { timeoutMs }) => run('sh', ['-c', `${via} sh -s`], script, timeoutMs);
}

/** In-process "instance" that answers after `delayMs` with fixed output (fleet benchmarks). */
export function fixedExecutor(stdout: string, delayMs = 0): Executor {
  return (_script, { timeoutMs }) =>
    new Promise((resolve) => {
      if (delayMs > timeoutMs) setTimeout(() => resolve({ stdout: '', stderr: '', exitCode: null, timedOut: true }), timeoutMs);
      else setTimeout(() => resolve({ stdout, stderr: '', exitCode: 0, timedOut: false }), delayMs);
    });
}
