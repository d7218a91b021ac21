/**
 * The fix route's local happy path: `npm start` run inside a lab instance (its own network,
 * mount and PID namespaces, a real sshd with libwrap), a hosts.deny line that makes the local
 * check blocked, then `POST /checks/{id}/fix` as a dry run and with `apply`: apply.sh through
 * the local runner, verified by a fresh local diagnosis with its probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, createLab, labGate, type LabInstance } from '../lab/lab';
import { startLocalStack, type LocalStack } from './support/local-stack';

const labReady = labGate();
const PORT = 3900;

let lab: LabInstance;
let stack: LocalStack;

/** A request sent from inside the lab (the stack listens on the lab's own 127.0.0.1). */
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const data = body === undefined ? '' : ` -H 'content-type: application/json' --data '${JSON.stringify(body)}'`;
  const r = await lab.exec(`curl -s -m 60 -w '\\n%{http_code}' -X ${method} http://127.0.0.1:${PORT}${path}${data}`);
  const lines = r.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, json: JSON.parse(lines.join('\n') || '{}') as Record<string, unknown> };
}

describe.runIf(labReady)('npm start in a lab instance: the fix route plans and applies a local fix', () => {
  beforeAll(async () => {
    await cleanupStale();
    lab = await createLab();
    stack = await startLocalStack({ ...process.env, LOCAL_HTTP_PORT: String(PORT), DYNALITE_PORT: String(PORT + 1) }, { wrap: lab.via });
  }, 120_000);
  afterAll(async () => {
    stack?.stop();
    await lab?.destroy();
  });

  it('dry run, then apply: the hosts.deny line is commented out, verified by a banner, audited', { timeout: 180_000 }, async () => {
    await lab.writeFile('/etc/hosts.deny', 'sshd: 127.0.0.1\n');
    const made = await call('POST', '/checks', { provider: 'local', instanceId: 'localhost' });
    expect(made.status).toBe(201);
    const id = made.json.id as string;
    const report = made.json.report as { checks: { id: string; status: string }[]; verdict: { status: string } };
    expect(report.checks.find((c) => c.id === 'tcp-wrappers')?.status).toBe('fail');

    const dry = await call('POST', `/checks/${id}/fix`, {});
    expect(dry.status).toBe(200);
    expect((dry.json.plan as { steps: { action: { kind: string } }[] }).steps.map((s) => s.action.kind)).toContain('comment-line');
    expect(await lab.readFile('/etc/hosts.deny')).toBe('sshd: 127.0.0.1\n');

    const applied = await call('POST', `/checks/${id}/fix`, { apply: true, only: ['tcp-wrappers'] });
    expect(applied.status).toBe(200);
    const outcome = applied.json.outcome as { status: string; summary: string; probeAfter: string; audit: { who: string; verified: boolean }[] };
    expect(outcome.status, outcome.summary).toBe('fixed');
    expect(outcome.probeAfter).toBe('banner');
    expect(outcome.audit[0]).toMatchObject({ who: 'local:npm-start', verified: true });
    expect(await lab.readFile('/etc/hosts.deny')).toBe('# sshdoctor: sshd: 127.0.0.1\n');
  });
});
