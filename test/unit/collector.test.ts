/** The collector script itself: shellcheck, shells, size, hostile arguments, and the document format. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildRunnableScript } from '../../lib/runners/cloud-assistant-runner';
import { describe, expect, it } from 'vitest';
import { collectorScript } from '../../lib/collector/script';
import { parseDocument } from '../../lib/collector/document';
import { parseHostFacts } from '../../lib/collector/facts';
import { CollectorDocumentError } from '../../lib/collector/errors';
import { compactShellScript } from '../../lib/runners/compact-script';
import { applyScript } from '../../lib/remediation/apply';

const SCRIPT = path.resolve('lib/collector/collector.sh');

function runIn(shell: string[], args: string[] = []): { out: string; code: number | null } {
  const r = spawnSync(shell[0]!, [...shell.slice(1), '-s', '--', ...args], { input: collectorScript, encoding: 'utf8', timeout: 20_000 });
  return { out: r.stdout, code: r.status };
}

describe('collector script', () => {
  it('passes shellcheck as POSIX sh', () => {
    const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'style', SCRIPT], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each([['dash'], ['busybox', 'sh'], ['bash', '--posix']])('runs under %s, exits 0 and stays under 24,000 characters', (...shell) => {
    const { out, code } = runIn(shell, ['127.0.0.1']);
    expect(code).toBe(0);
    expect(out.length).toBeLessThan(24_000);
    const facts = parseHostFacts(out);
    expect(facts.complete).toBe(true);
    expect(facts.meta.clients).toEqual(['127.0.0.1']);
    expect(facts.sshd.path).toBe('/usr/sbin/sshd');
  });

  it('ignores and counts arguments that are not addresses, never executing them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sshdoctor-arg-'));
    const marker = path.join(dir, 'pwned');
    const { out, code } = runIn(['dash'], [`$(touch ${marker})`, `;touch ${marker}`, '10.0.0.1', '`id`']);
    expect(code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    const facts = parseHostFacts(out);
    expect(facts.meta.clients).toEqual(['10.0.0.1']);
    expect(out).toContain('|badargs=3');
  });
});

describe('transport form (comments and indentation stripped)', () => {
  it('produces the same document as the source script, and is smaller', () => {
    const source = readFileSync(SCRIPT, 'utf8');
    // Both runs read this live host, which other processes change in between (a listening
    // socket, an inode count, the sshd processes of labs running beside this test): those
    // sections are compared by their shape only. A difference between the forms shows in every attempt.
    const live = /^(@section (service|listening|disk)\n)(?:\|.*\n)*@end \2 [^\n]*$/gm;
    const collect = (script: string) =>
      spawnSync('dash', ['-s', '--', '127.0.0.1'], { input: script, encoding: 'utf8' })
        .stdout.replace(/^\|(local)?time=.*$/gm, '')
        .replace(live, '$1@end $2');
    let a = '';
    let b = '';
    for (let attempt = 0; attempt < 5 && (attempt === 0 || a !== b); attempt++) {
      a = collect(source);
      b = collect(collectorScript);
    }
    expect(b).toBe(a);
    expect(collectorScript.length).toBeLessThan(source.length * 0.85);
    // Cloud Assistant's RunCommand limit, as the ECS SDK's model documents it
    // (@alicloud/ecs20140526 RunCommandRequest.commandContent: "cannot exceed 24 KB after
    // Base64 encoding"): the content the runner sends, with the largest arguments it carries.
    const args = ['2001:db8::1', '203.0.113.9', 'user=alice', `key=ssh-rsa ${'A'.repeat(700)}`];
    expect(Buffer.from(buildRunnableScript(collectorScript, args, 'validated-text')).toString('base64').length).toBeLessThan(24 * 1024);
  });

  it('keeps the interpreter line and code, drops whole-line comments only', () => {
    expect(compactShellScript('#!/bin/sh\n# note\n  echo "a # b"\n\n\tawk \'{ print }\'\n')).toBe('#!/bin/sh\necho "a # b"\nawk \'{ print }\'\n');
  });

  it('leaves the remediation script valid sh', () => {
    const r = spawnSync('dash', ['-n'], { input: applyScript, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('collector document', () => {
  it('cannot be forged by data lines that look like markers', () => {
    const doc = parseDocument(
      ['#sshdoctor-collector 1', '@section auth-log', '|@section meta', '|#end', '@end auth-log rc=0 chars=1 dropped=0', '#end'].join('\n'),
    );
    expect([...doc.sections.keys()]).toEqual(['auth-log']);
    expect(doc.sections.get('auth-log')!.lines).toEqual(['@section meta', '#end']);
    expect(doc.complete).toBe(true);
  });

  it('marks a document cut in transport as incomplete, and counts dropped lines', () => {
    const doc = parseDocument(
      [
        '#sshdoctor-collector 1',
        '@section hosts.deny',
        '|12\tsshd: 1.2.3.4',
        '@end hosts.deny rc=0 chars=20 dropped=3 cut=0 gdropped=2',
        '@section iptables',
        '|*filter',
      ].join('\n'),
    );
    expect(doc.complete).toBe(false);
    expect(doc.sections.get('hosts.deny')!.dropped).toBe(5);
    expect(doc.sections.get('iptables')!.rc).toBeNull();
  });

  it('rejects output that is not a collector document, or another version', () => {
    expect(() => parseDocument('bash: sh: command not found')).toThrow(CollectorDocumentError);
    expect(() => parseDocument('#sshdoctor-collector 9\n#end')).toThrow(/version 9/);
  });

  it('keeps the exact line of a client in a 20,000-line DenyHosts file and omits the rest, counted', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sshdoctor-hd-'));
    const file = path.join(dir, 'hosts.deny');
    const lines = ['# DenyHosts'];
    for (let i = 0; i < 20_000; i++) lines.push(`sshd: 198.51.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`);
    lines.splice(12_345, 0, 'sshd: 203.0.113.9');
    lines.push('sshd: 10.1.', 'ALL: [2001:db8::1]', 'sshd: [2001:db8::2] : allow');
    writeFileSync(file, `${lines.join('\n')}\n`);
    // Run only the hosts_file function of the real script on this file.
    const fn = execFileSync('sed', ['-n', '/^hosts_file()/,/^}/p', SCRIPT], { encoding: 'utf8' });
    const out = execFileSync('dash', ['-c', `${fn}\nCLIENTS=" 203.0.113.9 2001:db8::2"\nhosts_file "$1"`, 'x', file], { encoding: 'utf8' });
    expect(out.split('\n').filter(Boolean)).toEqual([
      '12346\tsshd: 203.0.113.9',
      '20003\tsshd: 10.1.',
      '20005\tsshd: [2001:db8::2] : allow',
      `#lines=20005 omitted=20001 comments=1 unterminated=0`,
    ]);
  });
});
