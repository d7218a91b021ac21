/**
 * The CLI as operators install it: `npm pack` in a clean clone of this repository, then
 * `npm install -g` of the tarball into a temporary prefix, then the installed command run from
 * a directory outside any checkout. Runtime dependencies come from the npm registry, as they
 * would for a user.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../lib/report/types';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

let work: string;
let prefix: string;
let installed: string;
let tarball: string;
let outside: string;

function sh(cmd: string, args: string[], cwd: string, timeoutMs = 240_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    // The user's environment, minus what vitest or CI adds that a user would not have.
    env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sshdoctor-pack-'));
  const clone = join(work, 'clone');
  must(sh('git', ['clone', '-q', REPO, clone], work), 'git clone');
  // The clone builds with this checkout's dev dependencies (the build needs esbuild, nothing
  // else); `npm pack` runs `prepare`, which builds dist/ from the clone's own sources.
  symlinkSync(join(REPO, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const packed = must(sh('npm', ['pack', '--json', '--pack-destination', work], clone), 'npm pack');
  const info = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string }[];
  tarball = join(work, info[0]!.filename);
  prefix = join(work, 'prefix');
  must(sh('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], work, 600_000), 'npm install -g');
  installed = join(prefix, 'bin', 'sshdoctor');
  outside = mkdtempSync(join(tmpdir(), 'sshdoctor-elsewhere-'));
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (outside) rmSync(outside, { recursive: true, force: true });
});

describe('the packed CLI, installed with npm install -g', () => {
  it('holds only the built CLI, its bin and the README: no sources, tests, fixtures or lab scripts', () => {
    const listing = must(sh('tar', ['-tzf', tarball], work), 'tar -t')
      .trim()
      .split('\n')
      .sort();
    expect(listing).toContain('package/bin/sshdoctor.js');
    expect(listing).toContain('package/dist/cli.mjs');
    expect(listing).toContain('package/package.json');
    const unexpected = listing.filter((f) => !/^package\/(bin\/sshdoctor\.js|dist\/.+\.mjs|README\.md|package\.json|LICENSE)$/.test(f));
    expect(unexpected).toEqual([]);
  });

  it('prints its version from outside any checkout', () => {
    const r = sh(installed, ['--version'], outside);
    expect(r).toEqual({ code: 0, stdout: `sshdoctor ${pkg.version}\n`, stderr: '' });
  });

  it.each(['check', 'fix', 'wrappers'])('answers %s --help with its usage and exit 0', (command) => {
    const r = sh(installed, [command, '--help'], outside);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`usage:\\s+sshdoctor ${command} `));
    expect(r.stderr).toBe('');
  });

  it('runs check --local --json: a valid report on stdout and nothing on stderr', () => {
    const r = sh(installed, ['check', '--local', '--json'], outside, 120_000);
    expect(r.stderr).toBe('');
    expect([0, 1]).toContain(r.code);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.tool).toEqual({ name: 'sshdoctor', version: pkg.version });
    expect(report.target).toMatchObject({ host: '127.0.0.1', port: 22 });
    expect(report.collector.runner).toBe('local');
    expect(['ok', 'partial']).toContain(report.collector.status);
    expect(report.checks.map((c) => c.id)).toContain('tcp-wrappers');
    expect(['reachable', 'blocked', 'unknown']).toContain(report.verdict.status);
    expect(r.code).toBe(report.verdict.status === 'reachable' && !report.checks.some((c) => c.status === 'fail') ? 0 : 1);
  });

  it('installs every module the CLI imports at run time (each declared dependency resolves)', () => {
    const root = join(prefix, 'lib', 'node_modules', 'sshdoctor');
    const dist = join(root, 'dist');
    const files = readdirSync(dist, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.mjs'));
    const bare = new Set<string>();
    for (const f of files) {
      const src = readFileSync(join(dist, f), 'utf8');
      for (const m of src.matchAll(/(?:from|import\()\s*"([@\w][\w@./:-]*)"/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        bare.add(
          spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/'),
        );
      }
    }
    const external = [...bare].sort();
    expect(external.length).toBeGreaterThan(0);
    for (const name of external) {
      expect(Object.keys(pkg.dependencies), `${name} is imported by dist/ but not a dependency`).toContain(name);
      expect(existsSync(join(root, 'node_modules', name, 'package.json')), `${name} is not installed with the CLI`).toBe(true);
    }
  });
});
