/**
 * Typed host facts, built from the collector document's raw sections and validated with
 * zod. Checks read only these; they never see raw collector text.
 */
import * as z from 'zod/mini';
import '../zod-locale';
import { parseDocument, type RawDocument, type RawSection } from './document';

const numberedLine = z.object({ no: z.number().check(z.int(), z.positive()), text: z.string() });

const hostsFile = z.object({
  path: z.string(),
  present: z.boolean(),
  /** Lines that can matter, with their original numbers (sparse: see `omitted`). */
  lines: z.array(numberedLine),
  totalLines: z.number().check(z.int(), z.nonnegative()),
  /** Literal-address rules for other addresses, left out by the collector. */
  omitted: z.number().check(z.int(), z.nonnegative()),
  /** Lines that were cut by a size cap: the decision may be incomplete. */
  truncated: z.boolean(),
  /** The file's last line has no newline: libwrap stops reading there. */
  unterminated: z.boolean(),
});

const library = z.object({ name: z.string(), path: z.nullable(z.string()), notFound: z.boolean() });

const libraryCandidate = z.object({
  path: z.string(),
  kind: z.enum(['link', 'file']),
  target: z.optional(z.string()),
  /** For links: the target exists. */
  resolves: z.optional(z.boolean()),
  elfMachine: z.optional(z.string()),
});

const iptables = z.object({
  present: z.boolean(),
  lines: z.array(z.string()),
  omitted: z.number(),
  truncated: z.boolean(),
  /** Permission errors the command printed (not root): the rules could not be read. */
  denied: z.array(z.string()),
  /** iptables-nft printed `# Warning: iptables-legacy tables present`. */
  legacyWarning: z.boolean(),
});

/** Firewall facts beyond iptables-save: nft JSON, arrival interfaces, legacy tables, ufw, firewalld. */
const firewallExtra = {
  /** `nft -j list ruleset`, joined back; null when nft is absent or failed (see `error`). */
  nftJson: z.object({ present: z.boolean(), text: z.nullable(z.string()), error: z.nullable(z.string()), truncated: z.boolean() }),
  /** The interface each client's packets arrive on (`ip route get`); null when unknown. */
  arrival: z.array(z.object({ ip: z.string(), iface: z.nullable(z.string()), raw: z.string() })),
  iptablesLegacy: iptables,
  ip6tablesLegacy: iptables,
  ufw: z.object({
    present: z.boolean(),
    /** From `ufw status`; null when the status could not be read. */
    active: z.nullable(z.boolean()),
    statusRc: z.nullable(z.number()),
    status: z.array(z.string()),
    conf: z.record(z.string(), z.string()),
  }),
  firewalld: z.object({
    present: z.boolean(),
    running: z.boolean(),
    defaultZone: z.nullable(z.string()),
    /** `active ...` lines of `firewall-cmd --get-active-zones`. */
    active: z.array(z.string()),
    zones: z.array(z.object({ name: z.string(), source: z.string(), lines: z.array(z.string()) })),
  }),
};

const pathEntry = z.object({ mode: z.string(), owner: z.string(), group: z.string(), type: z.string(), path: z.string() });

