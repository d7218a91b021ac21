import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SSMClient } from '@aws-sdk/client-ssm';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws-emulator';
import { localExecutor } from '../emulators/executors';
import { buildShellCommands, createSsmRunner, type OutputStore } from '../../lib/runners/ssm-runner';
import { createS3OutputStore } from '../../lib/cloud/s3-output-store';
import { useAwsEmulatorEnv } from '../support/aws-env';
import { ECHO_ARGS_SCRIPT, REFUSED_TEXT_ARGS, hostileArgs } from '../support/hostile-args';

const ID = 'i-0123456789abcdef0';
const ARGS_SCRIPT = 'printf "args=%s|" "$@"\necho "n=$#"\n';

let emu: AwsEmulator;
let restoreEnv: () => void;
let ssm: SSMClient;
let outputStore: OutputStore;

beforeAll(async () => {
  emu = await startAwsEmulator();
  restoreEnv = useAwsEmulatorEnv(emu.url);
  // Default SDK config: the endpoint comes from AWS_ENDPOINT_URL, credentials from the env chain.
  ssm = new SSMClient({ region: 'eu-west-1', maxAttempts: 4 });
  outputStore = createS3OutputStore({ region: 'eu-west-1' });
});
afterAll(async () => {
  ssm?.destroy();
  restoreEnv?.();
  await emu?.close();
});
beforeEach(() => {
  emu.reset();
  emu.addInstance({ instanceId: ID, executor: localExecutor(), pingStatus: 'Online' });
});

const runner = (extra: Partial<Parameters<typeof createSsmRunner>[0]> = {}) => createSsmRunner({ ssm, outputStore, instanceId: ID, ...extra });
const req = (script: string, args: string[] = [], timeoutMs = 20_000) => ({ script, args, timeoutMs });

