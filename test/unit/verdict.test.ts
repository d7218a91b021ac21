/**
 * verdictFor: every probe outcome against the check results that can (and cannot) explain it.
 * The expectations are written from how each failure looks to an OpenSSH client, not read back
 * from the verdict module's own tables.
 */
import { describe, expect, it } from 'vitest';
import type { ProbeOutcome, ProbeResult } from '../../lib/probe/types';
import { PROBE_OUTCOMES } from '../../lib/probe/types';
import type { CheckResult, CheckStatus } from '../../lib/report/types';
import { verdictFor } from '../../lib/report/verdict';

function probe(outcome: ProbeOutcome, extra: Partial<ProbeResult> = {}): ProbeResult {
  return { host: '10.0.0.5', port: 22, outcome, totalMs: 10, ...extra };
}

function check(id: string, status: CheckStatus = 'fail', summary = `${id} finding`): CheckResult {
  return { id, title: id, status, summary, evidence: [], fix: null };
}

/** What can produce each outcome, as a client sees it; the first is the most specific. */
const CAN_EXPLAIN: Record<Exclude<ProbeOutcome, 'banner'>, string[]> = {
  // libwrap closes after its 5 s hold; MaxStartups and broken sshd children close at once.
  reset: ['tcp-wrappers', 'max-startups', 'sshd-config', 'permissions', 'sshd-libraries', 'firewall', 'fail2ban'],
  closed: ['tcp-wrappers', 'max-startups', 'sshd-config', 'permissions', 'sshd-libraries'],
  // Nothing listening, or a REJECT --reject-with tcp-reset.
  refused: ['sshd-libraries', 'permissions', 'sshd-config', 'sshd-service', 'sshd-listen', 'fail2ban', 'firewall', 'disk'],
  // A silent DROP anywhere on the path.
  timeout: ['security-group', 'network-acl', 'security-center', 'fail2ban', 'firewall'],
  // The connection is accepted and held: the server side, never a packet filter.
  silent: ['max-startups', 'sshd-service', 'sshd-libraries', 'disk'],
  // An ICMP reject from the host, never a security group or ACL (they drop silently).
  unreachable: ['fail2ban', 'firewall'],
  'not-ssh': ['sshd-listen', 'sshd-service'],
};

/** Check ids that never explain the outcome even when they fail (other blocking checks). */
const CANNOT_EXPLAIN: Record<Exclude<ProbeOutcome, 'banner'>, string[]> = {
  reset: ['security-group', 'network-acl'],
  closed: ['security-group', 'firewall'],
  refused: ['security-group', 'network-acl'],
  timeout: ['tcp-wrappers', 'sshd-config'],
  silent: ['security-group', 'network-acl', 'firewall', 'tcp-wrappers'],
  unreachable: ['security-group', 'network-acl', 'security-center'],
  'not-ssh': ['tcp-wrappers', 'security-group'],
};

const FAILED_OUTCOMES = PROBE_OUTCOMES.filter((o): o is Exclude<ProbeOutcome, 'banner'> => o !== 'banner');

