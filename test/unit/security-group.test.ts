import { describe, expect, it } from 'vitest';
import { securityGroupCheck } from '../../lib/checks/security-group';
import { factsWith, instance, sgRule } from '../support/cloud-facts';

describe('security-group check', () => {
  it('skips when the groups were not inspected', () => {
    expect(securityGroupCheck.run(factsWith({})).status).toBe('skip');
    expect(securityGroupCheck.run(factsWith(null)).status).toBe('skip');
  });

  it('passes when an AWS rule admits the client on port 22', () => {
    const r = securityGroupCheck.run(factsWith({ securityGroupRules: [sgRule({ cidr: '203.0.113.0/24' })] }));
    expect(r.status).toBe('pass');
    expect(r.evidence[0]?.text).toContain('203.0.113.0/24');
  });

  it('fails when no rule covers the client, with an authorize command for its /32', () => {
    const rules = [sgRule({ cidr: '10.0.0.0/8' }), sgRule({ cidr: '203.0.113.0/24', portFrom: 443, portTo: 443 })];
    const r = securityGroupCheck.run(factsWith({ securityGroupRules: rules }));
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('203.0.113.7');
    expect(r.fix?.commands[0]).toContain('--group-id sg-0aaa --protocol tcp --port 22 --cidr 203.0.113.7/32');
  });

  it('uses the sshd port, not 22, and treats protocol all as every port', () => {
    const rules = [sgRule({ cidr: '0.0.0.0/0' })];
    expect(securityGroupCheck.run(factsWith({ securityGroupRules: rules }, ['203.0.113.7'], 2222)).status).toBe('fail');
    const all = [sgRule({ protocol: 'all', portFrom: 0, portTo: 65535, cidr: '203.0.113.7/32' })];
    expect(securityGroupCheck.run(factsWith({ securityGroupRules: all }, ['203.0.113.7'], 2222)).status).toBe('pass');
  });

  it('reports prefix-list and group sources as not evaluable instead of guessing', () => {
    const rules = [sgRule({ source: { kind: 'prefix-list', id: 'pl-0abc' } }), sgRule({ source: { kind: 'group', id: 'sg-0bbb' } })];
    const r = securityGroupCheck.run(factsWith({ securityGroupRules: rules }));
    expect(r.status).toBe('warn');
    expect(r.evidence.map((e) => e.text).join('\n')).toMatch(/pl-0abc[\s\S]*sg-0bbb/);
  });

  it('still passes when a cidr rule admits the client alongside an unevaluable one (AWS: allows only)', () => {
    const rules = [sgRule({ source: { kind: 'prefix-list', id: 'pl-0abc' } }), sgRule({ cidr: '203.0.113.7/32' })];
    expect(securityGroupCheck.run(factsWith({ securityGroupRules: rules })).status).toBe('pass');
  });

  it('applies Alibaba priorities: a priority-1 deny beats a priority-100 allow', () => {
    const cloud = {
      instance: instance({ provider: 'alibaba', region: 'cn-hangzhou', instanceId: 'i-bp1abcdefghijklmnopq', securityGroupIds: ['sg-bp1'] }),
      securityGroupRules: [
        sgRule({ groupId: 'sg-bp1', action: 'allow', priority: 100, cidr: '0.0.0.0/0' }),
        sgRule({ groupId: 'sg-bp1', action: 'deny', priority: 1, cidr: '203.0.113.0/24' }),
      ],
    };
    const r = securityGroupCheck.run(factsWith(cloud));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/deny rule/);
    expect(r.evidence[0]?.text).toContain('deny');
    // The drop is at priority 1: nothing outranks it, so the fix removes or narrows it first.
    expect(r.fix?.summary).toMatch(/priority 1, which no accept rule can outrank \(a drop wins ties\): remove or narrow that drop rule/);
    expect(r.fix?.commands[1]).toContain('aliyun ecs AuthorizeSecurityGroup --RegionId cn-hangzhou --SecurityGroupId sg-bp1 --Permissions.1.IpProtocol tcp');
  });

  it('prints the Permissions.N form of AuthorizeSecurityGroup at a priority that beats the blocking drop (strictly lower number)', () => {
    const cloud = {
      instance: instance({ provider: 'alibaba', region: 'cn-hangzhou', instanceId: 'i-bp1abcdefghijklmnopq', securityGroupIds: ['sg-bp1'] }),
      securityGroupRules: [
        sgRule({ groupId: 'sg-bp1', action: 'allow', priority: 7, cidr: '0.0.0.0/0' }),
        sgRule({ groupId: 'sg-bp1', action: 'deny', priority: 7, cidr: '203.0.113.0/24' }),
        sgRule({ groupId: 'sg-bp1', action: 'deny', priority: 9, cidr: '2001:db8::/32' }),
      ],
    };
    const r = securityGroupCheck.run(factsWith(cloud, ['203.0.113.7', '2001:db8::5']));
    expect(r.status).toBe('fail');
    expect(r.fix).toEqual({
      summary:
        'Allow tcp/22 from 203.0.113.7/32, 2001:db8::5/128 in security group sg-bp1 at priority 6, ahead of the drop rule at priority 7 (a drop wins ties).',
      commands: [
        'aliyun ecs AuthorizeSecurityGroup --RegionId cn-hangzhou --SecurityGroupId sg-bp1' +
          ' --Permissions.1.IpProtocol tcp --Permissions.1.PortRange 22/22 --Permissions.1.SourceCidrIp 203.0.113.7/32 --Permissions.1.Policy accept --Permissions.1.Priority 6' +
          ' --Permissions.2.IpProtocol tcp --Permissions.2.PortRange 22/22 --Permissions.2.Ipv6SourceCidrIp 2001:db8::5/128 --Permissions.2.Policy accept --Permissions.2.Priority 6',
      ],
    });
    // Without any drop in the way, priority 1 is enough.
    const open = securityGroupCheck.run(factsWith({ ...cloud, securityGroupRules: [] }));
    expect(open.fix?.commands).toEqual([
      'aliyun ecs AuthorizeSecurityGroup --RegionId cn-hangzhou --SecurityGroupId sg-bp1 --Permissions.1.IpProtocol tcp --Permissions.1.PortRange 22/22 --Permissions.1.SourceCidrIp 203.0.113.7/32 --Permissions.1.Policy accept --Permissions.1.Priority 1',
    ]);
  });

  it('applies Alibaba ties: deny wins over allow at equal priority, allow wins when it is more urgent', () => {
    const base = { instance: instance({ provider: 'alibaba' }) };
    const tie = [sgRule({ action: 'allow', priority: 5 }), sgRule({ action: 'deny', priority: 5 })];
    expect(securityGroupCheck.run(factsWith({ ...base, securityGroupRules: tie })).status).toBe('fail');
    const allowFirst = [sgRule({ action: 'allow', priority: 4 }), sgRule({ action: 'deny', priority: 5 })];
    expect(securityGroupCheck.run(factsWith({ ...base, securityGroupRules: allowFirst })).status).toBe('pass');
  });

  it('matches IPv6 clients against IPv6 ranges only', () => {
    const rules = [sgRule({ cidr: '0.0.0.0/0' }), sgRule({ cidr: '2001:db8::/32' })];
    expect(securityGroupCheck.run(factsWith({ securityGroupRules: rules }, ['2001:db8::5'])).status).toBe('pass');
    const r = securityGroupCheck.run(factsWith({ securityGroupRules: [sgRule({ cidr: '0.0.0.0/0' })] }, ['2001:db8::5']));
    expect(r.status).toBe('fail');
    expect(r.fix?.commands[0]).toContain('CidrIpv6=2001:db8::5/128');
  });

  it('names every blocked client when several are given', () => {
    const r = securityGroupCheck.run(factsWith({ securityGroupRules: [sgRule({ cidr: '198.51.100.0/24' })] }, ['198.51.100.9', '203.0.113.7', '192.0.2.1']));
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('203.0.113.7, 192.0.2.1');
    expect(r.fix?.commands).toHaveLength(2);
  });
});
