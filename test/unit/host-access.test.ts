/** Whole-address matching and log-line ages, the two rules stale or borrowed evidence hinges on. */
import { describe, expect, it } from 'vitest';
import { lineAgeMs, mentionsIp, normalizeIp } from '../../lib/checks/support/host-access';

describe('mentionsIp', () => {
  it.each([
    ['Connection closed by 10.0.0.1 port 22', '10.0.0.1', true],
    ['Connection closed by 10.0.0.15 port 22', '10.0.0.1', false],
    ['Connection closed by 110.0.0.1 port 22', '10.0.0.1', false],
    ['drop connection #0 from [10.0.0.1]:5555 on [10.0.0.5]:22 past MaxStartups', '10.0.0.1', true],
    ['drop connection #0 from [10.0.0.10]:5555 on [10.0.0.5]:22 past MaxStartups', '10.0.0.1', false],
    ['refused connect from ::ffff:10.0.0.1 (::ffff:10.0.0.1)', '10.0.0.1', true],
    ['refused connect from 2001:db8::10', '2001:db8::1', false],
    ['refused connect from 2001:DB8::1', '2001:db8::1', true],
    ['Invalid user x from 10.0.0.1.', '10.0.0.1', true],
  ])('%s names %s: %s', (line, ip, expected) => {
    expect(mentionsIp(line, ip)).toBe(expected);
  });

  it('treats an IPv4-mapped IPv6 client as its IPv4 address', () => {
    expect(normalizeIp('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(mentionsIp('from 203.0.113.9 port 4', '::ffff:203.0.113.9')).toBe(true);
  });
});

describe('lineAgeMs', () => {
  const clock = { utcMs: Date.parse('2026-01-01T00:10:00Z'), localMs: Date.parse('2026-01-01T08:10:00Z') };

  it('reads RFC 3339 stamps with their zone against UTC', () => {
    expect(lineAgeMs('2026-01-01T00:05:00+0000 h sshd[1]: x', clock)).toBe(5 * 60_000);
    expect(lineAgeMs('2026-01-01T08:05:00.123456+08:00 h sshd[1]: x', clock)).toBe(5 * 60_000);
  });

  it("reads year-less syslog stamps as the host's local time, last year when they would be in the future", () => {
    expect(lineAgeMs('Jan  1 08:05:00 h sshd[1]: x', clock)).toBe(5 * 60_000);
    expect(lineAgeMs('Dec 31 23:10:00 h sshd[1]: x', clock)).toBe(9 * 3_600_000);
  });

  it('has no age for a line without a stamp, or a syslog stamp without a local clock', () => {
    expect(lineAgeMs('sshd[1]: x', clock)).toBeNull();
    expect(lineAgeMs('Jan  1 08:05:00 h sshd[1]: x', { utcMs: clock.utcMs, localMs: null })).toBeNull();
  });
});