const userFacts = z.object({
  name: z.string(),
  exists: z.boolean(),
  uid: z.nullable(z.number()),
  home: z.string(),
  shell: z.string(),
  shellExecutable: z.boolean(),
  shellListed: z.boolean(),
  groups: z.array(z.string()),
  primaryGroup: z.nullable(z.object({ name: z.string(), members: z.array(z.string()) })),
  /** Derived from the shadow line (never the hash); null when /etc/shadow was unreadable. */
  shadow: z.nullable(
    z.object({
      locked: z.boolean(),
      noPassword: z.boolean(),
      lastChange: z.nullable(z.number()),
      maxDays: z.nullable(z.number()),
      inactiveDays: z.nullable(z.number()),
      expireDay: z.nullable(z.number()),
    }),
  ),
  /** Days since the epoch on the host's clock. */
  today: z.nullable(z.number()),
  /** First line of /etc/nologin when it exists. */
  nologin: z.nullable(z.string()),
  /** `sshd -T -C user=,host=,addr=` per client: lower-case keyword -> values. */
  effective: z.array(z.object({ client: z.string(), options: z.record(z.string(), z.array(z.string())), error: z.nullable(z.string()) })),
  authorizedKeys: z.array(
    z.object({
      path: z.string(),
      chain: z.array(pathEntry),
      missing: z.nullable(z.string()),
      unreadable: z.boolean(),
      lines: z.nullable(z.number()),
      /** Lines holding the key: number and the options before it. */
      keyLines: z.array(z.object({ line: z.number(), options: z.string() })),
    }),
  ),
  selinux: z.nullable(z.string()),
  /** With SELinux enforcing: the label of ~/.ssh and what the policy expects (matchpathcon). */
  selinuxLabel: z.nullable(z.string()),
  selinuxExpected: z.nullable(z.string()),
  /** The sshd PAM stack's lines that use pam_nologin/access/faillock/tally2; null: /etc/pam.d/sshd unreadable. */
  pam: z.nullable(z.array(z.object({ file: z.string(), line: z.number(), text: z.string() }))),
  /** /etc/security/access.conf rules (only read when pam_access is in the stack). */
  accessRules: z.array(z.object({ line: z.number(), text: z.string() })),
  /** pam_faillock: faillock.conf settings, the user's valid failures and the newest one (host local time). */
  faillock: z.object({ conf: z.record(z.string(), z.string()), valid: z.nullable(z.number()), last: z.nullable(z.string()), error: z.nullable(z.string()) }),
  tally2Failures: z.nullable(z.number()),
  /** The last sshd log lines that name the user in a refusal. */
  logLines: z.array(z.string()),
});

export type UserFacts = z.infer<typeof userFacts>;

const cutCall = z.object({
  section: z.string(),
  calls: z.number().check(z.int(), z.positive()),
  kind: z.enum(['timeout', 'skipped-hung', 'skipped-budget']),
  /** The time limit the call had (0 when it was not started). */
  seconds: z.number(),
  /** The first cut call of the section, as the collector ran it. */
  command: z.string(),
});

export type CutCall = z.infer<typeof cutCall>;