describe('SSM runner against the emulator (real SDK, real HTTP)', () => {
  it('runs the script with its IP arguments as positional parameters and returns stdout', async () => {
    const r = await runner().run(req(ARGS_SCRIPT, ['203.0.113.7', '2001:db8::1']));
    expect(r.status).toBe('success');
    expect(r.stdout).toBe('args=203.0.113.7|args=2001:db8::1|n=2\n');
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(false);
    const send = emu.calls.find((c) => c.action === 'SendCommand')!;
    expect(send.region).toBe('eu-west-1');
    expect(send.params).toMatchObject({ DocumentName: 'AWS-RunShellScript', InstanceIds: [ID], TimeoutSeconds: 30, Parameters: { executionTimeout: ['18'] } });
  });

  it('never lets an argument reach the shell unless it is a canonical IP', () => {
    expect(() => buildShellCommands('true', ["203.0.113.7'; reboot; '"])).toThrow(/args\[0\]/);
    expect(() => buildShellCommands('true', ['2001:DB8::1'])).toThrow(/canonical/);
    expect(buildShellCommands('x\nSSHDOCTOR_COLLECTOR_EOF\ny', [])).toEqual([
      "sh -s -- <<'SSHDOCTOR_COLLECTOR_EOF_1'",
      'x',
      'SSHDOCTOR_COLLECTOR_EOF',
      'y',
      'SSHDOCTOR_COLLECTOR_EOF_1',
    ]);
  });

  it('passes validated text arguments as one literal word each: quotes and substitutions run nothing', async () => {
    const h = hostileArgs();
    const r = await runner().run({ script: ECHO_ARGS_SCRIPT, args: h.args, argsKind: 'validated-text', timeoutMs: 20_000 });
    expect(r.status).toBe('success');
    expect(r.stdout).toBe(h.expectedStdout);
    expect(h.touched()).toEqual([]);
    h.cleanup();
    // Text is never accepted where the caller promised IP addresses.
    await expect(runner().run({ script: ECHO_ARGS_SCRIPT, args: h.args, timeoutMs: 20_000 })).rejects.toThrow(/args\[0\]: must be an IPv4 or IPv6/);
  });

  it('refuses text arguments with a newline, NUL, non-ASCII or over the length cap, before calling SSM', async () => {
    for (const [arg, rule] of REFUSED_TEXT_ARGS) {
      await expect(runner().run({ script: 'true', args: [arg], argsKind: 'validated-text', timeoutMs: 20_000 })).rejects.toThrow(rule);
    }
    expect(emu.calls.some((c) => c.action === 'SendCommand')).toBe(false);
  });

  it('passes the script body verbatim: nothing in it is expanded by the wrapper', async () => {
    const r = await runner().run(req('echo \'$HOME\' "`echo x`" $((1+2))'));
    expect(r.stdout).toBe('$HOME x 3\n');
  });

  it('tolerates InvocationDoesNotExist right after SendCommand', async () => {
    emu.faults.invocationDoesNotExistPolls = 3;
    const r = await runner().run(req('echo ok'));
    expect(r.status).toBe('success');
    expect(r.stdout).toBe('ok\n');
    expect(emu.count('GetCommandInvocation')).toBeGreaterThanOrEqual(4);
  });

  it('rides out throttling on SendCommand and GetCommandInvocation', async () => {
    emu.faults.throttle = { SendCommand: 4, GetCommandInvocation: 3 };
    const r = await runner().run(req('echo ok'));
    expect(r.status).toBe('success');
    expect(emu.count('SendCommand')).toBe(5);
  });

  it('reports throttled when SendCommand stays throttled past every retry', async () => {
    emu.faults.throttle = { SendCommand: 1000 };
    const r = await runner().run(req('echo ok'));
    expect(r.status).toBe('throttled');
    expect(r.reason).toMatch(/ThrottlingException/);
  });

  it('maps Undeliverable, DeliveryTimedOut, ExecutionTimedOut, Terminated and Cancelled', async () => {
    const cases = [
      ['Undeliverable', 'undeliverable'],
      ['DeliveryTimedOut', 'agent-offline'],
      ['ExecutionTimedOut', 'timeout'],
      ['Terminated', 'instance-not-running'],
      ['Cancelled', 'cancelled'],
    ] as const;
    for (const [outcome, status] of cases) {
      emu.faults.outcome = outcome;
      const r = await runner().run(req('echo never'));
      expect([outcome, r.status]).toEqual([outcome, status]);
      expect(r.reason).toBeTruthy();
    }
  });

  it('reports a real execution timeout when the script outlives executionTimeout', async () => {
    const r = await runner().run(req('sleep 30', [], 3_500));
    expect(r.status).toBe('timeout');
    expect(r.reason).toMatch(/ExecutionTimedOut/);
  });

  it('reports failed with the exit code when the script exits non-zero', async () => {
    const r = await runner().run(req('echo partial; exit 7'));
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toBe('partial\n');
  });

  it('marks stdout over 24,000 characters truncated without an output bucket', async () => {
    const r = await runner().run(req('awk \'BEGIN { for (i = 0; i < 3000; i++) print "0123456789" }\''));
    expect(r.status).toBe('success');
    expect(r.truncated).toBe(true);
    expect(r.stdout).toHaveLength(24_000);
    expect(r.reason).toMatch(/24000/);
  });

  it('reads the full stdout from S3 with an output bucket', async () => {
    const r = await runner({ outputBucket: 'diag-out' }).run(req('awk \'BEGIN { for (i = 0; i < 3000; i++) print "0123456789" }\''));
    expect(r.truncated).toBe(false);
    expect(r.stdout).toHaveLength(33_000);
    const get = emu.calls.find((c) => c.action === 'GetObject')!;
    expect(get.params.Bucket).toBe('diag-out');
    expect(String(get.params.Key)).toMatch(/^sshdoctor\/[0-9a-f-]{36}\/i-0123456789abcdef0\/awsrunShellScript\/0\.awsrunShellScript\/stdout$/);
  });

  it('reports truncated, with the reason, when the S3 read is denied', async () => {
    emu.faults.accessDenied.add('GetObject');
    const r = await runner({ outputBucket: 'diag-out' }).run(req('awk \'BEGIN { for (i = 0; i < 3000; i++) print "0123456789" }\''));
    expect(r.truncated).toBe(true);
    expect(r.reason).toMatch(/AccessDenied/);
  });

  it('reports access-denied when SendCommand is not allowed', async () => {
    emu.faults.accessDenied.add('SendCommand');
    const r = await runner().run(req('echo ok'));
    expect(r.status).toBe('access-denied');
    expect(r.reason).toMatch(/AccessDeniedException/);
  });

  it('reports agent-offline when the instance is not a managed instance', async () => {
    emu.addInstance({ instanceId: ID, pingStatus: null });
    const r = await runner().run(req('echo ok'));
    expect(r.status).toBe('agent-offline');
    expect(r.reason).toMatch(/InvalidInstanceId/);
  });

  it('recovers from 5xx on both calls (SDK retries)', async () => {
    emu.faults.serverError = { SendCommand: 1, GetCommandInvocation: 2 };
    const r = await runner().run(req('echo ok'));
    expect(r.status).toBe('success');
  });

  it('gives up at its own deadline, cancels the command, and says what it last saw', async () => {
    emu.faults.deliveryDelayMs = 60_000;
    const r = await runner().run(req('echo ok', [], 2_000));
    expect(r.status).toBe('timeout');
    expect(r.reason).toMatch(/Pending.*the command was cancelled$/);
    expect(emu.count('CancelCommand')).toBe(1);
  });

  it('says so when the command could not be cancelled at the deadline', async () => {
    emu.faults.deliveryDelayMs = 60_000;
    emu.faults.accessDenied.add('CancelCommand');
    const r = await runner().run(req('echo ok', [], 2_000));
    expect(r.status).toBe('timeout');
    expect(r.reason).toMatch(/CancelCommand failed \(AccessDenied\w*\): the command may still run$/);
  });

  it('every request carries a SigV4 Authorization header scoped to the service and region', async () => {
    await runner({ outputBucket: 'diag-out' }).run(req('echo ok'));
    expect(new Set(emu.calls.map((c) => c.region))).toEqual(new Set(['eu-west-1']));
  });
});
