/**
 * `sshdoctor check`: local mode (this machine, or a wrapper such as nsenter/sudo/docker exec)
 * and cloud mode (an instance ID, through SSM or Cloud Assistant).
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AuthTarget } from '../auth/types';
import { AuthInputError } from '../auth/errors';
import { parsePublicKey, validateUserName } from '../auth/validate';
import { diagnose } from '../diagnose';
import { createLocalRunner, splitCommand } from '../runners/local-runner';
import { renderTerminal } from '../report/render-terminal';
import type { Report } from '../report/types';
import type { CommandRunner } from '../runners/types';
import { inspectedNothing } from '../report/verdict';
import { UsageError } from './errors';
import { EXIT, type Command } from './io';
import { assertResolves, parseClientIps, parseHost, parsePort } from './validate';
import type { CloudCheckArgs } from './cloud-check';

const HELP = `usage:
  sshdoctor check [--local] [--host HOST] [--port PORT] [--client-ip IP]... [--via "CMD"] [--json]
                  [--user NAME [--public-key FILE|-]]
  sshdoctor check INSTANCE_ID --provider aws|alibaba --region REGION [--client-ip IP]...
                  [--address public|private] [--port PORT] [--output-bucket BUCKET] [--json]
                  [--user NAME [--public-key FILE|-]]

  --local          run the collector on this machine (the default without INSTANCE_ID)
  --via CMD        run the collector as "CMD sh -s" (e.g. "sudo", "docker exec -i web",
                   "nsenter -t PID -m -n -p -r -w")
  --host HOST      where the outside probe connects (default 127.0.0.1; local mode only)
  --port PORT      SSH port (default 22)
  --client-ip IP   an address you connect from (repeatable); default: the probe's own
  --user NAME      also ask whether NAME can log in: the server's methods for NAME and,
                   with --public-key, whether it accepts that key (no private key is ever read)
  --public-key F   an OpenSSH public key file (id_ed25519.pub), or - for standard input
  --json           print the report as one JSON object
exit codes: 0 reachable, 1 blocked or problem found, 2 usage error, 3 could not diagnose
`;

/** 0 reachable and clean; 1 blocked or any failing check; 3 nothing could be judged. */
export function exitCodeFor(report: Report): number {
  if (inspectedNothing(report)) return EXIT.couldNotDiagnose;
  const anyFail = report.checks.some((c) => c.status === 'fail');
  if (report.verdict.status === 'blocked' || anyFail) return EXIT.problem;
  if (report.verdict.status === 'reachable') return EXIT.ok;
  return EXIT.couldNotDiagnose;
}

/** The target options shared by `check` and `fix`. */
export const TARGET_OPTIONS = {
  local: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  'client-ip': { type: 'string', multiple: true },
  via: { type: 'string' },
  json: { type: 'boolean' },
  provider: { type: 'string' },
  region: { type: 'string' },
  address: { type: 'string' },
  'output-bucket': { type: 'string' },
  user: { type: 'string' },
  'public-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Where a command acts: this machine / a wrapper (local), or an instance by ID (cloud). */
export type Target =
  | { kind: 'local'; host: string; port: number; clientIps: string[]; via: string[]; user?: AuthTarget }
  | { kind: 'cloud'; args: CloudCheckArgs };

/** Diagnoses a local target (this machine, or through its `--via` wrapper) with `runner`. */
export async function diagnoseLocal(target: Extract<Target, { kind: 'local' }>, runner: CommandRunner): Promise<Report> {
  await assertResolves(target.host);
  return diagnose({
    target: { host: target.host, port: target.port, provider: 'local' },
    clientIps: target.clientIps,
    clientIpSource: 'user',
    runner,
    ...(target.user ? { user: target.user } : {}),
  });
}

type ParsedValues = {
  [K in keyof typeof TARGET_OPTIONS]?: (typeof TARGET_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof TARGET_OPTIONS)[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

/** Runs node's parseArgs with `extra` options on top of the target options; usage errors name the flag. */
export function parseCommandArgs<E extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>>(
  argv: string[],
  command: string,
  extra: E,
) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...TARGET_OPTIONS, ...extra } });
  } catch (err) {
    const m = /'(--?[\w-]+)'/.exec((err as Error).message);
    throw new UsageError(m?.[1] ?? 'arguments', `${(err as Error).message.replace(/\. To specify.*$/s, '')} (see sshdoctor ${command} --help)`);
  }
}

