import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main';

const dir = mkdtempSync(join(tmpdir(), 'wrappers-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'allow'), 'sshd: 192.168.0.0/16\n');
writeFileSync(join(dir, 'deny'), 'sshd: 203.0.113.9\nsshd: 10.0.0.0/8 EXCEPT 10.1.\n');
writeFileSync(join(dir, 'clients'), '# listed\n203.0.113.9\n\n10.1.0.1\n');

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['wrappers', ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false });
  return { code, stdout, stderr };
}
const files = () => ['--allow', join(dir, 'allow'), '--deny', join(dir, 'deny')];

describe('sshdoctor wrappers', () => {
  it('prints JSON decisions and exits 1 when a client is denied', async () => {
    const r = await run([...files(), '--clients-file', join(dir, 'clients'), '--client', '192.168.4.4', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { client: string; decision: string; line: number | null; fix?: { kind: string } }[];
    expect(out.map((d) => [d.client, d.decision, d.line])).toEqual([
      ['192.168.4.4', 'allow', 1],
      ['203.0.113.9', 'deny', 1],
      ['10.1.0.1', 'allow', null],
    ]);
    expect(out[1]?.fix?.kind).toBe('comment-out');
  });

  it('exits 0 when every client is allowed, and explains the fix in text', async () => {
    expect((await run([...files(), '--client', '10.1.2.3'])).code).toBe(0);
    const denied = await run([...files(), '--client', '10.2.0.1']);
    expect(denied.stdout).toMatch(/10\.2\.0\.1: deny \[hosts\.deny\] .*line 2/);
    expect(denied.stdout).toMatch(/fix: add "sshd: 10\.2\.0\.1" at the end of/);
  });

  it('rejects bad input with exit 2 and names the argument', async () => {
    const bad = await run([...files(), '--client', '10.0.0.1; rm -rf /']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--client: .* is not an IPv4 or IPv6 address/);
    expect((await run([...files()])).stderr).toMatch(/--client: at least one client/);
    expect((await run([...files(), '--client', '10.0.0.1', '--daemon', 'a b'])).stderr).toMatch(/--daemon: /);
    const names = await run([...files(), '--client', '10.0.0.1', '--client', '10.0.0.2', '--client', '10.0.0.3', '--client-name', 'a', '--client-name', 'b']);
    expect(names.stderr).toMatch(/--client-name: give it once/);
    expect((await run(['--nope'])).stderr).toMatch(/--nope: unknown option/);
  });
});
