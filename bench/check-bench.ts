/**
 * Issue 2 speed: probe and collector run concurrently. On a healthy lab instance, measures
 * side by side in one run: Node start-up, the probe alone, the collector alone, and the
 * whole `sshdoctor check` process; prints check / (max(probe, collector) + node start-up).
 */
import { createLab } from '../test/lab/lab';
import { collectorScript } from '../lib/collector/script';
import { createLocalRunner, splitCommand } from '../lib/runners/local-runner';
import { median } from './support/median';
import { timeBannerProbe, timeProcess } from './support/timing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

export async function main(): Promise<void> {
  const lab = await createLab();
  try {
    const runner = createLocalRunner({ via: splitCommand(lab.via) });
    const node: number[] = [];
    const probe: number[] = [];
    const collector: number[] = [];
    const check: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      node.push(timeProcess(['-e', '']));
      probe.push(await timeBannerProbe(lab.ip));
      const t = performance.now();
      const c = await runner.run({ script: collectorScript, args: [lab.hostIp], timeoutMs: 20_000 });
      if (c.status !== 'success') throw new Error(`collector: ${c.status} ${c.reason}`);
      collector.push(performance.now() - t);
      check.push(timeProcess(['bin/sshdoctor.js', 'check', '--via', lab.via, '--host', lab.ip, '--json']));
    }
    const [n, p, c, k] = [median(node), median(probe), median(collector), median(check)];
    const bound = Math.max(p, c) + n;
    console.log(`rounds: ${ROUNDS} (medians, ms)`);
    console.log(`node start-up          ${n.toFixed(0)}`);
    console.log(`probe alone            ${p.toFixed(0)}`);
    console.log(`collector alone        ${c.toFixed(0)}   (goal < 1000)`);
    console.log(`sshdoctor check        ${k.toFixed(0)}`);
    console.log(`max(probe, collector) + node start-up = ${bound.toFixed(0)}`);
    console.log(`ratio check / bound    ${(k / bound).toFixed(2)}x   (goal <= 1.3x)`);
    console.log(`sequential would be    ${(p + c + n).toFixed(0)} ms`);
  } finally {
    await lab.destroy();
  }
}