export const hostFactsSchema = z.object({
  complete: z.boolean(),
  /** The sections that arrived whole (an incomplete document lacks those after the cut). */
  sections: z.array(z.string()),
  /** Sections with a command the collector cut after its time limit or did not start. */
  cutCalls: z.array(cutCall),
  truncatedSections: z.array(z.string()),
  meta: z.object({
    uid: z.nullable(z.number()),
    /** The collector's clock (UTC, ISO 8601), and the host's local wall clock without zone. */
    time: z.nullable(z.string()),
    localTime: z.nullable(z.string()),
    hostname: z.string(),
    kernel: z.string(),
    arch: z.string(),
    init: z.enum(['systemd', 'other']),
    clients: z.array(z.string()),
  }),
  os: z.object({ id: z.string(), idLike: z.array(z.string()), versionId: z.string(), prettyName: z.string() }),
  wrappers: z.object({
    allow: hostsFile,
    deny: hostsFile,
    /** `/path` pattern files: text, or null when unreadable. */
    patternFiles: z.record(z.string(), z.nullable(z.string())),
  }),
  sshd: z.object({
    path: z.nullable(z.string()),
    elfMachine: z.optional(z.string()),
    test: z.object({ rc: z.nullable(z.number()), output: z.array(z.string()) }),
    effective: z.object({ ok: z.boolean(), options: z.record(z.string(), z.array(z.string())), error: z.array(z.string()) }),
    configLines: z.array(z.object({ file: z.string(), line: z.number(), text: z.string() })),
    libraries: z.array(library),
    /** null when ldd was not available. */
    linksLibwrap: z.nullable(z.boolean()),
    missing: z.array(z.object({ lib: z.string(), candidates: z.array(libraryCandidate) })),
  }),
  service: z.object({
    units: z.array(z.object({ name: z.string(), active: z.string(), enabled: z.string(), subState: z.string(), result: z.string() })),
    processes: z.array(z.object({ pid: z.number(), args: z.string() })),
  }),
  listening: z.array(z.object({ family: z.enum(['ipv4', 'ipv6']), address: z.string(), port: z.number(), process: z.optional(z.string()) })),
  firewall: z.object({
    iptables,
    ip6tables: iptables,
    nft: z.object({ present: z.boolean(), lines: z.array(z.string()), truncated: z.boolean() }),
    nftClientHits: z.array(z.object({ ip: z.string(), line: z.number(), text: z.string() })),
    ...firewallExtra,
  }),
  fail2ban: z.object({
    installed: z.boolean(),
    running: z.boolean(),
    error: z.optional(z.string()),
    jails: z.array(
      z.object({ name: z.string(), currentlyBanned: z.nullable(z.number()), totalBanned: z.nullable(z.number()), currentlyFailed: z.nullable(z.number()) }),
    ),
    banned: z.array(z.object({ jail: z.string(), ip: z.string() })),
  }),
  blockers: z.object({
    denyhosts: z.boolean(),
    sshguard: z.boolean(),
    running: z.array(z.string()),
    listed: z.array(z.object({ tool: z.enum(['denyhosts', 'sshguard']), ip: z.string(), file: z.string() })),
  }),
  authLog: z.object({ source: z.nullable(z.string()), lines: z.array(z.string()), clientLines: z.array(z.string()) }),
  disk: z.object({
    space: z.array(z.object({ mount: z.string(), usePercent: z.number(), availableKb: z.number() })),
    inodes: z.array(z.object({ mount: z.string(), usePercent: z.number() })),
  }),
  permissions: z.array(z.object({ mode: z.string(), owner: z.string(), group: z.string(), type: z.string(), path: z.string() })),
  /** With --user: the account and what sshd would do for it; null without --user. */
  user: z.nullable(userFacts),
});

export type HostFacts = z.infer<typeof hostFactsSchema>;
export type HostsFileFacts = z.infer<typeof hostsFile>;

/** Parses collector output into validated host facts. Throws CollectorDocumentError. */
export function parseHostFacts(text: string): HostFacts {
  // One document per diagnosis: compiling zod's eval fast path would cost more than it saves.
  return hostFactsSchema.parse(buildFacts(parseDocument(text)), { jitless: true });
}

