/** Seeded random generation of hosts.allow/hosts.deny files over libwrap's grammar. */

export type Rng = () => number;

/** mulberry32: small, fast, reproducible. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const chance = (r: Rng, p: number) => r() < p;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export const V4_CLIENTS = [
  '10.0.0.1',
  '10.0.0.2',
  '10.0.1.1',
  '10.0.1.200',
  '10.1.0.1',
  '10.1.2.3',
  '10.10.0.1',
  '192.168.1.5',
  '192.168.1.50',
  '192.168.10.5',
  '172.16.5.4',
  '203.0.113.9',
  '1.2.3.4',
  '100.0.0.1',
];
export const V6_CLIENTS = ['2001:db8::1', '2001:db8::2', '2001:db8:1::1', '2001:db8:0:1::ff', 'fe80::1', '::1', '2001:db9::1'];

function randCase(r: Rng, s: string): string {
  const m = r();
  if (m < 0.6) return s;
  if (m < 0.8) return s.toLowerCase();
  return [...s].map((c) => (chance(r, 0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
}

function v6Variant(r: Rng, a: string): string {
  const full = (() => {
    const [h, t] = a.split('::') as [string, string | undefined];
    if (t === undefined) return a;
    const hs = h ? h.split(':') : [];
    const ts = t ? t.split(':') : [];
    return [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts].join(':');
  })();
  return pick(r, [a, a.toUpperCase(), full, full.replace(/\b0\b/g, '0000')]);
}

function octets(a: string): number[] {
  return a.split('.').map(Number);
}

function v4NetMask(r: Rng): string {
  const base = octets(pick(r, V4_CLIENTS));
  const form = r();
  if (form < 0.55) {
    const len = pick(r, [8, 16, 24, 32, 31, 12, 1]);
    const maskNum = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    let net = (((base[0]! << 24) | (base[1]! << 16) | (base[2]! << 8) | base[3]!) >>> 0) & maskNum;
    if (chance(r, 0.15)) net = (net | 1) >>> 0; // host bits set: libwrap never matches
    const netText = [net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join('.');
    const maskText = chance(r, 0.5) ? String(len) : [maskNum >>> 24, (maskNum >>> 16) & 255, (maskNum >>> 8) & 255, maskNum & 255].join('.');
    return `${netText}/${maskText}`;
  }
  if (form < 0.8) {
    const net = `${base[0]}.${base[1]}.0.0`;
    return `${net}/${pick(r, ['0', '+16', '16x', '016', '-1', '33', '0x10', '255.255.0.0', '255.0.255.0', '0.0.0.0', '255.255.255.255', '255.255.0', '', '16/8', '4294967312'])}`;
  }
  return pick(r, ['012.0.0.0/8', '0xa.0.0.0/255.0.0.0', '0.0.0.0/0.0.0.0', '10.0.0/8', '10..0.0/8', '0x.0.0.0/8', '192.168.001.0/24', '10.0.0.0./8', '/8']);
}

function v6Net(r: Rng): string {
  const net = pick(r, ['2001:db8::', '2001:db8:1::', '2001:db8::1', 'fe80::', '::', '2001:db9::']);
  const len = pick(r, ['0', '16', '32', '33', '48', '64', '128', '129', '32x', '+32', '-1', 'ffff::', '']);
  return chance(r, 0.9) ? `[${net}]/${len}` : pick(r, [`[${net}/${len}`, `${net}]/${len}`]);
}

function hostToken(r: Rng, files: string[]): string {
  const m = r();
  const v4 = pick(r, V4_CLIENTS);
  if (m < 0.22) return v4;
  if (m < 0.3)
    return `${v4
      .split('.')
      .slice(0, int(r, 1, 3))
      .join('.')}.`;
  if (m < 0.34)
    return `.${v4
      .split('.')
      .slice(int(r, 2, 3))
      .join('.')}`;
  if (m < 0.46) return v4NetMask(r);
  if (m < 0.54) return `[${v6Variant(r, pick(r, V6_CLIENTS))}]`;
  if (m < 0.6) return v6Net(r);
  if (m < 0.68) return pick(r, ['10.0.*', '10.?.0.1', '*', '*.1', '192.168.1.?', '10.*.1', '1?.*', '*0*', '?', '**', '10.0.0.[12]']);
  if (m < 0.78) return randCase(r, pick(r, ['ALL', 'LOCAL', 'KNOWN', 'UNKNOWN', 'PARANOID']));
  if (m < 0.84) return pick(r, ['host.example.com', '.example.com', 'example.', '*.example.com', 'localhost', 'unknown', 'paranoid']);
  if (m < 0.87) return pick(r, ['@netgroup', '@all']);
  if (m < 0.93 && files.length > 0) return chance(r, 0.85) ? pick(r, files) : '/nonexistent/patterns';
  return `${pick(r, ['unknown', 'root', 'ALL', 'KNOWN', 'UNKNOWN', 'unk*'])}@${hostToken(r, [])}`;
}

function daemonToken(r: Rng): string {
  return randCase(
    r,
    pick(r, [
      'sshd',
      'sshd',
      'sshd',
      'ALL',
      'ALL',
      'ftpd',
      's*d',
      'ss?d',
      'ssh.',
      '.d',
      'KNOWN',
      'UNKNOWN',
      'sshd@UNKNOWN',
      'sshd@ALL',
      'sshd@10.0.0.1',
      'ALL@KNOWN',
      'sshd@unknown',
      'in.telnetd',
    ]),
  );
}

const SEPS = [', ', ',', ' ', '\t', ' , ', '  '];

function list(r: Rng, tok: () => string, depth = 0): string {
  const n = int(r, 1, 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(tok());
  let s = parts.join(pick(r, SEPS));
  if (depth < 3 && chance(r, depth === 0 ? 0.3 : 0.25)) s += ` ${randCase(r, 'EXCEPT')} ${list(r, tok, depth + 1)}`;
  return s;
}

const OPTIONS = [
  'allow',
  'deny',
  'ALLOW',
  'Deny',
  'twist /bin/echo go away',
  'spawn /bin/true %a',
  'severity auth.info',
  'severity bogus',
  'severity warn',
  'severity local3.notice',
  'bogus',
  'umask 022',
  'umask 999',
  'nice 5',
  'nice x',
  'keepalive',
  'keepalive 1',
  'linger 5',
  'linger -1',
  'rfc931',
  'rfc931 0',
  'setenv A b',
  'banners /nonexistent',
  '',
  'allow=x',
  'allow =',
  'user root',
  'group root',
  'spawn echo a\\:b',
];

function ruleText(r: Rng, files: string[]): string {
  let s = `${list(r, () => daemonToken(r))}${pick(r, [':', ': ', ' : ', ' :'])}${list(r, () => hostToken(r, files))}`;
  if (chance(r, 0.3)) {
    const n = int(r, 1, 3);
    const opts: string[] = [];
    for (let i = 0; i < n; i++) opts.push(pick(r, OPTIONS));
    s += ` : ${opts.join(pick(r, [' : ', ':', ' :']))}`;
  }
  return s;
}

/** A random hosts file (text). `files` are absolute paths of pattern files a rule may name. */
export function hostsFileText(r: Rng, files: string[]): string {
  const lines: string[] = [];
  const n = int(r, 0, 7);
  for (let i = 0; i < n; i++) {
    const m = r();
    if (m < 0.07) lines.push(pick(r, ['# comment', '#sshd: ALL', '', '   ', '\t']));
    else if (m < 0.1) lines.push(pick(r, ['sshd 10.0.0.1', 'ALL', '[sshd: 10.0.0.1', '  # sshd: 10.0.0.1']));
    else {
      let t = ruleText(r, files);
      if (chance(r, 0.12)) {
        const sp = t.indexOf(' ', int(r, 0, t.length));
        if (sp > 0) t = `${t.slice(0, sp)} \\\n${t.slice(sp + 1)}`;
      }
      if (chance(r, 0.01)) t += ` ${'10.255.255.255 '.repeat(150)}`;
      if (chance(r, 0.05)) t += '\r';
      lines.push(t);
    }
  }
  const body = lines.join('\n');
  return lines.length === 0 ? '' : chance(r, 0.04) ? body : `${body}\n`;
}

/** A random pattern file for `/path` client patterns. */
export function patternFileText(r: Rng): string {
  const n = int(r, 1, 6);
  const toks: string[] = [];
  for (let i = 0; i < n; i++) toks.push(hostToken(r, []));
  return toks.map((t) => t + pick(r, [' ', '\n', '\t', ' \n'])).join('');
}

export function clientSample(r: Rng, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(chance(r, 0.75) ? pick(r, V4_CLIENTS) : pick(r, V6_CLIENTS));
  return out;
}
