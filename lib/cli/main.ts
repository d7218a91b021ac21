/** `sshdoctor` entry point: dispatches to one subcommand and maps usage errors to exit 2. */
import { UsageError } from './errors';
import { EXIT, type Command, type CommandIo } from './io';
import { TOOL_VERSION } from '../version';

const USAGE = `usage: sshdoctor <command> [options]

commands:
  check     diagnose why SSH to a host or instance fails (see: sshdoctor check --help)
  fix       print the fix plan for failing checks; --apply applies, verifies, rolls back (see: sshdoctor fix --help)
  wrappers  evaluate /etc/hosts.allow and /etc/hosts.deny for client addresses

options:
  -h, --help     this text (each command has its own --help)
  -V, --version  print sshdoctor's version
`;

const USAGE_ERRORS = new Set(['CloudValidationError', 'AddressNotAvailableError', 'AlibabaEndpointError']);

const commands: Record<string, () => Promise<Command>> = {
  check: async () => (await import('./check-command')).checkCommand,
  fix: async () => (await import('./fix-command')).fixCommand,
  wrappers: async () => (await import('./wrappers-command')).wrappersCommand,
};

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`sshdoctor ${TOOL_VERSION}\n`);
    return EXIT.ok;
  }
  const load = commands[name];
  if (!load) {
    io.stderr(`sshdoctor: unknown command '${name}'\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await (await load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`sshdoctor ${name}: ${err.message}\n`);
      return EXIT.usage;
    }
    // Input or configuration the caller can correct (matched by name: main loads no cloud code).
    if (err instanceof Error && USAGE_ERRORS.has(err.name)) {
      io.stderr(`sshdoctor ${name}: ${err.message}\n`);
      return EXIT.usage;
    }
    // Anything else is our bug or an environment failure: one line, no stack unless asked.
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`sshdoctor ${name}: could not diagnose: ${message}\n`);
    if (process.env.SSHDOCTOR_DEBUG) io.stderr(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT.couldNotDiagnose;
  }
}

const isEntry = process.argv[1] !== undefined && /(?:sshdoctor(?:\.js)?|cli\.mjs)$/.test(process.argv[1]);
if (isEntry) {
  const io: CommandIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  };
  main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