function kv(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

const empty: RawSection = { name: '', lines: [], rc: null, dropped: 0, cut: 0, ended: false };

function buildFacts(doc: RawDocument): HostFacts {
  const sec = (name: string): RawSection => doc.sections.get(name) ?? { ...empty, name };
  const truncatedSections = [...doc.sections.values()].filter((s) => s.dropped > 0).map((s) => s.name);

  const meta = kv(sec('meta').lines);
  const binary = kv(sec('sshd-binary').lines);
  const osKv = kv(sec('os').lines);
  const unquote = (v: string | undefined) => (v ?? '').replace(/^"(.*)"$/, '$1');

  const effective = sec('sshd-effective');
  const options: Record<string, string[]> = {};
  if (effective.rc === 0) {
    for (const l of effective.lines) {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      if (m) (options[m[1]!.toLowerCase()] ??= []).push(m[2]!);
    }
  }

  const libraries = sec('sshd-libraries').lines.flatMap((l) => {
    const t = l.trim();
    if (!t || t.startsWith('#')) return [];
    const m = /^(\S+)\s+=>\s+(.*)$/.exec(t);
    if (!m) return [{ name: t, path: t.startsWith('/') ? t : null, notFound: false }];
    const notFound = m[2]!.trim() === 'not found';
    return [{ name: m[1]!, path: notFound ? null : m[2]!.trim(), notFound }];
  });

  return {
    complete: doc.complete,
    sections: [...doc.sections.values()].filter((s) => s.ended).map((s) => s.name),
    cutCalls: doc.cuts.map((c) => {
      const m = /^(timeout|skipped-hung|skipped-budget) (\d+) (.+)$/.exec(c.first);
      // An unreadable record still marks its section as cut.
      return {
        section: c.section,
        calls: Math.max(1, c.calls),
        kind: (m?.[1] ?? 'timeout') as CutCall['kind'],
        seconds: m ? Number(m[2]) : 0,
        command: m ? m[3]! : c.first,
      };
    }),
    truncatedSections,
    meta: {
      uid: meta.uid !== undefined && meta.uid !== '' ? Number(meta.uid) : null,
      time: meta.time || null,
      localTime: meta.localtime || null,
      hostname: meta.hostname ?? '',
      kernel: meta.kernel ?? '',
      arch: meta.arch ?? '',
      init: meta.init === 'systemd' ? 'systemd' : 'other',
      clients: (meta.clients ?? '').split(' ').filter(Boolean),
    },
    os: {
      id: unquote(osKv.ID),
      idLike: unquote(osKv.ID_LIKE).split(' ').filter(Boolean),
      versionId: unquote(osKv.VERSION_ID),
      prettyName: unquote(osKv.PRETTY_NAME),
    },
    wrappers: {
      allow: hostsFile_('/etc/hosts.allow', sec('hosts.allow')),
      deny: hostsFile_('/etc/hosts.deny', sec('hosts.deny')),
      patternFiles: patternFiles(sec('wrapper-files').lines),
    },
    sshd: {
      path: binary.path || null,
      ...(binary['elf-machine'] ? { elfMachine: binary['elf-machine'] } : {}),
      test: { rc: sec('sshd-test').rc, output: sec('sshd-test').lines.filter(Boolean) },
      effective: { ok: effective.rc === 0 && Object.keys(options).length > 0, options, error: effective.rc === 0 ? [] : effective.lines.filter(Boolean) },
      configLines: sec('sshd-config').lines.flatMap((l) => {
        const [file, no, ...rest] = l.split('\t');
        return file && no && /^\d+$/.test(no) ? [{ file, line: Number(no), text: rest.join('\t') }] : [];
      }),
      libraries,
      linksLibwrap:
        sec('sshd-libraries').lines.some((l) => l.includes('#no-ldd')) || libraries.length === 0
          ? null
          : libraries.some((l) => l.name.startsWith('libwrap.so')),
      missing: missingLibraries(sec('missing-libraries').lines),
    },
    service: {
      units: sec('service').lines.flatMap((l) => {
        const m = /^unit (\S+) active=(\S*) enabled=(\S*)(.*)$/.exec(l);
        if (!m) return [];
        const extra = kv(m[4]!.trim().split(/\s+/));
        return [{ name: m[1]!, active: m[2]!, enabled: m[3]!, subState: extra.SubState ?? '', result: extra.Result ?? '' }];
      }),
      processes: sec('service').lines.flatMap((l) => {
        const m = /^proc\s+(\d+)\s+(.*)$/.exec(l);
        return m ? [{ pid: Number(m[1]), args: m[2]! }] : [];
      }),
    },
    listening: listening(sec('listening').lines),
    firewall: {
      iptables: iptablesFacts(sec('iptables')),
      ip6tables: iptablesFacts(sec('ip6tables')),
      nft: {
        present: !sec('nftables').lines.includes('#absent') && doc.sections.has('nftables'),
        lines: sec('nftables').lines.filter((l) => l !== '#absent'),
        truncated: sec('nftables').dropped > 0,
      },
      nftClientHits: sec('nft-clients').lines.flatMap((l) => {
        const m = /^(\S+) (\d+):(.*)$/.exec(l);
        return m ? [{ ip: m[1]!, line: Number(m[2]), text: m[3]!.trim() }] : [];
      }),
      ...firewallExtraFacts(sec, doc),
    },
    fail2ban: fail2banFacts(sec('fail2ban').lines),
    blockers: blockersFacts(sec('blockers').lines),
    authLog: authLogFacts(sec('auth-log').lines),
    disk: diskFacts(sec('disk').lines),
    user: userFactsOf(sec('user')),
    permissions: sec('permissions').lines.flatMap((l) => {
      const m = /^(\d+) (\S+) (\S+) (.+?) (\/\S*)$/.exec(l);
      return m ? [{ mode: m[1]!, owner: m[2]!, group: m[3]!, type: m[4]!, path: m[5]! }] : [];
    }),
  };
}

function hostsFile_(path: string, s: RawSection): HostsFileFacts {
  const stats = s.lines.find((l) => l.startsWith('#lines='));
  const st = stats ? kv(stats.slice(1).split(' ')) : {};
  return {
    path,
    present: !s.lines.includes('#missing') && s.rc !== null,
    lines: s.lines.flatMap((l) => {
      const tab = l.indexOf('\t');
      if (tab < 1 || !/^\d+$/.test(l.slice(0, tab))) return [];
      return [{ no: Number(l.slice(0, tab)), text: l.slice(tab + 1) }];
    }),
    totalLines: Number(st.lines) || 0,
    omitted: Number(st.omitted) || 0,
    unterminated: st.unterminated === '1',
    // The stats line is printed last: if it is missing, the tail of the file was cut.
    truncated: s.dropped > 0 || (!stats && !s.lines.includes('#missing')),
  };
}

function patternFiles(lines: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  let current: string | null = null;
  for (const l of lines) {
    if (l.startsWith('#file ')) {
      current = l.slice(6);
      out[current] = '';
    } else if (l.startsWith('#unreadable ')) {
      out[l.slice(12)] = null;
      current = null;
    } else if (current !== null) {
      const tab = l.indexOf('\t');
      out[current] += `${tab >= 0 ? l.slice(tab + 1) : l}\n`;
    }
  }
  return out;
}

function missingLibraries(lines: string[]): HostFacts['sshd']['missing'] {
  const out: HostFacts['sshd']['missing'] = [];
  for (const l of lines) {
    if (l.startsWith('#missing ')) {
      out.push({ lib: l.slice(9).trim(), candidates: [] });
      continue;
    }
    const cur = out[out.length - 1];
    if (!cur) continue;
    let m = /^link (\S+) -> (\S+) exists=([01])$/.exec(l);
    if (m) {
      cur.candidates.push({ path: m[1]!, kind: 'link', target: m[2]!, resolves: m[3] === '1' });
      continue;
    }
    m = /^file (\S+) elf-machine=(\S*)$/.exec(l);
    if (m) cur.candidates.push({ path: m[1]!, kind: 'file', ...(m[2] ? { elfMachine: m[2] } : {}) });
  }
  return out;
}

/** /proc/net/tcp addresses are hex in host byte order (little-endian on x86 and arm64). */
function decodeProcAddress(hex: string, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') {
    const b = Buffer.from(hex, 'hex');
    return [b[3], b[2], b[1], b[0]].join('.');
  }
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const b = Buffer.from(hex.slice(i, i + 8), 'hex');
    words.push(Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!]).toString('hex'));
  }
  const groups = words
    .join('')
    .match(/.{4}/g)!
    .map((g) => g.replace(/^0+(?=.)/, ''));
  return groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:{3,}/, '::');
}

