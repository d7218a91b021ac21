/**
 * What `npm install -g sshdoctor` brings: the packed tarball's size and file count (`npm pack
 * --dry-run`), and the installed size with its runtime dependencies, measured by installing
 * the tarball into a temporary prefix. Also `sshdoctor --version`'s start-up time from that
 * install, next to a bare `node -e ''`, so the CLI's own load cost is a difference.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './support/median';

const RUNS = Number(process.env.BENCH_ROUNDS ?? 15);
const KB = 1024;

function timeOnce(cmd: string, args: string[]): number {
  const t = performance.now();
  execFileSync(cmd, args, { stdio: 'ignore' });
  return performance.now() - t;
}

export async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'sshdoctor-package-bench-'));
  try {
    const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', out], { encoding: 'utf8' });
    const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
    console.log(
      `tarball ${info!.filename}: ${(info!.size / KB).toFixed(0)} KB packed, ${(info!.unpackedSize / KB).toFixed(0)} KB unpacked, ${info!.entryCount} files`,
    );
    const prefix = join(out, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(out, info!.filename)], { stdio: 'ignore', timeout: 600_000 });
    const du = execFileSync('du', ['-sk', join(prefix, 'lib', 'node_modules', 'sshdoctor')], { encoding: 'utf8' });
    console.log(`installed with runtime dependencies: ${(Number(du.split('\t')[0]) / KB).toFixed(1)} MB`);
    const bin = join(prefix, 'bin', 'sshdoctor');
    const bare: number[] = [];
    const cli: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      bare.push(timeOnce(process.execPath, ['-e', '']));
      cli.push(timeOnce(bin, ['--version']));
    }
    const b = median(bare);
    const c = median(cli);
    console.log(
      `start-up, median of ${RUNS}: node -e '' ${b.toFixed(1)} ms, sshdoctor --version ${c.toFixed(1)} ms (+${(c - b).toFixed(1)} ms, ${(c / b).toFixed(2)}x)`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