describe('verdictFor: a failed probe and one failing check', () => {
  it('has an expectation for every outcome the probe can report', () => {
    expect(Object.keys(CAN_EXPLAIN).sort()).toEqual([...FAILED_OUTCOMES].sort());
  });

  for (const outcome of FAILED_OUTCOMES) {
    for (const id of CAN_EXPLAIN[outcome]) {
      if (id === 'tcp-wrappers') continue; // timing-dependent: its own cases below
      it(`${outcome}: a failing ${id} is the confirmed cause`, () => {
        const v = verdictFor(probe(outcome, { errorCode: outcome === 'unreachable' ? 'EHOSTUNREACH' : undefined }), [check(id), check('disk', 'pass')]);
        expect(v.status).toBe('blocked');
        expect(v.causes[0]).toBe(id);
        expect(v.confirmed).toBe(true);
        expect(v.summary).toContain('confirmed cause');
        expect(v.summary).toContain(`${id} finding`);
      });
    }
    for (const id of CANNOT_EXPLAIN[outcome]) {
      it(`${outcome}: a failing ${id} is a cause but does not confirm it`, () => {
        const v = verdictFor(probe(outcome), [check(id)]);
        expect(v.status).toBe('blocked');
        expect(v.causes).toEqual([id]);
        expect(v.confirmed).toBe(false);
        expect(v.summary).toContain('likely cause');
      });
    }
    it(`${outcome}: with every check passing, blocked with no cause`, () => {
      const v = verdictFor(probe(outcome), [check('tcp-wrappers', 'pass'), check('firewall', 'pass')]);
      expect(v).toMatchObject({ status: 'blocked', causes: [], confirmed: false });
      expect(v.summary).toContain('no cause found on the host');
    });
  }

  it('orders several explaining causes most specific first, then the other blocking checks', () => {
    const v = verdictFor(probe('refused'), [check('security-group'), check('sshd-service'), check('sshd-config'), check('sshd-libraries')]);
    expect(v.causes).toEqual(['sshd-libraries', 'sshd-config', 'sshd-service', 'security-group']);
    expect(v.confirmed).toBe(true);
  });

  it('never counts warn, skip or error checks as causes', () => {
    const v = verdictFor(probe('timeout'), [check('security-group', 'warn'), check('firewall', 'skip'), check('network-acl', 'error')]);
    expect(v).toMatchObject({ status: 'blocked', causes: [], confirmed: false });
    expect(v.summary).toContain('(some checks could not run)');
  });
});

describe('verdictFor: signatures', () => {
  it('confirms tcp-wrappers for a reset about 5 s after connect (libwrap holds, then closes)', () => {
    const v = verdictFor(probe('reset', { closeMs: 5004 }), [check('tcp-wrappers')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['tcp-wrappers'], confirmed: true });
  });

  it('does not confirm tcp-wrappers for an immediate reset (not libwrap timing)', () => {
    const v = verdictFor(probe('reset', { closeMs: 12 }), [check('tcp-wrappers')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['tcp-wrappers'], confirmed: false });
    expect(v.summary).toContain('likely cause');
  });

  it('does not confirm tcp-wrappers for a close long after libwrap would have closed', () => {
    expect(verdictFor(probe('closed', { closeMs: 20_000 }), [check('tcp-wrappers')]).confirmed).toBe(false);
  });

  it('unreachable with a local routing error confirms nothing on the instance, even a firewall finding', () => {
    const v = verdictFor(probe('unreachable', { errorCode: 'ENETUNREACH' }), [check('firewall'), check('security-group')]);
    expect(v.status).toBe('blocked');
    expect(v.causes).toEqual(['firewall', 'security-group']);
    expect(v.confirmed).toBe(false);
  });

  it('unreachable is never confirmed by a security group or network ACL (they drop silently: a timeout)', () => {
    const v = verdictFor(probe('unreachable', { errorCode: 'EHOSTUNREACH' }), [check('security-group'), check('network-acl')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['security-group', 'network-acl'], confirmed: false });
  });

  it('silent with no cause points at the host side, not the network', () => {
    const v = verdictFor(probe('silent', { connectMs: 1 }), [check('firewall', 'pass')]);
    expect(v.summary).toContain('accepted the TCP connection but never sent an SSH banner');
    expect(v.summary).toMatch(/hung or stopped sshd.*MaxStartups.*middlebox/);
    expect(v.summary).not.toContain('suspect the network');
  });

  it('timeout with no cause suspects the network in between', () => {
    expect(verdictFor(probe('timeout'), []).summary).toContain('suspect the network between the client and the instance');
  });
});

