/**
 * hosts_options(5) as libwrap's process_options() runs them: in order, each one validated;
 * any error aborts with a denial (tcpd_jump), `allow`/`deny` end processing with their
 * verdict, `twist` replaces the daemon. The outcome depends only on the rule, never on the
 * client, so it is computed once at parse time.
 */
import type { RuleAction } from './types';

const NEED_ARG = 1;
const USE_LAST = 2;
const OPT_ARG = 4;

type Validator = (value: string | null) => string | null;

const WHITESPACE = ' \t\r\n';
const FACILITIES = new Set([
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'lpr',
  'news',
  'uucp',
  'cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
]);
const SEVERITIES = new Set(['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']);

const isInt = (v: string) => /^\s*[+-]?\d+$/.test(v);

const validators: Record<string, Validator> = {
  umask: (v) => {
    // sscanf("%o%c") == 1 and no bits outside 0777; a minus sign wraps to a huge value.
    const m = /^\s*([+-]?)([0-7]+)$/.exec(v ?? '');
    if (!m) return `bad umask value: "${v}"`;
    const n = parseInt(m[2] as string, 8);
    return m[1] === '-' && n !== 0 ? `bad umask value: "${v}"` : n > 0o777 ? `bad umask value: "${v}"` : null;
  },
  linger: (v) => (v !== null && isInt(v) && Number(v) >= 0 ? null : `bad linger value: "${v}"`),
  nice: (v) => (v === null || isInt(v) ? null : `bad nice value: "${v}"`),
  rfc931: (v) => {
    if (v === null) return null;
    const m = /^\s*[+-]?\d+/.exec(v);
    return m && Number(m[0]) > 0 ? null : `bad rfc931 timeout: "${v}"`;
  },
  severity: (v) => {
    const value = v ?? '';
    const dot = value.indexOf('.');
    if (dot === -1) return SEVERITIES.has(value.toLowerCase()) ? null : `bad syslog facility or severity: "${value}"`;
    const fac = value.slice(0, dot).toLowerCase();
    const sev = value.slice(dot + 1).toLowerCase();
    if (!FACILITIES.has(fac)) return `bad syslog facility or severity: "${value.slice(0, dot)}"`;
    return SEVERITIES.has(sev) ? null : `bad syslog facility or severity: "${value.slice(dot + 1)}"`;
  },
};

const table: Record<string, number> = {
  user: NEED_ARG,
  group: NEED_ARG,
  umask: NEED_ARG,
  linger: NEED_ARG,
  keepalive: 0,
  spawn: NEED_ARG,
  twist: NEED_ARG | USE_LAST,
  rfc931: OPT_ARG,
  setenv: NEED_ARG,
  nice: OPT_ARG,
  severity: NEED_ARG,
  allow: USE_LAST,
  deny: USE_LAST,
  banners: NEED_ARG,
};

/** libwrap's get_field(): `:` separates, `\:` is a literal colon. */
function fields(options: string): string[] {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  while (i < options.length) {
    const ch = options[i];
    if (ch === ':') {
      out.push(cur);
      cur = '';
      i++;
      if (i === options.length) return out;
      continue;
    }
    if (ch === '\\' && options[i + 1] === ':') i++;
    cur += options[i];
    i++;
  }
  out.push(cur);
  return out;
}

function chop(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && WHITESPACE.includes(s[a] as string)) a++;
  while (b > a && WHITESPACE.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

/** Evaluates an option field. `options` is the text after the second `:` (newline included). */
export function evaluateOptions(options: string): { action: RuleAction; caveats: string[] } {
  const caveats: string[] = [];
  const opts = fields(options);
  for (let k = 0; k < opts.length; k++) {
    const opt = chop(opts[k] as string);
    let keyEnd = 0;
    while (keyEnd < opt.length && !'= \t\r\n'.includes(opt[keyEnd] as string)) keyEnd++;
    const key = opt.slice(0, keyEnd);
    let rest = keyEnd;
    if (rest < opt.length && opt[rest] !== '=') {
      rest++;
      while (rest < opt.length && WHITESPACE.includes(opt[rest] as string)) rest++;
    }
    if (rest < opt.length && opt[rest] === '=') {
      rest++;
      while (rest < opt.length && WHITESPACE.includes(opt[rest] as string)) rest++;
    }
    const value = rest < opt.length ? opt.slice(rest) : null;
    const err = (message: string) => ({ action: { kind: 'error', message } as RuleAction, caveats });
    if (key === '') return err('missing option name');
    const name = key.toLowerCase();
    const flags = Object.hasOwn(table, name) ? table[name] : undefined;
    if (flags === undefined) return err(`bad option name: "${key}"`);
    if (value === null && flags & NEED_ARG) return err(`option "${key}" requires value`);
    if (value !== null && !(flags & (NEED_ARG | OPT_ARG))) return err(`option "${key}" requires no value`);
    if (k < opts.length - 1 && flags & USE_LAST) return err(`option "${key}" must be at end`);
    const invalid = validators[name]?.(value) ?? null;
    if (invalid) return err(invalid);
    if (name === 'user' || name === 'group') {
      caveats.push(`option "${key} ${value}" is refused (and access denied) if the host has no such ${name === 'user' ? 'user or group' : 'group'}`);
    }
    if (name === 'allow') return { action: { kind: 'allow' }, caveats };
    if (name === 'deny') return { action: { kind: 'deny' }, caveats };
    if (name === 'twist') return { action: { kind: 'twist', command: value ?? '' }, caveats };
  }
  return { action: { kind: 'file' }, caveats };
}
