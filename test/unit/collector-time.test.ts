/**
 * The collector's time bound: commands that hang (a wedged systemd, df on a dead mount) are cut,
 * the whole run stays within its budget, and the document names each cut call, which the
 * affected checks report as not inspected (never pass). Once with GNU `timeout` on PATH, once
 * with a PATH that has no `timeout` at all (the collector then bounds the calls itself).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUT_CALL } from '../../lib/checks/support/cut-calls';
import { parseHostFacts } from '../../lib/collector/facts';
import { COLLECTOR_BUDGET_S, collectorScript, collectorScriptFor } from '../../lib/collector/script';
import { byId, judgeDocument } from '../support/judge-doc';

const BUDGET_S = Number(/^BUDGET_S=(\d+)$/m.exec(collectorScript)?.[1]);
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
// Called in this order by the collector: ps (service), ss (listening), nft (nftables), ip
// (fw-route) use up the budget; df (disk) is then never started.
const HANGING = ['ps', 'ss', 'nft', 'ip', 'df'];

function hangingBin(root: string): string {
  const dir = path.join(root, 'hang');
  mkdirSync(dir);
  for (const c of HANGING) {
    writeFileSync(path.join(dir, c), '#!/bin/sh\nsleep 600\n');
    chmodSync(path.join(dir, c), 0o755);
  }
  return dir;
}

/** Every command of the system directories except `timeout`, as symlinks. */
function binWithoutTimeout(root: string, name = 'no-timeout'): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  for (const d of SYSTEM_DIRS) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (f === 'timeout' || existsSync(path.join(dir, f))) continue;
      symlinkSync(path.join(d, f), path.join(dir, f));
    }
  }
  return dir;
}

/** The collector with its PATH line replaced (it puts the system directories first). */
function withPath(p: string, script = collectorScript): string {
  const re = /^PATH=.*$/m;
  expect(re.test(script)).toBe(true);
  return script.replace(re, `PATH=${p}`);
}

function runCollector(script: string): Promise<{ out: string; code: number | null; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('dash', ['-s', '--', '10.0.0.1'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.on('close', (code) => resolve({ out, code, seconds: (performance.now() - started) / 1000 }));
    child.stdin.end(script);
  });
}