describe('verdictFor: a banner, or no probe', () => {
  it('banner and nothing failing: reachable, confirmed, naming the software', () => {
    const v = verdictFor(probe('banner', { banner: { raw: 'SSH-2.0-OpenSSH_9.2p1', protoVersion: '2.0', software: 'OpenSSH_9.2p1' } }), [
      check('firewall', 'pass'),
    ]);
    expect(v).toEqual({ status: 'reachable', summary: 'Reachable: 10.0.0.5:22 answered with an SSH banner (OpenSSH_9.2p1).', causes: [], confirmed: true });
  });

  it('banner but a blocking check fails (it blocks other clients): blocked, not confirmed', () => {
    const v = verdictFor(probe('banner'), [check('tcp-wrappers'), check('auth-log')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['tcp-wrappers'], confirmed: false });
    expect(v.summary).toContain('answers this probe, but tcp-wrappers finding');
  });

  it('banner and only auth-log failing: auth-log is context, not a block', () => {
    expect(verdictFor(probe('banner'), [check('auth-log')]).status).toBe('reachable');
  });

  it('no probe and nothing failing: unknown', () => {
    expect(verdictFor(null, [check('firewall', 'pass')])).toMatchObject({ status: 'unknown', causes: [], confirmed: false });
  });

  it('no probe and a failing check: blocked on the host finding alone, not confirmed', () => {
    const v = verdictFor(null, [check('sshd-service')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['sshd-service'], confirmed: false });
  });
});

describe('verdictFor: with a user to ask about (the authentication stage)', () => {
  const banner = { raw: 'SSH-2.0-OpenSSH_9.2p1', protoVersion: '2.0', software: 'OpenSSH_9.2p1' };
  const key = { type: 'ssh-ed25519', sha256: 'SHA256:abc', accepted: false };
  const withAuth = (auth: NonNullable<ProbeResult['auth']>) => probe('banner', { banner, auth });

  it('reachable only when the server accepted the key', () => {
    const v = verdictFor(withAuth({ user: 'alice', outcome: 'accepted', key: { ...key, accepted: true }, totalMs: 1 }), []);
    expect(v).toMatchObject({ status: 'reachable', confirmed: true });
    expect(v.summary).toContain('accepts key SHA256:abc (ssh-ed25519) for alice');
  });

  it('an accepted key with a failing account check (expired, nologin shell) is blocked: sshd refuses after the key', () => {
    const v = verdictFor(withAuth({ user: 'alice', outcome: 'accepted', key: { ...key, accepted: true }, totalMs: 1 }), [check('user-account')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['user-account'], confirmed: true });
    expect(v.summary).toContain('refuses the login after it');
  });

  it('a refused key is blocked even with every check passing, never reachable', () => {
    const v = verdictFor(withAuth({ user: 'alice', outcome: 'refused', key, methods: ['publickey'], totalMs: 1 }), [check('firewall', 'pass')]);
    expect(v).toMatchObject({ status: 'blocked', causes: [], confirmed: false });
    expect(v.summary).toContain('refuses key SHA256:abc (ssh-ed25519) for alice ("Permission denied (publickey)")');
    expect(v.summary).toContain('no cause found on the host');
  });

  it('a refused key with a failing host-side auth check names it as the confirmed cause', () => {
    const v = verdictFor(withAuth({ user: 'alice', outcome: 'refused', key, totalMs: 1 }), [check('key-permissions'), check('user-account')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['user-account', 'key-permissions'], confirmed: true });
  });

  it('without a key: reachable when the server allows a usable method, blocked when it allows none', () => {
    expect(verdictFor(withAuth({ user: 'alice', outcome: 'methods', methods: ['publickey', 'password'], totalMs: 1 }), []).status).toBe('reachable');
    expect(verdictFor(withAuth({ user: 'alice', outcome: 'methods', methods: [], totalMs: 1 }), []).status).toBe('blocked');
  });

  it('a key exchange only our library failed, or an unfinished stage, is unknown, never reachable or blocked', () => {
    expect(
      verdictFor(
        withAuth({
          user: 'alice',
          outcome: 'kex-failed',
          error: 'no matching key exchange algorithm',
          offered: ['KEX method: sntrup761x25519-sha512@openssh.com'],
          totalMs: 1,
        }),
        [],
      ).status,
    ).toBe('unknown');
    expect(verdictFor(withAuth({ user: 'alice', outcome: 'timeout', totalMs: 1 }), []).status).toBe('unknown');
  });

  it('a blocking check still blocks before the authentication stage is considered', () => {
    const v = verdictFor(withAuth({ user: 'alice', outcome: 'accepted', key: { ...key, accepted: true }, totalMs: 1 }), [check('tcp-wrappers')]);
    expect(v).toMatchObject({ status: 'blocked', causes: ['tcp-wrappers'] });
  });
});