function listening(lines: string[]): HostFacts['listening'] {
  const out: HostFacts['listening'] = [];
  const processes = new Map<number, string>();
  for (const l of lines) {
    const m = /^ss (\S+):(\d+) (.*)$/.exec(l);
    if (m) {
      const proc = /users:\(\("([^"]+)"/.exec(m[3]!);
      if (proc) processes.set(Number(m[2]), proc[1]!);
    }
  }
  for (const l of lines) {
    const m = /^(tcp6?) ([0-9A-F]+):([0-9A-F]{4}) /.exec(l);
    if (!m) continue;
    const family = m[1] === 'tcp6' ? 'ipv6' : 'ipv4';
    const port = parseInt(m[3]!, 16);
    const proc = processes.get(port);
    out.push({ family, address: decodeProcAddress(m[2]!, family), port, ...(proc ? { process: proc } : {}) });
  }
  return out;
}

function iptablesFacts(s: RawSection): HostFacts['firewall']['iptables'] {
  const stats = s.lines.find((l) => l.startsWith('#omitted='));
  return {
    present: s.lines.length > 0 && !s.lines.includes('#absent') && !s.lines.includes('#none'),
    lines: s.lines.filter((l) => !l.startsWith('#')),
    omitted: stats ? Number(stats.slice(9)) || 0 : 0,
    truncated: s.dropped > 0,
    denied: s.lines.filter((l) => l.startsWith('#denied ')).map((l) => l.slice(8)),
    legacyWarning: s.lines.some((l) => l.startsWith('#legacy-warning ')),
  };
}

