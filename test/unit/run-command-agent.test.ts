import { describe, expect, it } from 'vitest';
import { runCommandAgentCheck } from '../../lib/checks/run-command-agent';
import { factsWith, instance } from '../support/cloud-facts';

describe('run-command-agent check', () => {
  it('skips when the agent status was not inspected', () => {
    expect(runCommandAgentCheck.run(factsWith({})).status).toBe('skip');
  });

  it('passes when SSM reports the agent Online', () => {
    const r = runCommandAgentCheck.run(factsWith({ agent: { status: 'online', raw: 'Online', agentVersion: '3.3.1' } }));
    expect(r.status).toBe('pass');
    expect(r.evidence[0]).toEqual({ source: 'ssm:DescribeInstanceInformation', text: 'i-0123456789abcdef0: status Online, agent 3.3.1' });
  });

  it('fails with the raw status when the agent lost its connection', () => {
    const r = runCommandAgentCheck.run(factsWith({ agent: { status: 'offline', raw: 'ConnectionLost', lastSeen: '2024-01-01T00:00:00Z' } }));
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('ConnectionLost');
    expect(r.fix?.commands.join('\n')).toContain('i-0123456789abcdef0');
  });

  it('fails with a registration fix when the instance is not managed', () => {
    const r = runCommandAgentCheck.run(factsWith({ agent: { status: 'not-registered', raw: '' } }));
    expect(r.status).toBe('fail');
    expect(r.fix?.summary).toContain('AmazonSSMManagedInstanceCore');
  });

  it('speaks of Cloud Assistant on Alibaba', () => {
    const r = runCommandAgentCheck.run(
      factsWith({ instance: instance({ provider: 'alibaba', region: 'cn-hangzhou' }), agent: { status: 'offline', raw: 'false' } }),
    );
    expect(r.summary).toContain('Cloud Assistant');
    expect(r.evidence[0]?.source).toBe('ecs:DescribeCloudAssistantStatus');
  });
});
