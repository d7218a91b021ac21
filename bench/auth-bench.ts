/**
 * Issue 10 speed: the outside authentication stage (ssh2, a second connection after the banner)
 * on a healthy lab instance with a real user and key. Measured side by side in one run: the
 * banner probe alone, the authentication stage alone, Node start-up, the collector with the
 * user section, and the whole `sshdoctor check --user --public-key` process; prints the stage's
 * added median and check --user / (max(probe + auth, collector) + node start-up).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab } from '../test/lab/lab';
import { probeAuth } from '../lib/probe/auth-probe';
import { parsePublicKey } from '../lib/auth/validate';
import { collectorScript } from '../lib/collector/script';
import { createLocalRunner, splitCommand } from '../lib/runners/local-runner';
import { median } from './support/median';
import { timeBannerProbe, timeProcess } from './support/timing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sshdoctor-authbench-'));
  const lab = await createLab();
  try {
    const kg = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    if (kg.status !== 0) throw new Error(`ssh-keygen: ${kg.stderr}`);
    const pubFile = join(dir, 'id.pub');
    const pub = readFileSync(pubFile, 'utf8');
    const setup = await lab.exec("useradd -m -s /bin/sh alice && usermod -p '*' alice && mkdir -m 700 /home/alice/.ssh");
    if (setup.code !== 0) throw new Error(setup.stderr);
    await lab.writeFile('/home/alice/.ssh/authorized_keys', pub);
    await lab.exec('chmod 600 /home/alice/.ssh/authorized_keys && chown -R alice:alice /home/alice/.ssh');
    const key = parsePublicKey(pub);
    const runner = createLocalRunner({ via: splitCommand(lab.via) });
    const collectorArgs = [lab.hostIp, 'user=alice', `key=${key.type} ${key.base64}`];
    const node: number[] = [];
    const probe: number[] = [];
    const auth: number[] = [];
    const collector: number[] = [];
    const check: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      node.push(timeProcess(['-e', '']));
      probe.push(await timeBannerProbe(lab.ip));
      let t = performance.now();
      const a = await probeAuth({ host: lab.ip, port: 22, user: { name: 'alice', publicKey: key } });
      if (a.outcome !== 'accepted') throw new Error(`auth stage: ${a.outcome} ${a.error ?? ''}`);
      auth.push(performance.now() - t);
      t = performance.now();
      const c = await runner.run({ script: collectorScript, args: collectorArgs, timeoutMs: 20_000 });
      if (c.status !== 'success') throw new Error(`collector: ${c.status} ${c.reason}`);
      collector.push(performance.now() - t);
      check.push(
        timeProcess(['bin/sshdoctor.js', 'check', '--via', lab.via, '--host', lab.ip, '--user', 'alice', '--public-key', pubFile, '--json'], {
          mustSucceed: true,
        }),
      );
    }
    const [n, p, a, c, k] = [median(node), median(probe), median(auth), median(collector), median(check)];
    const bound = Math.max(p + a, c) + n;
    console.log(`rounds: ${ROUNDS} (medians, ms)`);
    console.log(`node start-up              ${n.toFixed(0)}`);
    console.log(`banner probe alone         ${p.toFixed(0)}`);
    console.log(`authentication stage       ${a.toFixed(0)}   (added to the probe; goal < 150)`);
    console.log(`collector with --user      ${c.toFixed(0)}`);
    console.log(`sshdoctor check --user     ${k.toFixed(0)}`);
    console.log(`max(probe + auth, collector) + node start-up = ${bound.toFixed(0)}`);
    console.log(`ratio check --user / bound ${(k / bound).toFixed(2)}x   (goal <= 1.3x)`);
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
