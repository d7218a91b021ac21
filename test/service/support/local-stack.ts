/** `npm start` (scripts/start-local.mjs) as a child process tests can wait for and stop. */
import { spawn } from 'node:child_process';

export interface LocalStack {
  /** Everything it printed so far. */
  log(): string;
  stop(): void;
}

/**
 * Starts the local stack with `env` (ports, secrets, callback origins); `wrap` runs it inside
 * something (a lab instance's `nsenter`). Resolves once serverless-offline is ready.
 */
export async function startLocalStack(env: NodeJS.ProcessEnv, opts: { wrap?: string; timeoutMs?: number } = {}): Promise<LocalStack> {
  const command = `cd ${process.cwd()} && exec ${process.execPath} scripts/start-local.mjs`;
  const child = opts.wrap
    ? spawn('sh', ['-c', `${opts.wrap} sh -c '${command}'`], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn('sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout!.on('data', (d) => void (log += d));
  child.stderr!.on('data', (d) => void (log += d));
  const stack: LocalStack = {
    log: () => log,
    stop: () => {
      if (!child.pid) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
  const end = Date.now() + (opts.timeoutMs ?? 90_000);
  while (!/Server ready/.test(log)) {
    if (Date.now() > end || child.exitCode !== null) {
      stack.stop();
      throw new Error(`npm start did not come up:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return stack;
}
