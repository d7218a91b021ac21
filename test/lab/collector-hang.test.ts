/**
 * A wedged systemd on a lab instance: every systemctl call hangs, and the instance has no
 * `timeout` command. The collector cuts the first call, starts no other systemctl, stays within
 * its budget, and the report says sshd-service was not inspected (never a pass or a fail).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUT_CALL } from '../../lib/checks/support/cut-calls';
import { runCheckJson } from '../support/cli';
import { cleanupStale, createLab, type LabInstance, labGate } from './lab';

const labReady = labGate();
const labs: LabInstance[] = [];

describe.runIf(labReady)('collector time bound on a lab instance', () => {
  beforeAll(async () => {
    await cleanupStale();
  });
  afterAll(async () => {
    await Promise.all(labs.map((l) => l.destroy()));
  });

  it('a hung systemctl without timeout: cut once after 5 s, no other systemctl started, sshd-service not inspected', async () => {
    const l = await createLab();
    labs.push(l);
    // The instance's root is a copy-on-write overlay: these changes stay inside it.
    const setup = await l.exec(
      "mkdir -p /run/systemd/system && printf '#!/bin/sh\\nsleep 600\\n' > /usr/bin/systemctl && chmod 755 /usr/bin/systemctl && rm -f /usr/bin/timeout && ! command -v timeout",
    );
    expect(setup.code).toBe(0);
    const { report } = await runCheckJson(['--via', l.via, '--host', l.ip], { timeoutMs: 60_000 });
    expect(report.collector.status).toBe('ok');
    expect(report.timings.collectorMs).toBeGreaterThanOrEqual(5000);
    expect(report.timings.collectorMs).toBeLessThan(5000 + 4000);
    const svc = report.checks.find((c) => c.id === 'sshd-service')!;
    expect(svc.status).toBe('skip');
    expect(svc.summary).toBe(`${CUT_CALL} (service: \`systemctl show -p LoadState ssh.service\` was cut after 5 s (and 3 more calls)).`);
    expect(report.notInspected).toContainEqual({ what: 'sshd-service (SSH server running)', reason: svc.summary });
    // The probe still sees sshd's banner; the other host checks judged what answered.
    expect(report.probe?.outcome).toBe('banner');
    expect(report.checks.find((c) => c.id === 'sshd-config')!.status).toBe('skip');
    expect(report.checks.find((c) => c.id === 'tcp-wrappers')!.status).toBe('pass');
  }, 90_000);
});
