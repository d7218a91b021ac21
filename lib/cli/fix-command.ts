/**
 * `sshdoctor fix`: diagnoses like `check`, turns the failing checks' fix actions into a
 * plan, prints it (dry run) or applies it (`--apply`): backup, change, re-diagnose with
 * the outside probe, roll back when verification fails, print the audit.
 */
import os from 'node:os';
import { createLocalRunner } from '../runners/local-runner';
import { buildPlan, parseOnly } from '../remediation/plan';
import { applyPlan, type SecurityCenterUnblocker } from '../remediation/apply';
import { FixSelectionError } from '../remediation/errors';
import { renderOutcome, renderPlan } from '../remediation/render';
import type { Report } from '../report/types';
import type { CommandRunner } from '../runners/types';
import { UsageError } from './errors';
import { EXIT, type Command } from './io';
import { diagnoseLocal, parseCommandArgs, parseTargetArgs } from './check-command';

const HELP = `usage:
  sshdoctor fix [--local] [--host HOST] [--port PORT] [--client-ip IP]... [--via "CMD"]
                [--user NAME [--public-key FILE|-] [--authorize-key]]
                [--only CHECK[,CHECK...]] [--apply] [--json]
  sshdoctor fix INSTANCE_ID --provider aws|alibaba --region REGION [--client-ip IP]...
                [--address public|private] [--port PORT] [--only CHECK[,CHECK...]] [--apply] [--json]

  Diagnoses like "sshdoctor check", then prints the fix plan for every failing check
  (dry run). With --apply: backs up, applies each step, re-runs the diagnosis and the
  outside probe, and rolls every change back if the fixed checks still fail or the
  probe gets no SSH banner. Prints the audit (who, what, when, before/after, backup).

  --only IDS   fix only these checks (comma-separated ids, e.g. tcp-wrappers,fail2ban)
  --apply      apply the plan (default: print it, change nothing)
  --authorize-key  also plan (and with --apply, do) steps that change who may log in:
               adding the --public-key to NAME's authorized keys; without it they are
               printed as manual steps only
  --json       print { plan, outcome } as one JSON object
  (target options as for sshdoctor check --help; by instance ID, every step runs through
  SSM or Cloud Assistant, and verification probes the address the cloud API returns)
exit codes: 0 fixed (or nothing to fix), 1 problems left, fix failed or rolled back,
            2 usage error, 3 could not diagnose
`;

/** `${USER}@${hostname}`: who applied a fix from the CLI. */
export function cliIdentity(): string {
  let user = process.env.USER ?? process.env.LOGNAME;
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = `uid${process.getuid?.() ?? '?'}`;
    }
  }
  return `${user}@${os.hostname()}`;
}

export const fixCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(argv, 'fix', { only: { type: 'string' }, apply: { type: 'boolean' }, 'authorize-key': { type: 'boolean' } });
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const target = parseTargetArgs(values, positionals);
  const authorizeKey = values['authorize-key'] === true;
  if (authorizeKey && !(target.kind === 'cloud' ? target.args.user : target.user)?.publicKey) {
    throw new UsageError('--authorize-key', 'needs --user NAME and --public-key FILE: the key to add');
  }
  let only: string[] | undefined;
  if (values.only !== undefined) {
    try {
      only = parseOnly(values.only);
    } catch (err) {
      if (err instanceof FixSelectionError) throw new UsageError('--only', err.message);
      throw err;
    }
  }

  let diagnoseNow: () => Promise<Report>;
  let runnerNow: () => Promise<CommandRunner>;
  let securityCenter: SecurityCenterUnblocker | undefined;
  if (target.kind === 'cloud') {
    const [{ setupCloudTarget }, { diagnoseInstance }, { InstanceNotFoundError }] = await Promise.all([
      import('./cloud-check'),
      import('../cloud/diagnose-instance'),
      import('../cloud/errors'),
    ]);
    const { provider, options } = await setupCloudTarget(target.args);
    diagnoseNow = () => diagnoseInstance(provider, options);
    securityCenter = provider.securityCenter;
    runnerNow = async () => {
      const instance = await provider.describeInstance(options.instanceId);
      if (!instance) throw new InstanceNotFoundError(provider.name, provider.region, options.instanceId);
      return provider.runner(instance);
    };
  } else {
    const runner = createLocalRunner({ via: target.via });
    diagnoseNow = () => diagnoseLocal(target, runner);
    runnerNow = async () => runner;
  }
  const report = await diagnoseNow();
  if (report.collector.status === 'failed') {
    io.stderr(`sshdoctor fix: could not inspect the host: ${report.collector.reason ?? 'collector failed'}\n`);
    return EXIT.couldNotDiagnose;
  }
  const plan = buildPlan(report, { ...(only ? { only } : {}), allowAccessChanges: authorizeKey });

  if (!values.apply) {
    io.stdout(values.json ? `${JSON.stringify({ plan, outcome: null }, null, 2)}\n` : renderPlan(plan, { dryRun: true }));
    return plan.steps.length || plan.manual.length ? EXIT.problem : EXIT.ok;
  }
  const outcome = await applyPlan(plan, {
    runner: await runnerNow(),
    reverify: diagnoseNow,
    identity: cliIdentity(),
    ...(securityCenter ? { securityCenter } : {}),
  });
  io.stdout(values.json ? `${JSON.stringify({ plan, outcome }, null, 2)}\n` : renderOutcome(plan, outcome));
  if (outcome.status === 'fixed') return EXIT.ok;
  if (outcome.status === 'nothing-to-do') return plan.manual.length || report.verdict.status === 'blocked' ? EXIT.problem : EXIT.ok;
  return EXIT.problem;
};
