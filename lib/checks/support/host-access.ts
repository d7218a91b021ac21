/**
 * What a collector run without root could not read, and log lines judged by whole address and
 * by age. Shared by the host checks so each says the same thing the same way.
 */
import type { CheckResult } from '../../report/types';
import type { Check } from '../types';
import type { HostFacts } from '../../collector/facts';
import { result } from './result';

export { NOT_INSPECTED } from './prefixes';

/** The prefix every "could not read this without root" summary starts with. */
export const NEEDS_ROOT = 'needs root: run with sudo or --via sudo';

/** True when the collector ran as an ordinary user (or did not say who it ran as). */
export function collectedWithoutRoot(host: HostFacts): boolean {
  return host.meta.uid !== 0;
}

/**
 * `skip` saying what could not be read without root, when the collector did not run as root;
 * null when it did (the check judges the fact). Never a pass or a fail on an unreadable fact.
 */
export function needsRootResult(check: Pick<Check, 'id' | 'title'>, host: HostFacts, what: string): CheckResult | null {
  if (!collectedWithoutRoot(host)) return null;
  return result(check, 'skip', `${NEEDS_ROOT} (${what} cannot be read without root; the collector ran as uid ${host.meta.uid ?? 'unknown'}).`);
}

/**
 * No sshd log was read: none found, or an ordinary user's empty view of the journal (it shows
 * only the user's own entries unless the user is in adm/systemd-journal): not a quiet log.
 */
export function sshdLogUnread(host: HostFacts): boolean {
  const log = host.authLog;
  return !log.source || (collectedWithoutRoot(host) && !log.lines.length && !log.clientLines.length);
}

/** IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 address; IPv6 compares in lower case. */
export function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip.toLowerCase();
}

const ADDRESS_TOKEN = /[0-9A-Fa-f:.]+/g;

/**
 * Whether `line` names `ip` as a whole address: `10.0.0.1` is not in `10.0.0.15` or
 * `110.0.0.1`; `[10.0.0.1]:5555` and `::ffff:10.0.0.1` are.
 */
export function mentionsIp(line: string, ip: string): boolean {
  const want = normalizeIp(ip);
  for (const m of line.matchAll(ADDRESS_TOKEN)) {
    // A trailing dot ends a sentence ("from 10.0.0.1."), never an address.
    const token = m[0].replace(/\.$/, '');
    if (normalizeIp(token) === want) return true;
  }
  return false;
}

/** How far back a log line still explains what a client sees now. */
export const RECENT_MINUTES = 30;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The collector's clocks: UTC, and the host's local wall clock read as if it were UTC. */
export interface HostClock {
  utcMs: number;
  /** Null when the collector did not report its local time (older documents). */
  localMs: number | null;
}

/** The collector's clock, or null when it did not report one. */
export function hostClock(host: HostFacts): HostClock | null {
  const utc = host.meta.time ? Date.parse(host.meta.time) : Number.NaN;
  if (Number.isNaN(utc)) return null;
  const local = host.meta.localTime ? Date.parse(`${host.meta.localTime}Z`) : Number.NaN;
  return { utcMs: utc, localMs: Number.isNaN(local) ? null : local };
}

/**
 * How many ms before the collector ran a log line was written, or null when its time cannot be
 * read. RFC 3339 stamps (rsyslog's high-precision format, `journalctl -o short-iso`) carry their
 * zone and compare with UTC; the classic year-less syslog stamp is the host's local time and
 * compares with the host's local clock (its year is the clock's, unless that puts it in the
 * future: then last year's).
 */
export function lineAgeMs(line: string, clock: HostClock): number | null {
  const iso = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?/.exec(line);
  if (iso) {
    if (!iso[3] && clock.localMs === null) return null;
    const zone = iso[3] ? (iso[3] === 'Z' ? 'Z' : iso[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z';
    const t = Date.parse(`${iso[1]}T${iso[2]}${zone}`);
    if (Number.isNaN(t)) return null;
    return (iso[3] ? clock.utcMs : clock.localMs!) - t;
  }
  const sys = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) /.exec(line);
  if (sys && clock.localMs !== null) {
    const month = MONTHS.indexOf(sys[1]!);
    if (month < 0) return null;
    const at = (year: number) => Date.UTC(year, month, Number(sys[2]), Number(sys[3]), Number(sys[4]), Number(sys[5]));
    const year = new Date(clock.localMs).getUTCFullYear();
    let t = at(year);
    if (t > clock.localMs + 60_000) t = at(year - 1);
    return clock.localMs - t;
  }
  return null;
}

/**
 * Log lines from the last {@link RECENT_MINUTES} minutes by the collector's clocks. Lines whose
 * time cannot be read, or a collector without a clock, count as not recent: stale evidence must
 * not turn a healthy answer into "blocked".
 */
export function recentLines(lines: readonly string[], host: HostFacts): { recent: string[]; stale: number } {
  const clock = hostClock(host);
  if (!clock) return { recent: [], stale: lines.length };
  const recent = lines.filter((l) => {
    const age = lineAgeMs(l, clock);
    // A minute of slack for clocks read a moment apart.
    return age !== null && age >= -60_000 && age <= RECENT_MINUTES * 60_000;
  });
  return { recent, stale: lines.length - recent.length };
}
