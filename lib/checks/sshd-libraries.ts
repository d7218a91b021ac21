/**
 * Can the dynamic loader resolve every library sshd needs? A removed soname link (the
 * classic: liblz4.so.1 -> liblz4.so.1.9.4) keeps sshd from starting at all. The fix names
 * the versioned file that is really there, of sshd's own architecture.
 */
import path from 'node:path';
import type { Check } from './types';
import type { Evidence, Fix, FixAction } from '../report/types';
import type { HostFacts } from '../collector/facts';
import { hostOr, isResult, result } from './support/result';

export const SSHD_LIBRARIES_TEXT = {
  ok: (n: number) => `All ${n} shared libraries of sshd resolve.`,
  missing: (libs: string[]) => `sshd cannot start: shared librar${libs.length > 1 ? 'ies' : 'y'} ${libs.join(', ')} not found.`,
  noCandidate: (lib: string) => `no file named ${lib}.* of sshd's architecture was found to link it to: reinstall the package that ships it.`,
  noLdd: 'ldd is not available on the host: libraries not checked.',
} as const;

export const SSHD_LIBRARIES_FIX = {
  link: (links: { link: string; target: string }[]): Fix => ({
    summary: `Recreate ${links.map((l) => `${l.link} -> ${path.basename(l.target)}`).join(', ')}, then start sshd.`,
    commands: [...links.map((l) => `ln -sf ${path.basename(l.target)} ${l.link}`), 'ldconfig', 'sshd -t'],
    actions: links.map((l): FixAction => ({ kind: 'symlink', link: l.link, target: path.basename(l.target) })),
  }),
  reinstall: (libs: string[]): Fix => ({
    summary: `Reinstall the package that ships ${libs.join(', ')}.`,
    commands: libs.map((l) => `dpkg -S ${l} || rpm -qf --whatprovides ${l}`),
  }),
} as const;

/** Directory preference: merged-/usr systems show the same file under /lib and /usr/lib. */
function rank(p: string): number {
  return p.startsWith('/usr/lib') ? 0 : p.startsWith('/lib') ? 1 : 2;
}

function versionKey(p: string): number[] {
  return (path.basename(p).split('.so.')[1] ?? '').split('.').map((n) => Number(n) || 0);
}

/** The versioned file a missing soname should point to, if one is really there. */
export function linkTarget(host: HostFacts, missing: HostFacts['sshd']['missing'][number]): { link: string; target: string } | undefined {
  const files = missing.candidates.filter(
    (c) => c.kind === 'file' && path.basename(c.path).startsWith(`${missing.lib}.`) && (!host.sshd.elfMachine || c.elfMachine === host.sshd.elfMachine),
  );
  if (!files.length) return undefined;
  files.sort((a, b) => rank(a.path) - rank(b.path) || compare(versionKey(b.path), versionKey(a.path)));
  const target = files[0]!.path;
  return { link: path.join(path.dirname(target), missing.lib), target };
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

export const sshdLibrariesCheck: Check = {
  id: 'sshd-libraries',
  title: 'sshd shared libraries',
  description: 'Runs ldd on sshd; for each library not found, lists the versioned files beside it and the exact link to recreate.',
  needs: ['host'],
  run(facts) {
    const host = hostOr(this, facts);
    if (isResult(host)) return host;
    const libs = host.sshd.libraries;
    if (host.sshd.linksLibwrap === null && !libs.length) return result(this, 'skip', SSHD_LIBRARIES_TEXT.noLdd);
    const missing = libs.filter((l) => l.notFound).map((l) => l.name);
    if (!missing.length) return result(this, 'pass', SSHD_LIBRARIES_TEXT.ok(libs.length));
    const evidence: Evidence[] = missing.map((m) => ({ source: `ldd ${host.sshd.path}`, text: `${m} => not found` }));
    const links: { link: string; target: string }[] = [];
    const orphans: string[] = [];
    for (const m of host.sshd.missing) {
      const t = linkTarget(host, m);
      for (const c of m.candidates)
        evidence.push({ source: 'ls -l', text: c.kind === 'link' ? `${c.path} -> ${c.target}${c.resolves ? '' : ' (dangling)'}` : `${c.path}` });
      if (t) links.push(t);
      else orphans.push(m.lib);
    }
    const summary = SSHD_LIBRARIES_TEXT.missing(missing) + orphans.map((o) => ` ${o}: ${SSHD_LIBRARIES_TEXT.noCandidate(o)}`).join('');
    const fix = links.length ? SSHD_LIBRARIES_FIX.link(links) : SSHD_LIBRARIES_FIX.reinstall(missing);
    return result(this, 'fail', summary, evidence, fix);
  },
};
