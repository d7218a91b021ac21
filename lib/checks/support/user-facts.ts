/** The user facts an authentication check needs, or the result to return without them. */
import type { CheckResult } from '../../report/types';
import type { UserFacts } from '../../collector/facts';
import type { Check, Facts } from '../types';
import { hostOr, isResult, result } from './result';

export function userOr(check: Pick<Check, 'id' | 'title'>, facts: Facts): UserFacts | CheckResult {
  const host = hostOr(check, facts);
  if (isResult(host)) return host;
  if (!facts.user) return result(check, 'skip', 'No user asked about (pass --user NAME).');
  if (!host.user) return result(check, 'skip', `The collector did not report on ${facts.user.name} (older collector, or the section was cut).`);
  return host.user;
}

export function isCheckResult(x: UserFacts | CheckResult): x is CheckResult {
  return (x as CheckResult).status !== undefined && (x as CheckResult).id !== undefined;
}

/** sshd's pattern lists: `*` and `?` wildcards, `!` negation (a negated match wins). */
export function matchPatternList(list: readonly string[], value: string): boolean {
  let matched = false;
  for (const raw of list) {
    const neg = raw.startsWith('!');
    const pat = neg ? raw.slice(1) : raw;
    const re = new RegExp(
      `^${pat
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i',
    );
    if (re.test(value)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

/** The sshd_config line that sets `keyword` last seen in the files (for evidence). */
export function configLineFor(
  lines: readonly { file: string; line: number; text: string }[],
  keyword: string,
): { file: string; line: number; text: string } | undefined {
  const k = keyword.toLowerCase();
  return lines.find((l) => l.text.trim().split(/\s+/)[0]?.toLowerCase() === k);
}
