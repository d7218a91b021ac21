/**
 * The fix route's local happy path: `npm start` whose local provider diagnoses and fixes a lab
 * instance (LOCAL_HOST its address, LOCAL_VIA its nsenter: real sshd with libwrap in its own
 * namespaces), a hosts.deny line that makes the check blocked, then `POST /checks/{id}/fix` as a
 * dry run and with `apply`: apply.sh through the local runner, verified by a fresh diagnosis
 * and its probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, createLab, labGate, type LabInstance } from '../lab/lab';
import { startLocalStack, type LocalStack } from './support/local-stack';

const labReady = labGate();
const PORT = 3700 + (process.pid % 100) * 3;

let lab: LabInstance;
let stack: LocalStack;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${PORT}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe.runIf(labReady)('npm start: the fix route plans and applies a local fix (on a lab instance)', () => {
  beforeAll(async () => {
    await cleanupStale();
    lab = await createLab();
    stack = await startLocalStack({ ...process.env, LOCAL_HTTP_PORT: String(PORT), DYNALITE_PORT: String(PORT + 1), LOCAL_HOST: lab.ip, LOCAL_VIA: lab.via });
  }, 120_000);
  afterAll(async () => {
    stack?.stop();
    await lab?.destroy();
  });

  it('dry run, then apply: the hosts.deny line is commented out, verified by a banner, audited', { timeout: 180_000 }, async () => {
    await lab.writeFile('/etc/hosts.deny', `sshd: ${lab.hostIp}\n`);
    const made = await call('POST', '/checks', { provider: 'local', instanceId: 'localhost', clientIp: lab.hostIp });
    expect(made.status).toBe(201);
    const id = made.json.id as string;
    const report = made.json.report as { target: { host: string }; checks: { id: string; status: string }[]; probe: { outcome: string } };
    expect(report.target.host).toBe(lab.ip);
    expect(report.probe.outcome).toBe('reset');
    expect(report.checks.find((c) => c.id === 'tcp-wrappers')?.status).toBe('fail');

    const dry = await call('POST', `/checks/${id}/fix`, {});
    expect(dry.status).toBe(200);
    expect((dry.json.plan as { steps: { action: { kind: string } }[] }).steps.map((s) => s.action.kind)).toContain('comment-line');
    expect(await lab.readFile('/etc/hosts.deny')).toBe(`sshd: ${lab.hostIp}\n`);

    const applied = await call('POST', `/checks/${id}/fix`, { apply: true, only: ['tcp-wrappers'] });
    expect(applied.status).toBe(200);
    const outcome = applied.json.outcome as { status: string; summary: string; probeAfter: string; audit: { who: string; verified: boolean }[] };
    expect(outcome.status, outcome.summary).toBe('fixed');
    expect(outcome.probeAfter).toBe('banner');
    expect(outcome.audit[0]).toMatchObject({ who: 'local:npm-start', verified: true });
    expect(await lab.readFile('/etc/hosts.deny')).toBe(`# sshdoctor: sshd: ${lab.hostIp}\n`);
  });
});