/** Validates the target options (same rules and messages for `check` and `fix`). */
export function parseTargetArgs(values: ParsedValues, positionals: string[]): Target {
  if (positionals.length > 1) throw new UsageError('INSTANCE_ID', `expected at most one instance ID, got ${positionals.length} arguments`);
  const port = values.port === undefined ? 22 : parsePort(values.port);
  const clientIps = parseClientIps(values['client-ip'] ?? []);
  const instanceId = positionals[0];
  const user = parseUserArgs(values.user, values['public-key']);
  if (instanceId !== undefined) {
    if (values.local) throw new UsageError('--local', 'cannot be combined with an instance ID');
    if (values.host !== undefined)
      throw new UsageError('--host', 'not allowed with an instance ID: the probe targets only addresses the cloud API returns for the instance');
    if (values.via !== undefined) throw new UsageError('--via', 'not allowed with an instance ID: the collector runs through the cloud run-command API');
    return {
      kind: 'cloud',
      args: {
        instanceId,
        provider: values.provider,
        region: values.region,
        address: values.address,
        outputBucket: values['output-bucket'],
        clientIps,
        port,
        ...(user ? { user } : {}),
      },
    };
  }
  for (const flag of ['provider', 'region', 'address', 'output-bucket'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag}`, 'only applies with an instance ID');
  }
  const host = values.host === undefined ? '127.0.0.1' : parseHost(values.host);
  let via: string[] = [];
  if (values.via !== undefined) {
    try {
      via = splitCommand(values.via);
    } catch (err) {
      throw new UsageError('--via', `expected a command line: ${(err as Error).message}`);
    }
    if (!via.length) throw new UsageError('--via', 'expected a command, e.g. "sudo" or "nsenter -t PID -m -n -p"');
  }
  return { kind: 'local', host, port, clientIps, via, ...(user ? { user } : {}) };
}

/** `--user` and `--public-key` (a .pub file or - for stdin), validated; never a private key. */
function parseUserArgs(user: string | undefined, keyPath: string | undefined): AuthTarget | undefined {
  if (user === undefined) {
    if (keyPath !== undefined) throw new UsageError('--public-key', 'needs --user: the key is asked about for that user');
    return undefined;
  }
  try {
    const name = validateUserName(user);
    if (keyPath === undefined) return { name };
    let text: string;
    try {
      text = keyPath === '-' ? readFileSync(0, 'utf8') : readKeyFile(keyPath);
    } catch (err) {
      throw new UsageError('--public-key', `cannot read ${keyPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return { name, publicKey: parsePublicKey(text) };
  } catch (err) {
    if (err instanceof AuthInputError) throw new UsageError(err.field === 'user' ? '--user' : '--public-key', err.message);
    throw err;
  }
}

/** Reads at most 16 KiB: a public key line is short, and a huge file is not one. */
function readKeyFile(path: string): string {
  const st = statSync(path);
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
  if (st.size > 16 * 1024) throw Object.assign(new Error('too large'), { code: 'larger than 16 KiB, not a public key' });
  return readFileSync(path, 'utf8');
}

export const checkCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(argv, 'check', {});
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const target = parseTargetArgs(values, positionals);

  let report: Report;
  if (target.kind === 'cloud') {
    const { runCloudCheck } = await import('./cloud-check');
    report = await runCloudCheck(target.args);
  } else {
    report = await diagnoseLocal(target, createLocalRunner({ via: target.via }));
  }

  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderTerminal(report, { color: io.color }));
  return exitCodeFor(report);
};
