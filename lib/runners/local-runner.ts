/**
 * Runs the collector on this machine (`sh -s -- ARGS`), or through a wrapper the user
 * trusts (`CMD sh -s -- ARGS`, e.g. `sudo`, `docker exec -i web`, `nsenter -t PID -m -n -p`).
 * The script travels on standard input and arguments as argv entries: no shell ever parses
 * user input.
 */
import { spawn } from 'node:child_process';
import type { CommandRunner, RunRequest, RunResult } from './types';
import { validateScriptArgs } from './script-args';

export interface LocalRunnerOptions {
  /** Wrapper argv, already split (see {@link splitCommand}). Empty: run here. */
  via?: string[];
  /** Largest stdout kept, in characters (a runaway wrapper must not exhaust memory). */
  maxOutputChars?: number;
}

/** Splits a wrapper command line into argv like a shell would for simple words and quotes. */
export function splitCommand(command: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < command.length) cur += command[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < command.length) {
      cur += command[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (has || cur) out.push(cur);
  return out;
}

/** A runner for this machine or a wrapper command. */
export function createLocalRunner(options: LocalRunnerOptions = {}): CommandRunner {
  const via = options.via ?? [];
  const maxOutput = options.maxOutputChars ?? 1_000_000;
  return {
    name: via.length ? 'via' : 'local',
    run(request: RunRequest): Promise<RunResult> {
      // argv entries are never parsed by a shell here; text still gets the cloud runners' rules,
      // so a fix that works locally does not fail only once it goes through SSM.
      if (request.argsKind === 'validated-text') {
        try {
          validateScriptArgs(request.args, 'validated-text');
        } catch (err) {
          return Promise.reject(err);
        }
      }
      const argv = [...via, 'sh', '-s', '--', ...request.args];
      const started = performance.now();
      return new Promise((resolve) => {
        let stdout = '';
        let stderr = '';
        let truncated = false;
        let timedOut = false;
        let settled = false;
        const finish = (r: Omit<RunResult, 'durationMs' | 'stdout' | 'stderr' | 'truncated'>) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ ...r, stdout, stderr: stderr.slice(-4000), truncated, durationMs: performance.now() - started });
        };
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            // The whole process group: the wrapper and whatever it started.
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, request.timeoutMs);
        child.stdout.setEncoding('utf8');
        child.stderr.setEncoding('utf8');
        child.stdout.on('data', (d: string) => {
          if (stdout.length + d.length > maxOutput) {
            stdout += d.slice(0, Math.max(0, maxOutput - stdout.length));
            truncated = true;
          } else stdout += d;
        });
        child.stderr.on('data', (d: string) => {
          if (stderr.length < 64_000) stderr += d;
        });
        child.on('error', (err: NodeJS.ErrnoException) => {
          finish({ status: 'error', exitCode: null, reason: err.code === 'ENOENT' ? `${argv[0]}: command not found` : err.message });
        });
        child.on('close', (code, signal) => {
          if (timedOut) finish({ status: 'timeout', exitCode: code, reason: `no result within ${request.timeoutMs} ms` });
          else if (code === 0) finish({ status: 'success', exitCode: 0 });
          else
            finish({
              status: 'failed',
              exitCode: code,
              reason: signal ? `killed by ${signal}` : `exit code ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`,
            });
        });
        child.stdin.on('error', () => {
          // The wrapper may exit before reading the script (e.g. a bad nsenter target): its exit code tells.
        });
        child.stdin.end(request.script);
      });
    },
  };
}
