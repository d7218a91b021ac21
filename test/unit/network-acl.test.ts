import { describe, expect, it } from 'vitest';
import { networkAclCheck } from '../../lib/checks/network-acl';
import { aclEntry, factsWith } from '../support/cloud-facts';

const defaultAcl = [
  aclEntry({ ruleNumber: 100, egress: false }),
  aclEntry({ ruleNumber: 32767, egress: false, action: 'deny' }),
  aclEntry({ ruleNumber: 100, egress: true }),
  aclEntry({ ruleNumber: 32767, egress: true, action: 'deny' }),
];

describe('network-acl check', () => {
  it('skips when the ACL was not inspected', () => {
    expect(networkAclCheck.run(factsWith({})).status).toBe('skip');
  });

  it('passes on the default VPC ACL (allow all both ways)', () => {
    expect(networkAclCheck.run(factsWith({ networkAcl: defaultAcl })).status).toBe('pass');
  });

  it('first match wins: a lower-numbered deny for the client beats a later allow', () => {
    const acl = [aclEntry({ ruleNumber: 50, action: 'deny', protocol: 'tcp', portFrom: 22, portTo: 22, cidr: '203.0.113.0/24' }), ...defaultAcl];
    const r = networkAclCheck.run(factsWith({ networkAcl: acl }));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/denies inbound tcp\/22 from 203.0.113.7/);
    expect(r.evidence[0]?.text).toContain('#50');
    expect(r.fix?.commands[0]).toMatch(/--ingress --rule-number 49 .*--cidr-block 203.0.113.7\/32 --rule-action allow/);
  });

  it('a deny numbered after the allow does not apply', () => {
    const acl = [aclEntry({ ruleNumber: 150, action: 'deny', cidr: '203.0.113.0/24' }), ...defaultAcl];
    expect(networkAclCheck.run(factsWith({ networkAcl: acl })).status).toBe('pass');
  });

  it('fails when outbound return traffic to ephemeral ports is not allowed (stateless ACL)', () => {
    const acl = [
      aclEntry({ ruleNumber: 100, egress: false, protocol: 'tcp', portFrom: 22, portTo: 22 }),
      aclEntry({ ruleNumber: 100, egress: true, protocol: 'tcp', portFrom: 443, portTo: 443 }),
      aclEntry({ ruleNumber: 32767, egress: true, action: 'deny' }),
    ];
    const r = networkAclCheck.run(factsWith({ networkAcl: acl }));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/outbound return traffic/);
    expect(r.fix?.commands.join('\n')).toMatch(/--egress --rule-number 110 --protocol tcp --port-range From=1024,To=65535/);
  });

  it('warns when return traffic is allowed only on the common ephemeral range', () => {
    const acl = [aclEntry({ ruleNumber: 100, egress: false }), aclEntry({ ruleNumber: 100, egress: true, protocol: 'tcp', portFrom: 32768, portTo: 65535 })];
    expect(networkAclCheck.run(factsWith({ networkAcl: acl })).status).toBe('warn');
  });

  it('an ACL with no matching entry denies by default and says so', () => {
    const r = networkAclCheck.run(factsWith({ networkAcl: [aclEntry({ ruleNumber: 100, cidr: '10.0.0.0/8' })] }));
    expect(r.status).toBe('fail');
    expect(r.evidence.map((e) => e.text).join('\n')).toContain('default (*) rule denies');
  });
});
