/**
 * Differential test: every decision of the engine against Debian's own `tcpdmatch -d` on the
 * same generated files. tcpdmatch runs libwrap's hosts_access() in dry-run mode: it prints
 * "granted", "denied", or "delegated" when a `twist` option would replace the daemon. We
 * compare allow <-> granted, deny via twist <-> delegated, any other deny <-> denied.
 * Clients are addresses, so tcpdmatch does no name lookup ("what tcpd would do when client
 * name lookup fails"), which is the engine's behaviour without --client-name.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decide, linesFromText, parseHostsFile, type WrappersPolicy } from '../../lib/wrappers/index';
import { clientSample, hostsFileText, patternFileText, pick, rng } from './rule-generator';

// A fixed seed keeps CI deterministic; set WRAPPERS_SEED to explore other generated files.
const SEED = Number(process.env.WRAPPERS_SEED ?? 20261121);
const FILESETS = 600;
const CLIENTS_PER_SET = 18;
const CONCURRENCY = 2;

const root = mkdtempSync(join(tmpdir(), 'wrappers-diff-'));
let keepFiles = false;
afterAll(() => {
  if (!keepFiles) rmSync(root, { recursive: true, force: true });
});

interface FileSet {
  dir: string;
  daemon: string;
  clients: string[];
}

function makeSet(i: number): FileSet {
  const r = rng(SEED + i * 7919);
  const dir = join(root, `set-${i}`);
  mkdirSync(dir);
  const files = [join(dir, 'pat-a'), join(dir, 'pat-b')];
  writeFileSync(files[0] as string, patternFileText(r));
  writeFileSync(files[1] as string, patternFileText(r));
  writeFileSync(join(dir, 'hosts.allow'), hostsFileText(r, files));
  writeFileSync(join(dir, 'hosts.deny'), hostsFileText(r, files));
  return { dir, daemon: pick(r, ['sshd', 'sshd', 'sshd', 'ftpd']), clients: clientSample(r, CLIENTS_PER_SET) };
}

/** One shell per file set runs tcpdmatch for every client; clients are arguments, never script text. */
function tcpdmatch(set: FileSet): Promise<string[]> {
  const script = 'd=$1; shift; for c in "$@"; do printf "@@\\n"; tcpdmatch -d "$d" "$c" 2>/dev/null | grep "^access:"; done';
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', script, 'sh', set.daemon, ...set.clients], { cwd: set.dir, maxBuffer: 1 << 24 }, (err, stdout) => {
      if (err) return reject(err);
      const answers = stdout
        .split('@@\n')
        .slice(1)
        .map((s) => s.replace(/^access:\s*/, '').trim());
      resolve(answers);
    });
  });
}

function engine(set: FileSet): string[] {
  const read = (name: string) => parseHostsFile({ path: name, lines: linesFromText(readFileSync(join(set.dir, name), 'latin1')) });
  const policy: WrappersPolicy = {
    allow: read('hosts.allow'),
    deny: read('hosts.deny'),
    readPatternFile: (p) => {
      try {
        return readFileSync(p, 'latin1');
      } catch {
        return undefined;
      }
    },
  };
  return set.clients.map((c) => {
    const d = decide(policy, set.daemon, { addr: c });
    return d.decision === 'allow' ? 'granted' : d.via === 'twist' ? 'delegated' : 'denied';
  });
}

describe('differential against tcpdmatch -d (libwrap 7.6.q)', () => {
  it(`agrees with tcpdmatch on ${FILESETS * CLIENTS_PER_SET} generated decisions (seed ${SEED})`, async () => {
    const sets = Array.from({ length: FILESETS }, (_, i) => makeSet(i));
    const results: string[][] = new Array(sets.length);
    let next = 0;
    const worker = async () => {
      while (next < sets.length) {
        const i = next++;
        results[i] = await tcpdmatch(sets[i] as FileSet);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    let compared = 0;
    let mismatched = 0;
    const mismatches: string[] = [];
    const outcomes = new Map<string, number>();
    sets.forEach((set, i) => {
      const oracle = results[i] as string[];
      const ours = engine(set);
      expect(oracle).toHaveLength(set.clients.length);
      set.clients.forEach((c, k) => {
        compared++;
        outcomes.set(oracle[k] as string, (outcomes.get(oracle[k] as string) ?? 0) + 1);
        if (oracle[k] !== ours[k]) mismatched++;
        if (oracle[k] !== ours[k] && mismatches.length < 5) {
          mismatches.push(
            `${set.dir} daemon=${set.daemon} client=${c}: tcpdmatch=${oracle[k]} engine=${ours[k]}\n` +
              `--- hosts.allow\n${readFileSync(join(set.dir, 'hosts.allow'), 'latin1')}--- hosts.deny\n${readFileSync(join(set.dir, 'hosts.deny'), 'latin1')}`,
          );
        }
      });
    });
    // Keep the failing files for inspection.
    keepFiles = mismatched > 0;
    expect(compared).toBeGreaterThanOrEqual(10_000);
    expect(mismatches.join('\n\n'), `${mismatched} mismatches of ${compared}`).toBe('');
    // The generator must exercise every outcome, or agreement proves little (twist is rare by design).
    expect(outcomes.get('granted') ?? 0).toBeGreaterThan(500);
    expect(outcomes.get('denied') ?? 0).toBeGreaterThan(500);
    expect(outcomes.get('delegated') ?? 0).toBeGreaterThan(5);
  }, 300_000);
});
