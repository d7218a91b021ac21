/**
 * Captures collector documents from lab instances in each failure mode into
 * test/fixtures/collector/, for the unit tests of the checks (run as root:
 * `npx tsx --import ./scripts/sh-loader.mjs scripts/capture-fixtures.ts`).
 * The client address is written beside each document.
 */
import { writeFileSync } from 'node:fs';
import { createLab, type LabInstance, type LabOptions } from '../test/lab/lab';
import * as sc from '../test/lab/scenarios';
import { collectorScript } from '../lib/collector/script';
import { createLocalRunner, splitCommand } from '../lib/runners/local-runner';

const scenarios: Record<string, { opts?: LabOptions; apply: (l: LabInstance) => Promise<unknown> }> = {
  healthy: { apply: async () => undefined },
  'hosts-deny-ip': { apply: (l) => sc.denyByIp(l, l.hostIp) },
  'all-all-deny': { apply: (l) => sc.denyAllOptionSyntax(l) },
  'iptables-drop': { apply: (l) => sc.iptablesDrop(l, l.hostIp) },
  'fail2ban-ban': { opts: { fail2ban: true }, apply: (l) => sc.fail2banBan(l, l.hostIp) },
  'lz4-missing': { apply: (l) => sc.removeLz4Link(l) },
  'sshd-stopped': { apply: (l) => sc.stopSshd(l) },
  'bad-config': { apply: (l) => sc.breakSshdConfig(l) },
  'port-moved': { apply: (l) => sc.movePort(l, 2222) },
  'non-ssh': { apply: (l) => sc.nonSshOn22(l) },
};

for (const [name, s] of Object.entries(scenarios)) {
  const lab = await createLab(s.opts);
  try {
    await s.apply(lab);
    const run = await createLocalRunner({ via: splitCommand(lab.via) }).run({ script: collectorScript, args: [lab.hostIp], timeoutMs: 20_000 });
    writeFileSync(`test/fixtures/collector/${name}.txt`, run.stdout);
    writeFileSync(`test/fixtures/collector/${name}.client`, `${lab.hostIp}\n`);
    console.log(`${name}: ${run.status}, ${run.stdout.length} chars`);
  } finally {
    await lab.destroy();
  }
}
