/**
 * TCP wrappers engine speed, on a 100,000-line DenyHosts-style hosts.deny:
 * - parse time (in-process, median of 5);
 * - microseconds per decision once parsed (in-process, 10,000 decisions);
 * - end to end: 10,000 decisions in ONE `node bin/sshdoctor.js wrappers` process, against
 *   10,000 `tcpdmatch` runs (a sample of 500 is timed and extrapolated; they are started from
 *   one shell loop, the cheapest way to start them).
 * Goal (issue 3): >= 100x faster end to end, < 50 us per decision once parsed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decide, linesFromText, parseHostsFile } from '../lib/wrappers/index';
import { median } from './support/median';

const LINES = 100_000;
const DECISIONS = 10_000;
const TCPDMATCH_SAMPLE = 500;

function ip(i: number): string {
  // Deterministic spread over public-looking space.
  const x = (Math.imul(i + 1, 2654435761) >>> 0) % 0xdfffffff;
  return `${(x >>> 24) | 1}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd, maxBuffer: 1 << 28 }, (err, stdout) => {
      // `wrappers` exits 1 when a client is denied: that is a result, not a failure.
      if (err && typeof err.code !== 'number') return rej(err);
      res({ ms: performance.now() - t0, stdout });
    });
  });
}

export async function main(): Promise<void> {
  const root = resolve(import.meta.dirname ?? '.', '..');
  const dir = mkdtempSync(join(tmpdir(), 'wrappers-bench-'));
  try {
    let deny = '# DenyHosts: Sat Jan 1 00:00:00 2025 | sshd: 1.2.3.4\n';
    for (let i = 0; i < LINES; i++) deny += `${i % 10 === 0 ? 'ALL' : 'sshd'}: ${ip(i)}\n`;
    const allow = 'sshd: 192.168.0.0/255.255.0.0\nsshd: 10.0.0.0/8\n';
    writeFileSync(join(dir, 'hosts.deny'), deny);
    writeFileSync(join(dir, 'hosts.allow'), allow);
    // Half the clients are listed (denied, deep in the file), half are not.
    const clients = Array.from({ length: DECISIONS }, (_, i) => (i % 2 === 0 ? ip((i * 9973) % LINES) : ip(LINES + i)));
    writeFileSync(join(dir, 'clients.txt'), `${clients.join('\n')}\n`);

    const parseMs: number[] = [];
    let parsed = parseHostsFile({ path: 'hosts.deny', lines: linesFromText(deny) });
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      parsed = parseHostsFile({ path: 'hosts.deny', lines: linesFromText(deny) });
      parseMs.push(performance.now() - t0);
    }
    const policy = { allow: parseHostsFile({ path: 'hosts.allow', lines: linesFromText(allow) }), deny: parsed };
    const tPlan = performance.now();
    decide(policy, 'sshd', { addr: clients[0] as string });
    const planMs = performance.now() - tPlan;
    let denied = 0;
    const tDecide = performance.now();
    for (const c of clients) if (decide(policy, 'sshd', { addr: c }).decision === 'deny') denied++;
    const perDecisionUs = ((performance.now() - tDecide) * 1000) / DECISIONS;

    console.log(`wrappers: ${LINES}-line DenyHosts-style hosts.deny (${(deny.length / 1e6).toFixed(1)} MB), ${DECISIONS} clients (${denied} denied)`);
    console.log(`  parse (in-process, median of 5):            ${median(parseMs).toFixed(1)} ms`);
    console.log(`  first decision (builds the address index):  ${planMs.toFixed(1)} ms`);
    console.log(`  per decision once parsed (in-process):      ${perDecisionUs.toFixed(2)} us  (goal < 50 us)`);

    const bin = join(root, 'bin', 'sshdoctor.js');
    if (!existsSync(join(root, 'dist', 'cli.mjs'))) {
      console.log('  end to end: skipped, dist/cli.mjs is missing (run npm run build)');
      return;
    }
    const ours = await run(
      process.execPath,
      [bin, 'wrappers', '--allow', 'hosts.allow', '--deny', 'hosts.deny', '--clients-file', 'clients.txt', '--json'],
      dir,
    );
    const decisions = JSON.parse(ours.stdout) as { decision: string }[];
    if (decisions.length !== DECISIONS) throw new Error(`expected ${DECISIONS} decisions, got ${decisions.length}`);
    console.log(
      `  sshdoctor wrappers, one process, ${DECISIONS} clients: ${ours.ms.toFixed(0)} ms  (${((ours.ms * 1000) / DECISIONS).toFixed(1)} us per decision, start-up and parse included)`,
    );

    let tcpdmatch: string;
    try {
      tcpdmatch = execFileSync('sh', ['-c', 'command -v tcpdmatch'], { encoding: 'utf8' }).trim();
    } catch {
      console.log('  tcpdmatch: not installed, comparison skipped');
      return;
    }
    const sample = clients.slice(0, TCPDMATCH_SAMPLE);
    const script = 'for c in "$@"; do "$0" -d sshd "$c" >/dev/null 2>&1; done';
    const theirs = await run('sh', ['-c', script, tcpdmatch, ...sample], dir);
    const tcpdPerRunMs = theirs.ms / TCPDMATCH_SAMPLE;
    const tcpdTotalMs = tcpdPerRunMs * DECISIONS;
    console.log(
      `  tcpdmatch -d: ${TCPDMATCH_SAMPLE} runs timed (${theirs.ms.toFixed(0)} ms, ${tcpdPerRunMs.toFixed(2)} ms each), extrapolated to ${DECISIONS}: ${(tcpdTotalMs / 1000).toFixed(1)} s`,
    );
    console.log(`  end to end speed-up: ${(tcpdTotalMs / ours.ms).toFixed(0)}x  (goal >= 100x)`);
    // Same answers, on the timed sample: the speed is only worth quoting if the results agree.
    const agree = sample.every((c, i) => {
      const out = execFileSync(tcpdmatch, ['-d', 'sshd', c], { cwd: dir, encoding: 'utf8' });
      return /access:\s+granted/.test(out) === (decisions[i]?.decision === 'allow');
    });
    if (!agree) throw new Error('sshdoctor and tcpdmatch disagree on the benchmark sample');
    console.log(`  agreement with tcpdmatch on the ${TCPDMATCH_SAMPLE} timed clients: 100%`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