function firewallExtraFacts(sec: (name: string) => RawSection, doc: RawDocument) {
  const nj = sec('nft-json');
  const errors = nj.lines.filter((l) => l.startsWith('#error ')).map((l) => l.slice(7));
  const data = nj.lines.filter((l) => !l.startsWith('#'));
  const nftJson = {
    present: doc.sections.has('nft-json') && !nj.lines.includes('#absent'),
    // The collector folded one JSON line at fixed width: joining without separators restores it.
    text: data.length && !errors.length ? data.join('') : null,
    error: errors.length ? errors.join(' ') : doc.sections.has('nft-json') || !doc.sections.has('nftables') ? null : 'the collector did not read nft -j',
    truncated: nj.dropped > 0 || nj.cut > 0,
  };
  const route = sec('fw-route').lines;
  const arrival = route.flatMap((l) => {
    const m = /^route (\S+) (.*)$/.exec(l);
    if (!m) return [];
    const dev = /\bdev (\S+)/.exec(m[2]!);
    // `local X dev lo`: the client is one of the host's own addresses.
    return [{ ip: m[1]!, iface: dev ? dev[1]! : null, raw: m[2]!.trim() }];
  });
  const ufwLines = sec('ufw').lines;
  const rcLine = ufwLines.find((l) => l.startsWith('#status-rc='));
  const statusRc = rcLine ? Number(rcLine.slice(11)) : null;
  const status = ufwLines.filter((l) => !l.startsWith('#') && !l.startsWith('conf '));
  const statusLine = status.find((l) => l.startsWith('Status: '));
  const conf = kv(ufwLines.filter((l) => l.startsWith('conf ')).map((l) => l.slice(5).replace(/"/g, '')));
  const fwd = sec('firewalld').lines;
  const zones: { name: string; source: string; lines: string[] }[] = [];
  for (const l of fwd) {
    const z1 = /^#zone (\S+)$/.exec(l);
    const x = /^#xml (\S+)$/.exec(l);
    if (z1) zones.push({ name: z1[1]!, source: 'firewall-cmd', lines: [] });
    else if (x) zones.push({ name: x[1]!.replace(/^.*\//, '').replace(/\.xml$/, ''), source: x[1]!, lines: [] });
    else if (!l.startsWith('#') && zones.length) zones[zones.length - 1]!.lines.push(l);
  }
  return {
    nftJson,
    arrival,
    iptablesLegacy: iptablesFacts(sec('iptables-legacy')),
    ip6tablesLegacy: iptablesFacts(sec('ip6tables-legacy')),
    ufw: {
      present: doc.sections.has('ufw') && !ufwLines.includes('#absent'),
      active: statusRc === 0 && statusLine ? statusLine === 'Status: active' : null,
      statusRc,
      status,
      conf,
    },
    firewalld: {
      present: doc.sections.has('firewalld') && !fwd.includes('#absent'),
      running: fwd.includes('#running'),
      defaultZone:
        fwd
          .find((l) => l.startsWith('default '))
          ?.slice(8)
          .trim() || null,
      active: fwd.filter((l) => l.startsWith('active ')).map((l) => l.slice(7)),
      zones,
    },
  };
}

function fail2banFacts(lines: string[]): HostFacts['fail2ban'] {
  const k = kv(lines);
  const installed = k.installed === 'yes';
  const running = installed && k['status-rc'] === '0';
  const jails = new Map<string, HostFacts['fail2ban']['jails'][number]>();
  const banned: HostFacts['fail2ban']['banned'] = [];
  for (const l of lines) {
    let m = /^jail (\S+) (Currently failed|Total failed|Currently banned|Total banned):\s*(\d+)/.exec(l);
    if (m) {
      const j = jails.get(m[1]!) ?? { name: m[1]!, currentlyBanned: null, totalBanned: null, currentlyFailed: null };
      const n = Number(m[3]);
      if (m[2] === 'Currently banned') j.currentlyBanned = n;
      if (m[2] === 'Total banned') j.totalBanned = n;
      if (m[2] === 'Currently failed') j.currentlyFailed = n;
      jails.set(j.name, j);
      continue;
    }
    m = /^banned (\S+) (\S+)$/.exec(l);
    if (m) banned.push({ jail: m[1]!, ip: m[2]! });
  }
  const error = installed && !running ? lines.find((l) => /ERROR|error/.test(l))?.replace(/^.*ERROR\s+/, '') : undefined;
  return { installed, running, ...(error ? { error } : {}), jails: [...jails.values()], banned };
}

function blockersFacts(lines: string[]): HostFacts['blockers'] {
  return {
    denyhosts: lines.some((l) => l.startsWith('denyhosts config=') || /^running .*denyhosts/.test(l)),
    sshguard: lines.some((l) => l.startsWith('sshguard installed') || /^running .*sshguard/.test(l)),
    running: lines.filter((l) => l.startsWith('running ')).map((l) => l.slice(8)),
    listed: lines.flatMap((l) => {
      const m = /^(denyhosts|sshguard)-listed (\S+) (\S+)$/.exec(l);
      return m ? [{ tool: m[1] as 'denyhosts' | 'sshguard', ip: m[2]!, file: m[3]! }] : [];
    }),
  };
}

function authLogFacts(lines: string[]): HostFacts['authLog'] {
  let source: string | null = null;
  const out: string[] = [];
  const clientLines: string[] = [];
  for (const l of lines) {
    if (l.startsWith('#file ')) source = l.slice(6);
    else if (l === '#journal') source = 'journal';
    else if (l.startsWith('client ')) clientLines.push(l.slice(7));
    else if (l.trim()) out.push(l);
  }
  return { source, lines: out, clientLines };
}

function diskFacts(lines: string[]): HostFacts['disk'] {
  const space: HostFacts['disk']['space'] = [];
  const inodes: HostFacts['disk']['inodes'] = [];
  let inInodes = false;
  for (const l of lines) {
    if (l === '#inodes') {
      inInodes = true;
      continue;
    }
    const f = l.trim().split(/\s+/);
    if (f.length < 6 || !/^\d+%$/.test(f[4]!)) continue;
    const mount = f.slice(5).join(' ');
    const usePercent = Number(f[4]!.slice(0, -1));
    if (inInodes) inodes.push({ mount, usePercent });
    else space.push({ mount, usePercent, availableKb: Number(f[3]) || 0 });
  }
  return { space, inodes };
}

const CHAIN = /^chain (\d+) (\S+) (\S+) (.+?) (\/\S*)$/;

function userFactsOf(s: RawSection): UserFacts | null {
  if (!s.lines.length || s.lines.includes('#none')) return null;
  const k = kv(s.lines.filter((l) => !/^(T |chain|#|keyline |pam |access |faillock-conf |selinux-|userlog )/.test(l)));
  const prefixed = (p: string) => s.lines.filter((l) => l.startsWith(p)).map((l) => l.slice(p.length));
  const pamMissing = s.lines.some((l) => l.startsWith('pam-missing '));
  const pam = pamMissing
    ? null
    : prefixed('pam ').flatMap((l) => {
        const m = /^(\S+):(\d+) (.*)$/.exec(l);
        return m ? [{ file: m[1]!, line: Number(m[2]), text: m[3]! }] : [];
      });
  const accessRules = prefixed('access ').flatMap((l) => {
    const m = /^(\d+) (.*)$/.exec(l);
    return m ? [{ line: Number(m[1]), text: m[2]! }] : [];
  });
  const faillockConf: Record<string, string> = {};
  for (const l of prefixed('faillock-conf ')) {
    const i = l.indexOf('=');
    if (i > 0) faillockConf[l.slice(0, i)] = l.slice(i + 1);
  }
  const num = (v: string | undefined) => (v === undefined || v === '' || !/^-?\d+$/.test(v) ? null : Number(v));
  const effective: UserFacts['effective'] = [];
  for (const l of s.lines) {
    let m = /^T (\S+) (\S+) ?(.*)$/.exec(l);
    if (m) {
      let e = effective.find((x) => x.client === m![1]);
      if (!e) effective.push((e = { client: m[1]!, options: {}, error: null }));
      (e.options[m[2]!.toLowerCase()] ??= []).push(m[3]!);
      continue;
    }
    m = /^T-error (\S+) (.*)$/.exec(l);
    if (m) effective.push({ client: m[1]!, options: {}, error: m[2]! });
  }
  const authorizedKeys: UserFacts['authorizedKeys'] = [];
  for (const l of s.lines) {
    if (l.startsWith('#akfile ')) {
      authorizedKeys.push({ path: l.slice(8), chain: [], missing: null, unreadable: false, lines: null, keyLines: [] });
      continue;
    }
    const cur = authorizedKeys[authorizedKeys.length - 1];
    if (!cur) continue;
    const c = CHAIN.exec(l);
    if (c) cur.chain.push({ mode: c[1]!, owner: c[2]!, group: c[3]!, type: c[4]!, path: c[5]! });
    else if (l.startsWith('chain-missing ')) cur.missing = l.slice(14);
    else if (l.startsWith('akfile-unreadable ')) cur.unreadable = true;
    else if (l.startsWith('akfile-lines ')) cur.lines = num(l.slice(13));
    else {
      const kl = /^keyline (\d+) ?(.*)$/.exec(l);
      if (kl) cur.keyLines.push({ line: Number(kl[1]), options: kl[2]! });
    }
  }
  const pg = k['primary-group'];
  return {
    name: k.name ?? '',
    exists: k.exists === '1',
    uid: num(k.uid),
    home: k.home ?? '',
    shell: k.shell ?? '',
    shellExecutable: k['shell-executable'] === '1',
    shellListed: k['shell-listed'] === '1',
    groups: (k.groups ?? '').split(' ').filter(Boolean),
    primaryGroup: pg ? { name: pg, members: (k['primary-group-members'] ?? '').split(',').filter(Boolean) } : null,
    shadow:
      k['shadow-locked'] !== undefined
        ? {
            locked: k['shadow-locked'] === '1',
            noPassword: k['shadow-nopassword'] === '1',
            lastChange: num(k['shadow-lastchg']),
            maxDays: num(k['shadow-max']),
            inactiveDays: num(k['shadow-inactive']),
            expireDay: num(k['shadow-expire']),
          }
        : null,
    today: num(k.today),
    nologin: k.nologin ?? null,
    effective,
    authorizedKeys,
    selinux: k.selinux ?? null,
    selinuxLabel: prefixed('selinux-label ')[0]?.split(' ')[0] ?? null,
    selinuxExpected: prefixed('selinux-expected ')[0]?.trim().split(/\s+/).pop() ?? null,
    pam,
    accessRules,
    faillock: { conf: faillockConf, valid: num(k['faillock-valid']), last: k['faillock-last'] ?? null, error: prefixed('faillock-error ')[0] ?? null },
    tally2Failures: num(k['tally2-failures']),
    logLines: prefixed('userlog '),
  };
}
