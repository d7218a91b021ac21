/**
 * `sshdoctor wrappers`: what libwrap decides for each client, from hosts.allow and hosts.deny,
 * and the smallest edit that lets a denied client in.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { clientAddress, decide, linesFromText, parseHostsFile, type HostsFile, type WrappersDecision, type WrappersPolicy } from '../wrappers/index';
import { UsageError } from './errors';
import { EXIT, type Command } from './io';

const HELP = `usage: sshdoctor wrappers [--allow FILE] [--deny FILE] [--daemon NAME]
                          --client ADDR [--client ADDR ...] [--clients-file FILE]
                          [--client-name NAME ...] [--server-addr ADDR] [--server-name NAME] [--json]

Evaluates hosts.allow and hosts.deny exactly as Debian's libwrap 7.6.q would for each client.
  --allow FILE        hosts.allow to read (default /etc/hosts.allow)
  --deny FILE         hosts.deny to read (default /etc/hosts.deny)
  --daemon NAME       daemon process name (default sshd)
  --client ADDR       client IPv4/IPv6 address; repeatable
  --clients-file FILE one client address per line (# comments and blank lines ignored)
  --client-name NAME  the client's verified reverse-DNS name: once for all clients, or once per --client
  --server-addr ADDR  server address, for daemon@host patterns (default unknown)
  --server-name NAME  server host name, for daemon@host patterns (default unknown)
  --json              print an array of decisions

Exit status: 0 every client allowed, 1 any client denied, 2 bad arguments.
`;

const NAME_RE = /^[A-Za-z0-9_.-]{1,253}$/;
const DAEMON_RE = /^[A-Za-z0-9_.+-]{1,64}$/;

function readHosts(path: string, argument: string): HostsFile {
  let text: string;
  try {
    // latin1 keeps every byte as one character: libwrap counts bytes, not UTF-8 characters.
    text = readFileSync(path, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, rules: [], diagnostics: [] };
    if (code === 'EISDIR') throw new UsageError(argument, `${path} is a directory, expected a hosts file`);
    const reason = `cannot open ${path} (${code ?? 'error'})`;
    return {
      path,
      rules: [],
      diagnostics: [{ file: path, line: 0, severity: 'error', message: reason }],
      stop: { line: null, text: '', reason: `${reason}: libwrap treats this as an error` },
    };
  }
  return parseHostsFile({ path, lines: linesFromText(text) });
}

function readClientsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError('--clients-file', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function render(d: WrappersDecision): string {
  const who = d.clientName ? `${d.client} (${d.clientName})` : d.client;
  const where = d.file === null ? 'no rule matched (libwrap grants by default)' : `${d.file}${d.line === null ? '' : ` line ${d.line}`}: ${d.rule}`;
  const how = d.via === 'default' ? '' : ` [${d.via}]`;
  let out = `${who}: ${d.decision}${how} - ${where}\n`;
  for (const c of d.caveats) out += `  caveat: ${c}\n`;
  if (d.fix?.kind === 'comment-out') out += `  fix: comment out ${d.fix.file} line ${d.fix.line}: ${d.fix.text}\n`;
  if (d.fix?.kind === 'insert-allow') {
    const at = d.fix.beforeLine === null ? 'at the end of' : `before line ${d.fix.beforeLine} of`;
    out += `  fix: add "${d.fix.text}" ${at} ${d.fix.file}\n`;
  }
  return out;
}

/** The wrappers command's options; a usage error names the option. */
function parseWrapperArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        allow: { type: 'string' },
        deny: { type: 'string' },
        daemon: { type: 'string' },
        client: { type: 'string', multiple: true },
        'clients-file': { type: 'string' },
        'client-name': { type: 'string', multiple: true },
        'server-addr': { type: 'string' },
        'server-name': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const named = /'([^' ]+)/.exec(message)?.[1] ?? 'arguments';
    const code = (err as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(named, 'unknown option (see sshdoctor wrappers --help)');
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(named, 'unexpected argument: every value goes with an option');
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(named, 'requires a value (or takes none)');
    throw new UsageError(named, 'invalid arguments (see sshdoctor wrappers --help)');
  }
}

/** `sshdoctor wrappers`. */
export const wrappersCommand: Command = async (argv, io) => {
  const parsed = parseWrapperArgs(argv);
  const v = parsed.values;
  if (v.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const daemon = v.daemon ?? 'sshd';
  if (!DAEMON_RE.test(daemon)) throw new UsageError('--daemon', 'must be a process name of letters, digits, ".", "_", "+" or "-" (at most 64)');

  const raw = [...(v.client ?? []), ...(v['clients-file'] !== undefined ? readClientsFile(v['clients-file']) : [])];
  if (raw.length === 0) throw new UsageError('--client', 'at least one client address is required (--client or --clients-file)');
  const clients = raw.map((c) => {
    const a = clientAddress(c);
    if (!a) throw new UsageError('--client', `"${c.slice(0, 80)}" is not an IPv4 or IPv6 address`);
    return a.text;
  });

  const names = v['client-name'] ?? [];
  for (const n of names) if (!NAME_RE.test(n)) throw new UsageError('--client-name', `"${n.slice(0, 80)}" is not a host name`);
  if (names.length > 1 && names.length !== clients.length) {
    throw new UsageError('--client-name', `give it once (for every client) or once per client (${clients.length}), not ${names.length} times`);
  }
  const serverAddr = v['server-addr'];
  if (serverAddr !== undefined && !clientAddress(serverAddr)) throw new UsageError('--server-addr', 'must be an IPv4 or IPv6 address');
  const serverName = v['server-name'];
  if (serverName !== undefined && !NAME_RE.test(serverName)) throw new UsageError('--server-name', 'must be a host name');
  const server = serverAddr !== undefined || serverName !== undefined ? { addr: serverAddr, name: serverName } : undefined;

  const allowPath = v.allow ?? '/etc/hosts.allow';
  const denyPath = v.deny ?? '/etc/hosts.deny';
  const policy: WrappersPolicy = {
    allow: readHosts(allowPath, '--allow'),
    deny: readHosts(denyPath, '--deny'),
    readPatternFile: (path) => {
      try {
        return readFileSync(path, 'latin1');
      } catch {
        return undefined;
      }
    },
  };

  const decisions = clients.map((addr, i) => {
    const name = names.length === 1 ? names[0] : names[i];
    return decide(policy, daemon, name === undefined ? { addr } : { addr, name }, server);
  });

  if (v.json) {
    io.stdout(`${JSON.stringify(decisions, null, 2)}\n`);
  } else {
    const diags = [...policy.allow.diagnostics, ...policy.deny.diagnostics];
    let out = '';
    for (const d of diags.slice(0, 50)) out += `${d.file}${d.line > 0 ? `:${d.line}` : ''}: ${d.severity}: ${d.message}\n`;
    if (diags.length > 50) out += `... and ${diags.length - 50} more diagnostics (--json omits none of the decisions)\n`;
    if (diags.length > 0) out += '\n';
    for (const d of decisions) out += render(d);
    io.stdout(out);
  }
  return decisions.some((d) => d.decision === 'deny') ? EXIT.problem : EXIT.ok;
};
