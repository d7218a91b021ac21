/**
 * The nftables evaluator on rulesets captured from real `nft -j list ruleset` in the lab
 * (test/fixtures/nft/*.json.txt; the .nft source beside each).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateNftInput, NftJsonError, parseNftJson, type NftPacket } from '../../lib/firewall/nftables';

function fixture(name: string) {
  const text = readFileSync(join(__dirname, '../fixtures/nft', `${name}.json.txt`), 'utf8');
  return parseNftJson(text.split('\n').filter((l) => !l.startsWith('#') && l.trim())[0]!);
}

const pkt = (src: string, extra: Partial<NftPacket> = {}): NftPacket => ({ src, dport: 22, iif: 'eth0', ...extra });

describe('nftables evaluator (captured rulesets)', () => {
  const rs = fixture('policy-drop');

  it('drops a client no rule accepts by the input chain policy drop', () => {
    const v = evaluateNftInput(rs, pkt('10.231.1.1'));
    expect(v.verdict).toBe('drop');
    expect(v.decidedBy?.policy).toBe('policy drop');
    expect(v.decidedBy?.chain).toMatchObject({ family: 'inet', table: 'filter', name: 'input' });
    expect(v.decidedBy?.rule).toBeUndefined();
  });

  it('walks base chains in priority order: a drop at priority -10 wins over a later accept', () => {
    // 198.51.100.15 is in @banned (table ip early, prio -10) and in @allowed_v4's range.
    const v = evaluateNftInput(rs, pkt('198.51.100.15'));
    expect(v.verdict).toBe('drop');
    expect(v.decidedBy?.chain.table).toBe('early');
    expect(v.decidedBy?.rule?.handle).toBe(3);
    expect(v.decidedBy?.rule?.text).toBe('ip saddr @banned tcp dport 22 drop');
    expect(v.chains.map((c) => `${c.chain.table}:${c.verdict}`)).toEqual(['early:drop', 'filter:accept']);
  });

  it('goes on to the next base chain after an accept, and accepts through an interval set range and prefix', () => {
    const range = evaluateNftInput(rs, pkt('198.51.100.12'));
    expect(range.verdict).toBe('accept');
    expect(range.chains.map((c) => c.chain.table)).toEqual(['early', 'filter']);
    expect(range.chains[1]?.rule?.handle).toBe(11);
    expect(evaluateNftInput(rs, pkt('192.0.2.77')).verdict).toBe('accept');
    expect(evaluateNftInput(rs, pkt('198.51.100.21')).verdict).toBe('drop');
  });

  it('matches tcp dport against a named set and an anonymous set', () => {
    expect(evaluateNftInput(rs, { ...pkt('192.0.2.5'), dport: 2222 }).verdict).toBe('accept');
    expect(evaluateNftInput(rs, { ...pkt('192.0.2.5'), dport: 2223 }).verdict).toBe('drop');
    const viaJump = evaluateNftInput(rs, { ...pkt('10.9.9.9'), dport: 2222 });
    expect(viaJump.verdict).toBe('accept');
    expect(viaJump.chains[1]?.rule?.chain).toBe('ssh_gate');
  });

  it('follows jump into a regular chain and back on return', () => {
    const v = evaluateNftInput(rs, pkt('203.0.113.5'));
    expect(v.chains[1]?.path).toEqual(['input', 'ssh_gate']);
    expect(v.verdict).toBe('drop');
    expect(v.decidedBy?.policy).toBe('policy drop');
  });

  it('does not let ct state established,related accept a new connection', () => {
    const v = evaluateNftInput(rs, pkt('10.231.1.1'));
    expect(v.chains.find((c) => c.chain.table === 'filter')?.uncertain).toEqual([]);
    expect(v.verdict).toBe('drop');
  });

  it('applies iifname only to traffic arriving on that interface, and says unknown when the interface is unknown', () => {
    expect(evaluateNftInput(rs, pkt('10.231.1.1', { iif: 'eth9' })).verdict).toBe('accept');
    expect(evaluateNftInput(rs, pkt('10.231.1.1', { iif: 'eth0' })).verdict).toBe('drop');
    const unknown = evaluateNftInput(rs, pkt('10.231.1.1', { iif: null }));
    expect(unknown.verdict).toBe('unknown');
    expect(unknown.decidedBy?.uncertain.map((r) => r.handle)).toEqual([12]);
  });

  it('judges IPv6 clients only by inet and ip6 chains, with ip6 saddr prefixes', () => {
    const v = evaluateNftInput(rs, pkt('2001:db8::5'));
    expect(v.chains.map((c) => c.chain.table)).toEqual(['filter']);
    expect(v.verdict).toBe('accept');
    expect(evaluateNftInput(rs, pkt('2001:db9::5')).verdict).toBe('drop');
  });

  it('reports an expression it does not model as not evaluable, citing the rule, never as accepted', () => {
    const u = fixture('unknown-expr');
    const v = evaluateNftInput(u, pkt('203.0.113.9'));
    expect(v.verdict).toBe('unknown');
    expect(v.decidedBy?.uncertain[0]?.text).toMatch(/meta mark/);
    expect(v.decidedBy?.uncertain[0]?.handle).toBe(3);
    // The same unjudged accept cannot change an outcome that is already accept.
    expect(evaluateNftInput(u, pkt('10.1.2.3')).verdict).toBe('accept');
  });

  it('says none when no input base chain exists', () => {
    expect(evaluateNftInput(parseNftJson('{"nftables":[{"metainfo":{}}]}'), pkt('10.0.0.1')).verdict).toBe('none');
  });

  it('refuses output that is not an nft JSON ruleset', () => {
    expect(() => parseNftJson('{"nftables": [')).toThrow(NftJsonError);
    expect(() => parseNftJson('{"foo": 1}')).toThrow(/nftables/);
  });
});
