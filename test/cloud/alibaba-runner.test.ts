import { beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_ID, providerFor, useAlibabaEmulator } from './alibaba-support';
import type { InstanceInfo } from '../../lib/inventory/types';
import type { RunRequest } from '../../lib/runners/types';
import { buildRunnableScript, mapInvocationResult, nextPollDelay } from '../../lib/runners/cloud-assistant-runner';
import { ECHO_ARGS_SCRIPT, REFUSED_TEXT_ARGS, hostileArgs } from '../support/hostile-args';

const emu = useAlibabaEmulator();
beforeEach(() => {
  emu.addInstance({ instanceId: INSTANCE_ID });
});

const req = (script: string, args: string[] = [], timeoutMs = 15_000): RunRequest => ({ script, args, timeoutMs });

async function run(request: RunRequest) {
  const p = providerFor(emu);
  const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
  return p.runner(inst).run(request);
}

describe('Cloud Assistant runner against the emulator', () => {
  it('runs the script on the instance and returns its output, with the client IPs as positional arguments', async () => {
    const r = await run(req('#!/bin/sh\necho "args=$#:$1:$2"; echo done\n', ['203.0.113.7', '2001:db8::1']));
    expect(r.status).toBe('success');
    expect(r.stdout).toBe('args=2:203.0.113.7:2001:db8::1\ndone\n');
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(false);
    const sent = emu.callsOf('ecs:RunCommand')[0]!.params;
    expect(sent.Type).toBe('RunShellScript');
    expect(sent.ContentEncoding).toBe('Base64');
    expect(sent['InstanceId.1']).toBe(INSTANCE_ID);
    expect(Number(sent.Timeout)).toBe(15);
  });

  it('refuses a run argument that is not a canonical IP, naming the argument', async () => {
    await expect(run(req('echo hi', ['203.0.113.7', "1.2.3.4'; reboot; '"]))).rejects.toThrow(/args\[1\]: must be an IPv4 or IPv6/);
    await expect(run(req('echo hi', ['2001:DB8::1']))).rejects.toThrow(/args\[0\]: must be an IP address in canonical form \(2001:db8::1\)/);
    expect(emu.callsOf('ecs:RunCommand')).toHaveLength(0);
  });

  it('passes validated text arguments as one literal word each: quotes and substitutions run nothing', async () => {
    const h = hostileArgs();
    const r = await run({ script: ECHO_ARGS_SCRIPT, args: h.args, argsKind: 'validated-text', timeoutMs: 15_000 });
    expect(r.status).toBe('success');
    expect(r.stdout).toBe(h.expectedStdout);
    expect(h.touched()).toEqual([]);
    h.cleanup();
    expect(emu.callsOf('ecs:RunCommand')[0]!.params.Name).toBe('sshdoctor-remediation');
  });

  it('refuses text arguments with a newline, NUL, non-ASCII or over the length cap, before calling RunCommand', async () => {
    for (const [arg, rule] of REFUSED_TEXT_ARGS) {
      await expect(run({ script: 'true', args: [arg], argsKind: 'validated-text', timeoutMs: 15_000 })).rejects.toThrow(rule);
    }
    expect(emu.callsOf('ecs:RunCommand')).toHaveLength(0);
  });

  it('keeps the interpreter line first when adding arguments', () => {
    expect(buildRunnableScript('#!/bin/sh\necho x\n', ['192.0.2.1'])).toBe("#!/bin/sh\nset -- '192.0.2.1'\necho x\n");
    expect(buildRunnableScript('echo x\n', [])).toBe('echo x\n');
  });

  it('reports a non-zero exit as failed with the exit code', async () => {
    const r = await run(req('echo partial; exit 3'));
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('partial\n');
    expect(r.reason).toMatch(/ExitCodeNonzero/);
  });

  it('marks output cut by Cloud Assistant (Dropped) as truncated', async () => {
    const r = await run(req("i=0; while [ $i -lt 700 ]; do printf '%050d\\n' $i; i=$((i+1)); done"));
    expect(r.status).toBe('success');
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.stdout)).toBe(24 * 1024);
    expect(r.reason).toMatch(/11124 bytes dropped/);
  });

  it.each([
    ['InstanceNotExists', 'instance-not-running', /does not exist/],
    ['InstanceReleased', 'instance-not-running', /has been released/],
    ['InstanceNotRunning', 'instance-not-running', /is not running/],
    ['CommandNotApplicable', 'error', /does not apply to the instance's operating system/],
    ['ClientNotRunning', 'agent-offline', /agent offline/],
    ['ClientNotResponse', 'agent-offline', /agent offline/],
    ['ClientIsUpgrading', 'agent-offline', /being upgraded/],
    ['ClientNeedUpgrade', 'agent-offline', /upgrade it/],
    ['DeliveryTimeout', 'undeliverable', /could not be delivered/],
    ['ExecutionTimeout', 'timeout', /did not finish/],
    ['ExecutionException', 'error', /exception/],
    ['ExecutionInterrupted', 'error', /interrupted/],
    ['ExitCodeNonzero', 'failed', /exited with code/],
    ['SecurityGroupRuleDenied', 'undeliverable', /could not be delivered: a security-group rule blocks/],
  ] as const)('maps ErrorCode %s to %s, saying why', async (fault, status, why) => {
    emu.instances.get(INSTANCE_ID)!.fault = fault;
    const r = await run(req('echo never'));
    expect(r.status).toBe(status);
    expect(r.reason).toMatch(why);
    expect(r.reason).toContain(`(${fault}: `);
    expect(r.stdout).toBe('');
  });

  it.each([
    ['Aborted', 'undeliverable', /^the command could not be delivered to the instance \(Aborted\)/],
    ['Invalid', 'error', /does not apply to the instance's operating system \(CommandNotApplicable/],
    ['Error', 'error', /exception.*\(ExecutionException/],
    ['Terminated', 'error', /interrupted.*\(ExecutionInterrupted/],
  ] as const)('maps InvocationStatus %s to %s', async (fault, status, why) => {
    emu.instances.get(INSTANCE_ID)!.fault = fault;
    const r = await run(req('echo never'));
    expect(r.status).toBe(status);
    expect(r.reason).toMatch(why);
  });

  it('reads every documented status, and names an unknown one instead of polling it forever or passing it', () => {
    const res = (invocationStatus: string, errorCode = '') =>
      mapInvocationResult({ instanceId: INSTANCE_ID, invocationStatus, errorCode, errorInfo: '', exitCode: null, output: '', dropped: 0 });
    for (const s of ['Pending', 'Running', 'Stopping', 'Scheduled']) expect(res(s)).toBeNull();
    expect(res('Aborted')?.status).toBe('undeliverable');
    expect(res('Aborted', 'ClientNotResponse')).toMatchObject({
      status: 'agent-offline',
      reason: expect.stringMatching(/^the command could not be delivered .*Aborted.*agent offline/),
    });
    expect(res('Cancelled')?.status).toBe('cancelled');
    expect(res('Terminated')?.status).toBe('cancelled');
    expect(res('Timeout')?.status).toBe('timeout');
    expect(res('Invalid')?.status).toBe('error');
    expect(res('Success')).toEqual({ status: 'success', stdout: '', stderr: '', exitCode: null, truncated: false });
    expect(res('Stopped')).toMatchObject({ status: 'error', reason: expect.stringMatching(/status Stopped, which sshdoctor does not know/) });
  });

  it('reports a command never picked up before the deadline as undeliverable', async () => {
    emu.instances.get(INSTANCE_ID)!.fault = 'StuckPending';
    const r = await run(req('echo never', [], 1_000));
    expect(r.status).toBe('undeliverable');
    expect(r.reason).toMatch(/last status: Pending/);
  });

  it('stops an invocation not started by the deadline, so a late delivery never runs it', async () => {
    let runs = 0;
    emu.instances.get(INSTANCE_ID)!.executor = async () => {
      runs++;
      return { output: 'late\n', exitCode: 0, timedOut: false };
    };
    // The agent picks the command up only after our deadline.
    emu.faults.deliveryDelayMs = 1_500;
    const r = await run(req('echo late', [], 1_000));
    expect(r.status).toBe('undeliverable');
    expect(r.reason).toMatch(/stopped, it will not start later/);
    const stop = emu.callsOf('ecs:StopInvocation');
    expect(stop).toHaveLength(1);
    expect(stop[0]!.params).toMatchObject({ RegionId: 'cn-hangzhou', 'InstanceId.1': INSTANCE_ID });
    expect(stop[0]!.params.InvokeId).toMatch(/^t-/);
    // Well past the delivery: the script never ran.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(runs).toBe(0);
  });

  it('retries RunCommand on Throttling.User and runs the command once', async () => {
    emu.faults.throttle.set('ecs:RunCommand', 3);
    const r = await run(req('echo once'));
    expect(r.status).toBe('success');
    const calls = emu.callsOf('ecs:RunCommand');
    expect(calls.map((c) => c.code ?? 'ok')).toEqual(['Throttling.User', 'Throttling.User', 'Throttling.User', 'ok']);
    // The same ClientToken on every attempt: a retried RunCommand cannot run twice.
    expect(new Set(calls.map((c) => c.params.ClientToken)).size).toBe(1);
  });

  it('reports throttled when throttling outlasts the retries', async () => {
    emu.faults.throttle.set('ecs:RunCommand', 50);
    const r = await run(req('echo never'));
    expect(r.status).toBe('throttled');
    expect(r.reason).toMatch(/Throttling\.User/);
    expect(emu.callsOf('ecs:RunCommand')).toHaveLength(6);
  });

  it('rides out 5xx and throttling while polling, and tolerates results that are not visible yet', async () => {
    emu.faults.resultsHiddenForMs = 150;
    emu.faults.serverError.set('ecs:DescribeInvocationResults', 2);
    emu.faults.throttle.set('ecs:DescribeInvocationResults', 2);
    const r = await run(req('echo ok'));
    expect(r.status).toBe('success');
    expect(r.stdout).toBe('ok\n');
    const codes = emu.callsOf('ecs:DescribeInvocationResults').map((c) => c.code ?? 'ok');
    expect(codes).toContain('InternalError');
    expect(codes).toContain('Throttling.User');
  });

  it('reports error, naming the code, when RunCommand keeps answering 5xx', async () => {
    emu.faults.serverError.set('ecs:RunCommand', 50);
    const r = await run(req('echo never'));
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/ecs:RunCommand failed: InternalError/);
    expect(emu.callsOf('ecs:RunCommand')).toHaveLength(6);
  });

  it('reports error when the endpoint does not answer at all', async () => {
    const p = providerFor(emu);
    const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
    const dead = providerFor(emu, { env: { ALIBABA_CLOUD_ECS_ENDPOINT: '127.0.0.1:9', ALIBABA_CLOUD_SAS_ENDPOINT: '127.0.0.1:9' } });
    const r = await dead.runner(inst).run(req('echo never'));
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/ecs:RunCommand failed: (ECONNREFUSED|NetworkError)/);
  });

  it('reports access-denied when RAM forbids RunCommand', async () => {
    emu.faults.forbidden.add('ecs:RunCommand');
    const r = await run(req('echo never'));
    expect(r.status).toBe('access-denied');
    expect(r.reason).toMatch(/Forbidden\.RAM/);
  });

  it('polls every 200 ms while the run is young, then backs off to 2 s', () => {
    const delays: number[] = [];
    let elapsed = 0;
    let d: number | null = null;
    for (let i = 0; i < 14; i++) {
      d = nextPollDelay(elapsed, d);
      delays.push(d);
      elapsed += d;
    }
    expect(delays.slice(0, 8)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    expect(delays.slice(8, 14)).toEqual([300, 450, 675, 1013, 1520, 2000]);
  });

  it('sees a 1 s command finish within a few polls', async () => {
    const p = providerFor(emu, { poll: {} });
    const inst = (await p.describeInstance(INSTANCE_ID)) as InstanceInfo;
    const r = await p.runner(inst).run(req('sleep 1; echo slept'));
    expect(r.status).toBe('success');
    expect(r.stdout).toBe('slept\n');
    expect(emu.callsOf('ecs:DescribeInvocationResults').length).toBeGreaterThanOrEqual(5);
  });
});

describe('runFleet', () => {
  it('runs 250 instances with 3 RunCommand calls (at most 100 ids each) and returns one result per instance', async () => {
    emu.instances.clear();
    const ids = Array.from({ length: 250 }, (_, i) => `i-bp1fleet${String(i).padStart(11, '0')}`);
    for (const id of ids) emu.addInstance({ instanceId: id, executor: async () => ({ output: `hello ${id}\n`, exitCode: 0, timedOut: false }) });
    emu.instances.get(ids[7]!)!.fault = 'ClientNotRunning';
    const p = providerFor(emu);
    const results = await p.runFleet!(ids, req('echo fleet'));
    const runCalls = emu.callsOf('ecs:RunCommand');
    expect(runCalls).toHaveLength(3);
    for (const c of runCalls) expect(Object.keys(c.params).filter((k) => k.startsWith('InstanceId.')).length).toBeLessThanOrEqual(100);
    expect(results.size).toBe(250);
    expect(results.get(ids[0]!)?.stdout).toBe(`hello ${ids[0]}\n`);
    expect(results.get(ids[7]!)?.status).toBe('agent-offline');
    expect([...results.values()].filter((r) => r.status === 'success')).toHaveLength(249);
  });
});
