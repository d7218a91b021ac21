/** The registry itself: drift shows up exactly where nothing checks it. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS, HOST_CHECKS } from '../../lib/checks';
import { CHECK_STATUSES, type CheckResult } from '../../lib/report/types';
import type { Facts } from '../../lib/checks/types';
import { parseHostFacts } from '../../lib/collector/facts';
import { CHECK_SECTIONS, CUT_CALL } from '../../lib/checks/support/cut-calls';
import { editSection, FIXTURES, fixture, withCut, withSection } from '../support/fixture-doc';

const files = readdirSync('lib/checks').filter((f) => f.endsWith('.ts') && !['index.ts', 'types.ts'].includes(f));

describe('check registry', () => {
  it('has unique ids, each equal to its file name, and registers every check file', () => {
    const ids = ALL_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(files.map((f) => f.replace(/\.ts$/, '')).sort());
  });

  it('documents every check: title, description, needs, and a README row', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const c of ALL_CHECKS) {
      expect(c.title.length).toBeGreaterThan(5);
      expect(c.description.length).toBeGreaterThan(30);
      expect(c.needs.length).toBeGreaterThan(0);
      expect(readme).toContain(`\`${c.id}\``);
    }
  });

  it('returns a valid status and a result naming itself, for empty facts', () => {
    const empty: Facts = { port: 22, clients: [], probe: null, host: null, hostError: null, cloud: null };
    for (const c of ALL_CHECKS) {
      const r = c.run(empty);
      expect(CHECK_STATUSES).toContain(r.status);
      expect(r.id).toBe(c.id);
      expect(r.title).toBe(c.title);
      expect(typeof r.summary).toBe('string');
    }
  });
});

/** Sections whose collector function runs a command through run() (directly or through a helper): they can be cut. */
function cuttableSections(): string[] {
  const sh = readFileSync('lib/collector/collector.sh', 'utf8');
  const bodies = new Map([...sh.matchAll(/^([a-z_]+)\(\) \{\n([\s\S]*?)\n\}/gm)].map((m) => [m[1]!, m[2]!]));
  const runs = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, body] of bodies) {
      if (runs.has(name) || name === 'run') continue;
      if (/(^|[\s($|])run /m.test(body) || [...runs].some((f) => new RegExp(`(^|[\\s($|])${f}( |$)`, 'm').test(body))) {
        runs.add(name);
        changed = true;
      }
    }
  }
  return [...sh.matchAll(/^ {2}section (\S+) \d+ ([a-z_]+)/gm)].filter((m) => runs.has(m[2]!)).map((m) => m[1]!);
}

const CUTTABLE = cuttableSections();

function runAll(doc: string, client: string): Record<string, CheckResult> {
  const facts: Facts = { port: 22, clients: [{ ip: client, source: 'user' }], probe: null, host: parseHostFacts(doc), hostError: null, cloud: null };
  return Object.fromEntries(ALL_CHECKS.map((c) => [c.id, c.run(facts)]));
}

const asUser = (doc: string) => doc.replace(/^\|uid=0$/m, '|uid=1000');

