import { dotQuadAddr, parseIpv6 } from './addr';
import { logicalLines } from './lines';
import { splitAt } from './match';
import { evaluateOptions } from './options';
import type { Diagnostic, HostsFile, HostsFileInput, Rule } from './types';

const SEP = /[, \t\r\n]+/;
const SIMPLE = /^[ \t]*([A-Za-z0-9_.+-]+)[ \t]*:[ \t]*([0-9][0-9.]*[0-9])[ \t\r]*$/;
const FILE_ACTION = { kind: 'file' } as const;

function tokens(list: string): string[] {
  return list.split(SEP).filter((t) => t.length > 0);
}

/** Static checks in the spirit of tcpdchk: patterns that can never match, or cannot be evaluated. */
function lintClient(tok: string, file: string, line: number, out: Diagnostic[]): void {
  const warn = (message: string) => out.push({ file, line, severity: 'warning', message });
  const host = tok[0] === '@' ? tok : (splitAt(tok.slice(1), '@')?.[1] ?? tok);
  if (host[0] === '@') {
    warn(`${host}: netgroup patterns cannot be evaluated without NIS`);
    return;
  }
  if (host[0] === '/') return;
  const nm = splitAt(host, '/');
  if (!nm) return;
  const [net, mask] = nm;
  if (net[0] === '[') {
    const inner = net.endsWith(']') ? parseIpv6(net.slice(1, -1)) : null;
    if (!inner) warn(`bad net/mask expression: ${host} (never matches)`);
    else if (!/^\s*[+-]?\d+/.test(mask)) warn(`prefix length "${mask}" in ${host} is read as 0: it matches every IPv6 client`);
    return;
  }
  const n = dotQuadAddr(net);
  let m = dotQuadAddr(mask);
  if (m === null && /^\s*[+-]?\d/.test(mask)) {
    const len = Number(/^\s*[+-]?\d+/.exec(mask)?.[0]);
    if (len > 0 && len <= 32) m = len === 32 ? 0xffffffff : 0xffffffff - (2 ** (32 - len) - 1);
  }
  if (n === null || m === null) warn(`bad net/mask expression: ${host} (never matches)`);
  else if ((n & ~m) >>> 0 !== 0) warn(`host bits not all zero in ${host} (libwrap then never matches)`);
}

/**
 * Parses one hosts file the way libwrap reads it. Never throws: malformed lines become
 * diagnostics and are skipped, exactly as libwrap skips them.
 */
export function parseHostsFile(input: HostsFileInput): HostsFile {
  const diagnostics: Diagnostic[] = [];
  const rules: Rule[] = [];
  const file = input.path;
  const { lines, stop } = logicalLines(file, input.lines, diagnostics);
  for (const l of lines) {
    const text = l.text;
    // Fast path for the DenyHosts shape `daemon: a.b.c.d`: same result as the general path below.
    const simple = SIMPLE.exec(text);
    if (simple) {
      rules.push({
        file,
        line: l.first,
        lastLine: l.last,
        text,
        firstLineText: l.firstText,
        daemons: [simple[1] as string],
        clients: [simple[2] as string],
        options: null,
        action: FILE_ACTION,
        optionCaveats: [],
      });
      continue;
    }
    if (text[0] === '#') continue;
    if (/^[ \t\r]*$/.test(text)) continue;
    const first = splitAt(text, ':');
    if (!first) {
      diagnostics.push({ file, line: l.first, severity: 'error', message: 'missing ":" separator: libwrap skips this line' });
      continue;
    }
    const [daemonList, rest] = first;
    const second = splitAt(rest, ':');
    const clientList = second ? second[0] : rest;
    // libwrap keeps the newline in its buffer; it is part of the last field.
    const options = second ? `${second[1]}\n` : null;
    const daemons = tokens(daemonList);
    const clients = tokens(clientList);
    if (daemons.length === 0) diagnostics.push({ file, line: l.first, severity: 'warning', message: 'empty daemon list: the rule never matches' });
    if (clients.length === 0) diagnostics.push({ file, line: l.first, severity: 'warning', message: 'empty client list: the rule never matches' });
    for (const c of clients) lintClient(c, file, l.first, diagnostics);
    const { action, caveats } = options === null ? { action: { kind: 'file' as const }, caveats: [] } : evaluateOptions(options);
    if (action.kind === 'error') {
      diagnostics.push({ file, line: l.first, severity: 'error', message: `${action.message}: libwrap denies access when this rule matches` });
    }
    rules.push({
      file,
      line: l.first,
      lastLine: l.last,
      text,
      firstLineText: l.firstText,
      daemons,
      clients,
      options: second ? second[1] : null,
      action,
      optionCaveats: caveats,
    });
  }
  return stop ? { path: file, rules, diagnostics, stop } : { path: file, rules, diagnostics };
}
