import type { Diagnostic, HostsLine } from './types';

/** Splits file text into physical lines; the last one is `unterminated` when it lacks a newline. */
export function linesFromText(text: string): HostsLine[] {
  const parts = text.split('\n');
  const lines: HostsLine[] = [];
  const last = parts.length - 1;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i === last) {
      if (part.length > 0) lines.push({ no: i + 1, text: part, unterminated: true });
    } else {
      lines.push({ no: i + 1, text: part });
    }
  }
  return lines;
}

/** libwrap reads rules into a 2048-byte buffer (BUFLEN) with fgets. */
const BUFFER_BYTES = 2048;
const MAX_CONTENT_BYTES = BUFFER_BYTES - 1;

/** One logical line as libwrap's xgets() returns it. */
export interface LogicalLine {
  first: number;
  last: number;
  /** Content without the newline. */
  text: string;
  firstText: string;
}

function byteLength(s: string): number {
  // Fast path: pure ASCII (the common case) has one byte per UTF-16 unit.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

/** Where libwrap gave up on a file: its table_match() then returns ERR. */
export interface TableStop {
  line: number;
  text: string;
  reason: string;
}

/**
 * Joins physical lines the way libwrap's xgets() does: a line ending in a backslash continues
 * on the next one; a NUL byte truncates the physical line and (since strlen then finds no
 * newline) joins what precedes it with the next line. A logical line that does not fit the
 * 2048-byte buffer, or a non-empty last line without a newline, makes libwrap stop reading the
 * file with an error: Debian's hosts_access() then treats hosts.allow as not matching and
 * hosts.deny as matching (fail closed).
 */
export function logicalLines(file: string, input: HostsLine[], diagnostics: Diagnostic[]): { lines: LogicalLine[]; stop: TableStop | null } {
  const lines = [...input].sort((a, b) => a.no - b.no);
  const out: LogicalLine[] = [];
  let content = '';
  let used = 0;
  let first = -1;
  let firstText = '';
  let prevNo = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as HostsLine;
    if (first !== -1 && line.no !== prevNo + 1) {
      diagnostics.push({
        file,
        line: first,
        severity: 'warning',
        message: `rule continues into line ${prevNo + 1}, which was not collected; joined with line ${line.no}`,
      });
    }
    if (first === -1) {
      first = line.no;
      firstText = line.text;
    }
    prevNo = line.no;
    const terminated = line.unterminated !== true;
    const nul = line.text.indexOf('\0');
    const before = nul === -1 ? line.text : line.text.slice(0, nul);
    const rawBytes = byteLength(line.text) + (terminated ? 1 : 0);
    if (rawBytes > MAX_CONTENT_BYTES - used) {
      const reason = `line too long (libwrap reads at most ${MAX_CONTENT_BYTES} bytes per rule): libwrap stops reading ${file} here with an error`;
      diagnostics.push({ file, line: first, severity: 'error', message: reason });
      return { lines: out, stop: { line: first, text: firstText, reason } };
    }
    if (nul !== -1) {
      content += before;
      used += byteLength(before);
      continue;
    }
    if (!terminated) {
      if (content + before === '') return { lines: out, stop: null };
      const reason = `missing newline at end of file: libwrap stops reading ${file} here with an error`;
      diagnostics.push({ file, line: first, severity: 'error', message: reason });
      return { lines: out, stop: { line: first, text: firstText, reason } };
    }
    if (before.endsWith('\\')) {
      const kept = before.slice(0, -1);
      content += kept;
      used += byteLength(kept);
      continue;
    }
    content += before;
    out.push({ first, last: line.no, text: content, firstText });
    content = '';
    used = 0;
    first = -1;
  }
  if (first !== -1 && content !== '') {
    const reason = `rule continues past the end of the file: libwrap stops reading ${file} here with an error`;
    diagnostics.push({ file, line: first, severity: 'error', message: reason });
    return { lines: out, stop: { line: first, text: firstText, reason } };
  }
  return { lines: out, stop: null };
}

/** The longest rule libwrap reads, in bytes, newline excluded. */
export const LIBWRAP_LINE_LIMIT = MAX_CONTENT_BYTES;
