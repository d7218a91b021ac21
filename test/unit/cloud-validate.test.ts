import { describe, expect, it } from 'vitest';
import { canonicalIp, validateClientIps, validateInstanceId, validateRegion } from '../../lib/cloud/validate';
import { CloudValidationError } from '../../lib/cloud/errors';
import { cidrContains } from '../../lib/cloud/cidr';

describe('cloud validation', () => {
  it('accepts AWS ids of 8 and 17 hex digits and rejects the rest, naming the field and rule', () => {
    expect(validateInstanceId('aws', 'i-0123456789abcdef0')).toBe('i-0123456789abcdef0');
    expect(validateInstanceId('aws', 'i-0123abcd')).toBe('i-0123abcd');
    for (const bad of ['i-0123456789ABCDEF0', 'i-0123456789abcdef', 'i-bp1abcdefghijklmnopq', 'i-0123abcd;reboot', '', 42]) {
      expect(() => validateInstanceId('aws', bad)).toThrow(CloudValidationError);
    }
    expect(() => validateInstanceId('aws', 'x')).toThrow(/^instanceId: must be 'i-' followed by 8 or 17/);
  });

  it('accepts Alibaba ids of 20 lowercase alphanumerics', () => {
    expect(validateInstanceId('alibaba', 'i-bp1abcdefghijklmnopq')).toBe('i-bp1abcdefghijklmnopq');
    expect(() => validateInstanceId('alibaba', 'i-0123456789abcdef0')).toThrow(/20 lowercase/);
    expect(() => validateInstanceId('alibaba', 'i-BP1ABCDEFGHIJKLMNOPQ')).toThrow(CloudValidationError);
  });

  it('validates regions per provider', () => {
    expect(validateRegion('aws', 'eu-west-1')).toBe('eu-west-1');
    expect(validateRegion('aws', 'us-gov-west-1')).toBe('us-gov-west-1');
    expect(validateRegion('alibaba', 'cn-hangzhou')).toBe('cn-hangzhou');
    expect(() => validateRegion('aws', 'cn-hangzhou')).toThrow(/^region: /);
    expect(() => validateRegion('aws', 'eu-west-1; rm -rf /')).toThrow(CloudValidationError);
  });

  it('canonicalises IPs so only [0-9a-f.:] reaches a shell argument', () => {
    expect(canonicalIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(canonicalIp('203.0.113.7')).toBe('203.0.113.7');
    // IPv4-mapped IPv6 is an IPv4 client, in either spelling.
    expect(canonicalIp('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(canonicalIp('::FFFF:cb00:7109')).toBe('203.0.113.9');
    expect(canonicalIp('::ffff:0:1')).toBe('0.0.0.1');
    expect(canonicalIp('64:ff9b::cb00:7109')).toBe('64:ff9b::cb00:7109');
    for (const bad of ['203.0.113.7/32', '1.2.3.4 5.6.7.8', '$(reboot)', 'fe80::1%eth0', '01.2.3.4']) {
      expect(() => canonicalIp(bad)).toThrow(/^clientIp: must be an IPv4 or IPv6 address/);
    }
    expect(validateClientIps(['203.0.113.7', '203.0.113.7', '::1'])).toEqual(['203.0.113.7', '::1']);
  });

  it('matches CIDRs for both families', () => {
    expect(cidrContains('203.0.113.0/24', '203.0.113.200')).toBe(true);
    expect(cidrContains('203.0.113.0/25', '203.0.113.200')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '2001:db8::1')).toBe(false);
    expect(cidrContains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(cidrContains('::/0', '::ffff:1.2.3.4')).toBe(true);
  });
});
