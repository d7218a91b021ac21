/**
 * Cloud Assistant benchmarks against the local Alibaba emulator (real openapi-core client, real
 * HTTP, signatures verified):
 *  1. Added latency: time from RunCommand to result minus the 1.0 s the command takes on the
 *     instance, for our adaptive poller and, side by side in the same run, for fixed-interval
 *     pollers (2 s, and 5 s like the AWS SDK waiter's minimum delay).
 *  2. Fleet batching: API calls for 1,000 instances.
 * Run: npx tsx bench/alibaba-run-command.ts [rounds]
 */
import { AlibabaEmulator, type Executor } from '../test/emulators/alibaba-emulator';
import { createAlibabaProvider } from '../lib/cloud/alibaba-provider';
import type { InstanceInfo } from '../lib/inventory/types';
import { median } from './support/median';

const AK = 'LTAI5tBenchKey';
const SECRET = 'bench-secret';
const ID = 'i-bp1benchbenchbench00';
const rounds = Number(process.argv[2] ?? 11);
const oneSecond: Executor = () => new Promise((r) => setTimeout(() => r({ output: 'done\n', exitCode: 0, timedOut: false }), 1000));

async function main(): Promise<void> {
  const emu = await new AlibabaEmulator(AK, SECRET, { executor: oneSecond }).start();
  const env = { ALIBABA_CLOUD_ECS_ENDPOINT: emu.host, ALIBABA_CLOUD_SAS_ENDPOINT: emu.host };
  const credentials = { accessKeyId: AK, accessKeySecret: SECRET };
  emu.addInstance({ instanceId: ID });
  const variants: [string, { initialMs?: number; fastPhaseMs?: number; maxMs?: number; factor?: number }][] = [
    ['sshdoctor adaptive (200 ms -> 2 s)', {}],
    ['fixed 2 s interval', { initialMs: 2000, maxMs: 2000, factor: 1 }],
    ['fixed 5 s interval (SDK-waiter style)', { initialMs: 5000, maxMs: 5000, factor: 1 }],
  ];
  const added = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  const polls = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  for (let i = 0; i < rounds; i++) {
    // Delivery to the agent takes a varying time in real life; without jitter the 1.0 s command
    // would end exactly on the 200 ms poll grid and flatter the adaptive poller.
    emu.faults.deliveryDelayMs = Math.round(((i * 37) % rounds) * (200 / rounds));
    // Interleaved, so every variant sees the same machine load and the same delivery delay.
    for (const [name, poll] of variants) {
      const p = createAlibabaProvider({ region: 'cn-hangzhou', credentials, env, poll });
      const inst = (await p.describeInstance(ID)) as InstanceInfo;
      const before = emu.callsOf('ecs:DescribeInvocationResults').length;
      const t0 = performance.now();
      const r = await p.runner(inst).run({ script: 'sleep 1', args: [], timeoutMs: 30_000 });
      const ms = performance.now() - t0;
      if (r.status !== 'success') throw new Error(`${name}: ${r.status} ${r.reason ?? ''}`);
      added.get(name)!.push(ms - 1000);
      polls.get(name)!.push(emu.callsOf('ecs:DescribeInvocationResults').length - before);
    }
  }
  console.log(
    `Cloud Assistant: RunCommand -> result, command takes 1.0 s on the instance (${rounds} rounds, interleaved, delivery delay spread over 0-200 ms)`,
  );
  const ours = median(added.get(variants[0]![0])!);
  for (const [name] of variants) {
    const m = median(added.get(name)!);
    console.log(
      `  ${name.padEnd(40)} added latency median ${m.toFixed(0).padStart(5)} ms  ` +
        `(min ${Math.min(...added.get(name)!).toFixed(0)}, max ${Math.max(...added.get(name)!).toFixed(0)})  ` +
        `polls/run ${median(polls.get(name)!)}  ratio ${(m / ours).toFixed(1)}x`,
    );
  }

  // Fleet batching.
  emu.instances.clear();
  emu.calls.length = 0;
  const fleetExec: Executor = async () => ({ output: 'ok\n', exitCode: 0, timedOut: false });
  const ids = Array.from({ length: 1000 }, (_, i) => `i-bp1fleet${String(i).padStart(11, '0')}`);
  for (const id of ids) emu.addInstance({ instanceId: id, executor: fleetExec });
  const p = createAlibabaProvider({ region: 'cn-hangzhou', credentials, env });
  const t0 = performance.now();
  const results = await p.runFleet!(ids, { script: 'echo ok', args: [], timeoutMs: 60_000 });
  const ms = performance.now() - t0;
  const ok = [...results.values()].filter((r) => r.status === 'success').length;
  const run = emu.callsOf('ecs:RunCommand').length;
  const describe = emu.callsOf('ecs:DescribeInvocationResults').length;
  console.log(`Fleet: 1000 instances, ${ok} succeeded in ${(ms / 1000).toFixed(1)} s`);
  console.log(`  RunCommand calls ${run} (goal <= 10), DescribeInvocationResults calls ${describe}`);
  console.log(`  API calls per instance ${((run + describe) / ids.length).toFixed(3)} (RunCommand per instance ${(run / ids.length).toFixed(3)})`);
  await emu.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