describe('collector time bound', () => {
  expect(BUDGET_S).toBeGreaterThan(0);
  const root = mkdtempSync(path.join(tmpdir(), 'sshdoctor-hang-'));
  const hang = hangingBin(root);

  it.concurrent.each([
    ['with timeout on PATH', () => `${hang}:${SYSTEM_DIRS.join(':')}`, 'timeout'],
    ['without any timeout command', () => `${hang}:${binWithoutTimeout(root)}`, 'self'],
  ])(
    '%s: finishes within its budget, exits 0 and names every call it cut',
    async (_name, pathOf, bound) => {
      const { out, code, seconds } = await runCollector(withPath(pathOf()));
      expect(code).toBe(0);
      expect(seconds).toBeLessThan(BUDGET_S + 3);
      expect(seconds).toBeGreaterThan(BUDGET_S - 2);
      expect(out.length).toBeLessThan(24_000);
      expect(out).toContain(`|bound=${bound} `);
      const facts = parseHostFacts(out);
      expect(facts.complete).toBe(true);
      const cuts = Object.fromEntries(facts.cutCalls.map((c) => [c.section, c]));
      expect(cuts.service).toMatchObject({ kind: 'timeout', seconds: 5, command: 'ps -e -o pid= -o args=' });
      expect(cuts.listening).toMatchObject({ kind: 'timeout', seconds: 5, command: 'ss -Htlnp' });
      // nft hung once: the later nft calls are not started, each named.
      expect(cuts.nftables).toMatchObject({ kind: 'timeout', seconds: 5, command: 'nft -j list ruleset', calls: 2 });
      expect(cuts['nft-json']).toMatchObject({ kind: 'skipped-hung', command: 'nft -j list ruleset' });
      expect(cuts['fw-route']).toMatchObject({ kind: 'timeout', command: 'ip -o route get 10.0.0.1' });
      expect(cuts.disk).toMatchObject({ kind: 'skipped-budget', command: 'df -P / /var /var/log /run /tmp', calls: 2 });
      // The blockers section's ps is skipped: ps hung in the service section.
      expect(cuts.blockers).toMatchObject({ kind: 'skipped-hung', command: 'ps -e -o args=' });

      const report = judgeDocument(out, ['10.0.0.1']);
      const checks = byId(report);
      for (const id of ['sshd-service', 'sshd-listen', 'firewall', 'disk', 'fail2ban', 'permissions']) {
        expect(checks[id]).toMatchObject({ status: 'skip', summary: expect.stringContaining(CUT_CALL) });
        expect(report.notInspected.find((n) => n.what.startsWith(`${id} `))?.reason).toContain(CUT_CALL);
      }
      expect(checks.disk!.summary).toContain('`df -P / /var /var/log /run /tmp` was not run');
      expect(checks.firewall!.summary).toContain('`nft -j list ruleset` was cut after 5 s');
      // Checks whose facts came from calls that answered still judge.
      expect(checks['sshd-libraries']!.summary).not.toContain(CUT_CALL);
    },
    60_000,
  );

  it('fits a shorter runner timeout: the budget drops to what the runner leaves it', async () => {
    expect(COLLECTOR_BUDGET_S).toBe(BUDGET_S);
    const budgetOf = (ms: number) => Number(/^BUDGET_S=(\d+)$/m.exec(collectorScriptFor(ms))?.[1]);
    expect([budgetOf(30_000), budgetOf(60_000), budgetOf(12_000), budgetOf(5_000)]).toEqual([20, 20, 6, 2]);
    // A 12 s runner timeout: ps (service) is cut after 5 s; ss (listening) gets what is left of
    // the 6 s (about 1 s, none on a loaded machine); nothing is started after that.
    const { out, code, seconds } = await runCollector(withPath(`${hang}:${SYSTEM_DIRS.join(':')}`, collectorScriptFor(12_000)));
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(6 + 3);
    const cuts = Object.fromEntries(parseHostFacts(out).cutCalls.map((c) => [c.section, c]));
    expect(cuts.service).toMatchObject({ kind: 'timeout', seconds: 5 });
    expect(cuts.listening?.seconds).toBeLessThanOrEqual(1);
    for (const s of ['nftables', 'fw-route', 'disk']) expect([s, cuts[s]?.kind]).toEqual([s, 'skipped-budget']);
  }, 30_000);

  it('with no writable temporary directory, still marks the section a hung call slowed down', async () => {
    const dir = path.join(root, 'df-only');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'df'), '#!/bin/sh\nsleep 600\n');
    chmodSync(path.join(dir, 'df'), 0o755);
    const loop = /^for d in .*; do$/m;
    expect(loop.test(collectorScript)).toBe(true);
    const script = withPath(`${dir}:${SYSTEM_DIRS.join(':')}`, collectorScript.replace(loop, 'for d in /nonexistent; do'));
    const { out, code, seconds } = await runCollector(script);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(2 * 6 + 3);
    const facts = parseHostFacts(out);
    expect(facts.cutCalls.map((c) => c.section)).toEqual(['disk']);
    expect(facts.cutCalls[0]!.command).toBe('(not recorded: no writable temporary directory)');
    expect(byId(judgeDocument(out, ['10.0.0.1'])).disk!.status).toBe('skip');
  }, 30_000);

  it("bounds calls itself when timeout is busybox's (it kills only the command, not a script's children)", async () => {
    const dir = path.join(root, 'busybox-timeout');
    mkdirSync(dir);
    symlinkSync('/usr/bin/busybox', path.join(dir, 'timeout'));
    const { out, code } = await runCollector(withPath(`${dir}:${binWithoutTimeout(root, 'no-timeout-2')}`));
    expect(code).toBe(0);
    expect(out).toContain('|bound=self ');
    expect(parseHostFacts(out).cutCalls).toEqual([]);
  }, 30_000);
});
