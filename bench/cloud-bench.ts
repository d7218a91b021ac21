/**
 * SSM benchmarks against the local AWS emulator (real SDK clients, real HTTP):
 *  1. Added latency: time from SendCommand to result minus the 1.0 s the command takes on the
 *     instance (`sleep 1` under a real `sh`), for our adaptive poller and, interleaved in the
 *     same run, for the SDK's `waitUntilCommandExecuted` (5 s minimum delay).
 *  2. Fleet batching: API calls for 1,000 instances.
 * Run: npx tsx bench/cloud-bench.ts [rounds]
 */
import { pathToFileURL } from 'node:url';
import { SSMClient, SendCommandCommand, waitUntilCommandExecuted } from '@aws-sdk/client-ssm';
import { startAwsEmulator } from '../test/emulators/aws-emulator';
import { fixedExecutor, localExecutor } from '../test/emulators/executors';
import { useAwsEmulatorEnv } from '../test/support/aws-env';
import { createSsmRunner } from '../lib/runners/ssm-runner';
import { createAwsProvider } from '../lib/cloud/aws-provider';
import { median } from './support/median';

const ID = 'i-0123456789abcdef0';
const COMMAND_MS = 1000;

export async function main(rounds = Number(process.argv[2] ?? 7)): Promise<void> {
  const emu = await startAwsEmulator();
  const restore = useAwsEmulatorEnv(emu.url);
  try {
    emu.addInstance({ instanceId: ID, executor: localExecutor() });
    const ssm = new SSMClient({ region: 'eu-west-1' });
    const runner = createSsmRunner({ ssm, instanceId: ID });
    const ours: number[] = [];
    const waiter: number[] = [];
    let ourCalls = 0;
    let waiterCalls = 0;
    for (let r = 0; r < rounds; r++) {
      let before = emu.count('GetCommandInvocation');
      let t0 = performance.now();
      const res = await runner.run({ script: 'sleep 1', args: [], timeoutMs: 30_000 });
      if (res.status !== 'success') throw new Error(`our poller: ${res.status} ${res.reason ?? ''}`);
      ours.push(performance.now() - t0 - COMMAND_MS);
      ourCalls += emu.count('GetCommandInvocation') - before;

      before = emu.count('GetCommandInvocation');
      t0 = performance.now();
      const sent = await ssm.send(
        new SendCommandCommand({
          InstanceIds: [ID],
          DocumentName: 'AWS-RunShellScript',
          Parameters: { commands: ['sleep 1'], executionTimeout: ['30'] },
          TimeoutSeconds: 30,
        }),
      );
      await waitUntilCommandExecuted({ client: ssm, maxWaitTime: 120 }, { CommandId: sent.Command!.CommandId!, InstanceId: ID });
      waiter.push(performance.now() - t0 - COMMAND_MS);
      waiterCalls += emu.count('GetCommandInvocation') - before;
    }
    ssm.destroy();
    const mo = median(ours);
    const mw = median(waiter);
    console.log(`SSM: SendCommand -> result, command takes ${COMMAND_MS / 1000} s on the instance (${rounds} rounds, interleaved)`);
    console.log(
      `  ours (adaptive 200 ms -> 2 s)       added latency median ${mo.toFixed(0)} ms  min ${Math.min(...ours).toFixed(0)}  max ${Math.max(...ours).toFixed(0)}  polls/run ${(ourCalls / rounds).toFixed(1)}`,
    );
    console.log(
      `  SDK waitUntilCommandExecuted         added latency median ${mw.toFixed(0)} ms  min ${Math.min(...waiter).toFixed(0)}  max ${Math.max(...waiter).toFixed(0)}  polls/run ${(waiterCalls / rounds).toFixed(1)}`,
    );
    console.log(`  ratio waiter/ours ${(mw / mo).toFixed(1)}x (goal: ours < 300 ms, >= 10x)`);

    emu.reset();
    const ids = Array.from({ length: 1000 }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`);
    for (const id of ids) emu.addInstance({ instanceId: id, executor: fixedExecutor('ok\n', 0) });
    const aws = createAwsProvider({ region: 'eu-west-1' });
    const t0 = performance.now();
    const results = await aws.runFleet!(ids, { script: 'echo ok', args: [], timeoutMs: 60_000 });
    const ms = performance.now() - t0;
    const ok = [...results.values()].filter((x) => x.status === 'success').length;
    const send = emu.count('SendCommand');
    const list = emu.count('ListCommandInvocations');
    const get = emu.count('GetCommandInvocation');
    console.log(`Fleet: 1000 instances, ${ok} succeeded in ${(ms / 1000).toFixed(1)} s`);
    console.log(`  SendCommand calls ${send} (goal <= 20), ListCommandInvocations ${list}, GetCommandInvocation ${get}`);
    console.log(`  API calls per instance ${((send + list + get) / ids.length).toFixed(3)} (SendCommand per instance ${(send / ids.length).toFixed(3)})`);
  } finally {
    restore();
    await emu.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