describe('every check on every collector fixture', () => {
  it('finds the sections that run commands in the collector itself', () => {
    expect(CUTTABLE).toEqual(expect.arrayContaining(['service', 'disk', 'iptables', 'nft-json', 'firewalld', 'auth-log', 'iptables-legacy', 'sshd-effective']));
    expect(CUTTABLE).not.toContain('permissions');
    for (const sections of Object.values(CHECK_SECTIONS))
      for (const s of sections) expect(readFileSync('lib/collector/collector.sh', 'utf8')).toContain(`section ${s} `);
  });

  it.each(FIXTURES)('%s: every check returns a valid status naming itself, none errs', (name) => {
    const { doc, client } = fixture(name);
    for (const [id, r] of Object.entries(runAll(doc, client))) {
      expect(CHECK_STATUSES).toContain(r.status);
      expect(r.id).toBe(id);
      expect([id, r.status]).not.toEqual([id, 'error']);
    }
  });

  it.each(FIXTURES)('%s: CHECK_SECTIONS names every section a check reads (its answer changes when the section is empty)', (name) => {
    const { doc, client } = fixture(name);
    const base = runAll(doc, client);
    const sections = [...doc.matchAll(/^@section (\S+)$/gm)].map((m) => m[1]!).filter((s) => s !== 'meta' && s !== 'os');
    expect(sections.length).toBeGreaterThan(10);
    for (const section of sections) {
      const emptied = runAll(withSection(doc, section, [], 124), client);
      for (const c of HOST_CHECKS) {
        const changed = emptied[c.id]!.status !== base[c.id]!.status || emptied[c.id]!.summary !== base[c.id]!.summary;
        if (changed) expect([c.id, CHECK_SECTIONS[c.id] ?? []]).toEqual([c.id, expect.arrayContaining([section])]);
      }
    }
  });

  it.each(FIXTURES)('%s: a document cut in transport is not inspected past the cut, never passed', (name) => {
    const { doc, client } = fixture(name);
    const sections = [...doc.matchAll(/^@section (\S+)$/gm)].map((m) => m[1]!);
    for (let i = 2; i < sections.length; i++) {
      // Cut inside section i: its @end, the later sections and #end never arrive.
      const at = doc.indexOf(`@section ${sections[i]}\n`);
      const cut = doc.slice(0, at + `@section ${sections[i]}\n`.length);
      const lost = sections.slice(i);
      const r = runAll(cut, client);
      for (const c of HOST_CHECKS.filter((x) => CHECK_SECTIONS[x.id]?.some((s) => lost.includes(s)))) {
        expect([c.id, sections[i], r[c.id]!.status]).toEqual([c.id, sections[i], 'skip']);
        expect(r[c.id]!.summary).toMatch(/^not inspected: the collector's output ended before /);
      }
    }
  });

  it.each(FIXTURES)('%s: a check reading a section whose call was cut for time is not inspected, never pass', (name) => {
    const { doc, client } = fixture(name);
    for (const section of CUTTABLE) {
      const cut = runAll(withCut(withSection(doc, section, [], 124), section), client);
      for (const c of HOST_CHECKS.filter((x) => CHECK_SECTIONS[x.id]?.includes(section))) {
        expect([c.id, section, cut[c.id]!.status]).toEqual([c.id, section, 'skip']);
        expect(cut[c.id]!.summary.startsWith(CUT_CALL)).toBe(true);
      }
    }
  });

  it.each(FIXTURES)('%s: without root, no check passes on the rulesets, the unread log or sshd -t', (name) => {
    const { doc, client } = fixture(name);
    const user = asUser(doc);
    expect(runAll(user, client).firewall!.status).toBe('skip');
    const noLog = editSection(user, 'auth-log', (l) => l.filter((x) => x.startsWith('#')));
    const r = runAll(noLog, client);
    expect(r['auth-log']!.status).not.toBe('pass');
    expect(r['max-startups']!.status).not.toBe('pass');
    const keys = withSection(user, 'sshd-test', ['sshd: no hostkeys available -- exiting.'], 1);
    expect(runAll(keys, client)['sshd-config']!.status).toBe('skip');
  });

  it.each(FIXTURES)('%s: rulesets the kernel refused to show (root in a container) are not an open firewall', (name) => {
    const { doc, client } = fixture(name);
    let denied = withSection(doc, 'iptables', [
      '#denied iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)',
      '#omitted=0',
    ]);
    denied = withSection(denied, 'nft-json', ['#error netlink: Error: cache initialization failed: Operation not permitted'], 1);
    denied = withSection(withSection(denied, 'nftables', []), 'nft-clients', []);
    const r = runAll(denied, client).firewall!;
    expect(r.status).toBe('skip');
    expect(r.summary).toMatch(/^not inspected: the firewall rules could not be read \(iptables-save: .*Permission denied/);
  });
});
