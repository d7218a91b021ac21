/**
 * A CloudProvider over "instances" that are real sshd processes on loopback ports, for the
 * service tests; and a diagnoser that probes them with the real probe. Both stand in for
 * createAwsProvider + diagnoseInstance (which need the cloud emulators and the core engine)
 * while keeping the service's behaviour observable end to end.
 */
import type { CloudProvider } from '../../../lib/cloud/types';
import type { InstanceInfo } from '../../../lib/inventory/types';
import { probeSsh } from '../../../lib/probe/probe';
import type { Report } from '../../../lib/report/types';
import type { Diagnoser } from '../../../lib/service/check-service';

export interface LabInstanceSpec {
  instanceId: string;
  tags: Record<string, string>;
  /** Loopback port of its sshd (what the probe connects to). */
  port: number;
}

export function createLabProvider(region: string, specs: LabInstanceSpec[]): CloudProvider & { portOf(id: string): number } {
  const info = (s: LabInstanceSpec): InstanceInfo => ({
    provider: 'aws',
    region,
    instanceId: s.instanceId,
    state: 'running',
    rawState: 'running',
    platform: 'linux',
    publicIps: ['127.0.0.1'],
    privateIps: ['127.0.0.1'],
    securityGroupIds: [],
    tags: { ...s.tags },
  });
  return {
    name: 'aws',
    region,
    portOf: (id) => specs.find((s) => s.instanceId === id)?.port ?? 22,
    describeInstance: async (id) => {
      const s = specs.find((x) => x.instanceId === id);
      return s ? info(s) : null;
    },
    gatherCloudFacts: async () => ({ facts: {}, notInspected: [] }),
    runner: () => ({ name: 'none', run: async () => ({ status: 'error', stdout: '', stderr: '', exitCode: null, truncated: false, durationMs: 0 }) }),
    listInstancesByTag: async (key, value) => specs.filter((s) => s.tags[key] === value).map(info),
  };
}

/** Probes the instance's sshd for real; verdict `reachable` on an SSH banner, `blocked` otherwise. */
export function createProbeDiagnoser(): Diagnoser & { calls: number } {
  const d = {
    calls: 0,
    async instance(
      provider: CloudProvider,
      opts: { instanceId: string; clientIps: string[]; clientIpSource?: 'user' | 'probe-source' | 'caller'; port?: number },
    ): Promise<Report> {
      d.calls++;
      const inst = await provider.describeInstance(opts.instanceId);
      const port = opts.port ?? (provider as ReturnType<typeof createLabProvider>).portOf(opts.instanceId);
      const probe = await probeSsh({ host: inst?.publicIps[0] ?? '127.0.0.1', port, timeoutMs: 3000 });
      const reachable = probe.outcome === 'banner';
      return {
        schemaVersion: 1,
        tool: { name: 'sshdoctor', version: 'test' },
        generatedAt: new Date().toISOString(),
        target: { host: probe.host, port, instanceId: opts.instanceId, provider: 'aws', region: provider.region },
        clients: opts.clientIps.map((ip) => ({ ip, source: opts.clientIpSource ?? 'user' })),
        probe,
        collector: { status: 'skipped', runner: 'none', truncated: false, truncatedSections: [] },
        checks: [
          {
            id: 'probe',
            title: 'SSH port answers',
            status: reachable ? 'pass' : 'fail',
            summary: `probe outcome: ${probe.outcome}`,
            evidence: [{ source: `tcp ${probe.host}:${port}`, text: probe.outcome }],
            fix: reachable ? null : { summary: 'start sshd', commands: ['systemctl start ssh'] },
          },
        ],
        verdict: {
          status: reachable ? 'reachable' : 'blocked',
          summary: reachable ? 'sshd answers with a banner' : `connection ${probe.outcome}`,
          causes: reachable ? [] : ['probe'],
          confirmed: false,
        },
        notInspected: [],
        timings: { probeMs: probe.totalMs, totalMs: probe.totalMs },
      };
    },
  };
  return d;
}
