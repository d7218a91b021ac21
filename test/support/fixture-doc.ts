/** Collector-document fixtures (test/fixtures/collector) and edits of single sections. */
import { readdirSync, readFileSync } from 'node:fs';

const DIR = 'test/fixtures/collector';

/** Every fixture name (NAME.txt beside NAME.client). */
export const FIXTURES: readonly string[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -4))
  .sort();

export function fixture(name: string): { doc: string; client: string } {
  return { doc: readFileSync(`${DIR}/${name}.txt`, 'utf8'), client: readFileSync(`${DIR}/${name}.client`, 'utf8').trim() };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function sectionRe(name: string): RegExp {
  return new RegExp(`@section ${esc(name)}\\n((?:\\|.*\\n)*)@end ${esc(name)} [^\\n]*`);
}

/** The data lines of one section. Throws when the document has no such section. */
export function sectionLines(doc: string, name: string): string[] {
  const m = sectionRe(name).exec(doc);
  if (!m) throw new Error(`no section ${name}`);
  return m[1]!
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(1));
}

/** Replaces the data lines (and rc) of one section; adds the section when the document (an older collector's) has none. */
export function withSection(doc: string, name: string, lines: readonly string[], rc = 0): string {
  const re = sectionRe(name);
  const text = `@section ${name}\n${lines.map((l) => `|${l}\n`).join('')}@end ${name} rc=${rc} chars=0 dropped=0 cut=0`;
  if (re.test(doc)) return doc.replace(re, () => text);
  if (!doc.includes('\n#end')) throw new Error('not a complete collector document');
  return doc.replace('\n#end', () => `\n${text}\n#end`);
}

/** Edits one section's data lines. */
export function editSection(doc: string, name: string, edit: (lines: string[]) => string[]): string {
  return withSection(doc, name, edit(sectionLines(doc, name)));
}

/** Edits the `nft -j` ruleset of the nft-json section, folded again as the collector folds it. */
export function withNftJson(doc: string, edit: (items: Record<string, unknown>[]) => Record<string, unknown>[]): string {
  const lines = sectionLines(doc, 'nft-json');
  const json = JSON.parse(lines.filter((l) => !l.startsWith('#')).join('')) as { nftables: Record<string, unknown>[] };
  const text = JSON.stringify({ nftables: edit(json.nftables) });
  return withSection(doc, 'nft-json', [...lines.filter((l) => l.startsWith('#')), ...text.match(/.{1,240}/g)!]);
}

/** Marks a section's command as cut for time, as the collector does after the section. */
export function withCut(doc: string, name: string, command = 'cmd --hung'): string {
  const re = new RegExp(`(@end ${esc(name)} [^\\n]*\\n)`);
  if (!re.test(doc)) throw new Error(`no section ${name}`);
  return doc.replace(re, (m) => `${m}@cut ${name} calls=1 first=timeout 5 ${command}\n`);
}
