/**
 * The collector's nft-json section keeps only the input path of a large ruleset (a firewalld
 * ruleset is far over the section's size cap) and leaves out the ip filter table that
 * iptables-nft owns when iptables-save already showed it. Real `nft -j` output (captured in a
 * network namespace) is served by a stand-in `nft` first on PATH.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostFacts } from '../../lib/collector/facts';
import { collectorScript } from '../../lib/collector/script';
import { parseNftJson } from '../../lib/firewall/nftables';
import { sectionLines } from '../support/fixture-doc';
import { byId, judgeDocument } from '../support/judge-doc';

const NFT = path.resolve('test/fixtures/nft');
const CLIENT = '198.51.100.7';

/** A bin directory whose `nft -j list ruleset` prints a captured ruleset (or this JSON), and optionally an iptables-save. */
function standIns(json: string, iptablesSave?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sshdoctor-nft-'));
  const line3 = path.join(dir, 'ruleset.json');
  writeFileSync(line3, json.startsWith('{') ? json : readFileSync(path.join(NFT, json), 'utf8').split('\n')[2]!);
  writeFileSync(path.join(dir, 'nft'), `#!/bin/sh\ncase "$*" in\n  "-j list ruleset") cat '${line3}' ;;\n  *) exit 0 ;;\nesac\n`);
  chmodSync(path.join(dir, 'nft'), 0o755);
  if (iptablesSave) {
    writeFileSync(path.join(dir, 'iptables-save'), `#!/bin/sh\ncat '${path.join(NFT, iptablesSave)}'\n`);
    chmodSync(path.join(dir, 'iptables-save'), 0o755);
  }
  return dir;
}

function collect(bin: string): string {
  const re = /^PATH=.*$/m;
  expect(re.test(collectorScript)).toBe(true);
  const script = collectorScript.replace(re, `PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`);
  const r = spawnSync('dash', ['-s', '--', CLIENT], { input: script, encoding: 'utf8', timeout: 30_000 });
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('collector nft-json section', () => {
  it("keeps firewalld's input path (85 KB of JSON in 4 KB), whole and judged, never cut by the cap", () => {
    const doc = collect(standIns('firewalld-full.json.txt'));
    const facts = parseHostFacts(doc);
    expect(facts.firewall.nftJson.truncated).toBe(false);
    const kept = sectionLines(doc, 'nft-json');
    expect(kept.find((l) => l.startsWith('#omitted-objects '))).toBe('#omitted-objects 604');
    const rs = parseNftJson(facts.firewall.nftJson.text!);
    expect([...new Set(rs.chains.map((c) => c.name))].sort()).toEqual([
      'filter_INPUT',
      'filter_INPUT_ZONES',
      'filter_IN_public',
      'filter_IN_public_allow',
      'filter_IN_public_deny',
      'filter_IN_public_log',
      'filter_IN_public_post',
      'filter_IN_public_pre',
    ]);
    const fw = byId(judgeDocument(doc, [CLIENT])).firewall!;
    expect(fw.status).not.toBe('fail');
    expect(fw.summary).not.toMatch(/could not be evaluated|not evaluable/);
  });

  it('leaves out the ip filter table iptables-nft owns when iptables-save (nf_tables) showed it', () => {
    const doc = collect(standIns('ufw-iptables-nft.json.txt', 'ufw-ubuntu.save'));
    expect(sectionLines(doc, 'nft-json').slice(0, 2)).toEqual(['#omitted-table ip filter (iptables-nft: read through iptables-save)', '#omitted-objects 57']);
    const facts = parseHostFacts(doc);
    expect(JSON.parse(facts.firewall.nftJson.text!)).toEqual({
      nftables: [{ metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } }],
    });
    expect(facts.firewall.iptables.lines).toContain('-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT');
  });

  it('keeps the ip filter table when iptables-save did not show it, and then says the JSON was cut', () => {
    // The stand-in iptables-save prints no "(nf_tables)" ruleset: nothing says iptables covers the table.
    const doc = collect(standIns('ufw-iptables-nft.json.txt', 'policy-drop.nft'));
    const lines = sectionLines(doc, 'nft-json');
    expect(lines.some((l) => l.startsWith('#omitted-table'))).toBe(false);
    expect(lines.join('')).toContain('"table":"filter","name":"INPUT"');
    // Its xt expressions exceed the section cap: the check must not judge a cut ruleset.
    const facts = parseHostFacts(doc);
    expect(facts.firewall.nftJson.truncated).toBe(true);
    const fw = byId(judgeDocument(doc, [CLIENT])).firewall!;
    expect(fw.status).not.toBe('pass');
    expect(fw.summary).toContain("the JSON ruleset was cut by the collector's size cap");
  });

  it('keeps of a 5000-address ban set its prefixes, ranges and the client, and judges the ban', () => {
    // As nft -j prints a fail2ban-style set (elements with timeouts) and the rule that drops its members.
    const banned = Array.from({ length: 5000 }, (_, i) => `"10.${(i >> 8) & 255}.${i & 255}.9"`);
    const elems = [
      ...banned,
      `{"elem": {"val": "${CLIENT}", "timeout": 600, "expires": 412}}`,
      '{"prefix": {"addr": "192.0.2.0", "len": 24}}',
      '{"range": ["203.0.113.10", "203.0.113.20"]}',
    ];
    const json = `{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "f2b", "handle": 7}}, {"set": {"family": "inet", "name": "addr-set-sshd", "table": "f2b", "type": "ipv4_addr", "handle": 2, "flags": ["timeout"], "elem": [${elems.join(', ')}]}}, {"chain": {"family": "inet", "table": "f2b", "name": "f2b-chain", "handle": 1, "type": "filter", "hook": "input", "prio": -1, "policy": "accept"}}, {"rule": {"family": "inet", "table": "f2b", "chain": "f2b-chain", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@addr-set-sshd"}}, {"reject": null}]}}]}`;
    expect(json.length).toBeGreaterThan(60_000);
    const doc = collect(standIns(json));
    expect(sectionLines(doc, 'nft-json')).toContain('#omitted-elements addr-set-sshd 5000 (addresses of no client)');
    const facts = parseHostFacts(doc);
    expect(facts.firewall.nftJson.truncated).toBe(false);
    const set = (JSON.parse(facts.firewall.nftJson.text!) as { nftables: { set?: { elem: unknown[] } }[] }).nftables.find((o) => o.set)!.set!;
    expect(set.elem).toEqual([
      { elem: { val: CLIENT, timeout: 600, expires: 412 } },
      { prefix: { addr: '192.0.2.0', len: 24 } },
      { range: ['203.0.113.10', '203.0.113.20'] },
    ]);
    const fw = byId(judgeDocument(doc, [CLIENT])).firewall!;
    expect(fw.status).toBe('fail');
    expect(fw.summary).toContain(`nftables rejects tcp/22 from ${CLIENT}: inet f2b f2b-chain handle 4`);
  });
});
