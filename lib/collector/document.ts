/**
 * Splits the collector's versioned document into raw sections. The format is written in
 * lib/collector/CONTRACT.md; data lines carry a `|` prefix so nothing a host writes (a log
 * line, a file) can forge a section marker.
 */
import { CollectorDocumentError } from './errors';

export const COLLECTOR_VERSION = 1;
const HEADER = '#sshdoctor-collector ';

export interface RawSection {
  name: string;
  lines: string[];
  /** Exit code of the section's command; null when the collector could not tell. */
  rc: number | null;
  /** Lines the section cap or the global budget dropped, and over-long lines it cut. */
  dropped: number;
  cut: number;
  /** Its `@end` line arrived (a document cut in transport ends inside a section). */
  ended: boolean;
}

/** A call the collector cut after its time limit, or did not start (`@cut` after a section). */
export interface RawCut {
  section: string;
  /** How many calls of the section were cut or skipped. */
  calls: number;
  /** The first of them: `timeout SECONDS CMD...`, `skipped-hung 0 CMD...` or `skipped-budget 0 CMD...`. */
  first: string;
}

export interface RawDocument {
  version: number;
  /** The `#end` trailer arrived: nothing was cut in transport. */
  complete: boolean;
  sections: Map<string, RawSection>;
  cuts: RawCut[];
}

/** Parses the document. Throws {@link CollectorDocumentError} when it is not one at all. */
export function parseDocument(text: string): RawDocument {
  const lines = text.split('\n');
  const headerAt = lines.findIndex((l) => l.startsWith(HEADER));
  if (headerAt < 0) {
    throw new CollectorDocumentError(`collector output is not an sshdoctor document (first bytes: ${JSON.stringify(text.slice(0, 80))})`);
  }
  const declared = lines[headerAt]!.slice(HEADER.length);
  const version = Number(declared.trim());
  if (version !== COLLECTOR_VERSION) {
    throw new CollectorDocumentError(`collector document version ${declared} is not supported (expected ${COLLECTOR_VERSION})`);
  }
  const sections = new Map<string, RawSection>();
  let current: RawSection | null = null;
  let complete = false;
  const cuts: RawCut[] = [];
  for (const line of lines.slice(headerAt + 1)) {
    if (line.startsWith('|')) {
      current?.lines.push(line.slice(1).replace(/\r$/, ''));
    } else if (line.startsWith('@section ')) {
      current = { name: line.slice(9).trim(), lines: [], rc: null, dropped: 0, cut: 0, ended: false };
      sections.set(current.name, current);
    } else if (line.startsWith('@end ') && current) {
      const kv = Object.fromEntries(
        line
          .slice(5)
          .split(' ')
          .slice(1)
          .map((p) => p.split('=') as [string, string]),
      );
      const rc = Number(kv.rc);
      current.rc = kv.rc !== undefined && kv.rc !== '?' && Number.isInteger(rc) ? rc : null;
      current.dropped = (Number(kv.dropped) || 0) + (Number(kv.gdropped) || 0);
      current.cut = Number(kv.cut) || 0;
      current.ended = true;
      current = null;
    } else if (line.startsWith('@cut ')) {
      const m = /^@cut (\S+) calls=(\d+) first=(.*)$/.exec(line);
      if (m) cuts.push({ section: m[1]!, calls: Number(m[2]), first: m[3]!.trim() });
    } else if (line === '#end') {
      complete = true;
      break;
    }
  }
  return { version, complete, sections, cuts };
}
